"""ordersChanged(status:) over graphql-transport-ws: the change that takes an order out of the
status is sent too, with the order's new state, live and in the catch-up by afterPosition; orders
that never matched are not sent live."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from websockets.asyncio.client import connect

from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.asyncio.client import ClientConnection

CONFIRMED_ORDERS = """subscription($after: Position) {
  ordersChanged(status: CONFIRMED, afterPosition: $after) { id status trackingNumber position } }"""
MUTATION = "mutation($id: ID!) {{ {name}(input: {{orderId: $id{extra}}}) {{ position }} }}"


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with uvicorn_server(sqlite_url) as address:
        yield address


async def _place(address: str) -> str:
    created = await post_data(address, CREATE_ORDER, {"input": order_input()})
    order_id: str = created["createOrder"]["orderId"]
    return order_id


async def _command(address: str, name: str, order_id: str, extra: str = "") -> int:
    data = await post_data(address, MUTATION.format(name=name, extra=extra), {"id": order_id})
    position: int = data[name]["position"]
    return position


async def _follow(ws: ClientConnection, after: int | None) -> None:
    await ws_init(ws)
    payload = {"query": CONFIRMED_ORDERS, "variables": {"after": after}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _views(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    views = []
    for _ in range(count):
        message = await ws_next(ws, timeout=10)
        assert message["type"] == "next", message
        views.append(message["payload"]["data"]["ordersChanged"])
    return views


async def _nothing_more(ws: ClientConnection) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 0.5)


async def test_a_shipped_order_reaches_a_confirmed_list_live_and_in_the_catch_up(
    server: str,
) -> None:
    url = f"ws://{server}/graphql"
    async with connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await _follow(ws, None)
        await asyncio.sleep(0.2)
        shipped, never = await _place(server), await _place(server)
        await _command(server, "confirmOrder", shipped)
        await _command(server, "cancelOrder", never, ', reason: "no"')  # never matched
        shipped_at = await _command(server, "shipOrder", shipped, ', trackingNumber: "TRK-1"')
        views = await _views(ws, 2)
        assert [(v["id"], v["status"]) for v in views] == [
            (shipped, "CONFIRMED"),
            (shipped, "SHIPPED"),
        ]
        assert views[1] == {
            "id": shipped,
            "status": "SHIPPED",
            "trackingNumber": "TRK-1",
            "position": shipped_at,
        }
        await _nothing_more(ws)

    async with connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await _follow(ws, shipped_at - 1)
        (view,) = await _views(ws, 1)
        assert (view["id"], view["status"], view["position"]) == (shipped, "SHIPPED", shipped_at)
        await _nothing_more(ws)
