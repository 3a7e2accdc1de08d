"""Every error code, and a bad input for each rule of contract.md, each appending nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graph import CREATE_ORDER, Client, app_client, error_codes, order_input

ADD = "mutation($input: AddOrderItemInput!) { addOrderItem(input: $input) { version } }"
REMOVE = "mutation($input: RemoveOrderItemInput!) { removeOrderItem(input: $input) { version } }"
CHANGE = """mutation($input: ChangeShippingAddressInput!) {
  changeShippingAddress(input: $input) { version } }"""
CONFIRM = "mutation($input: ConfirmOrderInput!) { confirmOrder(input: $input) { version } }"
SHIP = "mutation($input: ShipOrderInput!) { shipOrder(input: $input) { version } }"
CANCEL = "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { version } }"

ADDRESS = order_input()["shippingAddress"]
LINE = {"sku": "SKU-1", "quantity": 2, "unitPrice": "19.99"}


def line(**overrides: Any) -> dict[str, Any]:
    return {**LINE, **overrides}


def address(**overrides: Any) -> dict[str, Any]:
    return {**ADDRESS, **overrides}


def create(**overrides: Any) -> tuple[str, dict[str, Any]]:
    return CREATE_ORDER, {"input": order_input(**overrides)}


def on_order(query: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A command on the test's existing order (its id filled in as ORDER)."""
    return query, {"input": {"orderId": "ORDER", **fields}}


BAD_INPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "no lines": create(items=[]),
    "101 lines": create(items=[line(sku=f"S{n}") for n in range(101)]),
    "duplicate sku": create(items=[line(), line()]),
    "empty sku": create(items=[line(sku="")]),
    "65-char sku": create(items=[line(sku="S" * 65)]),
    "control char in sku": create(items=[line(sku="A\nB")]),
    "quantity 0": create(items=[line(quantity=0)]),
    "quantity 10001": create(items=[line(quantity=10_001)]),
    "quantity not an Int": create(items=[line(quantity=2**40)]),
    "negative price": create(items=[line(unitPrice="-0.01")]),
    "price above a million": create(items=[line(unitPrice="1000000.01")]),
    "three decimals": create(items=[line(unitPrice="1.005")]),
    "NaN price": create(items=[line(unitPrice="NaN")]),
    "exponent price": create(items=[line(unitPrice="1e2")]),
    "float price": create(items=[line(unitPrice=19.99)]),
    "empty name": create(shippingAddress=address(name="")),
    "201-char line1": create(shippingAddress=address(line1="x" * 201)),
    "empty city": create(shippingAddress=address(city="")),
    "empty postal code": create(shippingAddress=address(postalCode="")),
    "lowercase country": create(shippingAddress=address(country="gb")),
    "three-letter country": create(shippingAddress=address(country="GBR")),
    "missing country": create(shippingAddress={k: v for k, v in ADDRESS.items() if k != "country"}),
    "empty customer id": create(customerId=""),
    "129-char customer id": create(customerId="c" * 129),
    "empty command id": create(commandId=""),
    "129-char command id": create(commandId="k" * 129),
    "add beyond 10000": on_order(ADD, item=line(quantity=9_999)),
    "add same sku other price": on_order(ADD, item=line(unitPrice="20.00")),
    "add bad sku": on_order(ADD, item=line(sku="")),
    "remove sku not on order": on_order(REMOVE, sku="NOT-THERE"),
    "change to bad address": on_order(CHANGE, shippingAddress=address(country="XX1")),
    "empty tracking number": on_order(SHIP, trackingNumber=""),
    "201-char cancel reason": on_order(CANCEL, reason="r" * 201),
    "empty cancel reason": on_order(CANCEL, reason=""),
    "129-char order id": (CONFIRM, {"input": {"orderId": "o" * 129}}),
    "first 0": ("{ orders(first: 0) { totalCount } }", {}),
    "first 101": ("{ orders(first: 101) { totalCount } }", {}),
    "malformed cursor": ('{ orders(after: "%%%") { totalCount } }', {}),
    "timeoutMs -1": ('{ order(id: "x", minPosition: 1, timeoutMs: -1) { id } }', {}),
    "timeoutMs above cap": ('{ order(id: "x", minPosition: 1, timeoutMs: 10001) { id } }', {}),
    "negative position": ('{ order(id: "x", minPosition: -1) { id } }', {}),
    "position as string": (
        'query($p: Position) { customer(id: "x", minPosition: $p) { id } }',
        {"p": "5"},
    ),
    "sales from after to": (
        '{ salesReport(fromDate: "2024-02-01", toDate: "2024-01-01") { date } }',
        {},
    ),
    "sales over 366 days": (
        '{ salesReport(fromDate: "2023-01-01", toDate: "2024-12-31") { date } }',
        {},
    ),
    "sales not a date": (
        '{ salesReport(fromDate: "2024-13-01", toDate: "2024-12-31") { date } }',
        {},
    ),
    "unknown projection": ('mutation { rebuildProjection(name: "nope") { name } }', {}),
    "unknown enum value": ("{ orders(status: LOST) { totalCount } }", {}),
    "unknown field": ("{ orders { nope } }", {}),
    "syntax error": ("{ orders { ", {}),
    "missing variable": (ADD, {}),
}


