"""The live orders page at `/`, served and driven in headless Chromium."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.browser import chromium_path, node_script
from tests.support.graph import CREATE_ORDER, order_input, post_data, uvicorn_server

if TYPE_CHECKING:
    from collections.abc import Iterator

ORDER = """query($id: ID!) { order(id: $id) {
  customerId status itemCount totalAmount items { sku quantity unitPrice } } }"""
CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { version } }"""


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with uvicorn_server(sqlite_url) as address:
        yield f"http://{address}"


async def test_the_page_and_its_files_are_served(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        page = await http.get("/")
        scripts = {}
        waiting = ["app.js"]
        while waiting:  # app.js and every module it imports, and they theirs
            name = waiting.pop()
            scripts[name] = await http.get(f"/static/{name}")
            imported = re.findall(r'from "\./([\w-]+\.js)"', scripts[name].text)
            waiting += [module for module in imported if module not in scripts]
        style = await http.get("/static/style.css")
        missing = await http.get("/static/nothing.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js"></script>' in page.text
    assert "<script>" not in page.text  # no inline script, no inline style: the CSP forbids them
    assert "style=" not in page.text
    assert {"app.js", "api.js", "live.js", "list.js", "detail.js"} <= set(scripts)
    for name, script in scripts.items():
        assert script.status_code == 200, name
        assert "javascript" in script.headers["content-type"], name
    assert "graphql-transport-ws" in scripts["live.js"].text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404


async def test_the_page_places_an_order_and_follows_it_live(server: str) -> None:
    chromium = chromium_path()
    older = await post_data(server, CREATE_ORDER, {"input": order_input("cust-older")})
    older_id = older["createOrder"]["orderId"]
    async with node_script("orders_page.cjs", server, CHROMIUM_PATH=chromium) as page:
        created = await page.expect("created")
        order_id = created["orderId"]
        assert created["ids"] == [order_id, older_id]  # newest first
        assert created["status"] == "PLACED"
        # Order, customer, status, lines, total, updated: shown from CommandResult.order.
        assert created["cells"][:5] == [order_id, "cust-page", "PLACED", "2", "44.98"]
        stored = (await post_data(server, ORDER, {"id": order_id}))["order"]
        assert stored == {
            "customerId": "cust-page",
            "status": "PLACED",
            "itemCount": 2,
            "totalAmount": "44.98",
            "items": [
                {"sku": "SKU-A", "quantity": 2, "unitPrice": "19.99"},
                {"sku": "SKU-B", "quantity": 1, "unitPrice": "5.00"},
            ],
        }

        await post_data(server, CONFIRM, {"id": order_id})  # another client changes it
        await page.send("confirmed")
        updated = await page.expect("updated")
        assert updated["status"] == "CONFIRMED"
        assert updated["cells"][2] == "CONFIRMED"
        assert updated["sameDocument"] is True  # changed live, no reload
        assert updated["announced"] == f"Order {order_id} is now CONFIRMED."

        refused = await page.expect("refused")
        assert refused["alert"].startswith("BAD_USER_INPUT")
        assert "sku" in refused["alert"]
        assert refused["rows"] == 2

        other = await post_data(server, CREATE_ORDER, {"input": order_input("cust-other")})
        other_id = other["createOrder"]["orderId"]
        await page.send("placed-elsewhere", orderId=other_id)
        appeared = await page.expect("appeared")
        assert appeared["ids"] == [other_id, order_id, older_id]  # newest first
        assert appeared["cells"][:3] == [other_id, "cust-other", "PLACED"]
        assert appeared["sameDocument"] is True  # pushed live, no reload

        listed = await page.expect("listed")
        assert listed["status"] == "CONFIRMED"
        assert listed["ids"] == [other_id, order_id, older_id]
        assert listed["problems"] == []
        await page.finish()
