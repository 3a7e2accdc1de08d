"""The live page at `/` runs an order's whole life in headless Chromium, on a phone (360 px) and
a desktop (1,400 px): placed through the form, its detail (with its history) confirmed and
shipped, another cancelled; pages of orders forwards and back; the status filter live. Nothing
is wider than the viewport, and every time on the page is written the same way."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import chromium_path, node_script
from tests.support.graph import CREATE_ORDER, order_input, post_data, uvicorn_server

SEEDED = 23  # with the two the page places: three pages of ten
PAGE_SIZE = 10
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
PAGE = """query($status: OrderStatus, $after: String) {
  orders(status: $status, first: 10, after: $after) {
    edges { node { id status } } pageInfo { hasNextPage endCursor } } }"""
CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"""
ORDER = """query($id: ID!) { order(id: $id) {
  status trackingNumber cancellationReason history { type } } }"""


async def server_pages(base: str, status: str | None = None) -> list[list[list[str]]]:
    """Every page of ten, as the page lists them: [id, status] per row."""
    pages: list[list[list[str]]] = []
    after = None
    while True:
        data = await post_data(base, PAGE, {"status": status, "after": after})
        orders = data["orders"]
        pages.append([[edge["node"]["id"], edge["node"]["status"]] for edge in orders["edges"]])
        if not orders["pageInfo"]["hasNextPage"]:
            return pages
        after = orders["pageInfo"]["endCursor"]


def assert_fits(look: dict[str, Any]) -> None:
    assert look["wider"] == [], f"wider than the {look['viewport']} px viewport: {look['wider']}"
    assert look["scrollWidth"] <= look["viewport"]
    assert look["times"], "no time shown"
    assert all(TIME.fullmatch(text) for text in look["times"]), look["times"]


@pytest.mark.slow
@pytest.mark.parametrize("width", [360, 1400])
async def test_an_orders_whole_life_on_the_page(sqlite_url: str, width: int) -> None:
    chromium = chromium_path()
    with uvicorn_server(sqlite_url) as address:
        base = f"http://{address}"
        for index in range(SEEDED):
            await post_data(base, CREATE_ORDER, {"input": order_input(f"cust-{index % 4}")})
        async with node_script(
            "orders_page_life.cjs", base, str(width), CHROMIUM_PATH=chromium
        ) as page:
            opened = await page.expect("opened", timeout=30)
            assert [row[0] for row in opened["rows"]] == [
                row[0] for row in (await server_pages(base))[0]
            ]
            assert_fits(opened["look"])

            shipped = await page.expect("shipped")
            assert shipped["placed"]["status"] == "PLACED"
            assert shipped["placed"]["hash"] == f"#order/{shipped['orderId']}"
            assert shipped["placed"]["steps"] == ["Confirm order", "Cancel order"]
            assert [e["type"] for e in shipped["placed"]["history"]] == ["OrderPlaced"]
            assert shipped["placed"]["history"][0]["summary"] == "placed with 1 line, total 39.98"
            assert shipped["confirmed"]["status"] == "CONFIRMED"
            assert shipped["confirmed"]["steps"] == ["Ship order", "Cancel order"]
            assert shipped["shipped"]["status"] == "SHIPPED"
            assert shipped["shipped"]["steps"] == []
            assert shipped["shipped"]["tracking"] == "1Z999AA10123456784"
            assert [e["summary"] for e in shipped["shipped"]["history"]] == [
                "placed with 1 line, total 39.98",
                "confirmed",
                "shipped (tracking 1Z999AA10123456784)",
            ]
            assert all(TIME.fullmatch(e["time"]) for e in shipped["shipped"]["history"])
            assert_fits(shipped["look"])
            assert_fits(shipped["shippedLook"])
            stored = (await post_data(base, ORDER, {"id": shipped["orderId"]}))["order"]
            assert stored["status"] == "SHIPPED"
            assert stored["trackingNumber"] == "1Z999AA10123456784"

            cancelled = await page.expect("cancelled")
            assert cancelled["cancelled"]["status"] == "CANCELLED"
            assert cancelled["cancelled"]["reason"] == "customer changed their mind"
            assert cancelled["cancelled"]["history"][-1]["summary"] == (
                "cancelled: customer changed their mind"
            )
            stored = (await post_data(base, ORDER, {"id": cancelled["orderId"]}))["order"]
            assert stored["cancellationReason"] == "customer changed their mind"

            await page.send("page")
            paged = await page.expect("paged", timeout=30)
            expected = await server_pages(base)
            assert len(expected) == 3
            assert paged["pages"] == expected
            assert paged["backwards"] == expected[:-1][::-1]
            assert paged["label"] == "Newest orders"

            filtered = await page.expect("filtered")
            placed_pages = await server_pages(base, "PLACED")
            assert filtered["rows"] == placed_pages[0]
            assert_fits(filtered["look"])

            # Another client confirms a listed order and places a new one: the first leaves
            # the PLACED list, the second joins it, and the page is ten rows again.
            confirmed_id = filtered["rows"][2][0]
            await post_data(base, CONFIRM, {"id": confirmed_id})
            placed = await post_data(base, CREATE_ORDER, {"input": order_input("cust-new")})
            placed_id = placed["createOrder"]["orderId"]
            expected_ids = [row[0] for row in (await server_pages(base, "PLACED"))[0]]
            assert expected_ids[0] == placed_id
            assert confirmed_id not in expected_ids
            await page.send(
                "changed-elsewhere",
                confirmedId=confirmed_id,
                placedId=placed_id,
                expected=expected_ids,
            )
            live = await page.expect("filtered-live")
            assert [row[0] for row in live["rows"]] == expected_ids
            assert len(live["rows"]) == PAGE_SIZE
            assert live["gone"] is True
            assert live["sameDocument"] is True  # all of it live, no reload

            confirmed_list = await page.expect("confirmed-list")
            assert confirmed_list["rows"] == (await server_pages(base, "CONFIRMED"))[0]
            assert all(status == "CONFIRMED" for _, status in confirmed_list["rows"])
            assert_fits(confirmed_list["look"])
            assert confirmed_list["problems"] == []
            await page.finish()
