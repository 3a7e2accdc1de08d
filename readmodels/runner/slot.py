"""One projection in this process: where it is, and the task that moves it along the log.

The task reads a batch of events after the slot's position and has the projector apply it in
one transaction. When caught up it waits on the log's committed signal (with a slow safety
poll). A fault of the database (it is unreachable, full, a lock timed out) is tried again
every FAULT_PAUSE seconds without marking anything. A batch that raises marks only this
projection FAILED; it is retried with capped
exponential backoff while the others keep going. When the poison event is not the batch's
first, the good events before it are applied first. On PostgreSQL a slot whose projection
another process leads only follows that process's checkpoint, and asks for the lead again
every `lead_interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from domain.storage.faults import Incident, fault_of
from readmodels.dto import FailingEvent, ProjectionState, ProjectionStatus
from readmodels.projections.base import EventFailed
from readmodels.runner.checkpoint import clear_failure, read_checkpoint, save_failure
from readmodels.tables import new_metadata

if TYPE_CHECKING:
    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.projections.base import Projection, Tables
    from readmodels.runner.leadership import Leadership
    from readmodels.runner.progress import ProgressWatch

logger = logging.getLogger(__name__)

# While the database is away (a fault: see domain.storage.faults), a slot tries again this often.
FAULT_PAUSE = 0.5


class BatchCommitter(Protocol):
    """What a slot's task drives (the projector): the log it reads, the views database, and
    the commit of one batch to the slot's projection."""

    @property
    def log(self) -> EventLog: ...

    @property
    def db(self) -> Database: ...

    async def commit(self, slot: Slot, events: list[RecordedEvent]) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing:
    """How a slot paces itself: batch size, safety poll, retry backoff, leadership retries."""

    batch_size: int = 500
    poll_interval: float = 1.0
    retry_base: float = 0.1
    retry_cap: float = 30.0
    lead_interval: float = 1.0


