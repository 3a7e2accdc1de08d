"""The graphql-transport-ws handler with the shared live send path.

A subscription that `shareable_document` accepts (one `orderUpdated` or `ordersChanged` field)
still goes through Strawberry's whole pipeline once per subscriber (parse and validation
caches, extensions, the resolver's authorization and race-free feed), but runs with an
`OperationSink` as its root value: the resolver hands each view to it, and the sink takes the
payload from the operation's `ExecutionGroup` (one execution and one encoded payload per view
for everyone sharing the document, variables and visibility) and writes the frame with only
its operation id differing. Every other operation runs exactly as Strawberry runs it.

Slow consumers: a send waits while the socket's buffer is full (uvicorn's flow control); the
feed meanwhile keeps only the newest change, so the next send is the newest view. A send stuck
longer than `stuck_seconds` closes the socket with code 4008 ("Slow consumer").
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.utils.aio import aclosing

from graph.api.context import Context
from graph.api.live.shared import SharedExecutions, group_key, shareable_document
from graph.api.live.sink import LiveSink

if TYPE_CHECKING:
    from graphql import DocumentNode

    from graph.api.live.shared import ExecutionGroup
    from readmodels.dto import OrderView

SLOW_CONSUMER_CODE = 4008
SLOW_CONSUMER_REASON = "Slow consumer"
STUCK_SECONDS = 5.0
MAX_QUEUED_FRAMES = 256


class SlowConsumer(BaseException):
    """The socket's send buffer stayed full too long: the connection is being closed (a
    BaseException, so that the resolver and Strawberry do not turn it into an error frame)."""


class OperationSink(LiveSink):
    """One shareable operation's delivery: its group's shared payload in its own frame.

    Views handed to `deliver` are framed in the order given, as their shared payloads are
    ready. An `orderUpdated` operation is latest-state (a frame not sent yet is replaced by the
    newer one); an `ordersChanged` operation (`in_order`) queues every frame, up to
    MAX_QUEUED_FRAMES, and past that is `behind`: its feed re-reads the table from `resumed()`.
    """

    __slots__ = (
        "_document",
        "_drain_cb",
        "_group",
        "_handler",
        "_in_order",
        "_operation",
        "_pending",
        "_prefix",
        "_queued",
        "behind",
    )

    def __init__(
        self, handler: LiveTransportWSHandler, operation: Operation[Context, None], document: Any
    ) -> None:
        self._handler = handler
        self._operation = operation
        self._document: DocumentNode = document
        self._group: ExecutionGroup | None = None
        self._prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self._queued = 0
        self._pending: deque[tuple[int, asyncio.Future[str]]] = deque()
        self._in_order = False
        self._drain_cb = lambda _done: self._drain()
        self.behind = asyncio.Event()

    def _joined(self) -> ExecutionGroup:
        group = self._group
        if group is None:
            group = self._group = self._handler.join(self._operation, self._document)
        return group

    async def send(self, view: OrderView) -> None:
        if self._operation.completed:
            return
        payload = await self._joined().payload(view)
        await self._handler.send_frame(self._prefix + payload + "}")

    def in_order(self) -> None:
        self._in_order = True

    def deliver(self, view: OrderView) -> None:
        if self._operation.completed or self.behind.is_set():
            return
        future = self._joined().future(view)
        self._pending.append((view.position, future))
        if future.done() and len(self._pending) == 1:
            self._drain()
        else:
            future.add_done_callback(self._drain_cb)

    def _drain(self) -> None:
        pending = self._pending
        while pending and pending[0][1].done():
            position, future = pending.popleft()
            if future.cancelled() or future.exception() is not None:
                continue  # logged where it was executed; the next view supersedes it
            if position <= self._queued or self._operation.completed:
                continue
            frame = self._prefix + future.result() + "}"
            if not self._handler.queue_frame(self._operation.id, frame, in_order=self._in_order):
                pending.clear()
                self.behind.set()
                self._handler.shared.stats.list_catch_ups += 1
                return
            self._queued = position

    async def resumed(self) -> int:
        """Once the socket has written what was queued: the last position queued (the feed
        catches up from there)."""
        for _ in range(int(self._handler.stuck_seconds() / 0.02) + 1):
            if not self._handler.queued(self._operation.id):
                break
            await asyncio.sleep(0.02)
        self.behind.clear()
        return self._queued

    def close(self) -> None:
        self._pending.clear()
        self._handler.unqueue(self._operation.id)
        if self._group is not None:
            self._handler.shared.leave(self._group)
            self._group = None


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's handler, with shared execution for live subscriptions and slow-consumer
    handling. `shared` and `stuck_seconds` come from the view (GraphQLApp)."""

    @property
    def shared(self) -> SharedExecutions:
        shared: SharedExecutions = self.view.live  # type: ignore[attr-defined]
        return shared

    _outbox: dict[str, deque[str]] | None = None
    _writer: asyncio.Task[None] | None = None
    _closing_slow = False
    _main: asyncio.Task[Any] | None = None

    def queue_frame(self, operation_id: str, frame: str, *, in_order: bool = False) -> bool:
        """Queue a frame of the operation and make sure the socket's writer runs: latest-state
        (replacing frames not sent yet), or `in_order` up to MAX_QUEUED_FRAMES (False when
        full)."""
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = {}
        queue = outbox.get(operation_id)
        if queue is None:
            queue = outbox[operation_id] = deque()
        elif not in_order:
            self.shared.stats.skipped += len(queue)
            queue.clear()
        elif len(queue) >= MAX_QUEUED_FRAMES:
            return False
        queue.append(frame)
        if self._writer is None and not self._closing_slow:
            self._writer = asyncio.get_running_loop().create_task(self._write(outbox))
        return True

    def queued(self, operation_id: str) -> int:
        """Frames of the operation not written yet."""
        queue = None if self._outbox is None else self._outbox.get(operation_id)
        return 0 if queue is None else len(queue)

    def unqueue(self, operation_id: str) -> None:
        if self._outbox is not None:
            self._outbox.pop(operation_id, None)

    async def _write(self, outbox: dict[str, deque[str]]) -> None:
        """Write queued frames, one operation after another (round robin), until none is left."""
        try:
            while outbox:
                operation_id = next(iter(outbox))
                queue = outbox.pop(operation_id)
                if not queue:
                    continue
                frame = queue.popleft()
                if queue:
                    outbox[operation_id] = queue  # to the back: the others go first
                await self.send_frame(frame)
        except SlowConsumer:
            outbox.clear()
        except Exception:
            outbox.clear()
        finally:
            self._writer = None

    async def shutdown(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
        await super().shutdown()

    async def handle(self) -> None:
        self._closing_slow = False
        self._main = asyncio.current_task()
        try:
            await super().handle()
        except asyncio.CancelledError:
            if not self._closing_slow or self._main is None:
                raise
            self._main.uncancel()  # we cancelled the read loop: end the connection quietly

    def join(self, operation: Operation[Context, None], document: Any) -> ExecutionGroup:
        key = group_key(
            operation.query, operation.operation_name, operation.variables, self.context
        )
        group = self.shared.join(
            key, document, operation.variables, operation.operation_name, self.context
        )
        if group is None:  # cannot happen once validation passed; fail the operation loudly
            raise RuntimeError("the live subscription's executor could not be built")
        return group

    async def send_frame(self, frame: str) -> None:
        """Write one text frame, waiting while the buffer is full; SlowConsumer if stuck."""
        if self._closing_slow:
            raise SlowConsumer
        try:
            async with asyncio.timeout(self.stuck_seconds()):
                await self.websocket.ws.send_text(frame)  # type: ignore[attr-defined]
        except TimeoutError:
            self._slow()
            raise SlowConsumer from None
        self.shared.stats.frames += 1

    def _slow(self) -> None:
        if self._closing_slow:
            return
        self._closing_slow = True
        self.shared.stats.slow_closed += 1
        for operation in self.operations.values():
            if operation.task is not None and operation.task is not asyncio.current_task():
                operation.task.cancel()
        asyncio.get_running_loop().create_task(self._close_slow())

    def stuck_seconds(self) -> float:
        return float(getattr(self.view, "live_stuck_seconds", STUCK_SECONDS))

    async def _close_slow(self) -> None:
        """Close 4008 once the buffer has room for the close frame; if it gets none within
        the same budget again, drop the connection (the peer then sees no close code)."""
        try:
            async with asyncio.timeout(self.stuck_seconds()):
                await self.websocket.close(code=SLOW_CONSUMER_CODE, reason=SLOW_CONSUMER_REASON)
        except Exception:
            if self._main is not None:
                self._main.cancel()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        max_tokens = self.context.settings.max_tokens
        document = (
            shareable_document(operation.query, max_tokens)
            if isinstance(operation.query, str)
            else None
        )
        if document is None:
            await super().run_operation(operation)
            return
        sink = OperationSink(self, operation, document)
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=sink,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except (_OperationStreamClosed, SlowConsumer):
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            sink.close()


__all__ = [
    "SLOW_CONSUMER_CODE",
    "SLOW_CONSUMER_REASON",
    "LiveTransportWSHandler",
    "OperationSink",
    "SlowConsumer",
]
