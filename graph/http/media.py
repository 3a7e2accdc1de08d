"""The GraphQL-over-HTTP media types: `application/graphql-response+json` when the client
accepts it (then a request error, one that stopped the operation before it ran, is a 400 with
no `data` entry), else the legacy `application/json`, always 200 with `data`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@lru_cache(maxsize=256)
def answer_media_type(accept: str | None) -> str:
    """The media type to answer in: graphql-response+json when `accept` prefers it or
    accepts it no less than application/json; application/json otherwise (no Accept too).
    Clients send a handful of distinct Accept values; the bounded cache answers those."""
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = kind.lower()
        weights[kind] = max(weights.get(kind, 0.0), quality)
    preferred = weights.get(GRAPHQL_RESPONSE, 0.0)
    if preferred > 0 and preferred >= weights.get(JSON, 0.0):
        return GRAPHQL_RESPONSE
    return JSON


def is_request_error(answer: Any) -> bool:
    """Whether a formatted answer reports a request error: errors, no data, and no error with a
    `path` (parse, validation and variable coercion failures never reach a field)."""
    if not isinstance(answer, dict) or answer.get("data") is not None:
        return False
    errors = answer.get("errors") or []
    return bool(errors) and all(
        not isinstance(error, dict) or "path" not in error for error in errors
    )


class SubResponse(Response):
    """The per-request response resolvers may put headers or a status on, with the media type
    the answer will have."""

    def __init__(self, media_type: str) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]
        del self.headers["content-length"]
        self.answer_media_type = media_type


__all__ = ["GRAPHQL_RESPONSE", "JSON", "SubResponse", "answer_media_type", "is_request_error"]
