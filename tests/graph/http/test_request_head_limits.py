"""The request head is bounded in size (431) and in time (408) under real uvicorn, the way
`ordergraph serve` runs it; ordinary requests, bodies, keep-alive and WebSocket upgrades pass."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from websockets.asyncio.client import connect

from graph.app import create_app
from graph.http.protocol import BoundedHttpToolsProtocol
from graph.settings import Settings
from tests.support.graph import GRAPHQL_TRANSPORT_WS, ws_init

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 1.0
QUERY = b'{"query": "{ __typename }"}'


@pytest.fixture
def server(sqlite_url: str) -> Iterator[int]:
    """A uvicorn on a free port with the bounded protocol (a short timeout, to keep tests quick)."""
    config = uvicorn.Config(
        create_app(Settings(database_url=sqlite_url)),
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        loop="asyncio",
        http=BoundedHttpToolsProtocol.with_limits(
            max_head_bytes=HEAD_LIMIT, head_timeout=HEAD_TIMEOUT
        ),
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def post(body: bytes = QUERY, *, extra_header: bytes = b"") -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        + extra_header
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one response (or 0 and b'' when the server just closed)."""
    status_line = await asyncio.wait_for(reader.readline(), 10)
    if not status_line:
        return 0, b""
    length = 0
    while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await asyncio.wait_for(reader.readexactly(length), 10)
    return int(status_line.split()[1]), body


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server ends the connection (an unread request makes that a reset)."""
    try:
        return await asyncio.wait_for(reader.read(), 10) == b""
    except ConnectionResetError:
        return True


async def test_ordinary_requests_with_bodies_keep_alive_and_pass(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    padding = b" " * 200_000  # a large body in one read beside a small head
    writer.write(post(QUERY[:-1] + padding + b"}") + post())
    assert await answer(reader) == (200, b'{"data":{"__typename":"Query"}}')
    assert await answer(reader) == (200, b'{"data":{"__typename":"Query"}}')
    writer.close()


async def test_a_complete_head_over_the_limit_is_431(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(post(extra_header=b"x-padding: " + b"a" * (HEAD_LIMIT + 1) + b"\r\n"))
    status, body = await answer(reader)
    assert (status, body) == (431, b"Request Header Fields Too Large\n")
    assert await closed(reader)
    writer.close()


async def test_a_header_line_that_never_ends_is_cut_off_at_the_limit(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-endless: ")

    async def send_for_ever() -> int:
        sent = 0
        try:
            while sent < 1000 * HEAD_LIMIT:
                writer.write(b"a" * 4096)
                await writer.drain()
                sent += 4096
        except ConnectionError:
            pass
        return sent

    sender = asyncio.create_task(send_for_ever())
    assert await answer(reader) == (431, b"Request Header Fields Too Large\n")
    assert await closed(reader)
    assert await asyncio.wait_for(sender, 10) < 1000 * HEAD_LIMIT
    writer.close()


@pytest.mark.parametrize("start", [b"", b"GET /healthz HTTP/1.1\r\nho"])
async def test_a_head_that_does_not_arrive_in_time_is_408(server: int, start: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(start)
    opened = time.monotonic()
    assert await answer(reader) == (408, b"Request Timeout\n")
    assert time.monotonic() - opened >= HEAD_TIMEOUT * 0.9
    assert await closed(reader)
    writer.close()


async def test_a_kept_alive_connection_gets_the_head_timeout_again(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(post())
    assert (await answer(reader))[0] == 200
    writer.write(b"GET /hea")
    assert await answer(reader) == (408, b"Request Timeout\n")
    writer.close()


async def test_a_websocket_upgrade_still_works(server: int) -> None:
    async with connect(
        f"ws://127.0.0.1:{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]
    ) as ws:
        await ws_init(ws)
        for operation in ("1", "2"):
            if operation == "2":  # the head timer must not fire on an upgraded socket
                await asyncio.sleep(HEAD_TIMEOUT * 1.5)
            payload = {"query": "{ __typename }"}
            await ws.send(json.dumps({"id": operation, "type": "subscribe", "payload": payload}))
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message == {
                "id": operation,
                "type": "next",
                "payload": {"data": {"__typename": "Query"}},
            }
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message == {"id": operation, "type": "complete"}
