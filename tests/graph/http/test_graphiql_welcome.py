"""GraphiQL opens on ordergraph's own operations, titled "ordergraph", and each of them runs on a
new database as it stands: the query, the mutation, and the subscription over a WebSocket."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate
from websockets.asyncio.client import connect

from graph.api.schema import build_schema, graphql_schema
from graph.http.welcome import EXAMPLE_DOCUMENT, TITLE, script_string
from tests.support.browser import chromium_path, node_script
from tests.support.graph import GRAPHQL_TRANSPORT_WS, app_client, uvicorn_server, ws_init, ws_next

HTML = {"accept": "text/html"}


def operations() -> dict[str, OperationDefinitionNode]:
    document = parse(EXAMPLE_DOCUMENT)
    return {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode) and node.name is not None
    }


def test_the_example_is_a_query_a_mutation_and_a_subscription_of_this_schema() -> None:
    assert validate(graphql_schema(build_schema()), parse(EXAMPLE_DOCUMENT)) == []
    kinds = {name: node.operation for name, node in operations().items()}
    assert kinds == {
        "NewestOrders": OperationType.QUERY,
        "PlaceOrder": OperationType.MUTATION,
        "WatchOrders": OperationType.SUBSCRIPTION,
    }
    assert "`minPosition`" in EXAMPLE_DOCUMENT  # the comment explains it


def test_a_script_string_cannot_end_its_script_nor_its_literal() -> None:
    hostile = 'a `template`, ${x}, "quotes", \\ and </script><script>alert(1)'
    literal = script_string(hostile)
    assert "</" not in literal
    assert json.loads(literal) == hostile
    assert json.loads(script_string(EXAMPLE_DOCUMENT)) == EXAMPLE_DOCUMENT


@pytest.mark.parametrize("assets", ["auto", "cdn"])
async def test_the_page_is_titled_ordergraph_and_opens_on_the_example(
    sqlite_url: str, assets: str
) -> None:
    async with app_client(sqlite_url, assets=assets) as client:
        page = (await client.http.get("/graphql", headers=HTML)).text
    assert re.search(r"<title>\s*ordergraph\s*</title>", page)
    assert f"<title>{TITLE}</title>" in page
    assert "Strawberry GraphiQL" not in page
    assert "Welcome to GraphiQL" not in page
    assert f"const EXAMPLE_QUERY = {script_string(EXAMPLE_DOCUMENT)};" in page


async def test_each_example_operation_runs_on_a_new_database(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:

            async def run(name: str) -> dict[str, Any]:
                body = {"query": EXAMPLE_DOCUMENT, "operationName": name}
                answer: dict[str, Any] = (await http.post("/graphql", json=body)).json()
                assert "errors" not in answer, answer
                return answer

            empty = await run("NewestOrders")
            assert empty["data"]["orders"]["totalCount"] == 0
            assert empty["extensions"]["freshness"]["stale"] is False

            async with connect(
                f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]
            ) as ws:
                await ws_init(ws)
                payload = {"query": EXAMPLE_DOCUMENT, "operationName": "WatchOrders"}
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                placed = (await run("PlaceOrder"))["data"]["createOrder"]
                pushed = await ws_next(ws)
            assert pushed["type"] == "next", pushed
            assert pushed["payload"]["data"]["ordersChanged"]["id"] == placed["orderId"]
            assert placed["order"]["status"] == "PLACED"
            assert placed["order"]["totalAmount"] == "108.98"
            assert [entry["type"] for entry in placed["order"]["history"]] == ["OrderPlaced"]

            listed = await run("NewestOrders")
            assert listed["data"]["orders"]["totalCount"] == 1
            node = listed["data"]["orders"]["edges"][0]["node"]
            assert (node["id"], node["customerId"]) == (placed["orderId"], "ada")


async def test_graphiql_in_chromium_opens_on_the_example_and_runs_it(sqlite_url: str) -> None:
    chromium = chromium_path()
    with uvicorn_server(sqlite_url) as address:
        async with node_script(
            "graphiql_welcome.cjs", f"http://{address}", CHROMIUM_PATH=chromium
        ) as browser:
            opened = await browser.expect("opened")
            ran = await browser.expect("ran")
            docs = await browser.expect("docs")
            await browser.finish()
    assert opened["title"] == "ordergraph"
    assert opened["editorText"].startswith("# ordergraph: orders as events")
    assert "query NewestOrders" in opened["editorText"]
    assert '"totalCount": 0' in ran["text"]
    assert ran["problems"] == []
    # The docs render each description as one paragraph: no line break inside one.
    assert "minPosition" in docs["order"]
    assert docs["breaks"] == 0
