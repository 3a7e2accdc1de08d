"""ASGI guards that act before the GraphQL app reads anything: body size, time, who may listen."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from starlette._utils import parse_host_header
from starlette.datastructures import Headers

from graph.settings import is_loopback

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ordergraph.guards")


async def _send_json(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
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


class BodySizeLimit:
    """Answer 413 to a request body over `max_bytes`, before the app sees any of it.

    A declared Content-Length is checked at once; a chunked body is read up to the limit and
    then replayed to the app, so the app never has to fail half-way through `receive`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, "BAD_REQUEST", "Content-Length must be a number")
                return
            if int(declared) > self.max_bytes:
                await self._too_large(send)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send) -> None:
        await _send_json(
            send,
            413,
            "PAYLOAD_TOO_LARGE",
            f"the request body is larger than the limit of {self.max_bytes:,} bytes",
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestTimeout:
    """Answer 504 to an HTTP request that has not finished within `seconds`."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            log.warning(
                "%s %s took longer than %.1f s", scope["method"], scope["path"], self.seconds
            )
            if not started:
                await _send_json(
                    send,
                    504,
                    "TIMEOUT",
                    f"the request took longer than {self.seconds:g} s; a command may still have "
                    "been applied: retry it with the same commandId",
                )


class LoopbackOnly:
    """In development mode (no authentication) serve only on a loopback address, and only
    requests that name a loopback host (`localhost`, `127.0.0.1`, `[::1]`, any port) in their
    Host header: a web page whose own name resolves to 127.0.0.1 (DNS rebinding) must not drive
    a developer's service, which treats every caller as an admin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        if server and not is_loopback(str(server[0])):
            refusal = (
                "development mode (no ORDERGRAPH_AUTH_SECRET) serves only loopback addresses; "
                "configure a signing secret to listen on others"
            )
        elif not is_loopback_host(Headers(scope=scope).get("host")):
            refusal = (
                "development mode (no ORDERGRAPH_AUTH_SECRET) answers only requests for a "
                "loopback host (localhost, 127.0.0.1, [::1]); this Host header names another"
            )
        else:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await _send_json(send, 403, "FORBIDDEN", refusal)
        else:
            await send({"type": "websocket.close", "code": 4403, "reason": "loopback only"})


def is_loopback_host(header: str | None) -> bool:
    """Whether a Host header names a loopback host, with or without a port."""
    parsed = None if header is None else parse_host_header(header)
    return parsed is not None and is_loopback(parsed.host.lower())


__all__ = ["BodySizeLimit", "LoopbackOnly", "RequestTimeout", "is_loopback_host"]
