"""Projection checkpoints and skipped events, kept in the views' own database."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from readmodels.tables import projection_checkpoint, projection_skip

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection

_KEEP: Any = object()


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


async def add_skip(conn: AsyncConnection, name: str, position: int) -> None:
    """Record that `name` must not apply the event at `position`."""
    values = {"name": name, "position": position, "skipped_at": datetime.now(UTC)}
    await conn.execute(_insert_ignoring_duplicates(conn, projection_skip, values))


__all__ = [
    "add_skip",
    "ensure_checkpoint",
    "load_skips",
    "lock_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
]
