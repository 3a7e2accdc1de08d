"""Interop: the reference `graphql-ws` client (npm) subscribes to the service from Node.js."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.browser import node_script
from tests.support.graph import CREATE_ORDER, order_input, post_data

if TYPE_CHECKING:
    pass

CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { version position } }"""
SHIP = """mutation($id: ID!) {
  shipOrder(input: {orderId: $id, trackingNumber: "T-1"}) { version position } }"""


async def test_graphql_ws_create_client_receives_changes_made_over_http(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id = created["orderId"]
    async with node_script(
        "graphql_ws_client.cjs", f"ws://{server}/graphql", order_id, str(created["position"])
    ) as client:
        await client.expect("connected")
        refused = await client.expect("refused")
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]

        # afterPosition is the creation's: the confirmation arrives even if it is made
        # before the server has registered the subscription.
        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        first = (await client.expect("next"))["value"]
        assert first == {
            "data": {
                "orderUpdated": {
                    "id": order_id,
                    "status": "CONFIRMED",
                    "version": 2,
                    "position": confirmed["position"],
                }
            }
        }
        shipped = (await post_data(server, SHIP, {"id": order_id}))["shipOrder"]
        second = (await client.expect("next"))["value"]["data"]["orderUpdated"]
        assert (second["status"], second["position"]) == ("SHIPPED", shipped["position"])

        await client.send("stop")
        await client.expect("done")
        await client.finish()