@dataclass(eq=False, slots=True, kw_only=True)
class Slot:
    """A projection's state in this process and its follow loop."""

    projection: Projection
    projector: BatchCommitter
    leadership: Leadership
    progress: ProgressWatch
    timing: Timing
    # The runner's: a database fault is one log line for all projections, not a traceback each.
    faults: Incident
    tables: Tables = field(init=False)
    position: int = 0
    skipped: set[int] = field(default_factory=set)
    running: bool = False
    failed: bool = False
    last_error: str | None = None
    # The event this process is stuck on, as recorded in projection_failure for every process.
    failing: FailingEvent | None = None
    retry_now: bool = False
    rebuilding: bool = False
    stop_before: int | None = None
    idle: bool = False
    leading: bool = False
    lead_checked_at: float = float("-inf")
    read_at: float = float("-inf")
    """When the task last read the log (loop time)."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    _failing_type: str | None = None
    _recorded_before: bool = True

    def __post_init__(self) -> None:
        self.tables = self.projection.define(new_metadata(), "")

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def alive(self) -> bool:
        """Started, and its task still running."""
        return self.running and self.task is not None and not self.task.done()

    def current_at(self, head: int) -> bool:
        """Running, healthy, not rebuilding and exactly at `head`: a batch after `head` may be
        applied to it in the writer's transaction."""
        return self.running and self.position == head and not self.failed and not self.rebuilding

    def status(self, head: int) -> ProjectionStatus:
        """State and lag against the log's `head`."""
        if not self.running:
            state = ProjectionState.STOPPED
        elif self.failed:
            state = ProjectionState.FAILED
        elif self.rebuilding:
            state = ProjectionState.REBUILDING
        else:
            state = ProjectionState.RUNNING
        return ProjectionStatus(
            name=self.name,
            state=state,
            position=self.position,
            head_position=head,
            lag=max(0, head - self.position),
            last_error=self.last_error,
            failing=self.failing,
        )

    def advance(self, position: int) -> None:
        """Move forward to `position` (never back), waking `wait_for` callers."""
        if position > self.position:
            self.position = position
            self.progress.moved()

    def settle_at(self, checkpoint: int) -> None:
        """Take the stored checkpoint as the position (a rebuild or another runner moved it)."""
        if checkpoint > self.position:
            self.advance(checkpoint)
        else:
            self.position = checkpoint

    def skip(self, position: int) -> None:
        """Pass over the event at `position` from now on."""
        self.skipped.add(position)
        self.wake.set()

    def retry(self) -> None:
        """A failed projection tries again at once, its backoff reset."""
        self.retry_now = True
        self.wake.set()

    def start(self) -> None:
        """Start following the log from `position`."""
        self.running = True
        self.failed, self.last_error, self.stop_before = False, None, None
        self.task = asyncio.create_task(self._follow(), name=f"projection:{self.name}")

    def halt(self) -> asyncio.Task[None] | None:
        """Ask the task to stop at a batch boundary (at once when idle); the task to await."""
        self.running = False
        self.wake.set()
        task, self.task = self.task, None
        if task is not None and self.idle:
            task.cancel()
        return task

    def forget_leadership(self) -> None:
        """After a stop: ask for the lead afresh on the next start."""
        self.leading, self.lead_checked_at = False, float("-inf")

    async def _follow(self) -> None:
        delay = self.timing.retry_base
        while self.running:
            try:
                await self._step()
            except EventFailed as error:
                await self._failed(error, error.position)
                if error.position > self.position + 1:
                    self.stop_before = error.position  # apply the good events before it first
                    continue
            except Exception as error:
                fault = fault_of(error)
                if fault is None:
                    await self._failed(error, None)
                else:  # the database is away, not the projection at fault: not FAILED
                    self.faults.failed(fault)
                    await self._pause(FAULT_PAUSE)
                    continue
            else:
                if self.faults.open:
                    self.faults.succeeded()
                if self.failed and self.stop_before is None:
                    logger.info("projection %s recovered at %d", self.name, self.position)
                    self.failed, self.last_error = False, None
                    await self._record_failure(None)
                elif self._recorded_before and self.leading and self.stop_before is None:
                    # Healthy on its first step: a failure recorded before this start is stale.
                    self._recorded_before = False
                    await self._record_failure(None)
                delay = self.timing.retry_base
                continue
            await self._pause(delay)
            if self.retry_now:
                self.retry_now, delay = False, self.timing.retry_base
            else:
                delay = min(delay * 2, self.timing.retry_cap)

    async def _failed(self, error: Exception, position: int | None) -> None:
        self.failed = True
        self.last_error = f"{type(error).__name__}: {error}"
        logger.error("projection %s failed after %d: %s", self.name, self.position, error)
        previous = self.failing
        same = previous is not None and previous.position == position
        await self._record_failure(
            FailingEvent(
                position=position,
                event_type=self._failing_type if position is not None else None,
                error=self.last_error,
                attempts=previous.attempts + 1 if same and previous else 1,
                failed_at=datetime.now(UTC),
            )
        )

    async def _record_failure(self, failing: FailingEvent | None) -> None:
        """Keep the failure here and in projection_failure (best effort: the database may be
        what fails)."""
        self.failing = failing
        try:
            async with self.projector.db.write() as conn:
                if failing is None:
                    await clear_failure(conn, self.name)
                else:
                    await save_failure(conn, self.name, failing)
        except Exception as error:
            logger.warning("projection %s: cannot record its failure: %s", self.name, error)

    async def _pause(self, delay: float) -> None:
        self.idle = True
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
        finally:
            self.idle = False

    async def _leads(self) -> bool:
        """Whether this process runs the projection now; asks again every `lead_interval`."""
        now = asyncio.get_running_loop().time()
        if now - self.lead_checked_at >= self.timing.lead_interval:
            was_leading = self.leading
            self.leading = await self.leadership.try_lead(self.name)
            self.lead_checked_at = now
            if self.leading and not was_leading:
                logger.info("this process now runs projection %s", self.name)
            elif was_leading and not self.leading:
                logger.warning("this process no longer runs projection %s", self.name)
        return self.leading

    async def _follow_leader(self) -> None:
        """Another process runs the projection: track its checkpoint (notifications do it at
        once; this read is the safety net) until this process may take over."""
        async with self.projector.db.read() as conn:
            position = await read_checkpoint(conn, self.name)
        self.advance(position)
        await self._pause(self.timing.lead_interval)

    async def _step(self) -> None:
        if not await self._leads():
            await self._follow_leader()
            return
        self.wake.clear()
        limit = self.timing.batch_size
        if self.stop_before is not None:
            limit = min(limit, self.stop_before - self.position - 1)
            if limit <= 0:
                self.stop_before, limit = None, self.timing.batch_size
        log = self.projector.log
        self.idle = True
        try:
            now = asyncio.get_running_loop().time()
            if (
                self.position >= log.committed.head
                and now < self.read_at + self.timing.poll_interval
            ):
                # At every commit this process knows of (the writer's own transaction moved
                # it here): wait for the next one instead of asking the database. It is asked
                # at least once a poll_interval, for a commit no notification announced.
                await log.committed.wait_beyond(self.position, timeout=self.timing.poll_interval)
                return
            events = await log.read_all(self.position, limit)
            self.read_at = now
            if not events:
                head = log.committed.head
                await log.committed.wait_beyond(
                    max(self.position, head), timeout=self.timing.poll_interval
                )
                return
        finally:
            self.idle = False
        try:
            await self.projector.commit(self, events)
        except EventFailed as error:
            self._failing_type = next(
                (type(e.event).__name__ for e in events if e.position == error.position), None
            )
            raise


__all__ = ["BatchCommitter", "Slot", "Timing"]
