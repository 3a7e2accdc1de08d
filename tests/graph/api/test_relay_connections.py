"""Relay connections over HTTP: `last`/`before` on `orders` and `Customer.orders`, PageInfo's
four fields, and the arguments refused (the paging itself: tests/readmodels/test_relay_pages.py)."""

from __future__ import annotations

from typing import Any

from tests.support.graph import Client, app_client, error_codes

PAGE = """query($first: Int, $last: Int, $after: String, $before: String, $status: OrderStatus) {
  orders(first: $first, last: $last, after: $after, before: $before, status: $status) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }"""
CUSTOMER_PAGE = """query($id: ID!, $last: Int, $before: String) {
  customer(id: $id) { orders(last: $last, before: $before) {
    edges { node { id customerId } } pageInfo { hasPreviousPage hasNextPage startCursor } } } }"""


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def _orders(client: Client, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await client.data(PAGE, variables))["orders"]
    return connection


async def test_last_and_before_page_backwards_through_orders(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = [(await client.create_order())["orderId"] for _ in range(7)]
        newest_first = created[::-1]
        oldest_three = await _orders(client, last=3)  # `first`'s default does not apply
        assert _ids(oldest_three) == newest_first[-3:]
        assert oldest_three["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": True,
            "startCursor": oldest_three["edges"][0]["cursor"],
            "endCursor": oldest_three["edges"][-1]["cursor"],
        }
        before = oldest_three["pageInfo"]["startCursor"]
        middle = await _orders(client, last=3, before=before)
        assert _ids(middle) == newest_first[1:4]
        start = await _orders(client, last=3, before=middle["pageInfo"]["startCursor"])
        assert _ids(start) == newest_first[:1]
        assert start["pageInfo"]["hasPreviousPage"] is False
        assert start["pageInfo"]["hasNextPage"] is True

        first_page = await _orders(client, first=3)
        assert _ids(first_page) == newest_first[:3]
        assert first_page["pageInfo"]["hasPreviousPage"] is False
        after = await _orders(client, first=3, after=first_page["pageInfo"]["endCursor"])
        assert after["pageInfo"]["hasPreviousPage"] is True
        assert await _orders(client, status="SHIPPED", last=5) == {
            "edges": [],
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
        }


async def test_customer_orders_page_backwards(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        mine = [(await client.create_order(customer_id="c-1"))["orderId"] for _ in range(4)]
        await client.create_order(customer_id="c-2")
        page = (await client.data(CUSTOMER_PAGE, {"id": "c-1", "last": 2}))["customer"]["orders"]
        assert _ids(page) == mine[:2][::-1]
        assert page["pageInfo"]["hasPreviousPage"] is True
        cursor = page["pageInfo"]["startCursor"]
        rest = await client.data(CUSTOMER_PAGE, {"id": "c-1", "last": 5, "before": cursor})
        assert _ids(rest["customer"]["orders"]) == mine[2:][::-1]
        assert rest["customer"]["orders"]["pageInfo"]["hasPreviousPage"] is False


async def test_first_with_last_and_bad_last_or_before_are_bad_user_input(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        await client.create_order()
        refused = [
            ("{ orders(first: 20, last: 2) { totalCount } }", "last"),  # first given, if default
            ("query($f: Int) { orders(first: $f, last: 2) { totalCount } }", "last"),
            ("{ orders(last: 0) { totalCount } }", "last"),
            ("{ orders(last: 101) { edges { cursor } } }", "last"),
            ('{ orders(last: 1, before: "nope") { edges { cursor } } }', "before"),
            ('{ customer(id: "cust-1") { orders(first: 1, last: 1) { totalCount } } }', "last"),
        ]
        for document, field in refused:
            variables = {"f": 3} if "$f" in document else None
            answer = await client.post(document, variables)
            assert error_codes(answer) == ["BAD_USER_INPUT"], document
            assert answer["errors"][0]["extensions"]["field"] == field, document
        # `first: null` (or a variable left out) with `last` is `last` alone.
        allowed = "query($f: Int) { orders(first: $f, last: 1) { edges { cursor } } }"
        assert len((await client.data(allowed))["orders"]["edges"]) == 1
        assert len((await client.data(allowed, {"f": None}))["orders"]["edges"]) == 1
