"""A slow consumer never slows anyone else: while its send buffer is full it skips to the
newest view, and one stuck too long is closed with 4008 (counted in /metrics)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.http import outbox, ws
from tests.graph.pipeline.test_live_sharing import metric
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    uvicorn_server,
    ws_init,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.asyncio.client import ClientConnection

ORDERS_CHANGED = """subscription($after: Position) { ordersChanged(afterPosition: $after) {
  id customerId status items { sku quantity unitPrice lineTotal } itemCount totalAmount
  shippingAddress { name line1 line2 city postalCode country } createdAt updatedAt position } }"""
OPERATIONS = 50
UPDATES = 80


@pytest.fixture
def server(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(outbox, "STUCK_SECONDS", 1.0)
    with uvicorn_server(sqlite_url) as address:
        yield address


def _tiny_socket(address: str) -> socket.socket:
    """A client socket that buffers little, so the server's send buffer fills fast."""
    host, port = address.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


async def _subscribe_all(ws: ClientConnection, after: int) -> None:
    await ws_init(ws)
    for op in range(OPERATIONS):
        payload = {"query": ORDERS_CHANGED, "variables": {"after": after}}
        await ws.send(json.dumps({"id": f"op-{op}", "type": "subscribe", "payload": payload}))


async def _place(address: str, count: int) -> list[int]:
    positions = []
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        for _ in range(count):
            body = {"query": CREATE_ORDER, "variables": {"input": order_input()}}
            answer: dict[str, Any] = (await http.post("/graphql", json=body)).json()
            positions.append(answer["data"]["createOrder"]["position"])
    return positions


async def test_a_socket_that_stops_reading_is_closed_4008_and_others_keep_up(server: str) -> None:
    (start,) = await _place(server, 1)
    stuck = await connect(
        f"ws://{server}/graphql",
        subprotocols=[GRAPHQL_TRANSPORT_WS],
        sock=_tiny_socket(server),
        compression=None,  # JSON this repetitive would deflate into any buffer
    )

    async def read_again_once_closing() -> int | None:
        for _ in range(1000):
            if await metric(server, "ordergraph_live_slow_consumers_closed_total") >= 1:
                break
            await asyncio.sleep(0.02)
        stuck.transport.resume_reading()  # reading again in time: the close frame gets out
        try:
            while True:  # what the server had buffered, then the close
                await asyncio.wait_for(stuck.recv(), 10)
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code

    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as fast:
        await _subscribe_all(stuck, start)
        stuck.transport.pause_reading()  # reads nothing from now on
        await ws_init(fast)
        payload = {"query": ORDERS_CHANGED, "variables": {"after": start}}
        await fast.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        reader = asyncio.create_task(read_again_once_closing())
        placed = await _place(server, 150)  # the stuck client reads nothing meanwhile
        seen: list[int] = []
        while len(seen) < len(placed):
            message = json.loads(await asyncio.wait_for(fast.recv(), 10))
            if message["type"] == "next":
                seen.append(message["payload"]["data"]["ordersChanged"]["position"])
        assert seen == placed  # everything, in order, while the other socket was stuck
        assert await reader == ws.SLOW_CONSUMER_CODE
        assert await metric(server, "ordergraph_live_slow_consumers_closed_total") == 1


async def test_a_consumer_that_falls_behind_gets_the_newest_view_without_duplicates(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "STUCK_SECONDS", 60.0)
    created = (await _place(server, 1))[0]
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        body = {"query": "{ orders(first: 1) { edges { node { id } } } }"}
        order_id = (await http.post("/graphql", json=body)).json()["data"]["orders"]["edges"][0][
            "node"
        ]["id"]
    query = """subscription($id: ID!, $after: Position) {
      orderUpdated(id: $id, afterPosition: $after) {
        position itemCount items { sku quantity unitPrice lineTotal } } }"""
    add = """mutation($id: ID!, $sku: String!) { addOrderItem(input: {orderId: $id,
      item: {sku: $sku, quantity: 1, unitPrice: "1.00"}}) { position } }"""
    ws = await connect(
        f"ws://{server}/graphql",
        subprotocols=[GRAPHQL_TRANSPORT_WS],
        sock=_tiny_socket(server),
        compression=None,
    )
    try:
        await ws_init(ws)
        for op in range(OPERATIONS):
            variables = {"id": order_id, "after": created}
            payload = {"query": query, "variables": variables}
            await ws.send(json.dumps({"id": str(op), "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.3)
        skipped = await metric(server, "ordergraph_live_changes_skipped_total")
        ws.transport.pause_reading()
        last = 0
        async with httpx.AsyncClient(base_url=f"http://{server}") as http:
            for n in range(UPDATES):
                variables = {"id": order_id, "sku": f"S-{n}"}
                answer = (
                    await http.post("/graphql", json={"query": add, "variables": variables})
                ).json()
                last = answer["data"]["addOrderItem"]["position"]
        ws.transport.resume_reading()
        by_operation: dict[str, list[int]] = {}
        while sum(1 for p in by_operation.values() if p and p[-1] == last) < OPERATIONS:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "next":
                position = message["payload"]["data"]["orderUpdated"]["position"]
                by_operation.setdefault(message["id"], []).append(position)
        for positions in by_operation.values():
            assert positions == sorted(set(positions))  # strictly increasing, no duplicate
            assert positions[-1] == last  # ends on the newest view
        received = sum(len(p) for p in by_operation.values())
        assert received < UPDATES * OPERATIONS  # views replaced while the buffer was full: skipped
        assert await metric(server, "ordergraph_live_changes_skipped_total") > skipped
    finally:
        await ws.close()


async def test_a_list_consumer_that_falls_behind_still_gets_every_order_once_in_order(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "STUCK_SECONDS", 60.0)
    monkeypatch.setattr(outbox, "MAX_QUEUED_FRAMES", 4)  # overflow soon: re-read the table
    (start,) = await _place(server, 1)
    ws = await connect(
        f"ws://{server}/graphql",
        subprotocols=[GRAPHQL_TRANSPORT_WS],
        sock=_tiny_socket(server),
        compression=None,
        max_queue=None,
    )
    try:
        await _subscribe_all(ws, start)
        await asyncio.sleep(0.3)
        ws.transport.pause_reading()
        placed = await _place(server, 150)
        ws.transport.resume_reading()
        by_operation: dict[str, list[int]] = {}
        while sum(1 for p in by_operation.values() if p and p[-1] == placed[-1]) < OPERATIONS:
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if message["type"] == "next":
                position = message["payload"]["data"]["ordersChanged"]["position"]
                by_operation.setdefault(message["id"], []).append(position)
        assert len(by_operation) == OPERATIONS
        for positions in by_operation.values():
            assert positions == placed  # every order, once, in position order
        assert await metric(server, "ordergraph_live_list_catch_ups_total") > 0
    finally:
        await ws.close()
