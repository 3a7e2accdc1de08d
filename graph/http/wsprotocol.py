"""graphql-transport-ws as Strawberry speaks it, with two things added: a socket is closed
(4403) when the token it was initialised with expires, and every malformed frame closes it
(4400) instead of raising inside the handler.

Strawberry's handler indexes frames as dicts and reads `payload["query"]` unchecked: a frame
that is JSON but not an object (`[1, 2]`), a `subscribe` whose payload is not an object or
whose query is not a string, or JSON the decoder refuses beyond syntax (an integer of
thousands of digits, deep nesting) ended in an exception and a dropped connection. Here each is
refused as the protocol says: close 4400.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING, cast

from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from graph.api.context import Context

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
        ConnectionInitMessage,
        Message,
        SubscribeMessage,
    )

log = logging.getLogger("ordergraph.ws")

TOKEN_EXPIRED = 4403
INVALID_MESSAGE = 4400
MAX_OPERATION_ID_CHARS = 128
_MAX_CLOSE_REASON_BYTES = 123  # what fits in a close frame
_OPTIONAL_OBJECTS = ("variables", "extensions")


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's ASGI adapter: any JSON the decoder refuses is "not valid JSON", and a close
    reason always fits a close frame (valid UTF-8, at most 123 bytes)."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        frames = super().iter_json(ignore_parsing_errors=ignore_parsing_errors)
        try:
            async for frame in frames:
                yield frame
        except (ValueError, RecursionError) as error:
            raise NonJsonMessageReceived from error
        finally:
            await frames.aclose()

    async def close(self, code: int, reason: str) -> None:
        await super().close(code, close_reason(reason))


def close_reason(reason: str) -> str:
    """`reason` as a close frame can carry it."""
    encoded = reason.encode("utf-8", "backslashreplace")[:_MAX_CLOSE_REASON_BYTES]
    return encoded.decode("utf-8", "ignore")


def _frame_problem(message: object) -> str | None:
    """Why a frame is not a graphql-transport-ws message, or None."""
    if not isinstance(message, dict):
        return "WebSocket message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "WebSocket message must have a string type"
    if kind not in ("subscribe", "complete"):
        return None
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not 1 <= len(operation_id) <= MAX_OPERATION_ID_CHARS:
        return f"{kind} needs an id: a string of 1 to {MAX_OPERATION_ID_CHARS} characters"
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "subscribe needs a payload object with a string query"
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "operationName must be a string"
    for key in _OPTIONAL_OBJECTS:
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"{key} must be an object"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, strict about frames and token lifetimes."""

    expiry_task: asyncio.Task[None] | None = None

    async def handle_message(self, message: Message) -> None:
        problem = _frame_problem(cast("object", message))
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        principal = self.context.principal
        expires_at = None if principal is None else principal.expires_at
        if self.connection_acknowledged and expires_at is not None and self.expiry_task is None:
            self.expiry_task = asyncio.create_task(self._expire_at(expires_at))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self._expired():
            await self._close_expired()
            return
        await super().handle_subscribe(message)

    def _expired(self) -> bool:
        principal = self.context.principal
        expires_at = None if principal is None else principal.expires_at
        return expires_at is not None and time.time() >= expires_at

    async def _expire_at(self, expires_at: float) -> None:
        """At the token's `exp`: stop every operation, then close 4403."""
        try:
            # A sleep can end a little early on some clocks: sleep again for what is left.
            while (left := expires_at - time.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(left)
            await self._close_expired()
        except Exception:  # the socket may be gone already
            log.debug("closing an expired WebSocket failed", exc_info=True)

    async def _close_expired(self) -> None:
        log.info("WebSocket closed: its token expired")
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        self.context.principal, self.context.auth_error = None, "the token has expired"
        await self.websocket.close(code=TOKEN_EXPIRED, reason="the token has expired")

    async def shutdown(self) -> None:
        task, self.expiry_task = self.expiry_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await super().shutdown()


__all__ = ["TransportWSHandler", "WebSocketAdapter", "close_reason"]
