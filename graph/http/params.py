"""A GraphQL-over-HTTP request's parameters (`query`, `variables`, `operationName`,
`extensions`) from a POST's JSON body or a GET's query string, checked before anything runs.

What is not a well-formed GraphQL-over-HTTP request is a `Problem`: an HTTP status and a coded
GraphQL error, which the endpoint answers in the JSON media type the client accepts (never as
text/plain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from graphql import GraphQLError

from domain.errors import ValidationFailed
from graph.api.session import (
    MIN_POSITION_EXTENSION,
    min_position_from_header,
    min_position_from_json,
)
from graph.pipeline.encoding import decode_json
from graph.pipeline.prepare import Refused

MIN_POSITION_HEADER = b"ordergraph-min-position"
BAD_REQUEST = "BAD_REQUEST"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
JSON_TYPES = ("application/json", "application/graphql-response+json")


class Problem(Exception):
    """The request cannot be answered as GraphQL: `status` and a coded message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Params:
    """The parameters of one GraphQL request."""

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


def is_json(content_type: str) -> bool:
    """Whether a Content-Type names JSON (parameters such as charset allowed)."""
    kind = content_type.partition(";")[0].strip().lower()
    return kind in JSON_TYPES


def decode(body: bytes | str, what: str) -> Any:
    """JSON text decoded (graph/pipeline/encoding.py); what it cannot read is a 400."""
    try:
        return decode_json(body)
    except ValueError:
        raise Problem(400, BAD_REQUEST, f"Unable to parse {what} as JSON") from None


def from_json_body(body: bytes) -> Params:
    """The parameters of a POST whose body is JSON."""
    decoded = decode(body, "the request body")
    if isinstance(decoded, list):
        raise Problem(
            400,
            BAD_REQUEST,
            "The request body is a JSON array: batched operations are not supported; send one "
            "operation per request",
        )
    if not isinstance(decoded, dict):
        raise Problem(400, BAD_REQUEST, "The request body must be a JSON object")
    return _checked(decoded)


def from_query_string(query_string: bytes) -> Params:
    """The parameters of a GET; `variables` and `extensions` are JSON-encoded."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        raise Problem(400, BAD_REQUEST, "The query string cannot be read") from None
    raw: dict[str, Any] = dict(pairs)
    for key in ("variables", "extensions"):
        if raw.get(key):
            raw[key] = decode(raw[key], f"the `{key}` parameter")
        else:
            raw.pop(key, None)
    return _checked(raw)


def _checked(raw: dict[str, Any]) -> Params:
    query, variables = raw.get("query"), raw.get("variables")
    name, extensions = raw.get("operationName"), raw.get("extensions")
    if query is not None and not isinstance(query, str):
        raise Problem(400, BAD_REQUEST, "`query` must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise Problem(400, BAD_REQUEST, "`variables` must be an object")
    if extensions is not None and not isinstance(extensions, dict):
        raise Problem(400, BAD_REQUEST, "`extensions` must be an object")
    if name is not None and (not isinstance(name, str) or not name.isprintable()):
        raise Problem(400, BAD_REQUEST, "`operationName` must be a string of printable characters")
    if query is None and not extensions:
        raise Problem(400, BAD_REQUEST, "No GraphQL query found in the request: send `query`")
    return Params(query, variables, name or None, extensions or {})


def session_minimum(header: bytes | None, extensions: dict[str, Any]) -> int | None:
    """The session's minimum position: `OrderGraph-Min-Position`, `extensions.minPosition`,
    the larger when both are given (None: neither); `Refused` (BAD_USER_INPUT) when one is not
    a non-negative integer."""
    try:
        minimum = None if header is None else min_position_from_header(header.decode("latin-1"))
        extension = extensions.get(MIN_POSITION_EXTENSION)
        if extension is not None:
            given = min_position_from_json(extension, f"extensions.{MIN_POSITION_EXTENSION}")
            minimum = given if minimum is None else max(minimum, given)
    except ValidationFailed as error:
        raise Refused([GraphQLError(error.message, original_error=error)]) from None
    return minimum


__all__ = [
    "BAD_REQUEST",
    "METHOD_NOT_ALLOWED",
    "UNSUPPORTED_MEDIA_TYPE",
    "Params",
    "Problem",
    "decode",
    "from_json_body",
    "from_query_string",
    "is_json",
    "session_minimum",
]
