"""Writing one batch to several projections at once: each one's checkpoint, rows and NOTIFY.

A projection's share is written only if its checkpoint is still as the batch read it (on
PostgreSQL its row version, `xmin`, which any write to it changes: an apply elsewhere, a
rebuild, a skip; on SQLite, where the transaction holds the only writer, its position). On
PostgreSQL this is ONE statement for every projection of the batch:

    WITH q0 AS (UPDATE projection_checkpoint ... WHERE xmin = <as read> RETURNING name),
         q1 AS (INSERT INTO <table> SELECT * FROM unnest(...)
                WHERE EXISTS (SELECT 1 FROM q0 WHERE name = <its projection>)
                ON CONFLICT (<key>) DO UPDATE SET ...),     -- one per table that changed
         q9 AS (SELECT pg_notify(...) FROM unnest(<messages>) WHERE <its projection> IN q0)
    SELECT ARRAY(SELECT name FROM q0), (SELECT count(*) FROM q9)

so the rows, the checkpoint and the messages to the other processes commit together or not at
all, for each projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update

from readmodels.projections.rowsql import PgStatement, upsert_cte, upsert_each
from readmodels.runner.cluster import NOTIFY_CHANNEL
from readmodels.tables import projection_checkpoint

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from readmodels.projections.rowset import Rows
    from readmodels.runner.checkpoint import Seen


@dataclass(frozen=True, kw_only=True, slots=True)
class ShareWrite:
    """What one projection writes: its checkpoint from `seen` to `position`, its rows, and
    the messages that tell the other processes."""

    name: str
    seen: Seen
    position: int
    rowsets: Sequence[Rows]
    messages: Sequence[str]


async def write_shares(conn: AsyncConnection, shares: Sequence[ShareWrite]) -> set[str]:
    """Write each share whose checkpoint is as it was read; the names of those written."""
    if conn.dialect.name == "postgresql":
        return await _write_postgresql(conn, shares)
    written: set[str] = set()
    for share in shares:
        moved = await conn.execute(
            update(projection_checkpoint)
            .where(
                projection_checkpoint.c.name == share.name,
                projection_checkpoint.c.position == share.seen.position,
            )
            .values(position=share.position)
        )
        if moved.rowcount == 1:
            written.add(share.name)
            for rowset in share.rowsets:
                await upsert_each(conn, rowset)
    return written


async def _write_postgresql(conn: AsyncConnection, shares: Sequence[ShareWrite]) -> set[str]:
    statement = PgStatement(conn.dialect)
    names = statement.bind([share.name for share in shares], "VARCHAR(64)[]")
    versions = statement.bind([share.seen.version for share in shares], "TEXT[]")
    positions = statement.bind([share.position for share in shares], "BIGINT[]")
    checkpoints = statement.cte(
        "UPDATE projection_checkpoint AS c SET position = n.position "
        f"FROM unnest({names}, {versions}, {positions}) AS n(name, version, position) "
        "WHERE c.name = n.name AND c.xmin = n.version::xid RETURNING c.name"
    )
    for share in shares:
        changed = [rowset for rowset in share.rowsets if rowset.changed()]
        if changed:
            owner = statement.bind(share.name, "TEXT")
            gate = f"EXISTS (SELECT 1 FROM {checkpoints} WHERE name = {owner})"
            for rowset in changed:
                upsert_cte(statement, rowset, gate)
    sent = [(share.name, message) for share in shares for message in share.messages]
    notified = "0"
    if sent:
        channel = statement.bind(NOTIFY_CHANNEL, "TEXT")
        owners = statement.bind([name for name, _ in sent], "TEXT[]")
        payloads = statement.bind([message for _, message in sent], "TEXT[]")
        notify = statement.cte(
            f"SELECT pg_notify({channel}, m.payload) FROM unnest({owners}, {payloads}) "
            f"AS m(name, payload) WHERE m.name IN (SELECT name FROM {checkpoints})"
        )
        notified = f"(SELECT count(*) FROM {notify})"
    final = f"SELECT ARRAY(SELECT name FROM {checkpoints}), {notified}"
    result = await conn.exec_driver_sql(statement.text(final), tuple(statement.params))
    written: list[str] = result.one()[0]
    return set(written)


__all__ = ["ShareWrite", "write_shares"]
