"""The one ASGI layer in front of the service: who may be asked (Host), how big a body and how
long an answer may be, a correlation id and one log line per request; `/graphql` goes straight
to its endpoint, everything else to the app's routes.

One layer instead of six: each ASGI middleware wraps `send` and `receive` again and awaits once
more per request, which for a small operation cost more than running it. The request time is
bounded by a watchdog that looks at the open requests twice a second (a deadline is a dict entry,
not a timer per request); the bound ends when the response starts, so a stream (an event
stream, a multipart response) is never cut by it.

- Host: a request with two Host headers is refused (a proxy routing on the last would disagree
  with us reading the first); in development mode only loopback names are answered (and only
  on a loopback address: DNS rebinding); with `ORDERGRAPH_ALLOWED_HOSTS`, only those names.
- Body: a declared Content-Length over the limit is a 413 before anything is read; a chunked
  body is counted as it arrives, then replayed to the app.
- Time: a request with no response after `ORDERGRAPH_REQUEST_TIMEOUT_MS` is cancelled and
  answered 504.
- An error that escapes the app is a JSON 500 with the correlation id, never a traceback page.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from itertools import count
from typing import TYPE_CHECKING

from graph.api.context import REQUEST_ID_HEADER, correlation_id_from
from graph.pipeline.encoding import encode_json_bytes
from graph.settings import is_loopback

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from graph.settings import Settings

log = logging.getLogger("ordergraph.requests")
guard_log = logging.getLogger("ordergraph.guards")

WATCH_SECONDS = 0.5
_HOST = b"host"
_REQUEST_ID = REQUEST_ID_HEADER.encode()


class Deadlines:
    """Open HTTP requests' deadlines, checked by one watchdog task per event loop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._open: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    def open(self, task: asyncio.Task[object]) -> None:
        self._open[task] = time.monotonic() + self.seconds
        watchdog = self._watchdog
        if watchdog is None or watchdog.done() or watchdog.get_loop() is not task.get_loop():
            self._watchdog = task.get_loop().create_task(self._watch())

    def close(self, task: asyncio.Task[object]) -> bool:
        """Stop timing `task`; whether the watchdog cancelled it for being late."""
        self._open.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    async def _watch(self) -> None:
        while self._open:
            await asyncio.sleep(min(WATCH_SECONDS, self.seconds))
            now = time.monotonic()
            for task, deadline in list(self._open.items()):
                if deadline <= now and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()


class CorrelationIds:
    """Fresh correlation ids: 32 hex digits, a random prefix per process and a counter."""

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFFFFFFFFFF:016x}"


class _Response:
    """What the edge learns of a response as it starts: its status (0: not started)."""

    __slots__ = ("correlation_id", "status")

    def __init__(self, correlation_id: bytes) -> None:
        self.correlation_id = correlation_id
        self.status = 0

    def started(self, message: Message) -> None:
        self.status = message["status"]
        message["headers"] = [*message.get("headers", ()), (_REQUEST_ID, self.correlation_id)]


