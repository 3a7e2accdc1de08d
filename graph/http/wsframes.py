"""What a graphql-transport-ws frame must look like, and what a close frame can carry.

A frame that is JSON but not an object (`[1, 2]`), a `subscribe` whose payload is not an
object or whose query is not a string, an id that is not a short string: each is refused as
the protocol says (the socket closes with 4400 and the reason this module gives).
"""

from __future__ import annotations

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


__all__ = ["MAX_OPERATION_ID_CHARS", "close_reason", "frame_problem"]
