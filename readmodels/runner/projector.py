"""Applying one batch of the log to projections, and announcing it once committed.

In ONE write transaction the projector reads every projection's checkpoint (with the skips in
the batch's range) and the rows the batch touches, applies the events in memory, and writes
the rows and the advanced checkpoint only if the checkpoint is still as it was read
(`viewsql.py`): each event takes effect exactly once, crash or not, and a rebuild, a skip or
another process changing a checkpoint meanwhile makes that projection's write a no-op. On
PostgreSQL the reads are one statement and the writes another, for all the projections the
batch goes to. The transaction is the projector's own (a slot's task) or the event store's
append (the in-writer hook). Events the checkpoint shows another process applied first are
handed to `elsewhere` (SQLite, where no notification tells this process of them:
runner/peers.py), and the rest applied. `watch`, when given, wraps each `apply` with the
projections and events it is given (the traces' span, current while the batch is applied).

Locks come in one order everywhere, so they cannot deadlock: the views' tables (by reading or
writing them), then checkpoint rows (the write). A rebuild's swap locks the live tables first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from readmodels.dto import Change
from readmodels.projections.base import EventFailed, apply_each, reads_of
from readmodels.projections.rowsql import ReadPart, read_all
from readmodels.runner.checkpoint import CheckpointsRead, read_checkpoint
from readmodels.runner.viewsql import ShareWrite, write_shares

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.feed import ChangeHub
    from readmodels.projections.base import Batch
    from readmodels.runner.cluster import Cluster
    from readmodels.runner.slot import Slot

ApplyWatch: TypeAlias = (
    "Callable[[Mapping[str, Sequence[RecordedEvent]]], AbstractContextManager[object]]"
)
"""Wraps one apply: the events it offers each projection, by the projection's name."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Applied:
    """What one batch did to one projection: the events it covered, the orders it touched and
    the projection's batch (None when it handled none of the events)."""

    events: list[RecordedEvent]
    touched: frozenset[str]
    batch: Batch | None


@dataclass(eq=False, slots=True)
class Share:
    """One projection's part of a batch: events that follow one another in the log (the
    checkpoint must be just before the first), and once applied, what came of it."""

    slot: Slot
    events: list[RecordedEvent]
    batch: Batch = field(init=False)
    applied: Applied | None = None
    failed: EventFailed | None = None
    moved_to: int | None = None
    """The checkpoint, when it was not just before the events (a rebuild or another process
    moved it)."""

    @property
    def after(self) -> int:
        return self.events[0].position - 1


class Projector:
    """Applies batches to slots' projections in the views database `db`."""

    def __init__(
        self,
        log: EventLog,
        db: Database,
        *,
        cluster: Cluster,
        changes: ChangeHub,
        on_applied: Callable[[str, list[RecordedEvent]], None],
        elsewhere: Callable[[Slot, list[RecordedEvent]], None] | None = None,
        watch: ApplyWatch | None = None,
    ) -> None:
        self.log = log
        self.db = db
        self._cluster = cluster
        self._changes = changes
        self._on_applied = on_applied
        self._elsewhere = elsewhere
        self._watch = watch

    async def commit(self, slot: Slot, events: list[RecordedEvent]) -> None:
        """Apply `events` to `slot` in a transaction of its own, then announce them;
        EventFailed when one of them raised."""
        share = Share(slot, events)
        async with self.db.write() as conn:
            await self.apply(conn, [share])
        if share.failed is not None:
            raise share.failed
        if share.applied is not None:
            self.committed(slot, share.applied)
        elif share.moved_to is not None:
            slot.settle_at(share.moved_to)
        else:  # the checkpoint changed between the read and the write
            async with self.db.read() as conn:
                slot.settle_at(await read_checkpoint(conn, slot.name))

    async def apply(self, conn: AsyncConnection, shares: Sequence[Share]) -> None:
        """Apply each share in `conn`'s transaction, filling in what came of it: `applied`
        (written, to be announced once committed), `failed`, `moved_to`, or none of these
        (its checkpoint changed meanwhile: nothing of it was written)."""
        if self._watch is None:
            await self._apply(conn, shares)
            return
        with self._watch({share.slot.name: share.events for share in shares}):
            await self._apply(conn, shares)

    async def _apply(self, conn: AsyncConnection, shares: Sequence[Share]) -> None:
        read = CheckpointsRead(
            [share.slot.name for share in shares],
            min(share.after for share in shares),
            max(share.events[-1].position for share in shares),
        )
        parts: list[ReadPart] = [read]
        for share in shares:
            projection = share.slot.projection
            share.batch = projection.batch(share.slot.tables)
            share.batch.want(projection.wanted(share.events, ()))
            parts.extend(reads_of(share.batch))
        await read_all(conn, parts)
        ready: list[tuple[Share, ShareWrite, Applied]] = []
        for share in shares:
            prepared = self._prepare(share, read)
            if prepared is not None:
                ready.append((share, *prepared))
        if ready:
            written = await write_shares(conn, [write for _, write, _ in ready])
            for share, write, applied in ready:
                if write.name in written:
                    share.applied = applied

    def _prepare(self, share: Share, read: CheckpointsRead) -> tuple[ShareWrite, Applied] | None:
        """Apply the share in memory; what to write, or None (moved, or an event failed)."""
        slot = share.slot
        seen = read.found[slot.name]
        if self._elsewhere is not None and share.after < seen.position and not slot.rebuilding:
            # Another process on the SQLite file applied the first of these (runner/peers.py):
            # announce them here as its notification would, then apply the rest.
            theirs = [e for e in share.events if e.position <= seen.position]
            if theirs:
                self._elsewhere(slot, theirs)
            share.events = [e for e in share.events if e.position > seen.position]
        if not share.events or seen.position != share.after:
            share.moved_to = seen.position
            return None
        slot.skipped.update(seen.skips)
        wanted = slot.projection.wanted(share.events, slot.skipped)
        try:
            apply_each(share.batch, wanted)
        except EventFailed as error:
            share.failed = error
            return None
        touched = frozenset(recorded.stream_id for recorded in wanted)
        position = share.events[-1].position
        write = ShareWrite(
            name=slot.name,
            seen=seen,
            position=position,
            rowsets=share.batch.rowsets(),
            messages=self._cluster.batch_messages(slot.name, position, touched)
            if self._cluster.active
            else (),
        )
        batch = share.batch if wanted else None
        return write, Applied(events=share.events, touched=touched, batch=batch)

    def committed(self, slot: Slot, applied: Applied) -> None:
        """After the commit: hand the batch's rows on, move the slot, wake waiters, publish the
        change, log the batch."""
        if applied.batch is not None:
            applied.batch.committed()
        slot.advance(applied.events[-1].position)
        if applied.touched:
            self._changes.publish(
                Change(projection=slot.name, position=slot.position, order_ids=applied.touched)
            )
        self._on_applied(slot.name, applied.events)


__all__ = ["Applied", "ApplyWatch", "Projector", "Share"]
