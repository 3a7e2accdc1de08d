"""Every input that fails to coerce is BAD_USER_INPUT with `extensions.field` naming it as the
domain's rules do (`items[0].unitPrice`), whether it came in a variable or as a literal of the
document, and whether the scalar refused it, the type did, or the domain's rules did."""

from __future__ import annotations

from typing import Any

import pytest

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import app_client, order_input

SECRET = "a-signing-secret-of-at-least-32-bytes"
CREATE = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { orderId } }"
ADDRESS = 'shippingAddress: {name: "A", line1: "1 Way", city: "C", postalCode: "P", country: "GB"}'


def literal(line: str, address: str = ADDRESS) -> str:
    """A createOrder with its input written in the document."""
    order = f'customerId: "c", items: [{line}], {address}'
    return f"mutation {{ createOrder(input: {{{order}}}) {{ orderId }} }}"


def line(**fields: Any) -> dict[str, Any]:
    return {"sku": "X", "quantity": 1, "unitPrice": "1.00", **fields}


CASES: list[tuple[str, str, dict[str, Any] | None, list[str]]] = [
    (
        "a scalar refuses a variable",
        CREATE,
        {"input": order_input(items=[line(unitPrice="abc")])},
        ["items[0].unitPrice"],
    ),
    (
        "the rules refuse a variable",
        CREATE,
        {"input": order_input(items=[line(unitPrice="-1")])},
        ["items[0].unitPrice"],
    ),
    (
        "Int refuses a variable",
        CREATE,
        {"input": order_input(items=[line(quantity="x")])},
        ["items[0].quantity"],
    ),
    (
        "a variable lacks fields",
        CREATE,
        {
            "input": order_input(
                shippingAddress={"name": "A", "line1": "1", "city": "C", "postalCode": "P"}
            )
        },
        ["shippingAddress.country"],
    ),
    ("a variable has an unknown field", CREATE, {"input": order_input(bogus=1)}, ["bogus"]),
    ("a variable is not an object", CREATE, {"input": 3}, ["input"]),
    ("a variable is missing", CREATE, {}, ["input"]),
    (
        "a scalar refuses a literal",
        literal('{sku: "X", quantity: 1, unitPrice: "abc"}'),
        None,
        ["items[0].unitPrice"],
    ),
    (
        "Int refuses a literal",
        literal('{sku: "X", quantity: "q", unitPrice: "1"}'),
        None,
        ["items[0].quantity"],
    ),
    (
        "a literal is out of range",
        literal('{sku: "X", quantity: 99999999999, unitPrice: "1"}'),
        None,
        ["items[0].quantity"],
    ),
    (
        "a literal has an unknown field",
        literal('{sku: "X", quantity: 1, unitPrice: "1", gift: true}'),
        None,
        ["items[0].gift"],
    ),
    (
        "a literal lacks a field",
        literal(
            '{sku: "X", quantity: 1, unitPrice: "1"}',
            'shippingAddress: {name: "A", city: "C", postalCode: "P", country: "GB"}',
        ),
        None,
        ["shippingAddress.line1"],
    ),
    ("a scalar argument", '{ order(id: "x", minPosition: "a") { id } }', None, ["minPosition"]),
    ("an enum argument", "{ orders(status: LOST) { totalCount } }", None, ["status"]),
    (
        "a variable of a scalar argument",
        'query($p: Position) { order(id: "x", minPosition: $p) { id } }',
        {"p": "zz"},
        ["p"],
    ),
    (
        "a variable's default",
        'query($p: Position = "q") { order(id: "x", minPosition: $p) { id } }',
        {},
        ["p"],
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "fields"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
async def test_a_bad_input_names_its_field_and_changes_nothing(
    sqlite_url: str,
    query: str,
    variables: dict[str, Any] | None,
    fields: list[str],
    production: bool,
) -> None:
    settings = {"auth_secret": SECRET, "production": True} if production else {}
    admin = {"Authorization": f"Bearer {TokenAuthority(SECRET).mint('ada', Role.ADMIN)}"}
    async with app_client(sqlite_url, **settings) as client:
        body = {"query": query, "variables": variables}
        answer = (await client.http.post("/graphql", json=body, headers=admin)).json()
        head = await client.post("{ projections { headPosition } }", None, **admin)
    assert [error["extensions"] for error in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": field} for field in fields
    ], answer
    assert all(error["locations"] for error in answer["errors"]), answer
    assert {p["headPosition"] for p in head["data"]["projections"]} == {0}
