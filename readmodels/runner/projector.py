"""Applying one batch of the log to one projection, and announcing it once committed.

In ONE write transaction the projector re-reads and locks the projection's checkpoint,
applies the events the checkpoint has not covered and advances the checkpoint to the batch's
last position: each event takes effect exactly once, crash or not, and a rebuild swapping
tables between the read and the write cannot make it apply events twice. The transaction is
the projector's own (a slot's task) or the event store's append (the in-writer hook). Events
the checkpoint shows another process applied first are handed to `elsewhere` (SQLite, where no
notification tells this process of them: runner/peers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from readmodels.dto import Change
from readmodels.runner.checkpoint import lock_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.feed import ChangeHub
    from readmodels.projections.base import Batch
    from readmodels.runner.cluster import Cluster
    from readmodels.runner.slot import Slot


@dataclass(frozen=True, kw_only=True, slots=True)
class Applied:
    """What one batch did to one projection: the events it covered, the orders it touched and
    the projection's batch (None when it handled none of the events)."""

    events: list[RecordedEvent]
    touched: frozenset[str]
    batch: Batch | None


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
    ) -> None:
        self.log = log
        self.db = db
        self._cluster = cluster
        self._changes = changes
        self._on_applied = on_applied
        self._elsewhere = elsewhere

    async def commit(self, slot: Slot, events: list[RecordedEvent]) -> None:
        """Apply `events` to `slot` in a transaction of its own, then announce them."""
        async with self.db.write() as conn:
            applied = await self.apply_in(conn, slot, events)
        if applied is not None:
            self.committed(slot, applied)

    async def apply_in(
        self, conn: AsyncConnection, slot: Slot, events: list[RecordedEvent]
    ) -> Applied | None:
        """Apply what the checkpoint (locked here) has not covered, and advance it, in `conn`'s
        transaction; None when the checkpoint is elsewhere (a rebuild or another runner moved
        it: the slot follows it)."""
        checkpoint, _suffix = await lock_checkpoint(conn, slot.name)
        if self._elsewhere is not None and checkpoint > slot.position and not slot.rebuilding:
            # Another process on the SQLite file applied the first of these (runner/peers.py):
            # announce them here as its notification would, then apply the rest.
            theirs = [e for e in events if slot.position < e.position <= checkpoint]
            if theirs:
                self._elsewhere(slot, theirs)
            events = [e for e in events if e.position > checkpoint]
            if not events:
                return None
        todo = [e for e in events if e.position > checkpoint]
        if events[0].position > checkpoint + 1 or not todo:
            slot.settle_at(checkpoint)
            return None
        written = None
        wanted = slot.projection.wanted(todo, slot.skipped)
        if wanted:
            written = await slot.projection.apply(conn, slot.tables, wanted)
        touched = frozenset() if written is None else written.touched
        await save_checkpoint(conn, slot.name, todo[-1].position)
        await self._cluster.announce_batch(conn, slot.name, todo[-1].position, touched)
        return Applied(
            events=todo, touched=touched, batch=None if written is None else written.batch
        )

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


__all__ = ["Applied", "Projector"]
