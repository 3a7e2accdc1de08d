"""`orderUpdated` on an order that does not exist, or that the caller may not see, ends with the
same NOT_FOUND (a `next` with the error, then `complete`) instead of staying silent; an order
created at the subscriber's `afterPosition` is never reported missing, however far behind the
view is; an existing order still streams. Over a real WebSocket, and with the reference
graphql-ws client."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import connect

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from readmodels.registry import default_projections
from tests.support.browser import node_script
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    uvicorn_server,
    ws_init,
    ws_next,
)
from tests.support.readmodels import PoisonedOrderViews

if TYPE_CHECKING:
    from pathlib import Path

    from websockets.asyncio.client import ClientConnection

ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status position } }"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"
SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)


async def _subscribe(ws: ClientConnection, op_id: str, variables: dict[str, Any]) -> None:
    payload = {"query": ORDER_UPDATED, "variables": variables}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def _refusal(ws: ClientConnection, op_id: str) -> dict[str, Any]:
    """The operation's `next` with its one error, which `complete` must follow."""
    answered = await ws_next(ws)
    assert answered["id"] == op_id
    assert answered["type"] == "next", answered
    assert answered["payload"]["data"] is None
    (error,) = answered["payload"]["errors"]
    assert await ws_next(ws) == {"id": op_id, "type": "complete"}
    found: dict[str, Any] = error
    return found


async def test_an_order_that_does_not_exist_ends_with_not_found(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await _subscribe(ws, "1", {"id": "no-such-order"})
        error = await _refusal(ws, "1")
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["message"] == "order 'no-such-order' does not exist"

        # The socket goes on: an existing order still streams.
        created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        order_id = created["orderId"]
        await _subscribe(ws, "2", {"id": order_id, "after": 0})
        placed = await ws_next(ws)
        assert placed["payload"]["data"]["orderUpdated"]["status"] == "PLACED"
        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        later = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
        assert (later["status"], later["position"]) == ("CONFIRMED", confirmed["position"])


async def test_another_customers_order_is_not_found_like_a_missing_one(sqlite_url: str) -> None:
    def token(subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {AUTHORITY.mint(subject, Role.CUSTOMER)}"}

    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, token("bob"))
            payload = {"query": CREATE_ORDER, "variables": {"input": order_input("bob")}}
            await ws.send(json.dumps({"id": "c", "type": "subscribe", "payload": payload}))
            bobs = (await ws_next(ws))["payload"]["data"]["createOrder"]["orderId"]
            assert await ws_next(ws) == {"id": "c", "type": "complete"}
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, token("alice"))
            await _subscribe(ws, "theirs", {"id": bobs})
            theirs = await _refusal(ws, "theirs")
            await _subscribe(ws, "missing", {"id": "no-such-order"})
            missing = await _refusal(ws, "missing")
    assert theirs["extensions"] == missing["extensions"] == {"code": "NOT_FOUND"}
    assert theirs["message"] == f"order {bobs!r} does not exist"
    assert missing["message"] == "order 'no-such-order' does not exist"


async def test_the_reference_client_gets_the_error_then_complete(server: str) -> None:
    async with node_script(
        "graphql_ws_not_found.cjs", f"ws://{server}/graphql", "no-such-order"
    ) as client:
        ended = await client.expect("ended")
        await client.finish()
    (next_call, complete_call) = ended["calls"]
    (error,) = next_call["next"]["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert complete_call == {"complete": True}


async def test_an_order_created_at_after_position_is_not_missing_while_the_view_lags(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The views apart, order_views stuck on the new order's event: the subscription waits for
    order_views to reach afterPosition (the default wait), then finds the order."""
    views = PoisonedOrderViews(poison=None)
    others = [p for p in default_projections() if p.name != views.name]
    with uvicorn_server(
        sqlite_url,
        projections=[views, *others],
        read_database_url=f"sqlite+aiosqlite:///{tmp_path}/views.db",
        default_wait_ms=2000,
    ) as address:
        head = (await post_data(address, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        views.poison = head["position"] + 1
        created = (await post_data(address, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws)
            after, order_id = created["position"], created["orderId"]
            await _subscribe(ws, "1", {"id": order_id, "after": after})
            await asyncio.sleep(0.3)  # the view is still without the order
            views.poison = None
            retry = 'mutation { retryProjection(name: "order_views") { name } }'
            await post_data(address, retry, {})  # applied now, within the wait
            # Nothing newer than afterPosition yet; the order's next change is the first frame.
            confirmed = (await post_data(address, CONFIRM, {"id": order_id}))["confirmOrder"]
            view = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
            assert view == {
                "id": order_id,
                "status": "CONFIRMED",
                "position": confirmed["position"],
            }

            # Beyond the head the wait runs out, and then a missing order is NOT_FOUND.
            await _subscribe(ws, "2", {"id": "no-such-order", "after": after + 50})
            error = await _refusal(ws, "2")
            assert error["extensions"]["code"] == "NOT_FOUND"
