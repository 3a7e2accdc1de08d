"""Subscribers sharing a document, its variables and visibility share one execution of the
selection and one encoded payload per change; only the operation id differs on the wire."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING

import httpx
from websockets.asyncio.client import connect

from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    ws_init,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) {
    id status version position itemCount customer { id } } }"""
ADD = """mutation($id: ID!, $sku: String!) {
  addOrderItem(input: {orderId: $id, item: {sku: $sku, quantity: 1, unitPrice: "1.00"}}) {
    position } }"""
SOCKETS, PER_SOCKET = 100, 10


async def metric(address: str, name: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        text = (await http.get("/metrics")).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


async def executions(address: str) -> int:
    return await metric(address, "ordergraph_live_executions_total")


async def subscribed(address: str, count: int) -> None:
    """Wait until `count` subscriptions are registered (each has read the current view)."""
    for _ in range(300):
        if await metric(address, "ordergraph_live_order_followers") >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscriptions did not start")


async def _frames(ws: ClientConnection, count: int) -> list[str]:
    frames: list[str] = []
    while len(frames) < count:
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(frame, str)
        if '"type":"ping"' in frame:
            continue
        frames.append(frame)
    return frames


async def test_a_thousand_subscribers_of_one_document_cost_one_execution_per_change(
    server: str,
) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id, after = created["orderId"], created["position"]
    sockets = []
    try:
        for _ in range(SOCKETS):
            ws = await connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS])
            sockets.append(ws)
            await ws_init(ws)
            for op in range(PER_SOCKET):
                variables = {"id": order_id, "after": after}  # race-free: nothing is missed
                payload = {"query": ORDER_UPDATED, "variables": variables}
                await ws.send(
                    json.dumps({"id": f"op-{op}", "type": "subscribe", "payload": payload})
                )
        await subscribed(server, SOCKETS * PER_SOCKET)
        await post_data(server, ADD, {"id": order_id, "sku": "WARM-UP"})
        await asyncio.gather(*(_frames(ws, PER_SOCKET) for ws in sockets))  # all are live
        before = await executions(server)
        payloads: set[str] = set()
        for sku in ("S-1", "S-2"):
            await post_data(server, ADD, {"id": order_id, "sku": sku})
            for frames in await asyncio.gather(*(_frames(ws, PER_SOCKET) for ws in sockets)):
                for frame in frames:
                    message = json.loads(frame)
                    assert message["type"] == "next"
                    # the same bytes but for the operation id
                    payloads.add(frame.replace(json.dumps(message["id"]), '"*"', 1))
        assert await executions(server) - before == 2
        counts = sorted(
            json.loads(p)["payload"]["data"]["orderUpdated"]["itemCount"] for p in payloads
        )
        assert len(counts) == 2
        assert counts[1] == counts[0] + 1
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def test_different_variables_are_executed_apart(server: str) -> None:
    created = [
        (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        for _ in range(2)
    ]
    ids = [c["orderId"] for c in created]
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        for op, order in enumerate(created):
            variables = {"id": order["orderId"], "after": created[-1]["position"]}
            payload = {"query": ORDER_UPDATED, "variables": variables}
            await ws.send(json.dumps({"id": str(op), "type": "subscribe", "payload": payload}))
        await subscribed(server, 2)
        before = await executions(server)
        await post_data(server, ADD, {"id": ids[1], "sku": "S-9"})
        (frame,) = await _frames(ws, 1)
        assert json.loads(frame)["id"] == "1"
        assert await executions(server) - before == 1


async def test_a_document_that_cannot_be_shared_runs_the_generic_way(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    fragment = """subscription($id: ID!, $after: Position) { ...Watch }
      fragment Watch on Subscription {
        orderUpdated(id: $id, afterPosition: $after) { id itemCount position } }"""
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        variables = {"id": created["orderId"], "after": created["position"]}
        payload = {"query": fragment, "variables": variables}
        await ws.send(json.dumps({"id": "g", "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.3)
        before = await executions(server)
        await post_data(server, ADD, {"id": created["orderId"], "sku": "S-G"})
        (frame,) = await _frames(ws, 1)
        message = json.loads(frame)
        assert message["id"] == "g"
        assert message["payload"]["data"]["orderUpdated"]["position"] > created["position"]
        assert await executions(server) == before  # its own stream executed it, not a group


async def test_forty_orders_changed_at_once_cost_forty_executions(server: str) -> None:
    """Ten sockets on one list, forty orders placed together: one execution per order (the
    group keeps every payload of the batch, however many orders it changed)."""
    changed = "subscription { ordersChanged { id position itemCount } }"
    sockets = [
        await connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS])
        for _ in range(10)
    ]
    try:
        for ws in sockets:
            await ws_init(ws)
            await ws.send(
                json.dumps({"id": "list", "type": "subscribe", "payload": {"query": changed}})
            )
        await asyncio.sleep(0.3)
        before = await executions(server)
        await asyncio.gather(
            *(post_data(server, CREATE_ORDER, {"input": order_input()}) for _ in range(40))
        )
        for frames in await asyncio.gather(*(_frames(ws, 40) for ws in sockets)):
            assert (
                len(
                    {
                        json.loads(frame)["payload"]["data"]["ordersChanged"]["id"]
                        for frame in frames
                    }
                )
                == 40
            )
        assert await executions(server) - before == 40
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
