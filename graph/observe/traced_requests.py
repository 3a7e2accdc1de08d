"""The HTTP server span of each request (OpenTelemetry's HTTP semantic conventions), as ASGI
middleware: it continues the caller's trace when the request carries a W3C `traceparent`
(through the propagators `OTEL_PROPAGATORS` names, W3C trace context and baggage by default).
A WebSocket gets no span of its own (it lives for hours): its operations continue the
`traceparent` of its upgrade request, when it has one.

Neither the query string (a GET's document and variables) nor any header but the user agent
is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, StatusCode

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from graph.observe.tracing import Tracing

Headers = list[tuple[bytes, bytes]]


class _HeaderGetter(Getter[Headers]):
    """Reads a propagation header from an ASGI scope's headers."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for name, value in carrier if name == wanted]
        return found or None

    def keys(self, carrier: Headers) -> list[str]:
        return [name.decode("latin-1") for name, _value in carrier]


_HEADERS = _HeaderGetter()


class TracedRequests:
    """ASGI middleware: a SERVER span per HTTP request, the caller's context continued.
    `http.route` is the route the router matched, or the path itself for the `direct` paths
    the edge serves without the router (/graphql)."""

    def __init__(self, app: ASGIApp, tracing: Tracing, direct: Collection[str] = ()) -> None:
        self.app = app
        self.tracer = tracing.tracer
        self.direct = frozenset(direct)
        # The headers the propagators read: a request with none of them continues nothing.
        self.fields = frozenset(
            name.lower().encode() for name in propagate.get_global_textmap().fields
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        fields = self.fields
        propagated = any(name in fields for name, _value in headers)
        parent = propagate.extract(headers, getter=_HEADERS) if propagated else None
        if scope["type"] == "websocket":
            if parent is None:
                await self.app(scope, receive, send)
                return
            token = otel_context.attach(parent)
            try:
                await self.app(scope, receive, send)
            finally:
                otel_context.detach(token)
            return
        method = scope["method"]
        span = self.tracer.start_span(
            method, context=parent, kind=SpanKind.SERVER, attributes=_request_attributes(scope)
        )

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(StatusCode.ERROR)
            await send(message)

        with trace.use_span(span, end_on_exit=True):
            try:
                await self.app(scope, receive, send_traced)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is None and scope["path"] in self.direct:
                    route = scope["path"]
                if isinstance(route, str):
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method} {route}")


def _request_attributes(scope: Scope) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "http.request.method": scope["method"],
        "url.scheme": scope.get("scheme", "http"),
        "url.path": scope["path"],
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    server = scope.get("server")
    if server:
        attributes["server.address"], attributes["server.port"] = server[0], server[1]
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    for name, value in scope.get("headers", ()):
        if name == b"host":  # the name the client used, as the conventions prefer
            host, _, port = value.decode("latin-1").rpartition(":")
            if host and port.isdigit():
                attributes["server.address"], attributes["server.port"] = host, int(port)
            else:
                attributes["server.address"] = value.decode("latin-1")
        elif name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    return attributes


__all__ = ["TracedRequests"]
