"""Interop over plain HTTP: the graphql-sse reference client and Apollo Client 4's plain
`HttpLink` (multipart subscriptions) subscribe from Node.js; stopping frees the server's side."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.support.browser import node_script
from tests.support.graph import CREATE_ORDER, order_input, post_data

CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { version position } }"
SHIP = """mutation($id: ID!) {
  shipOrder(input: {orderId: $id, trackingNumber: "T-1"}) { version position } }"""


async def _metric(address: str, name: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        text = (await http.get("/metrics")).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


async def _freed(address: str) -> None:
    """Wait until no HTTP stream and no execution group is left (a bound on the wait)."""
    for _ in range(400):
        if (
            await _metric(address, "ordergraph_http_streams"),
            await _metric(address, "ordergraph_live_groups"),
        ) == (0, 0):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the streams stayed open after the client stopped")


async def test_the_graphql_sse_client_subscribes_queries_and_stops(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id = created["orderId"]
    async with node_script(
        "graphql_sse_client.cjs", f"http://{server}/graphql", order_id, str(created["position"])
    ) as client:
        assert (await client.expect("query"))["results"] == [{"data": {"__typename": "Query"}}]
        (missing,) = (await client.expect("missing"))["results"]
        assert missing["data"] is None
        assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]
        await client.expect("subscribed")

        # afterPosition is the creation's: nothing is missed however soon this is made.
        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        first = (await client.expect("next"))["value"]["data"]["orderUpdated"]
        assert (first["status"], first["position"]) == ("CONFIRMED", confirmed["position"])
        shipped = (await post_data(server, SHIP, {"id": order_id}))["shipOrder"]
        second = (await client.expect("next"))["value"]["data"]["orderUpdated"]
        assert (second["status"], second["position"]) == ("SHIPPED", shipped["position"])
        assert await _metric(server, "ordergraph_http_streams") == 1

        await client.send("stop")
        await client.expect("done")
        await client.finish()
    await _freed(server)


async def test_apollo_clients_http_link_subscribes_over_multipart(server: str) -> None:
    created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
    order_id = created["orderId"]
    async with node_script(
        "apollo_http_subscriptions.cjs",
        f"http://{server}/graphql",
        order_id,
        str(created["position"]),
    ) as client:
        (missing,) = (await client.expect("missing"))["results"]
        assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]
        await client.expect("subscribed")

        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        changes = await client.expect("changes")
        view = {
            "__typename": "Order",
            "id": order_id,
            "status": "CONFIRMED",
            "position": confirmed["position"],
        }
        assert changes["order"] == {"data": {"orderUpdated": {**view, "version": 2}}, "errors": []}
        assert changes["list"] == {"data": {"ordersChanged": view}, "errors": []}
        assert await _metric(server, "ordergraph_http_streams") == 2

        await client.send("stop")
        await client.expect("done")
        await client.finish()
    await _freed(server)
