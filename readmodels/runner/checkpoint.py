"""Projection checkpoints and skipped events, kept in the views' own database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from readmodels.dto import FailingEvent, SkippedEvent
from readmodels.tables import projection_checkpoint, projection_failure, projection_skip

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection

    from readmodels.projections.rowsql import PgStatement

_KEEP: Any = object()


@dataclass(slots=True)
class Seen:
    """A checkpoint as a batch read it: its position, its row version (PostgreSQL's xmin: a
    write conditioned on it fails if anything changed the row since, a skip included) and the
    skips recorded in the batch's range."""

    position: int
    version: str | None = None
    skips: set[int] = field(default_factory=set)


class CheckpointsRead:
    """A read part (see `readmodels.projections.rowsql.read_all`): the checkpoints of `names`
    and their skips in (`after`, `upto`], read in the same snapshot as the views' rows."""

    def __init__(self, names: Sequence[str], after: int, upto: int) -> None:
        self.names = list(names)
        self.after = after
        self.upto = upto
        self.found: dict[str, Seen] = {}

    def select(self, statement: PgStatement) -> str:
        names = statement.bind(self.names, "VARCHAR(64)[]")
        after = statement.bind(self.after, "BIGINT")
        upto = statement.bind(self.upto, "BIGINT")
        skips = (
            "SELECT coalesce(jsonb_agg(k.position), '[]') FROM projection_skip k "
            f"WHERE k.name = c.name AND k.position > {after} AND k.position <= {upto}"
        )
        return (
            "SELECT jsonb_build_object('name', c.name, 'position', c.position, "
            f"'version', c.xmin::text, 'skips', ({skips})) "
            f"FROM projection_checkpoint c WHERE c.name = ANY({names})"
        )

    def take(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.found[row["name"]] = Seen(int(row["position"]), row["version"], set(row["skips"]))

    async def read(self, conn: AsyncConnection) -> None:
        checkpoints = select(projection_checkpoint.c.name, projection_checkpoint.c.position).where(
            projection_checkpoint.c.name.in_(self.names)
        )
        for name, position in await conn.execute(checkpoints):
            self.found[name] = Seen(int(position))
        skips = select(projection_skip.c.name, projection_skip.c.position).where(
            projection_skip.c.name.in_(self.names),
            projection_skip.c.position > self.after,
            projection_skip.c.position <= self.upto,
        )
        for name, position in await conn.execute(skips):
            self.found[name].skips.add(int(position))


def _insert_ignoring_duplicates(conn: AsyncConnection, table: Table, values: dict[str, Any]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(values).on_conflict_do_nothing()


async def ensure_checkpoint(conn: AsyncConnection, name: str) -> None:
    """Create `name`'s checkpoint at position 0 unless it exists."""
    values = {"name": name, "position": 0, "shadow_suffix": None}
    await conn.execute(_insert_ignoring_duplicates(conn, projection_checkpoint, values))


async def lock_checkpoint(conn: AsyncConnection, name: str) -> tuple[int, str | None]:
    """`name`'s position and unfinished shadow suffix, locked until the transaction ends."""
    statement = (
        select(projection_checkpoint.c.position, projection_checkpoint.c.shadow_suffix)
        .where(projection_checkpoint.c.name == name)
        .with_for_update()
    )
    row = (await conn.execute(statement)).one()
    return int(row.position), row.shadow_suffix


async def claim_checkpoint(conn: AsyncConnection, name: str) -> int:
    """`name`'s position as last committed, locked until the transaction ends; the row is
    rewritten as it is, so that a batch that read the checkpoint before this transaction
    commits writes nothing (see `readmodels/runner/viewsql.py`)."""
    statement = (
        update(projection_checkpoint)
        .where(projection_checkpoint.c.name == name)
        .values(position=projection_checkpoint.c.position)
        .returning(projection_checkpoint.c.position)
    )
    return int((await conn.execute(statement)).scalar_one())


async def read_checkpoint(conn: AsyncConnection, name: str) -> int:
    """`name`'s position, without locking (0 before the projection ever ran)."""
    statement = select(projection_checkpoint.c.position).where(projection_checkpoint.c.name == name)
    position = await conn.scalar(statement)
    return int(position or 0)


async def save_checkpoint(
    conn: AsyncConnection, name: str, position: int | None = None, *, shadow_suffix: Any = _KEEP
) -> None:
    """Set `name`'s position and/or shadow suffix (None clears it)."""
    values: dict[str, Any] = {}
    if position is not None:
        values["position"] = position
    if shadow_suffix is not _KEEP:
        values["shadow_suffix"] = shadow_suffix
    statement = (
        update(projection_checkpoint).where(projection_checkpoint.c.name == name).values(values)
    )
    await conn.execute(statement)


async def load_skips(conn: AsyncConnection) -> dict[str, set[int]]:
    """Every skipped event position, by projection name."""
    skips: dict[str, set[int]] = defaultdict(set)
    result = await conn.execute(select(projection_skip.c.name, projection_skip.c.position))
    for name, position in result:
        skips[name].add(int(position))
    return skips


async def add_skip(
    conn: AsyncConnection,
    name: str,
    position: int,
    *,
    event_type: str | None = None,
    error: str | None = None,
) -> None:
    """Record that `name` must not apply the event at `position` (and, when it was stuck on
    it, the event's type and the error it raised)."""
    values = {
        "name": name,
        "position": position,
        "skipped_at": datetime.now(UTC),
        "event_type": event_type,
        "error": error,
    }
    await conn.execute(_insert_ignoring_duplicates(conn, projection_skip, values))


async def read_skips(conn: AsyncConnection, name: str) -> list[SkippedEvent]:
    """The events `name` skips, oldest position first."""
    statement = (
        select(projection_skip)
        .where(projection_skip.c.name == name)
        .order_by(projection_skip.c.position)
    )
    return [
        SkippedEvent(
            position=int(row.position),
            event_type=row.event_type,
            error=row.error,
            skipped_at=row.skipped_at,
        )
        for row in await conn.execute(statement)
    ]


async def save_failure(conn: AsyncConnection, name: str, failing: FailingEvent) -> None:
    """Record the event `name` is stuck on (replacing what was recorded)."""
    await conn.execute(delete(projection_failure).where(projection_failure.c.name == name))
    await conn.execute(
        projection_failure.insert().values(
            name=name,
            position=failing.position,
            event_type=failing.event_type,
            error=failing.error,
            attempts=failing.attempts,
            failed_at=failing.failed_at,
        )
    )


async def clear_failure(conn: AsyncConnection, name: str) -> None:
    """`name` moved on: forget its failure."""
    await conn.execute(delete(projection_failure).where(projection_failure.c.name == name))


async def read_failures(conn: AsyncConnection) -> dict[str, FailingEvent]:
    """The recorded failures, by projection name."""
    return {
        row.name: FailingEvent(
            position=None if row.position is None else int(row.position),
            event_type=row.event_type,
            error=row.error,
            attempts=int(row.attempts),
            failed_at=row.failed_at,
        )
        for row in await conn.execute(select(projection_failure))
    }


__all__ = [
    "CheckpointsRead",
    "Seen",
    "add_skip",
    "claim_checkpoint",
    "clear_failure",
    "ensure_checkpoint",
    "load_skips",
    "lock_checkpoint",
    "read_checkpoint",
    "read_failures",
    "read_skips",
    "save_checkpoint",
    "save_failure",
]
