"""Rebuild one projection: replay the whole log into shadow tables, then swap them in.

Until the swap, reads answer from the live tables, which the live projection keeps updating.
The swap is one write transaction: apply the last events to the shadow tables, DROP the live
tables, RENAME the shadow tables to the live names and set the checkpoint to the shadow's
position. WAL readers on SQLite (and MVCC readers on PostgreSQL) see either the old tables
or the new ones, never an empty window. Shadow tables get a random name suffix, and index
names include the table name, so every generation has index names of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Container
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.schema import DropTable

from readmodels.runner.checkpoint import lock_checkpoint, save_checkpoint
from readmodels.tables import new_metadata

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import EventLog
    from domain.storage.database import Database
    from readmodels.projections.base import Projection, Tables

Progress = Callable[[int, int], None]


async def rebuild_projection(
    log: EventLog,
    db: Database,
    projection: Projection,
    *,
    skipped: Container[int],
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Replay the log into fresh tables and swap them in; return the position they reached."""
    suffix = "__" + secrets.token_hex(4)
    shadow_metadata = new_metadata()
    shadow = projection.define(shadow_metadata, suffix)
    live = projection.define(new_metadata(), "")
    async with db.write() as conn:
        await lock_checkpoint(conn, projection.name)
        await save_checkpoint(conn, projection.name, shadow_suffix=suffix)
        await conn.run_sync(shadow_metadata.create_all)
    try:
        position = 0
        total = await log.head_position()
        while len(events := await log.read_all(position, batch_size)) == batch_size:
            async with db.write() as conn:
                await projection.apply(conn, shadow, projection.wanted(events, skipped))
            position = events[-1].position
            total = max(total, position)
            if progress is not None:
                progress(position, total)
        async with db.write() as conn:
            await lock_checkpoint(conn, projection.name)
            while events := await log.read_all(position, batch_size):
                await projection.apply(conn, shadow, projection.wanted(events, skipped))
                position = events[-1].position
            await _swap(conn, shadow, live)
            await save_checkpoint(conn, projection.name, position, shadow_suffix=None)
    except BaseException:
        await drop_shadow(db, projection, suffix)
        raise
    if progress is not None:
        progress(position, max(total, position))
    return position


async def drop_shadow(db: Database, projection: Projection, suffix: str) -> None:
    """Drop an unfinished rebuild's shadow tables and forget them."""
    shadow = projection.define(new_metadata(), suffix)
    async with db.write() as conn:
        for table in shadow.values():
            await conn.execute(DropTable(table, if_exists=True))
        await save_checkpoint(conn, projection.name, shadow_suffix=None)


async def _swap(conn: AsyncConnection, shadow: Tables, live: Tables) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for base, table in live.items():
        await conn.execute(DropTable(table, if_exists=True))
        old, new = quote(shadow[base].name), quote(table.name)
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


__all__ = ["Progress", "drop_shadow", "rebuild_projection"]
