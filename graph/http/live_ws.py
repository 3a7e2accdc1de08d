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


class SlowConsumer(BaseException):
    """The socket's send buffer stayed full too long: the connection is being closed (a
    BaseException, so that the resolver and Strawberry do not turn it into an error frame)."""


class OperationSink(LiveSink):
    """One shareable operation's delivery: its group's shared payload in its own frame."""

    __slots__ = ("_document", "_group", "_handler", "_operation", "_prefix", "_queued")

    def __init__(
        self, handler: LiveTransportWSHandler, operation: Operation[Context, None], document: Any
    ) -> None:
        self._handler = handler
        self._operation = operation
        self._document: DocumentNode = document
        self._group: ExecutionGroup | None = None
        self._prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self._queued = 0

    async def send(self, view: OrderView) -> None:
        if self._operation.completed:
            return
        group = self._group
        if group is None:
            group = self._group = self._handler.join(self._operation, self._document)
        payload = await group.payload(view)
        await self._handler.send_frame(self._prefix + payload + "}")

    def deliver(self, view: OrderView) -> None:
        if self._operation.completed:
            return
        group = self._group
        if group is None:
            group = self._group = self._handler.join(self._operation, self._document)
        group.enqueue(view, self)

    def put(self, position: int, payload: str) -> None:
        """The shared payload of a queued view: framed, for the socket's writer."""
        if position <= self._queued or self._operation.completed:
            return
        self._queued = position
        self._handler.queue_frame(self._operation.id, self._prefix + payload + "}")

    def close(self) -> None:
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

    _outbox: dict[str, str] | None = None
    _writer: asyncio.Task[None] | None = None
    _closing_slow = False
    _main: asyncio.Task[Any] | None = None

    def queue_frame(self, operation_id: str, frame: str) -> None:
        """Queue the operation's newest frame (replacing one not sent yet: latest-state) and
        make sure the socket's writer runs."""
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = {}
        if outbox.pop(operation_id, None) is not None:
            self.shared.stats.skipped += 1
        outbox[operation_id] = frame
        if self._writer is None and not self._closing_slow:
            self._writer = asyncio.get_running_loop().create_task(self._write(outbox))

    def unqueue(self, operation_id: str) -> None:
        if self._outbox is not None:
            self._outbox.pop(operation_id, None)

    async def _write(self, outbox: dict[str, str]) -> None:
        try:
            while outbox:
                operation_id = next(iter(outbox))
                await self.send_frame(outbox.pop(operation_id))
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
            async with asyncio.timeout(self._stuck_seconds()):
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

    def _stuck_seconds(self) -> float:
        return float(getattr(self.view, "live_stuck_seconds", STUCK_SECONDS))

    async def _close_slow(self) -> None:
        """Close 4008 once the buffer has room for the close frame; if it gets none within
        the same budget again, drop the connection (the peer then sees no close code)."""
        try:
            async with asyncio.timeout(self._stuck_seconds()):
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
