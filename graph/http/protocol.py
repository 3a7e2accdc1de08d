"""uvicorn's httptools protocol with the request head bounded in size and in time.

httptools has no limit of its own: a header line that never ends is buffered whole (ten clients
sending 50 MB each took the server from 165 MB to 736 MB), a complete 50 MB header reached the app,
and a connection that sends its head one byte a second, or nothing, stays open for ever. Here:

- a head (request line and headers) over `max_head_bytes` is answered 431 and the connection
  closed, whether it arrives complete in one read or keeps growing across reads (then at most one
  read of the socket, 64 KiB, is buffered beyond the limit);
- a head not complete `head_timeout` seconds after the connection opened, or after the previous
  response on a kept-alive connection, is answered 408 and the connection closed.

The body is bounded by the app's own guard (`max_body_bytes`); uvicorn's h11 protocol has a head
limit too, but is slower (docs/performance.md).

On a graceful shutdown an HTTP stream still open (graph/http/stream.py) is told to end at once:
uvicorn would otherwise wait for it until its graceful timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from graph.http.stream import SHUTDOWN_HOOK

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

log = logging.getLogger("ordergraph.guards")

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
LINGER_SECONDS = 1.0


class HeadTooLarge(Exception):
    """Raised from a parser callback when the complete head is over the limit."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol refusing heads over `max_head_bytes` (431) or slower than `head_timeout`
    seconds (408). Subclass it with other values through `with_limits`."""

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT_SECONDS

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = True
        self._head_bytes = 0
        self._began = False
        self._head_timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_limits(cls, *, max_head_bytes: int, head_timeout: float) -> type[HttpToolsProtocol]:
        """This protocol with other limits (a class, as uvicorn's `http` setting takes)."""
        attributes = {"max_head_bytes": max_head_bytes, "head_timeout": head_timeout}
        return type("BoundedHttpToolsProtocol", (cls,), attributes)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_head:
            super().data_received(data)
            return
        self._began = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, HeadTooLarge):
                self._refuse(431, "Request Header Fields Too Large")
                return
            self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head and not self._began:
            # The whole read belongs to a head that is still incomplete.
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(431, "Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._began = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_head_bytes:
            raise HeadTooLarge
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def shutdown(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            state: dict[str, Any] = cycle.scope.get("state") or {}
            end_stream = state.get(SHUTDOWN_HOOK)
            if end_stream is not None:
                end_stream()
        super().shutdown()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._in_head = True
            self._head_bytes = 0
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "Request Timeout")

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` with a plain-text body and close the connection."""
        self._disarm_head_timer()
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.warning("refused a request head from %s: %d %s", client, status, reason)
        body = f"{reason}\n".encode("ascii")
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: "
            + str(len(body)).encode("ascii")
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        # Closing with unread input makes the kernel reset the connection, which can destroy the
        # answer before the client reads it: stop reading, let the answer drain, then close.
        self.transport.pause_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


__all__ = ["HEAD_TIMEOUT_SECONDS", "MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]
