"""What a graphql-transport-ws frame must look like, what a close frame can carry, and the
session minimum a `connection_init` payload names (`minPosition`: graph/api/session.py).

A frame that is JSON but not an object (`[1, 2]`), a `subscribe` whose payload is not an
object or whose query is not a string, an id that is not a short string: each is refused as
the protocol says (the socket closes with 4400 and the reason this module gives).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from domain.errors import ValidationFailed
from graph.api.context import Context
from graph.api.session import MIN_POSITION_EXTENSION, Session, min_position_from_json
from graph.pipeline.prepare import Refused

MAX_OPERATION_ID_CHARS = 128
_MAX_CLOSE_REASON_BYTES = 123  # what fits in a close frame
_OPTIONAL_OBJECTS = ("variables", "extensions")


def close_reason(reason: str) -> str:
    """`reason` as a close frame can carry it."""
    encoded = reason.encode("utf-8", "backslashreplace")[:_MAX_CLOSE_REASON_BYTES]
    return encoded.decode("utf-8", "ignore")


def frame_problem(message: object) -> str | None:
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


class SocketMinimum:
    """A socket's session minimum: its `connection_init` payload's `minPosition` (or why it is
    not a position: the socket is acknowledged and each operation refused with it), raised for
    one operation by that operation's own `extensions.minPosition`."""

    __slots__ = ("_minimum", "_refused")

    def __init__(self, payload: dict[str, Any]) -> None:
        self._minimum: int | None = None
        self._refused: str | None = None
        value = payload.get(MIN_POSITION_EXTENSION)
        try:
            if value is not None:
                self._minimum = min_position_from_json(value, MIN_POSITION_EXTENSION)
        except ValidationFailed as error:
            self._refused = error.message

    def context(self, socket: Context, extensions: dict[str, Any]) -> Context:
        """An operation's own context (its freshness report, its session), with its socket's
        caller; `Refused` (BAD_USER_INPUT) when its session minimum is not a position."""
        try:
            session = self._session(extensions)
        except ValidationFailed as error:
            raise Refused([GraphQLError(error.message, original_error=error)]) from None
        return Context(
            services=socket.services,
            correlation_id=socket.correlation_id,
            principal=socket.principal,
            session=session,
        )

    def _session(self, extensions: dict[str, Any]) -> Session:
        if self._refused is not None:
            raise ValidationFailed(self._refused, field=MIN_POSITION_EXTENSION)
        session = Session(self._minimum)
        own = extensions.get(MIN_POSITION_EXTENSION)
        if own is not None:
            field = f"extensions.{MIN_POSITION_EXTENSION}"
            session.minimum = session.at_least(min_position_from_json(own, field))
        return session


__all__ = ["MAX_OPERATION_ID_CHARS", "SocketMinimum", "close_reason", "frame_problem"]
