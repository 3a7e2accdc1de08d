"""Reading /graphql's HTTP streams as curl does: the raw bytes of a streamed response (httpx),
cut into server-sent events or multipart parts, with a bound on every wait."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

EVENT_STREAM = "text/event-stream"
APOLLO_MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'
# What GraphiQL's fetcher sends (graphiql-toolkit's createMultipartFetcher).
GRAPHIQL_ACCEPT = "application/json, multipart/mixed"
WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its `event:` name (empty for a comment) and `data:`."""

    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class RawStream:
    """A streamed response read chunk by chunk."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks = response.aiter_text()
        self.buffer = ""
        self.ended = False

    async def more(self, timeout: float = WAIT_SECONDS) -> None:
        """Read the next chunk into the buffer (sets `ended` at the end of the body)."""
        try:
            self.buffer += await asyncio.wait_for(anext(self._chunks), timeout)
        except StopAsyncIteration:
            self.ended = True

    async def event(self, timeout: float = WAIT_SECONDS) -> Event:
        """The next server-sent event or comment (a comment is Event("", ":"))."""
        while "\n\n" not in self.buffer:
            assert not self.ended, f"the stream ended before an event: {self.buffer!r}"
            await self.more(timeout)
        block, self.buffer = self.buffer.split("\n\n", 1)
        if block.startswith(":"):
            return Event("", block)
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        return Event(fields["event"][0], "\n".join(fields.get("data", [])))

    async def next_event(self, timeout: float = WAIT_SECONDS) -> Event:
        """The next event that is not a keep-alive comment."""
        while True:
            event = await self.event(timeout)
            if event.event:
                return event

    async def part(self, timeout: float = WAIT_SECONDS) -> Any:
        """The next multipart part's JSON body, or None at the closing boundary."""
        delimiter = "\r\n--graphql"
        while True:
            if self.buffer.startswith(delimiter + "--"):
                return None
            head = self.buffer.find(delimiter)
            assert head in (0, -1), f"text before the boundary: {self.buffer!r}"
            end = self.buffer.find(delimiter, len(delimiter))
            if head == 0 and end > 0:
                part, self.buffer = self.buffer[len(delimiter) : end], self.buffer[end:]
                headers, _, body = part.partition("\r\n\r\n")
                assert headers == "\r\ncontent-type: application/json", part
                return json.loads(body)
            assert not self.ended, f"the body ended inside a part: {self.buffer!r}"
            await self.more(timeout)

    async def next_part(self, timeout: float = WAIT_SECONDS) -> Any:
        """The next part that is not a `{}` heartbeat (None at the closing boundary)."""
        while True:
            part = await self.part(timeout)
            if part != {}:
                return part

    async def rest(self, timeout: float = WAIT_SECONDS) -> str:
        """Everything up to the end of the body."""
        while not self.ended:
            await self.more(timeout)
        return self.buffer


@asynccontextmanager
async def open_stream(
    address: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    accept: str = EVENT_STREAM,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[RawStream]:
    """POST an operation to a real server's /graphql and read its streamed answer; leaving
    the block closes the connection (the client goes away)."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    async with (
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT_SECONDS) as http,
        http.stream(
            "POST", "/graphql", json=body, headers={"accept": accept, **(headers or {})}
        ) as response,
    ):
        yield RawStream(response)


__all__ = [
    "APOLLO_MULTIPART",
    "EVENT_STREAM",
    "GRAPHIQL_ACCEPT",
    "Event",
    "RawStream",
    "open_stream",
]
