"""GraphiQL in Chromium: a subscription run right after it is typed (GraphiQL then POSTs it
with `Accept: application/json, multipart/mixed` instead of opening its WebSocket) streams its
views into the result window, live; closing the page frees the server's stream."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.support.browser import chromium_path, node_script
from tests.support.graph import CREATE_ORDER, order_input, post_data, uvicorn_server
from tests.support.streams import GRAPHIQL_ACCEPT

CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"


async def _streams(address: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        text = (await http.get("/metrics")).text
    found = re.search(r"^ordergraph_http_streams (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


async def test_a_subscription_run_before_graphiql_parsed_it_streams_over_http(
    sqlite_url: str,
) -> None:
    chromium = chromium_path()
    with uvicorn_server(sqlite_url) as address:
        created = (await post_data(address, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        order_id = created["orderId"]
        async with node_script(
            "graphiql_subscription.cjs", f"http://{address}", order_id, CHROMIUM_PATH=chromium
        ) as browser:
            placed = await browser.expect("placed")
            assert placed["requests"] == [{"method": "POST", "accept": GRAPHIQL_ACCEPT}]
            assert '"status": "PLACED"' in placed["text"]
            assert placed["problems"] == []
            assert await _streams(address) == 1

            await post_data(address, CONFIRM, {"id": order_id})
            await browser.send("confirmed")
            confirmed = await browser.expect("confirmed")
            assert '"status": "CONFIRMED"' in confirmed["text"]
            assert confirmed["problems"] == []

            await browser.send("close")
            await browser.finish()
        for _ in range(400):  # the page is gone: so is its stream
            if await _streams(address) == 0:
                break
            await asyncio.sleep(0.025)
        assert await _streams(address) == 0
