"""Subscriptions over graphql-transport-ws against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
import websockets
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status version position } }"""
PROJECTION_UPDATED = """subscription($name: String) {
  projectionUpdated(name: $name) { name state position headPosition lag } }"""
CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { version position } }"""
SHIP = """mutation($id: ID!) {
  shipOrder(input: {orderId: $id, trackingNumber: "T-1"}) { version position } }"""


async def _subscribe(
    ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any]
) -> None:
    await ws.send(
        json.dumps(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )


async def _nothing_within(ws: ClientConnection, seconds: float) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


async def test_order_updated_pushes_each_new_view(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id = created["orderId"]
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await _subscribe(ws, "1", ORDER_UPDATED, {"id": order_id})
        assert await _nothing_within(ws, 0.2)  # no afterPosition: nothing until a change

        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        message = await ws_next(ws)
        assert message["type"] == "next"
        assert message["id"] == "1"
        assert message["payload"]["data"]["orderUpdated"] == {
            "id": order_id,
            "status": "CONFIRMED",
            "version": 2,
            "position": confirmed["position"],
        }
        await post_data(server, CREATE_ORDER, {"input": order_input()})  # another order: not sent
        shipped = (await post_data(server, SHIP, {"id": order_id}))["shipOrder"]
        view = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
        assert view["status"] == "SHIPPED"
        assert view["position"] == shipped["position"]

        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        await post_data(server, CREATE_ORDER, {"input": order_input()})
        assert await _nothing_within(ws, 0.2)


async def test_order_updated_after_position_sends_a_newer_view_at_once(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id = created["orderId"]
    confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        # The client read the order at its creation: the confirmation happened since.
        await _subscribe(ws, "a", ORDER_UPDATED, {"id": order_id, "after": created["position"]})
        first = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
        assert first["status"] == "CONFIRMED"
        assert first["position"] == confirmed["position"]
        # Up to date already: nothing is sent at once.
        await _subscribe(ws, "b", ORDER_UPDATED, {"id": order_id, "after": confirmed["position"]})
        assert await _nothing_within(ws, 0.2)
        await post_data(server, SHIP, {"id": order_id})
        got = {}
        for _ in range(2):
            message = await ws_next(ws)
            got[message["id"]] = message["payload"]["data"]["orderUpdated"]["status"]
        assert got == {"a": "SHIPPED", "b": "SHIPPED"}


async def test_projection_updated(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await _subscribe(ws, "p", PROJECTION_UPDATED, {"name": "customer_summaries"})
        await _subscribe(ws, "all", PROJECTION_UPDATED, {})
        await asyncio.sleep(0.1)
        created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        named: list[dict[str, Any]] = []
        everything: set[str] = set()
        while len(named) < 1 or len(everything) < len(PROJECTION_NAMES):
            message = await ws_next(ws)
            status = message["payload"]["data"]["projectionUpdated"]
            if message["id"] == "p":
                named.append(status)
            else:
                everything.add(status["name"])
        assert named[0]["name"] == "customer_summaries"
        assert named[0]["state"] == "RUNNING"
        assert named[0]["position"] == created["position"]
        assert everything == set(PROJECTION_NAMES)


async def test_projection_updated_refuses_an_unknown_name(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await _subscribe(ws, "x", PROJECTION_UPDATED, {"name": "nope"})
        message = await ws_next(ws)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_the_legacy_graphql_ws_protocol_is_off(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[Subprotocol("graphql-ws")]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406