class Edge:
    """The service's ASGI app: the edge's rules, then `graphql` for /graphql, else `app`."""

    def __init__(self, app: ASGIApp, graphql: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.graphql = graphql
        self.max_body = settings.max_body_bytes
        self.loopback_only = settings.development
        self.allowed_hosts = settings.allowed_hosts
        self._loopback: dict[str, bool] = {}
        self.deadlines = Deadlines(settings.request_timeout_ms / 1000)
        self.ids = CorrelationIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        raw_id = next((value for name, value in headers if name == _REQUEST_ID), None)
        correlation_id = correlation_id_from(raw_id.decode("latin-1")) if raw_id else self.ids.new()
        state = scope.get("state")
        if state is None:
            scope["state"] = {"correlation_id": correlation_id}
        else:
            state["correlation_id"] = correlation_id
        started = time.perf_counter()
        response = _Response(correlation_id.encode())
        task = asyncio.current_task() if kind == "http" else None

        async def tagged_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                response.started(message)
                if task is not None:
                    self.deadlines.close(task)
            elif kind == "websocket.accept":
                response.status = 101
            await send(message)

        try:
            refusal = self._host_refusal(scope, headers)
            if refusal is not None:
                await _refuse(scope, tagged_send, *refusal)
            elif task is None:
                await self._dispatch(scope, receive, tagged_send)
            else:
                await self._http(scope, receive, tagged_send, headers, task, response)
        finally:
            if log.isEnabledFor(logging.INFO):
                _log_line(scope, response.status, started, correlation_id)

    async def _http(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: list[tuple[bytes, bytes]],
        task: asyncio.Task[object],
        response: _Response,
    ) -> None:
        declared = next((value for name, value in headers if name == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                await _error(send, 400, "BAD_REQUEST", "Content-Length must be a number")
                return
            if int(declared) > self.max_body:
                await self._too_large(send)
                return
        elif any(name == b"transfer-encoding" for name, _ in headers):
            body = await self._counted_body(receive)
            if body is None:
                await self._too_large(send)
                return
            receive = _replay(body, receive)
        self.deadlines.open(task)
        try:
            await self._dispatch(scope, receive, send)
        except asyncio.CancelledError:
            if not self.deadlines.close(task):
                raise
            task.uncancel()
            guard_log.warning(
                "%s %s took longer than %.1f s",
                scope["method"],
                scope["path"],
                self.deadlines.seconds,
            )
            if not response.status:
                await _error(
                    send,
                    504,
                    "TIMEOUT",
                    f"the request took longer than {self.deadlines.seconds:g} s; a command may "
                    "still have been applied: retry it with the same commandId",
                )
        except Exception:
            self.deadlines.close(task)
            correlation_id = response.correlation_id.decode()
            log.exception("unexpected error (correlation id %s)", correlation_id)
            if not response.status:
                await _error(
                    send,
                    500,
                    "INTERNAL_SERVER_ERROR",
                    "Internal server error",
                    {"correlationId": correlation_id},
                )
        else:
            self.deadlines.close(task)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.graphql if scope["path"] == "/graphql" else self.app
        await target(scope, receive, send)

    def _host_refusal(
        self, scope: Scope, headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, str] | None:
        """The status and reason a request is refused for its Host (or its address), or None."""
        hosts = [value for name, value in headers if name == _HOST]
        if len(hosts) > 1:
            return 400, "the request has more than one Host header: send one"
        host = host_name(hosts[0].decode("latin-1")) if hosts else ""
        if self.loopback_only:
            server = scope.get("server")
            if server and not is_loopback(str(server[0])):
                return 403, (
                    "development mode (no ORDERGRAPH_AUTH_SECRET) serves only loopback "
                    "addresses; configure a signing secret to listen on others"
                )
            if not self._is_loopback(host):
                return 403, (
                    "development mode (no ORDERGRAPH_AUTH_SECRET) answers only requests for a "
                    "loopback host (localhost, 127.0.0.1, [::1]); this Host header names another"
                )
        if self.allowed_hosts and not any(_matches(host, name) for name in self.allowed_hosts):
            return 400, "Invalid host header: this service does not answer to that name"
        return None

    def _is_loopback(self, host: str) -> bool:
        """`is_loopback`, remembered for the few names clients send (at most 256)."""
        known = self._loopback.get(host)
        if known is None:
            if len(self._loopback) >= 256:
                self._loopback.clear()
            known = self._loopback[host] = is_loopback(host)
        return known

    async def _counted_body(self, receive: Receive) -> bytes | None:
        """A chunked body read up to the limit (None once it is over)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        await _error(
            send,
            413,
            "PAYLOAD_TOO_LARGE",
            f"the request body is larger than the limit of {self.max_body:,} bytes",
        )


def host_name(header: str) -> str:
    """The lower-case name a Host header gives, without its port (`[::1]:8000` is `[::1]`)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _matches(host: str, pattern: str) -> bool:
    """Starlette's TrustedHostMiddleware rule: an exact name, or `*.example.com`."""
    if pattern.startswith("*"):
        return host.endswith(pattern[1:])
    return host == pattern


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["type"] == "http":
        code = "FORBIDDEN" if status == 403 else "BAD_REQUEST"
        await _error(send, status, code, message)
    else:
        await send({"type": "websocket.close", "code": 4403, "reason": message[:120]})


async def _error(
    send: Send,
    status: int,
    code: str,
    message: str,
    extensions: dict[str, str] | None = None,
) -> None:
    body = encode_json_bytes(
        {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _log_line(scope: Scope, status: int, started: float, correlation_id: str) -> None:
    """One line per request; the record built here (Logger.info would walk the stack for the
    caller's file and line, which this line never shows)."""
    elapsed = (time.perf_counter() - started) * 1000
    method = scope.get("method", "WS")
    record = log.makeRecord(
        log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %s %.1f ms (correlation %s)",
        (method, scope["path"], status or "-", elapsed, correlation_id),
        None,
        extra={
            "correlation_id": correlation_id,
            "method": method,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(elapsed, 2),
        },
    )
    log.handle(record)


__all__ = ["CorrelationIds", "Deadlines", "Edge", "host_name"]
