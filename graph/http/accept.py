"""What a request's Accept header lets /graphql answer with: a stream (graphql-sse, Apollo's
multipart subscriptions, plain multipart) and whether JSON too.

A subscription is streamed in the stream format the client accepts (the highest `q`, the first
listed on a tie). A query or a mutation is streamed only when the client accepts no JSON (the
graphql-sse client sends `Accept: text/event-stream` alone); otherwise it is answered in JSON,
as is a request error. `multipart/mixed` with `deferSpec` or `incrementalSpec` asks for
incremental delivery, which this service does not speak: it is not a stream format here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graph.http.multipart import APOLLO_MULTIPART, MULTIPART
from graph.http.sse import MEDIA_TYPE as EVENT_STREAM
from graph.http.sse import SSE
from graph.http.stream import StreamFormat

_JSON_RANGES = frozenset(
    {"application/json", "application/graphql-response+json", "application/*", "*/*"}
)
_INCREMENTAL = ("deferspec", "incrementalspec")


@dataclass(frozen=True, slots=True)
class Accepted:
    """The stream format the client prefers (None: it accepts none), and whether it accepts a
    JSON answer."""

    stream: StreamFormat | None
    json: bool

    def streams(self, subscription: bool) -> StreamFormat | None:
        """The format to stream an operation in, or None to answer it in JSON."""
        if self.stream is not None and (subscription or not self.json):
            return self.stream
        return None


@lru_cache(maxsize=256)
def accepted(accept: str) -> Accepted:
    """What `accept` allows (no header: JSON only). Clients send a handful of distinct Accept
    values; the bounded cache answers those."""
    if not accept.strip():
        return Accepted(None, True)
    best: tuple[float, StreamFormat] | None = None
    json = False
    for part in accept.split(","):
        kind, *raw_params = (piece.strip() for piece in part.split(";"))
        params = {}
        for param in raw_params:
            key, _, value = param.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        kind = kind.lower()
        json = json or kind in _JSON_RANGES
        found = _stream_format(kind, params)
        if found is not None and (best is None or quality > best[0]):
            best = (quality, found)
    return Accepted(None if best is None else best[1], json)


def _stream_format(kind: str, params: dict[str, str]) -> StreamFormat | None:
    if kind == EVENT_STREAM:
        return SSE
    if kind != "multipart/mixed":
        return None
    if "subscriptionspec" in params:
        return APOLLO_MULTIPART
    if any(key in params for key in _INCREMENTAL):
        return None
    return MULTIPART


__all__ = ["Accepted", "accepted"]
