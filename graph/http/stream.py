"""One GraphQL operation streamed as one HTTP response: what graphql-sse (graph/http/sse.py)
and the multipart subscriptions (graph/http/multipart.py) share. Each of those only frames.

The endpoint opens a stream once the request is accepted: its parameters read, the operation
prepared, its variables coerced. Everything refused before that is answered as the endpoint
answers any request (a coded JSON error with its status). The response then starts (200, the
format's media type) and carries the operation's answers, each in the format's frame: a query's
or a mutation's one, a subscription's one per event, the one that ends a subscription its
resolver refused. After the last one the format's closing ends the body.

While it is open a stream writes the format's keep-alive at its interval (proxies close idle
connections), and it ends early, freeing everything the operation holds (its execution group, its
resolver's generator) when:
- the client goes away (`http.disconnect`): nothing more is written;
- the client reads too slowly (the outbox's `stuck_seconds`, graph/http/outbox.py): the
  response is ended where it stands, counted with the slow WebSockets in /metrics;
- the caller's token expires (`exp`): an UNAUTHENTICATED error in the format's error frame,
  then the closing; the client subscribes again with a fresh token;
- the server is stopping (`ordergraph serve`'s protocol calls the hook a stream leaves in its
  scope's state, `SHUTDOWN_HOOK`): the body ends without the closing, which clients read as
  an interrupted stream to resume (with `afterPosition`), not as the subscription's end.
  Without the hook (another server) uvicorn waits for open streams until its graceful timeout.

A process holds at most `limit` open streams (ORDERGRAPH_MAX_HTTP_STREAMS): one more is refused
with 503 SERVICE_UNAVAILABLE and Retry-After before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphql import GraphQLError

from graph.http.outbox import Outbox, SlowConsumer
from graph.http.params import Problem
from graph.pipeline.encoding import encode_json_text
from graph.pipeline.run import Answer

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from graph.http.operation import StreamedOperation
    from graph.pipeline.live import LiveStats

log = logging.getLogger("ordergraph.http")

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAUTHENTICATED = "UNAUTHENTICATED"
STREAM_ID = "stream"
SHUTDOWN_HOOK = "ordergraph.stream_shutdown"
EXPIRED_MESSAGE = "The token has expired: subscribe again with a fresh one"
_CLIENT_GONE, _SLOW, _EXPIRED = "client gone", "slow consumer", "token expired"
_SHUTDOWN = "server stopping"


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """How a transport frames a stream: the text around one encoded GraphQL response, and
    around the errors list that ends it early; what opens, keeps alive and closes it."""

    name: str
    content_type: str
    opening: str
    frame: tuple[str, str]
    errors_frame: tuple[str, str]
    keep_alive: str
    keep_alive_seconds: float
    closing: str

    def answer(self, answer: Answer) -> str:
        """One answer framed (a request error without `data`, as it never ran)."""
        prefix, suffix = self.frame
        return prefix + encode_json_text(answer.formatted(with_data=answer.ran)) + suffix

    def errors(self, errors: list[GraphQLError]) -> str:
        prefix, suffix = self.errors_frame
        return prefix + encode_json_text([error.formatted for error in errors]) + suffix

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", self.content_type.encode()),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # nginx and the proxies that follow it: no buffering
        ]


class HttpStreams:
    """The open HTTP streams of this process, at most `limit`."""

    def __init__(self, limit: int, stats: LiveStats) -> None:
        self.limit = limit
        self.stats = stats

    def open(self, stream_format: StreamFormat, work: StreamedOperation | Answer) -> HttpStream:
        """A stream of `work` (an operation, or the one answer of a refused request) in
        `stream_format`; a Problem (503) when the process holds its limit already."""
        if self.stats.streams >= self.limit:
            raise Problem(
                503,
                SERVICE_UNAVAILABLE,
                f"This server holds its limit of {self.limit} open streams: retry shortly, or "
                "subscribe over a WebSocket",
                {"retry-after": "1"},
            )
        return HttpStream(self.stats, stream_format, work)


class HttpStream:
    """One streamed response; `serve` writes it to the end."""

    def __init__(
        self, stats: LiveStats, stream_format: StreamFormat, work: StreamedOperation | Answer
    ) -> None:
        self.stats = stats
        self.format = stream_format
        self.work = work
        self.outbox = Outbox(self._write, stats, lambda: self._stop(_SLOW))
        self._send: Send | None = None
        self._task: asyncio.Task[None] | None = None
        self._reason: str | None = None
        self._expires_at: float | None = None
        self._expiry: asyncio.TimerHandle | None = None

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._send = send
        scope.setdefault("state", {})[SHUTDOWN_HOOK] = lambda: self._stop(_SHUTDOWN)
        self.stats.streams += 1
        try:
            await send(
                {"type": "http.response.start", "status": 200, "headers": self.format.headers()}
            )
            if self.format.opening:
                await send(
                    {
                        "type": "http.response.body",
                        "body": self.format.opening.encode(),
                        "more_body": True,
                    }
                )
            watcher = asyncio.get_running_loop().create_task(self._watch(receive))
            try:
                ending = await self._run()
            finally:
                watcher.cancel()
                await asyncio.wait([watcher])
                if self._expiry is not None:
                    self._expiry.cancel()
                await self.outbox.close()
            await self._end(send, ending)
        finally:
            self.stats.streams -= 1

    # -- the operation ----------------------------------------------------------------------

    async def _run(self) -> str | None:
        """Run the work; the text that ends the body (None: the client is gone)."""
        work = self.work
        if not isinstance(work, Answer):
            principal = work.context.principal
            self._expires_at = None if principal is None else principal.expires_at
        task = self._task = asyncio.get_running_loop().create_task(self._operate())
        self._arm_expiry()
        try:
            await task
        except SlowConsumer:
            self._reason = self._reason or _SLOW
        except asyncio.CancelledError:
            if self._reason is None:  # the server cancelled this request (shutting down)
                raise
        if self._reason == _CLIENT_GONE:
            return None
        if self._reason is not None:
            log.info("%s stream ended: %s", self.format.name, self._reason)
        if self._reason in (_SLOW, _SHUTDOWN):
            return ""
        if self._reason == _EXPIRED:
            expired = GraphQLError(EXPIRED_MESSAGE, extensions={"code": UNAUTHENTICATED})
            return self.format.errors([expired]) + self.format.closing
        return self.format.closing

    async def _operate(self) -> None:
        work = self.work
        if isinstance(work, Answer):
            await self._emit(work)
            return
        await work.run(self.outbox, STREAM_ID, self.format.frame, self._emit)

    async def _emit(self, answer: Answer) -> None:
        await self.outbox.send(self.format.answer(answer))

    def _stop(self, reason: str) -> None:
        """End the operation early (the first reason wins)."""
        if self._reason is not None:
            return
        self._reason = reason
        if self._task is not None:
            self._task.cancel()

    # -- the connection ---------------------------------------------------------------------

    async def _watch(self, receive: Receive) -> None:
        """Write the keep-alive at its interval until the client goes away."""
        while True:
            try:
                async with asyncio.timeout(self.format.keep_alive_seconds):
                    message = await receive()
            except TimeoutError:
                with contextlib.suppress(SlowConsumer):
                    await self.outbox.send(self.format.keep_alive)
                continue
            if message["type"] == "http.disconnect":
                self._stop(_CLIENT_GONE)
                return

    async def _write(self, frame: str) -> None:
        assert self._send is not None
        await self._send({"type": "http.response.body", "body": frame.encode(), "more_body": True})

    async def _end(self, send: Send, ending: str | None) -> None:
        """The last of the body, unless the client is gone; a client too slow to take even that
        within the outbox's budget is left to the server, which closes the connection (uvicorn
        logs "ASGI callable returned without completing response": ASGI has no other way)."""
        if ending is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.outbox.stuck_seconds):
                await send({"type": "http.response.body", "body": ending.encode()})

    def _arm_expiry(self) -> None:
        expires_at = self._expires_at
        if expires_at is None:
            return
        left = expires_at - time.time()
        if left <= 0:
            self._stop(_EXPIRED)
            return
        # A timer can fire a little early: it checks the clock again then.
        self._expiry = asyncio.get_running_loop().call_later(left, self._arm_expiry)


__all__ = ["SHUTDOWN_HOOK", "STREAM_ID", "HttpStream", "HttpStreams", "StreamFormat"]
