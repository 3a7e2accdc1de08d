"""A streaming connection's outgoing frames (a WebSocket, an event stream, a multipart
response), and the live sink that puts shared payloads into them.

`Outbox.send` writes one frame and waits while the connection's buffer is full (the server's
flow control); a write stuck longer than `stuck_seconds` marks the consumer slow, and the
transport closes the connection (WebSocket code 4008, "Slow consumer"; an HTTP stream ends).
Frames queued by `queue_frame` are written by one writer task, one operation after another
(round robin): an `orderUpdated` operation is latest-state (a frame not written yet is replaced
by the newer one), an `ordersChanged` one keeps every frame up to `MAX_QUEUED_FRAMES` and then
falls `behind`, and its feed re-reads the view table from `resumed()`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from graph.api.live.sink import LiveSink

if TYPE_CHECKING:
    from graph.pipeline.live import ExecutionGroup, LiveStats
    from readmodels.dto import OrderView

STUCK_SECONDS = 5.0
MAX_QUEUED_FRAMES = 256


class SlowConsumer(BaseException):
    """The connection's send buffer stayed full too long: it is being closed (a BaseException,
    so that resolvers and the pipeline do not turn it into an error frame)."""


class Outbox:
    """One connection's frames: direct sends, and the queue its writer task drains."""

    def __init__(
        self,
        write: Callable[[str], Awaitable[None]],
        stats: LiveStats,
        on_slow: Callable[[], None],
        stuck_seconds: float | None = None,
    ) -> None:
        self._write = write
        self.stats = stats
        self._on_slow = on_slow
        self.stuck_seconds = STUCK_SECONDS if stuck_seconds is None else stuck_seconds
        self._queues: dict[str, deque[str]] = {}
        self._writer: asyncio.Task[None] | None = None
        self.slow = False

    async def send(self, frame: str) -> None:
        """Write one frame, waiting while the buffer is full; SlowConsumer if stuck."""
        if self.slow:
            raise SlowConsumer
        try:
            async with asyncio.timeout(self.stuck_seconds):
                await self._write(frame)
        except TimeoutError:
            self._mark_slow()
            raise SlowConsumer from None
        self.stats.frames += 1

    def queue_frame(self, operation_id: str, frame: str, *, in_order: bool = False) -> bool:
        """Queue a frame of the operation and make sure the writer runs: latest-state, or
        `in_order` up to MAX_QUEUED_FRAMES (False when full)."""
        queue = self._queues.get(operation_id)
        if queue is None:
            queue = self._queues[operation_id] = deque()
        elif not in_order:
            self.stats.skipped += len(queue)
            queue.clear()
        elif len(queue) >= MAX_QUEUED_FRAMES:
            return False
        queue.append(frame)
        if self._writer is None and not self.slow:
            self._writer = asyncio.get_running_loop().create_task(self._drain())
        return True

    def queued(self, operation_id: str) -> int:
        """Frames of the operation not written yet."""
        queue = self._queues.get(operation_id)
        return 0 if queue is None else len(queue)

    def unqueue(self, operation_id: str) -> None:
        self._queues.pop(operation_id, None)

    async def _drain(self) -> None:
        """Write queued frames, one operation after another, until none is left."""
        queues = self._queues
        try:
            while queues:
                operation_id = next(iter(queues))
                queue = queues.pop(operation_id)
                if not queue:
                    continue
                frame = queue.popleft()
                if queue:
                    queues[operation_id] = queue  # to the back: the others go first
                await self.send(frame)
        except (SlowConsumer, Exception):
            queues.clear()
        finally:
            self._writer = None

    def _mark_slow(self) -> None:
        if self.slow:
            return
        self.slow = True
        self.stats.slow_closed += 1
        self._on_slow()

    async def close(self) -> None:
        """Stop the writer (the connection is going away)."""
        writer, self._writer = self._writer, None
        self._queues.clear()
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()


class OperationSink(LiveSink):
    """One shareable operation's delivery: its group's shared payload in its own frame.

    Views handed to `deliver` are framed in the order given, as their shared payloads are
    ready; see the module docstring for latest-state and in-order operations.
    """

    __slots__ = (
        "_drain_cb",
        "_group",
        "_in_order",
        "_join",
        "_on_push",
        "_operation_id",
        "_outbox",
        "_pending",
        "_prefix",
        "_queued",
        "_suffix",
        "behind",
        "completed",
    )

    def __init__(
        self,
        outbox: Outbox,
        operation_id: str,
        join: Callable[[], ExecutionGroup],
        frame: tuple[str, str],
        on_push: Callable[[int, int], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._operation_id = operation_id
        self._join = join
        self._group: ExecutionGroup | None = None
        self._prefix, self._suffix = frame
        self._on_push = on_push  # (position, when the view came in ns): a frame went out
        self._queued = 0
        self._pending: deque[tuple[int, asyncio.Future[str], int]] = deque()
        self._in_order = False
        self._drain_cb = lambda _done: self._drain()
        self.behind = asyncio.Event()
        self.completed = False

    @property
    def group(self) -> ExecutionGroup:
        group = self._group
        if group is None:
            group = self._group = self._join()
        return group

    async def send(self, view: OrderView) -> None:
        if self.completed:
            return
        started = 0 if self._on_push is None else time.time_ns()
        payload = await self.group.payload(view)
        await self._outbox.send(self._prefix + payload + self._suffix)
        if self._on_push is not None:
            self._on_push(view.position, started)

    def in_order(self) -> None:
        self._in_order = True

    def deliver(self, view: OrderView) -> None:
        if self.completed or self.behind.is_set():
            return
        future = self.group.future(view)
        started = 0 if self._on_push is None else time.time_ns()
        self._pending.append((view.position, future, started))
        if future.done() and len(self._pending) == 1:
            self._drain()
        else:
            future.add_done_callback(self._drain_cb)

    def _drain(self) -> None:
        pending = self._pending
        while pending and pending[0][1].done():
            position, future, started = pending.popleft()
            if future.cancelled() or future.exception() is not None:
                continue  # logged where it was executed; the next view supersedes it
            if position <= self._queued or self.completed:
                continue
            frame = self._prefix + future.result() + self._suffix
            if not self._outbox.queue_frame(self._operation_id, frame, in_order=self._in_order):
                pending.clear()
                self.behind.set()
                self._outbox.stats.list_catch_ups += 1
                return
            self._queued = position
            if self._on_push is not None:
                self._on_push(position, started)

    async def resumed(self) -> int:
        """Once the connection has written what was queued: the last position queued (the
        feed catches up from there)."""
        for _ in range(int(self._outbox.stuck_seconds / 0.02) + 1):
            if not self._outbox.queued(self._operation_id):
                break
            await asyncio.sleep(0.02)
        self.behind.clear()
        return self._queued

    def leave(self, leave_group: Callable[[ExecutionGroup], None]) -> None:
        """The operation is over: forget its frames and leave its group."""
        self.completed = True
        self._pending.clear()
        self._outbox.unqueue(self._operation_id)
        if self._group is not None:
            leave_group(self._group)
            self._group = None


__all__ = ["MAX_QUEUED_FRAMES", "STUCK_SECONDS", "OperationSink", "Outbox", "SlowConsumer"]
