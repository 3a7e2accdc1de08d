"""The in-process projection runner: catches up from checkpoints, then follows the log.

Each projection has its own task. It reads a batch of events after its position, and in ONE
write transaction re-reads its checkpoint, applies the events the checkpoint has not covered
and advances the checkpoint to the batch's last position: each event takes effect exactly
once, crash or not, and a rebuild swapping tables between the read and the write cannot make
it apply events twice. When caught up it waits on the log's committed signal (with a slow
safety poll). A batch that raises marks only that projection FAILED; it is retried with capped
exponential backoff while the others keep going. An operator can skip a poison event with
`await runner.skip_event(name, position)`: the skip is recorded beside the checkpoint and
rebuilds honour it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from domain.storage.pglisten import PgListener
from readmodels.dto import BatchApplied, Change, ProjectionState, ProjectionStatus, WaitResult
from readmodels.feed import ChangeHub
from readmodels.projections.base import EventFailed, Projection, Tables
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.runner.checkpoint import (
    add_skip,
    ensure_checkpoint,
    load_skips,
    lock_checkpoint,
    read_checkpoint,
)
from readmodels.runner.checkpoint import save_checkpoint as _save
from readmodels.runner.leadership import Leadership, leadership_for
from readmodels.runner.rebuild import Progress, drop_shadow, rebuild_projection
from readmodels.tables import control_metadata, new_metadata

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database

NOTIFY_CHANNEL = "ordergraph_projection"
# PostgreSQL caps a NOTIFY payload at 8,000 bytes: order ids go out in chunks that fit.
_IDS_PER_NOTIFICATION = 100

logger = logging.getLogger(__name__)


def default_projections() -> list[Projection]:
    """The three read views."""
    return [OrderViewsProjection(), CustomerSummariesProjection(), DailySalesProjection()]


PROJECTION_NAMES = tuple(projection.name for projection in default_projections())


@dataclass(eq=False, slots=True)
class _Slot:
    projection: Projection
    tables: Tables
    position: int = 0
    failed: bool = False
    last_error: str | None = None
    rebuilding: bool = False
    stop_before: int | None = None
    idle: bool = False
    leading: bool = False
    lead_checked_at: float = float("-inf")
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.projection.name


class ProjectionRunner:
    """Runs projections in this process, started and stopped with the service."""

    def __init__(
        self,
        log: EventLog,
        db: Database,
        projections: Sequence[Projection] | None = None,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_base: float = 0.1,
        retry_cap: float = 30.0,
        leadership: Leadership | None = None,
        lead_interval: float = 1.0,
        on_batch: Callable[[BatchApplied], None] | None = None,
    ) -> None:
        self.log = log
        self.db = db
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.lead_interval = lead_interval
        self.on_batch = on_batch
        self.changes = ChangeHub()
        self._leadership = leadership or leadership_for(db)
        self._listener: PgListener | None = None
        # Tells this process's own notifications from other processes'.
        self._origin = secrets.token_hex(8)
        chosen = default_projections() if projections is None else list(projections)
        self._slots = {p.name: _Slot(p, p.define(new_metadata(), "")) for p in chosen}
        if len(self._slots) != len(chosen):
            raise ValueError("projection names must be unique")
        self._skips: dict[str, set[int]] = {name: set() for name in self._slots}
        self._progress = asyncio.Event()
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
        if self.db.dialect == "postgresql":
            self._listener = PgListener(self.db, on_reconnect=self._reload_positions)
            self._listener.on(NOTIFY_CHANNEL, self._on_notification)
            await self._listener.start()
        async with self.db.read() as conn:
            skips = await load_skips(conn)
        for name, positions in skips.items():
            self._skips.setdefault(name, set()).update(positions)
        self._running = True
        for slot in self._slots.values():
            slot.failed, slot.last_error, slot.stop_before = False, None, None
            slot.task = asyncio.create_task(self._follow(slot), name=f"projection:{slot.name}")

    async def stop(self) -> None:
        """Stop every projection at a batch boundary."""
        self._running = False
        tasks = []
        for slot in self._slots.values():
            slot.wake.set()
            if slot.task is not None:
                if slot.idle:
                    slot.task.cancel()
                tasks.append(slot.task)
                slot.task = None
        await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            slot.leading, slot.lead_checked_at = False, float("-inf")
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        await self._leadership.close()

    @property
    def alive(self) -> bool:
        """Started, not stopped, and every projection's task still running."""
        return self._running and all(
            slot.task is not None and not slot.task.done() for slot in self._slots.values()
        )

    def position(self, name: str) -> int:
        """The last position `name` has applied."""
        return self._slot(name).position

    def status(self) -> list[ProjectionStatus]:
        """Every projection's state and lag, from memory."""
        head = max([self.log.committed.head, *(s.position for s in self._slots.values())])
        return [self._status(slot, head) for slot in self._slots.values()]

    async def wait_for(self, names: Iterable[str], position: int, timeout: float) -> WaitResult:
        """Wait until the named projections have applied `position`, or `timeout` seconds."""
        slots = [self._slot(name) for name in names]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while any(slot.position < position for slot in slots):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)
        reached = {slot.name: slot.position for slot in slots}
        stale = any(reached_at < position for reached_at in reached.values())
        return WaitResult(stale=stale, requested=position, reached=reached)

    async def skip_event(self, name: str, position: int) -> None:
        """Make `name` pass over the event at `position` (an operator's fix for a poison event)."""
        slot = self._slot(name)
        if position <= slot.position:
            raise ValueError(f"{name} has already applied position {position}")
        if position > await self.log.head_position():
            raise ValueError(f"position {position} is beyond the head of the log")
        async with self.db.write() as conn:
            await add_skip(conn, name, position)
            if self.db.dialect == "postgresql":
                # The process that runs the projection may be another one: tell it at commit.
                await conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {
                        "channel": NOTIFY_CHANNEL,
                        "payload": json.dumps(
                            {"name": name, "skip": position, "origin": self._origin}
                        ),
                    },
                )
        self._skips[name].add(position)
        logger.warning("projection %s will skip the event at position %d", name, position)
        slot.wake.set()

    async def rebuild(self, name: str, progress: Progress | None = None) -> ProjectionStatus:
        """Replay the whole log into fresh tables and swap them in once caught up."""
        slot = self._slot(name)
        if slot.rebuilding or not await self._leadership.try_rebuild(name):
            raise RuntimeError(f"{name} is already being rebuilt")
        slot.rebuilding = True
        try:
            reached = await rebuild_projection(
                self.log,
                self.db,
                slot.projection,
                skipped=self._skips[name],
                batch_size=self.batch_size,
                progress=progress,
            )
        finally:
            slot.rebuilding = False
            await self._leadership.end_rebuild(name)
        if self.db.dialect == "postgresql":
            async with self.db.write() as conn:
                await self._notify(conn, name, reached, frozenset())
        self._advance(slot, reached)
        return self._status(slot, max(self.log.committed.head, slot.position))

    def leading(self) -> list[str]:
        """The projections this process runs (the others it follows)."""
        return [slot.name for slot in self._slots.values() if slot.leading]

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise ValueError(f"unknown projection {name!r}") from None

    def _status(self, slot: _Slot, head: int) -> ProjectionStatus:
        if not self._running:
            state = ProjectionState.STOPPED
        elif slot.failed:
            state = ProjectionState.FAILED
        elif slot.rebuilding:
            state = ProjectionState.REBUILDING
        else:
            state = ProjectionState.RUNNING
        return ProjectionStatus(
            name=slot.name,
            state=state,
            position=slot.position,
            head_position=head,
            lag=max(0, head - slot.position),
            last_error=slot.last_error,
        )

    def _advance(self, slot: _Slot, position: int) -> None:
        if position > slot.position:
            slot.position = position
            progressed, self._progress = self._progress, asyncio.Event()
            progressed.set()

    async def _follow(self, slot: _Slot) -> None:
        delay = self.retry_base
        while self._running:
            try:
                await self._step(slot)
            except EventFailed as error:
                self._failed(slot, error)
                if error.position > slot.position + 1:
                    slot.stop_before = error.position  # apply the good events before it first
                    continue
            except Exception as error:
                self._failed(slot, error)
            else:
                if slot.failed and slot.stop_before is None:
                    logger.info("projection %s recovered at %d", slot.name, slot.position)
                    slot.failed, slot.last_error = False, None
                delay = self.retry_base
                continue
            await self._pause(slot, delay)
            delay = min(delay * 2, self.retry_cap)

    def _failed(self, slot: _Slot, error: Exception) -> None:
        slot.failed = True
        slot.last_error = f"{type(error).__name__}: {error}"
        logger.error("projection %s failed after %d: %s", slot.name, slot.position, error)

    async def _pause(self, slot: _Slot, delay: float) -> None:
        slot.idle = True
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(slot.wake.wait(), delay)
        finally:
            slot.idle = False

    async def _leads(self, slot: _Slot) -> bool:
        """Whether this process runs `slot` now; asks again every `lead_interval` seconds."""
        now = asyncio.get_running_loop().time()
        if now - slot.lead_checked_at >= self.lead_interval:
            was_leading = slot.leading
            slot.leading = await self._leadership.try_lead(slot.name)
            slot.lead_checked_at = now
            if slot.leading and not was_leading:
                logger.info("this process now runs projection %s", slot.name)
            elif was_leading and not slot.leading:
                logger.warning("this process no longer runs projection %s", slot.name)
        return slot.leading

    async def _follow_leader(self, slot: _Slot) -> None:
        """Another process runs `slot`: track its checkpoint (notifications do it at once; this
        read is the safety net) until this process may take over."""
        async with self.db.read() as conn:
            position = await read_checkpoint(conn, slot.name)
        self._advance(slot, position)
        await self._pause(slot, self.lead_interval)

    def _on_notification(self, payload: str) -> None:
        """A batch another process committed (its leader's task, or any process's writer
        applying the projections in its own transaction): follow it."""
        message = json.loads(payload)
        slot = self._slots.get(message["name"])
        if slot is None or message.get("origin") == self._origin:
            return
        if "skip" in message:
            self._skips[slot.name].add(int(message["skip"]))
            slot.wake.set()
            return
        self._advance(slot, int(message["position"]))
        if message["ids"]:
            self.changes.publish(
                Change(
                    projection=slot.name,
                    position=int(message["position"]),
                    order_ids=frozenset(message["ids"]),
                )
            )

    async def _reload_positions(self) -> None:
        """After a lost LISTEN connection: catch up on what notifications may have been missed."""
        async with self.db.read() as conn:
            for slot in self._slots.values():
                if not slot.leading:
                    self._advance(slot, await read_checkpoint(conn, slot.name))

    async def _notify(
        self, conn: AsyncConnection, name: str, position: int, touched: frozenset[str]
    ) -> None:
        """Tell the other processes, at commit, what this batch changed."""
        ids = sorted(touched)
        chunks = [
            ids[i : i + _IDS_PER_NOTIFICATION] for i in range(0, len(ids), _IDS_PER_NOTIFICATION)
        ]
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            [
                {
                    "channel": NOTIFY_CHANNEL,
                    "payload": json.dumps(
                        {"name": name, "position": position, "ids": chunk, "origin": self._origin}
                    ),
                }
                for chunk in chunks or [[]]
            ],
        )

    async def _step(self, slot: _Slot) -> None:
        if not await self._leads(slot):
            await self._follow_leader(slot)
            return
        slot.wake.clear()
        limit = self.batch_size
        if slot.stop_before is not None:
            limit = min(limit, slot.stop_before - slot.position - 1)
            if limit <= 0:
                slot.stop_before, limit = None, self.batch_size
        slot.idle = True
        try:
            events = await self.log.read_all(slot.position, limit)
            if not events:
                head = self.log.committed.head
                await self.log.committed.wait_beyond(
                    max(slot.position, head), timeout=self.poll_interval
                )
                return
        finally:
            slot.idle = False
        await self._commit(slot, events)

    async def _commit(self, slot: _Slot, events: list[RecordedEvent]) -> None:
        async with self.db.write() as conn:
            done = await self._apply_in(conn, slot, events)
        if done is not None:
            self._committed(slot, *done)

    async def _apply_in(
        self, conn: AsyncConnection, slot: _Slot, events: list[RecordedEvent]
    ) -> tuple[list[RecordedEvent], frozenset[str]] | None:
        """Apply what the checkpoint (locked here) has not covered, and advance it, in `conn`'s
        transaction; None when the checkpoint is elsewhere (a rebuild or another runner moved
        it: the slot follows it)."""
        checkpoint, _suffix = await lock_checkpoint(conn, slot.name)
        todo = [e for e in events if e.position > checkpoint]
        if events[0].position > checkpoint + 1 or not todo:
            if checkpoint > slot.position:
                self._advance(slot, checkpoint)
            else:
                slot.position = checkpoint
            return None
        touched: frozenset[str] = frozenset()
        wanted = slot.projection.wanted(todo, self._skips[slot.name])
        if wanted:
            touched = await slot.projection.apply(conn, slot.tables, wanted)
        await _save(conn, slot.name, todo[-1].position)
        if self.db.dialect == "postgresql":
            await self._notify(conn, slot.name, todo[-1].position, touched)
        return todo, touched

    def _committed(self, slot: _Slot, todo: list[RecordedEvent], touched: frozenset[str]) -> None:
        """After the commit: move the slot, wake waiters, publish the change, log the batch."""
        self._advance(slot, todo[-1].position)
        if touched:
            self.changes.publish(
                Change(projection=slot.name, position=slot.position, order_ids=touched)
            )
        self._applied(slot.name, todo)

    def in_writer_transaction(self) -> InWriterTransaction:
        """A commit hook that applies each append to the projections in the writer's own
        transaction (the views database must be the event store's): a view is current the
        moment its command commits. The runner's tasks remain the fallback for whatever this
        skips (a projection behind, failed or rebuilding)."""
        return InWriterTransaction(self)

    def _applied(self, name: str, events: list[RecordedEvent]) -> None:
        """One log line per committed batch, and the `on_batch` observer."""
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
        if self.on_batch is not None:
            self.on_batch(
                BatchApplied(
                    projection=name,
                    events=len(events),
                    position=last.position,
                    seconds_after_commit=lag,
                )
            )