def _fill(value: Any, order_id: str) -> Any:
    if value == "ORDER":
        return order_id
    if isinstance(value, dict):
        return {k: _fill(v, order_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, order_id) for v in value]
    return value


async def _fixture_order(client: Client) -> str:
    order_id: str = (await client.create_order())["orderId"]
    return order_id


@pytest.mark.parametrize(
    "case",
    list(BAD_INPUTS),
)
async def test_bad_input_is_refused_and_changes_nothing(sqlite_url: str, case: str) -> None:
    query, variables = BAD_INPUTS[case]
    async with app_client(sqlite_url) as client:
        order_id = await _fixture_order(client)
        head = await client.head()
        answer = await client.post(query, _fill(variables, order_id))
        assert error_codes(answer), answer
        assert set(error_codes(answer)) == {"BAD_USER_INPUT"}, answer
        assert all(error["message"] for error in answer["errors"])
        assert await client.head() == head


async def test_domain_error_codes(database_url: str) -> None:
    async with app_client(database_url) as client:
        order_id = await _fixture_order(client)
        head = await client.head()

        missing = await client.post(CONFIRM, {"input": {"orderId": "no-such-order"}})
        assert error_codes(missing) == ["NOT_FOUND"]

        last_line = await client.post(REMOVE, {"input": {"orderId": order_id, "sku": "SKU-1"}})
        assert error_codes(last_line) == ["INVALID_TRANSITION"]
        not_yet = await client.post(SHIP, {"input": {"orderId": order_id, "trackingNumber": "T"}})
        assert error_codes(not_yet) == ["INVALID_TRANSITION"]

        stale = await client.post(CONFIRM, {"input": {"orderId": order_id, "expectedVersion": 7}})
        assert error_codes(stale) == ["CONCURRENCY_CONFLICT"]
        assert "version" in stale["errors"][0]["message"]
        assert stale["errors"][0]["path"] == ["confirmOrder"]
        assert await client.head() == head

        await client.data(CANCEL, {"input": {"orderId": order_id, "reason": "gone"}})
        after_cancel = await client.post(CONFIRM, {"input": {"orderId": order_id}})
        assert error_codes(after_cancel) == ["INVALID_TRANSITION"]
        assert await client.head() == head + 1


async def test_bad_input_names_the_field(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        answer = await client.post(*create(items=[line(), line(quantity=0, sku="B")]))
        error = answer["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "quantity" in error["extensions"]["field"]


async def test_a_mutation_document_answered_with_no_data_changes_nothing(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        order_id = (await client.create_order())["orderId"]
        head = await client.head()
        answer = await client.post(
            """mutation($id: ID!) {
              confirmOrder(input: {orderId: $id}) { version }
              shipOrder(input: {orderId: $id, trackingNumber: ""}) { version }
            }""",
            {"id": order_id},
        )
        assert answer["data"] is None
        assert "errors" in answer
        assert await client.head() == head
