"""The in-process projection runner: catches up from checkpoints, then follows the log.

Each projection has a slot with its own task (`slot.py`), which applies batches through the
projector (`projector.py`); the in-writer hook (`in_writer.py`) applies them inside the append
itself when the views share the event store's database. On PostgreSQL, leadership decides
which process runs each projection (`leadership.py`) and the others follow its messages
(`cluster.py`); on SQLite this process follows the other processes on the file through
`peers.py`. An operator can skip a poison event with `await runner.skip_event(name,
position)`: the skip is recorded beside the checkpoint and rebuilds honour it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from domain.storage.faults import Incident
from readmodels.dto import (
    BatchApplied,
    Change,
    FailingEvent,
    ProjectionStatus,
    SkippedEvent,
    WaitResult,
)
from readmodels.feed import ChangeHub
from readmodels.runner.checkpoint import (
    add_skip,
    claim_checkpoint,
    ensure_checkpoint,
    load_skips,
    lock_checkpoint,
    read_checkpoint,
    read_failures,
    read_skips,
)
from readmodels.runner.cluster import Cluster
from readmodels.runner.in_writer import InWriterTransaction
from readmodels.runner.leadership import Leadership, leadership_for
from readmodels.runner.peers import PeerWatch
from readmodels.runner.progress import ProgressWatch
from readmodels.runner.projector import Projector
from readmodels.runner.rebuild import Progress, drop_shadow, rebuild_projections
from readmodels.runner.slot import Slot, Timing
from readmodels.tables import control_metadata, new_metadata

if TYPE_CHECKING:
    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.projections.base import Projection
    from readmodels.runner.projector import ApplyWatch

logger = logging.getLogger(__name__)


class BatchLog:
    """One log line per committed batch, and the `on_batch` observer (for metrics)."""

    def __init__(self, on_batch: Callable[[BatchApplied], None] | None) -> None:
        self._on_batch = on_batch

    def __call__(self, name: str, events: list[RecordedEvent]) -> None:
        last = events[-1]
        lag = (datetime.now(UTC) - last.metadata.recorded_at).total_seconds()
        correlations = sorted({e.metadata.correlation_id or "-" for e in events})
        logger.info(
            "projection %s applied %d events up to %d, %.1f ms after commit (correlation %s%s)",
            name,
            len(events),
            last.position,
            lag * 1000,
            ", ".join(correlations[:5]),
            f" and {len(correlations) - 5} more" if len(correlations) > 5 else "",
        )
        if self._on_batch is not None:
            self._on_batch(
                BatchApplied(
                    projection=name,
                    events=len(events),
                    position=last.position,
                    seconds_after_commit=lag,
                )
            )


class ProjectionRunner:
    """Runs projections in this process, started and stopped with the service."""

    def __init__(
        self,
        log: EventLog,
        db: Database,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_base: float = 0.1,
        retry_cap: float = 30.0,
        leadership: Leadership | None = None,
        lead_interval: float = 1.0,
        on_batch: Callable[[BatchApplied], None] | None = None,
        on_apply: ApplyWatch | None = None,
    ) -> None:
        self.log = log
        self.db = db
        self.peers = PeerWatch(
            db,
            log,
            slots=lambda: self._slots.values(),
            followed=self._followed,
            listened=lambda: self.changes.listened or self._progress.waiting > 0,
        )
        self.changes = ChangeHub(on_subscribe=self.peers.wake)
        self.timing = Timing(
            batch_size=batch_size,
            poll_interval=poll_interval,
            retry_base=retry_base,
            retry_cap=retry_cap,
            lead_interval=lead_interval,
        )
        self._leadership = leadership or leadership_for(db)
        self._cluster = Cluster(db)
        self._progress = ProgressWatch(on_wait=self.peers.wake)
        self.faults = Incident(logger, "projections' reads and writes")
        self._projector = Projector(
            log,
            db,
            cluster=self._cluster,
            changes=self.changes,
            on_applied=BatchLog(on_batch),
            elsewhere=self.peers.follow if self.peers.active else None,
            watch=on_apply,
        )
        self._slots = {
            p.name: Slot(
                projection=p,
                projector=self._projector,
                leadership=self._leadership,
                progress=self._progress,
                timing=self.timing,
                faults=self.faults,
            )
            for p in projections
        }
        if len(self._slots) != len(projections):
            raise ValueError("projection names must be unique")
        self._running = False

    async def start(self) -> None:
        """Create missing tables, drop unfinished rebuilds, load checkpoints, start following."""
        if self._running:
            return
        await self.db.create_all(control_metadata)
        for slot in self._slots.values():
            metadata = new_metadata()
            slot.projection.define(metadata, "")
            await self.db.create_all(metadata)
            async with self.db.write() as conn:
                await ensure_checkpoint(conn, slot.name)
                slot.position, suffix = await lock_checkpoint(conn, slot.name)
            if suffix is not None and await self._leadership.try_rebuild(slot.name):
                # Nobody is rebuilding it now: the shadow tables are an interrupted rebuild's.
                try:
                    await drop_shadow(self.db, slot.projection, suffix)
                finally:
                    await self._leadership.end_rebuild(slot.name)
        await self._cluster.listen(
            on_batch=self._followed,
            on_skip=self._skipped,
            on_reconnect=self._reload_positions,
            on_retry=self._retried,
        )
        async with self.db.read() as conn:
            skips = await load_skips(conn)
        for name, positions in skips.items():
            if name in self._slots:
                self._slots[name].skipped.update(positions)
        self._running = True
        for slot in self._slots.values():
            slot.start()
        self.peers.start()

    async def stop(self) -> None:
        """Stop every projection at a batch boundary."""
        self._running = False
        await self.peers.stop()
        tasks = [task for slot in self._slots.values() if (task := slot.halt()) is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            slot.forget_leadership()
        await self._cluster.close()
        await self._leadership.close()

    @property
    def alive(self) -> bool:
        """Started, not stopped, and every projection's task still running."""
        return self._running and all(slot.alive for slot in self._slots.values())

    def position(self, name: str) -> int:
        """The last position `name` has applied."""
        return self._slot(name).position

    async def committed(self, name: str) -> int:
        """The position `name` has committed in the views database now, read there: beyond
        `position(name)` while this process has yet to learn of another's batches (a SQLite
        file's other writers, a notification on its way)."""
        slot = self._slot(name)
        async with self.db.read() as conn:
            return max(slot.position, await read_checkpoint(conn, name))

    def status(self) -> list[ProjectionStatus]:
        """Every projection's state and lag, from memory."""
        head = max([self.log.committed.head, *(s.position for s in self._slots.values())])
        return [slot.status(head) for slot in self._slots.values()]

    async def wait_for(self, names: Iterable[str], position: int, timeout: float) -> WaitResult:
        """Wait until the named projections have applied `position`, or `timeout` seconds."""
        slots = [self._slot(name) for name in names]
        return await self._progress.wait(slots, position, timeout)

    async def skip_event(self, name: str, position: int) -> None:
        """Make `name` pass over the event at `position` (an operator's fix for a poison event);
        when `name` is stuck on that event, its type and error are recorded with the skip.
        ValueError when `name` has already applied `position` (checked against its checkpoint
        in the transaction that records the skip, which no batch read before it can then
        write past) or `position` is beyond the head of the log."""
        slot = self._slot(name)
        if position > await self.log.head_position():
            raise ValueError(f"position {position} is beyond the head of the log")
        failing = (await self.failures()).get(name)
        stuck = failing is not None and failing.position == position
        async with self.db.write() as conn:
            applied = await claim_checkpoint(conn, name)
            if position <= applied:
                raise ValueError(
                    f"{name} has already applied position {position} (it is at {applied}): "
                    "skipping it now would change nothing but the next rebuild"
                )
            await add_skip(
                conn,
                name,
                position,
                event_type=failing.event_type if failing and stuck else None,
                error=failing.error if failing and stuck else None,
            )
            # The process that runs the projection may be another one: tell it at commit.
            await self._cluster.announce_skip(conn, name, position)
        logger.warning("projection %s will skip the event at position %d", name, position)
        slot.skip(position)

    async def skip_failing_event(self, name: str) -> int:
        """Skip the event `name` is stuck on (as recorded by whichever process runs it);
        returns its position."""
        failing = (await self.failures()).get(name)
        if failing is None:
            raise ValueError(f"{name} is not failing: there is no event to skip")
        if failing.position is None:
            raise ValueError(f"{name} is not stuck on one event: {failing.error}")
        await self.skip_event(name, failing.position)
        return failing.position

    async def retry(self, name: str) -> None:
        """Have `name` try again now instead of after its backoff, in whichever process runs
        it."""
        slot = self._slot(name)
        if self._cluster.active:
            async with self.db.write() as conn:
                await self._cluster.announce_retry(conn, name)
        logger.info("projection %s: retry now", name)
        slot.retry()

    async def failures(self) -> dict[str, FailingEvent]:
        """The event each failing projection is stuck on, as the processes that run them
        recorded it (less a record the projection has moved past, not yet cleared)."""
        async with self.db.read() as conn:
            recorded = await read_failures(conn)
        return {
            name: failing
            for name, failing in recorded.items()
            if name in self._slots
            and (failing.position is None or failing.position > self._slots[name].position)
        }

    async def skipped_events(self, name: str) -> list[SkippedEvent]:
        """The events `name` skips, with what they were and how they failed."""
        self._slot(name)
        async with self.db.read() as conn:
            return await read_skips(conn, name)

    async def rebuild(self, name: str, progress: Progress | None = None) -> ProjectionStatus:
        """Replay the whole log into fresh tables and swap them in once caught up."""
        (status,) = await self.rebuild_many([name], progress)
        return status

    async def rebuild_many(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> list[ProjectionStatus]:
        """Rebuild several projections in one pass over the log (read and decoded once), each
        swapped in once caught up. A projection that fails does not stop the others: they are
        swapped in, then its error is raised (an ExceptionGroup when several failed)."""
        slots = [self._slot(name) for name in dict.fromkeys(names)]
        taken: list[Slot] = []
        try:
            for slot in slots:
                if slot.rebuilding or not await self._leadership.try_rebuild(slot.name):
                    raise RuntimeError(f"{slot.name} is already being rebuilt")
                taken.append(slot)
                slot.rebuilding = True
            outcome = await rebuild_projections(
                self.log,
                self.db,
                [slot.projection for slot in slots],
                skipped={slot.name: slot.skipped for slot in slots},
                progress=progress,
            )
        finally:
            for slot in taken:
                slot.rebuilding = False
                await self._leadership.end_rebuild(slot.name)
        errors = [error for error in outcome.values() if isinstance(error, BaseException)]
        for slot in slots:
            reached = outcome[slot.name]
            if isinstance(reached, BaseException):
                continue
            if self._cluster.active:
                async with self.db.write() as conn:
                    await self._cluster.announce_batch(conn, slot.name, reached, frozenset())
            slot.advance(reached)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BaseExceptionGroup("rebuilds failed", errors)
        head = self.log.committed.head
        return [slot.status(max(head, slot.position)) for slot in slots]

    def projection(self, name: str) -> Projection | None:
        """The projection called `name` that this runner runs, or None."""
        slot = self._slots.get(name)
        return None if slot is None else slot.projection

    def leading(self) -> list[str]:
        """The projections this process runs (the others it follows)."""
        return [slot.name for slot in self._slots.values() if slot.leading]

    def in_writer_transaction(self) -> InWriterTransaction:
        """A commit hook that applies each append to the projections in the writer's own
        transaction (the views database must be the event store's): a view is current the
        moment its command commits. The runner's tasks remain the fallback for whatever this
        skips (a projection behind, failed or rebuilding)."""
        return InWriterTransaction(list(self._slots.values()), self._projector)

    def _slot(self, name: str) -> Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise ValueError(f"unknown projection {name!r}") from None

    def _followed(self, name: str, position: int, order_ids: frozenset[str]) -> None:
        """A batch another process committed (its leader's task, or any process's writer
        applying the projections in its own transaction): follow it."""
        slot = self._slots.get(name)
        if slot is None:
            return
        slot.advance(position)
        if order_ids:
            self.changes.publish(Change(projection=name, position=position, order_ids=order_ids))

    def _skipped(self, name: str, position: int) -> None:
        """A skip ordered on another process."""
        if name in self._slots:
            self._slots[name].skip(position)

    def _retried(self, name: str) -> None:
        """A retry ordered on another process."""
        if name in self._slots:
            self._slots[name].retry()

    async def _reload_positions(self) -> None:
        """After a lost LISTEN connection: catch up on what notifications may have been missed."""
        async with self.db.read() as conn:
            for slot in self._slots.values():
                if not slot.leading:
                    slot.advance(await read_checkpoint(conn, slot.name))


__all__ = ["BatchLog", "InWriterTransaction", "ProjectionRunner"]