class InWriterTransaction:
    """Keeps the projections current inside the event store's append transaction.

    Each batch is applied under one SAVEPOINT: if a projection raises, the savepoint is rolled
    back, the append commits all the same, and the runner's own task applies (or fails on) those
    events later. A projection that is not exactly at the batch's start (behind, or moved by a
    rebuild) is skipped here for the same reason.
    """

    def __init__(self, runner: ProjectionRunner) -> None:
        self._runner = runner

    async def __call__(
        self, conn: AsyncConnection, head: int, recorded: list[RecordedEvent]
    ) -> Callable[[], None] | None:
        runner = self._runner
        slots = [
            slot
            for slot in runner._slots.values()
            if slot.position == head and not slot.failed and not slot.rebuilding
        ]
        if not slots or not runner._running:
            return None
        done: list[tuple[_Slot, list[RecordedEvent], frozenset[str]]] = []
        try:
            async with conn.begin_nested():
                for slot in slots:
                    applied = await runner._apply_in(conn, slot, recorded)
                    if applied is not None:
                        done.append((slot, *applied))
        except Exception:
            logger.warning(
                "applying positions %d-%d in the writer's transaction failed; the runner will",
                recorded[0].position,
                recorded[-1].position,
                exc_info=True,
            )
            return None

        def committed() -> None:
            for slot, todo, touched in done:
                runner._committed(slot, todo, touched)

        return committed


__all__ = ["PROJECTION_NAMES", "InWriterTransaction", "ProjectionRunner", "default_projections"]
