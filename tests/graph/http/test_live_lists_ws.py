"""ordersChanged over graphql-transport-ws: a customer follows only its own orders (another
customerId is FORBIDDEN), staff follow everyone's, and afterPosition resumes without a gap."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.asyncio.client import connect

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.asyncio.client import ClientConnection

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
ORDERS_CHANGED = """subscription($customer: ID, $after: Position) {
  ordersChanged(customerId: $customer, afterPosition: $after) { id customerId position } }"""


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint(subject, role)}"}


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        yield address


async def _place(address: str, customer: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        response = await http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input(customer)}},
            headers=bearer(Role.CUSTOMER, customer),
        )
    created: dict[str, Any] = response.json()["data"]["createOrder"]
    return created


async def _follow(ws: ClientConnection, variables: dict[str, Any]) -> None:
    payload = {"query": ORDERS_CHANGED, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _orders(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    got = []
    for _ in range(count):
        message = await ws_next(ws)
        assert message["type"] == "next", message
        got.append(message["payload"]["data"]["ordersChanged"])
    return got


async def test_a_customer_follows_only_its_own_orders(server: str) -> None:
    url = f"ws://{server}/graphql"
    async with connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws, bearer(Role.CUSTOMER, "alice"))
        await _follow(ws, {"customer": "bob"})
        message = await ws_next(ws)
        assert message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    async with (
        connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as alice,
        connect(url, subprotocols=[GRAPHQL_TRANSPORT_WS]) as staff,
    ):
        await ws_init(alice, bearer(Role.CUSTOMER, "alice"))
        await ws_init(staff, bearer(Role.STAFF, "sam"))
        first = await _place(server, "alice")
        await _follow(alice, {"after": first["position"]})
        await _follow(staff, {"after": first["position"]})
        await asyncio.sleep(0.3)
        bobs = await _place(server, "bob")
        alices = await _place(server, "alice")
        assert [o["id"] for o in await _orders(alice, 1)] == [alices["orderId"]]
        assert [o["id"] for o in await _orders(staff, 2)] == [bobs["orderId"], alices["orderId"]]


async def test_after_position_sends_what_changed_since_then_first(server: str) -> None:
    placed = [await _place(server, "carol") for _ in range(5)]
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws, bearer(Role.CUSTOMER, "carol"))
        await _follow(ws, {"after": placed[1]["position"]})
        caught_up = await _orders(ws, 3)
        later = await _place(server, "carol")
        (live,) = await _orders(ws, 1)
    assert [o["id"] for o in caught_up] == [p["orderId"] for p in placed[2:]]
    assert live["id"] == later["orderId"]
    positions = [o["position"] for o in [*caught_up, live]]
    assert positions == sorted(positions)
