"""Rebuild projections in one pass: read the log once, replay it into each one's shadow tables,
then swap each in.

Every projection being rebuilt gets shadow tables with a random name suffix. The log is read
(and decoded, only the event types some of them handle) once, page by page; each page is
applied to every projection in ONE write transaction, each under a SAVEPOINT, so a projection
that fails drops out (its shadow tables dropped, its error kept) and the others go on. Each
projection that got to the end is then swapped in by a write transaction of its own: apply the
last events, DROP the live tables, RENAME the shadow tables to the live names and set the
checkpoint to the shadow's position. Until its swap, reads answer from the live tables, which
the live projection keeps updating; WAL readers on SQLite (and MVCC readers on PostgreSQL) see
either the old tables or the new ones, never an empty window. Index names include the table
name, so every generation has index names of its own.

The shadow tables are marked `PLAIN_ROWS`: on SQLite their rows are written as plain tuples
through executemany with fixed statements (see `readmodels.projections.rowsql`); on PostgreSQL
a page's rows go in one statement per projection.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import text
from sqlalchemy.schema import DropTable

from readmodels.projections.rowset import PLAIN_ROWS
from readmodels.runner.checkpoint import lock_checkpoint, save_checkpoint
from readmodels.tables import new_metadata

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.projections.base import Projection, Tables

Progress = Callable[[int, int], None]

REBUILD_PAGE = 1000
"""Events read (and applied to every projection) per write transaction. Measured at 500,
1,000, 2,000 and 5,000 (docs/performance.md): 500 costs ~15% more CPU, from 1,000 up it is
flat within noise; a page holds the single SQLite writer (~80 ms at 1,000), so no bigger."""


@runtime_checkable
class PagedLog(Protocol):
    """A log that can read a page and decode only some event types (SqlEventStore does)."""

    async def read_page(
        self, after: int, limit: int, types: Collection[str] | None = None
    ) -> tuple[int, list[RecordedEvent]]: ...


async def read_page(
    log: EventLog, after: int, limit: int, types: Collection[str] | None
) -> tuple[int, list[RecordedEvent]]:
    """Up to `limit` events after `after`: the last position read and those of `types`."""
    if isinstance(log, PagedLog):
        return await log.read_page(after, limit, types)
    events = await log.read_all(after, limit)
    if not events:
        return after, []
    chosen = [e for e in events if types is None or type(e.event).__name__ in types]
    return events[-1].position, chosen


@dataclass(eq=False)
class _Job:
    """One projection's rebuild: its shadow tables, how far they got, what stopped it."""

    projection: Projection
    skipped: Container[int]
    suffix: str = field(default_factory=lambda: "__" + secrets.token_hex(4))
    shadow: Tables = field(init=False)
    position: int = 0
    error: BaseException | None = None
    swapped: bool = False

    def __post_init__(self) -> None:
        self.shadow = self.projection.define(new_metadata(), self.suffix)
        for table in self.shadow.values():
            table.info[PLAIN_ROWS] = True

    @property
    def name(self) -> str:
        return self.projection.name

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        wanted = self.projection.wanted(events, self.skipped)
        if wanted:
            await self.projection.apply(conn, self.shadow, wanted)
        if events:
            self.position = max(self.position, events[-1].position)


async def rebuild_projections(
    log: EventLog,
    db: Database,
    projections: Sequence[Projection],
    *,
    skipped: Mapping[str, Container[int]],
    batch_size: int = REBUILD_PAGE,
    progress: Progress | None = None,
) -> dict[str, int | BaseException]:
    """Replay the log once into fresh tables for each projection and swap each in; per name,
    the position its tables reached, or what made its rebuild fail (the others still swap)."""
    jobs = [_Job(p, skipped.get(p.name, ())) for p in projections]
    for job in jobs:
        metadata = next(iter(job.shadow.values())).metadata
        async with db.write() as conn:
            await lock_checkpoint(conn, job.name)
            await save_checkpoint(conn, job.name, shadow_suffix=job.suffix)
            await conn.run_sync(metadata.create_all)
    try:
        position = await _replay(log, db, jobs, batch_size, progress)
        for job in jobs:
            if job.error is None:
                await _catch_up_and_swap(log, db, job, batch_size)
    finally:
        for job in jobs:
            if not job.swapped:
                await drop_shadow(db, job.projection, job.suffix)
    if progress is not None:
        reached = max([position, *(job.position for job in jobs if job.swapped)])
        progress(reached, reached)
    return {job.name: job.error if job.error is not None else job.position for job in jobs}


async def _replay(
    log: EventLog, db: Database, jobs: list[_Job], batch_size: int, progress: Progress | None
) -> int:
    """Read the log once, page by page, feeding every job still alive; the position read."""
    position = 0
    total = await log.head_position()
    while alive := [job for job in jobs if job.error is None]:
        types = {kind.__name__ for job in alive for kind in job.projection.handles}
        last, events = await read_page(log, position, batch_size, types)
        if last == position:
            break
        async with db.write() as conn:
            for job in alive:
                try:
                    async with conn.begin_nested():
                        await job.apply(conn, events)
                except Exception as error:
                    job.error = error
            for job in alive:
                job.position = last
        position = last
        total = max(total, position)
        if progress is not None:
            progress(position, total)
    return position


async def _catch_up_and_swap(log: EventLog, db: Database, job: _Job, batch_size: int) -> None:
    """In one write transaction: apply what was appended since, swap, set the checkpoint."""
    types = {kind.__name__ for kind in job.projection.handles}
    live = job.projection.define(new_metadata(), "")
    try:
        async with db.write() as conn:
            if conn.dialect.name == "postgresql":
                # The live tables first, then the checkpoint: the order every batch takes
                # them in (see projector.py), so a swap and a batch cannot deadlock.
                await conn.execute(
                    text(f"LOCK TABLE {_names(conn, live)} IN ACCESS EXCLUSIVE MODE")
                )
            await lock_checkpoint(conn, job.name)
            while True:
                last, events = await read_page(log, job.position, batch_size, types)
                if last == job.position:
                    break
                await job.apply(conn, events)
                job.position = last
            await _swap(conn, job.shadow, live)
            await save_checkpoint(conn, job.name, job.position, shadow_suffix=None)
    except Exception as error:
        job.error = error
    else:
        job.swapped = True


async def drop_shadow(db: Database, projection: Projection, suffix: str) -> None:
    """Drop an unfinished rebuild's shadow tables and forget them."""
    shadow = projection.define(new_metadata(), suffix)
    async with db.write() as conn:
        for table in shadow.values():
            await conn.execute(DropTable(table, if_exists=True))
        await save_checkpoint(conn, projection.name, shadow_suffix=None)


def _names(conn: AsyncConnection, tables: Tables) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(table.name) for table in tables.values())


async def _swap(conn: AsyncConnection, shadow: Tables, live: Tables) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for base, table in live.items():
        await conn.execute(DropTable(table, if_exists=True))
        old, new = quote(shadow[base].name), quote(table.name)
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


__all__ = [
    "REBUILD_PAGE",
    "PagedLog",
    "Progress",
    "drop_shadow",
    "read_page",
    "rebuild_projections",
]
