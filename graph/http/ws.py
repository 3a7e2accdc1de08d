"""graphql-transport-ws on /graphql: the protocol of the graphql-ws library, every operation
through the same `prepare` and `run` as HTTP.

The connection: the subprotocol must be `graphql-transport-ws` (else 4406); `connection_init`
within the init timeout (else 4408), once (else 4429), authenticated by the `Authorization` in
its payload (else 4403); `subscribe` only after the ack (else 4401), with an id not in flight
(else 4409); every malformed frame, and a frame over the body limit, closes it (4400, 1009).
The socket lives until its token's `exp`, then every operation stops and it closes 4403.

An operation: a refusal (`prepare` or the variables) is an `error` message; a query or a
mutation is one `next` and `complete`; a subscription is a `next` per event, then `complete`
when its stream ends (or a `next` with its error, then `complete`, when its resolver refuses).
Running an operation, live or not, is graph/http/operation.py's, shared with the HTTP
streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLSyntaxError

from graph.api.context import Context
from graph.http.operation import StreamedOperation
from graph.http.outbox import Outbox, SlowConsumer
from graph.http.wsframes import SocketMinimum, close_reason, frame_problem
from graph.pipeline.encoding import decode_json, encode_json_text
from graph.pipeline.errors import INTERNAL_SERVER_ERROR
from graph.pipeline.prepare import Refused
from graph.pipeline.run import Answer
from graph.pipeline.watch import CANCELLED

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

    from graph.http.serving import Serving
    from graph.pipeline.live import SharedExecutions
    from graph.pipeline.watch import Operation

log = logging.getLogger("ordergraph.ws")

PROTOCOL = "graphql-transport-ws"
SLOW_CONSUMER_CODE = 4008
TOKEN_EXPIRED = 4403
MESSAGE_TOO_BIG = 1009


class Closed(Exception):
    """The connection was closed by this side: stop reading."""


class TransportWS:
    """One graphql-transport-ws connection."""

    def __init__(
        self,
        serving: Serving,
        shared: SharedExecutions,
        *,
        init_timeout: float,
        max_operations: int,
        max_bytes: int,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        self.serving = serving
        self.shared = shared
        self.init_timeout = init_timeout
        self.max_operations = max_operations
        self.max_bytes = max_bytes
        self.scope = scope
        self._receive = receive
        self._send = send
        self.context: Context | None = None
        self.minimum = SocketMinimum({})  # connection_init's minPosition
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.outbox = Outbox(self._write, shared.stats, self._slow)
        self._closed = False
        self._stopping = False
        self._main: asyncio.Task[Any] | None = None
        self._expiry: asyncio.TimerHandle | None = None

    # -- the connection ---------------------------------------------------------------------

    async def serve(self) -> None:
        """Accept the socket and handle its frames until either side closes it."""
        self._main = asyncio.current_task()
        connect = await self._receive()
        if connect["type"] != "websocket.connect":  # the client left before the handshake
            return
        if PROTOCOL not in self.scope.get("subprotocols", ()):
            await self._send({"type": "websocket.accept"})
            await self.close(4406, "Subprotocol not acceptable")
            return
        await self._send({"type": "websocket.accept", "subprotocol": PROTOCOL})
        try:
            await self._read()
        except Closed:
            pass
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            assert self._main is not None
            self._main.uncancel()  # closing (a slow consumer, an expired token) cancelled it
        finally:
            await self._shutdown()

    async def _read(self) -> None:
        first = await self._next_frame(timeout=self.init_timeout)
        if first is None:
            return
        await self._handle(first)
        while not self._closed:
            frame = await self._next_frame()
            if frame is None:
                return
            await self._handle(frame)

    async def _next_frame(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next frame as a checked message, or None once the socket is gone."""
        try:
            async with asyncio.timeout(timeout):
                message: Message = await self._receive()
        except TimeoutError:
            await self.close(4408, "Connection initialisation timeout")
            return None
        if message["type"] == "websocket.disconnect":
            self._closed = True
            return None
        text = message.get("text")
        if text is None:
            await self.close(4400, "WebSocket messages must be text frames of JSON")
            raise Closed
        if len(text) > self.max_bytes:
            await self.close(MESSAGE_TOO_BIG, f"A message may hold at most {self.max_bytes} bytes")
            raise Closed
        try:
            frame = decode_json(text)
        except ValueError:
            await self.close(4400, "WebSocket message must be valid JSON")
            raise Closed from None
        problem = frame_problem(frame)
        if problem is not None:
            await self.close(4400, problem)
            raise Closed
        checked: dict[str, Any] = frame
        return checked

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "connection_init":
            await self._init(frame.get("payload"))
        elif kind == "ping":
            await self._send_json({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(frame["id"], frame["payload"])
        elif kind == "complete":
            self._cancel(frame["id"])
        else:
            await self.close(4400, f"Unknown message type: {kind[:80]}")
            raise Closed

    async def _init(self, payload: object) -> None:
        if payload is not None and not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            raise Closed
        if self.context is not None:
            await self.close(4429, "Too many initialisation requests")
            raise Closed
        services = self.serving.services()
        params = payload or {}
        principal, auth_error = self.serving.authenticate(
            params.get("Authorization", params.get("authorization"))
        )
        if principal is None or services is None:
            log.info("WebSocket refused: %s", auth_error or "the service is not started")
            await self.close(4403, "Forbidden")
            raise Closed
        self.minimum = SocketMinimum(params)
        state = self.scope.get("state") or {}
        self.context = Context(
            services=services,
            correlation_id=state.get("correlation_id") or "ws",
            principal=principal,
        )
        if principal.expires_at is not None:
            delay = max(0.0, principal.expires_at - time.time())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)
        await self._send_json({"type": "connection_ack"})

    async def _subscribe(self, operation_id: str, payload: dict[str, Any]) -> None:
        context = self.context
        if context is None:
            await self.close(4401, "Unauthorized")
            raise Closed
        if operation_id in self.operations:
            await self.close(4409, f"Subscriber for {operation_id} already exists")
            raise Closed
        if self._expired():
            await self._close_expired()
            raise Closed
        if len(self.operations) >= self.max_operations:
            error = GraphQLError("Subscription limit reached")
            await self._send_json(
                {"id": operation_id, "type": "error", "payload": [error.formatted]}
            )
            return
        operation = self.serving.runner.watch.begin("ws", operation_id)
        task = asyncio.get_running_loop().create_task(self._operation(operation, payload, context))
        self.operations[operation_id] = task
        task.add_done_callback(lambda _done: self._forget(operation_id, task))

    # -- one operation ----------------------------------------------------------------------

    async def _operation(
        self, operation: Operation, payload: dict[str, Any], context: Context
    ) -> None:
        """Run one operation; the pipeline's watch records it once: answered, its stream
        established, refused, or stopped first (graph/pipeline/watch.py)."""
        runner, operation_id = self.serving.runner, operation.id
        raw_variables = payload.get("variables")
        outcome = INTERNAL_SERVER_ERROR
        try:
            try:
                context = self.minimum.context(context, payload.get("extensions") or {})
                prepared = await self.serving.prepare(
                    payload["query"], payload.get("operationName")
                )
                runner.watch.identify(operation, prepared)
                variables = runner.variables(prepared, raw_variables)
            except Refused as refusal:
                answer = runner.refusal(refusal.errors, context)
                runner.watch.end(operation, answer)
                if isinstance(refusal.errors[0], GraphQLSyntaxError):
                    await self.close(4400, refusal.errors[0].message)
                    return
                await self._finish(operation_id, "error", [e.formatted for e in answer.errors])
                return
            streamed = StreamedOperation(
                runner, self.shared, prepared, variables, raw_variables, context, operation
            )
            prefix = '{"id":' + encode_json_text(operation_id) + ',"type":"next","payload":'
            await streamed.run(
                self.outbox,
                operation_id,
                (prefix, "}"),
                lambda answer: self._next(operation_id, answer),
            )
            await self._finish(operation_id, "complete")
        except (SlowConsumer, asyncio.CancelledError) as stopped:
            outcome = CANCELLED
            if isinstance(stopped, asyncio.CancelledError):
                raise
        finally:
            runner.watch.end(operation, outcome)  # nothing when it has ended already

    # -- sending ----------------------------------------------------------------------------

    async def _next(self, operation_id: str, answer: Answer) -> None:
        if operation_id not in self.operations:
            return
        prefix = '{"id":' + encode_json_text(operation_id) + ',"type":"next","payload":'
        await self.outbox.send(prefix + encode_json_text(answer.formatted()) + "}")

    async def _finish(self, operation_id: str, kind: str, payload: object = None) -> None:
        """The operation's last message (`complete` or `error`); its id is free again."""
        if self.operations.pop(operation_id, None) is None:
            return
        message: dict[str, Any] = {"id": operation_id, "type": kind}
        if payload is not None:
            message["payload"] = payload
        with contextlib.suppress(SlowConsumer):
            await self._send_json(message)

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self.outbox.send(encode_json_text(message))

    async def _write(self, frame: str) -> None:
        if self._closed:
            raise SlowConsumer
        await self._send({"type": "websocket.send", "text": frame})

    async def close(self, code: int, reason: str) -> None:
        """Close the socket once (later calls do nothing)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self._send(
                {"type": "websocket.close", "code": code, "reason": close_reason(reason)}
            )

    # -- ending -----------------------------------------------------------------------------

    def _cancel(self, operation_id: str) -> None:
        task = self.operations.pop(operation_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _forget(self, operation_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a WebSocket operation failed", exc_info=error)

    def _slow(self) -> None:
        """The outbox found the consumer slow: stop everything and close 4008."""
        self._stopping = True
        for operation_id in list(self.operations):
            self._cancel(operation_id)
        asyncio.get_running_loop().create_task(self._close_slow())

    async def _close_slow(self) -> None:
        """Close 4008 once the buffer has room for the close frame; if it gets none within the
        same budget again, drop the connection (the peer then sees no close code)."""
        try:
            async with asyncio.timeout(self.outbox.stuck_seconds):
                await self.close(SLOW_CONSUMER_CODE, "Slow consumer")
        except TimeoutError:
            pass
        if self._main is not None:
            self._main.cancel()

    def _expired(self) -> bool:
        principal = None if self.context is None else self.context.principal
        expires_at = None if principal is None else principal.expires_at
        return expires_at is not None and time.time() >= expires_at

    def _expire(self) -> None:
        if not self._expired():  # a timer can fire a little early: wait for what is left
            principal = self.context.principal if self.context else None
            left = (principal.expires_at or 0) - time.time() if principal else 0
            self._expiry = asyncio.get_running_loop().call_later(max(left, 0.001), self._expire)
            return
        asyncio.get_running_loop().create_task(self._close_expired())

    async def _close_expired(self) -> None:
        log.info("WebSocket closed: its token expired")
        self._stopping = True
        for operation_id in list(self.operations):
            self._cancel(operation_id)
        await self.close(TOKEN_EXPIRED, "the token has expired")
        if self._main is not None and self._main is not asyncio.current_task():
            self._main.cancel()

    async def _shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        tasks = list(self.operations.values())
        for operation_id in list(self.operations):
            self._cancel(operation_id)
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await self.outbox.close()


__all__ = ["PROTOCOL", "SLOW_CONSUMER_CODE", "TOKEN_EXPIRED", "TransportWS"]
