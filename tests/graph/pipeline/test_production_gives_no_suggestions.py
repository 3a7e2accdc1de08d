"""In production no validation or coercion message names a schema element the client did not
send ("Did you mean ...?"): not for fields, arguments, enum values, types in fragment
conditions or input fields, in literals or in variables. Development mode keeps them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import (
    GRAPHQL_TRANSPORT_WS,
    app_client,
    error_codes,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

SECRET = "a-test-signing-secret-of-32-bytes!!"
ADMIN = {"Authorization": f"Bearer {TokenAuthority(SECRET).mint('ann', Role.ADMIN)}"}

ADDRESS_TYPO = order_input()["shippingAddress"] | {"nme": "Ada"}
ADDRESS_TYPO.pop("name")

TYPOS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("field", '{ order(id: "x") { idd } }', None),
    ("argument", '{ order(idd: "x") { id } }', None),
    ("enum value", "{ orders(status: PLACD) { totalCount } }", None),
    (
        "enum value in a variable",
        "query($s: OrderStatus) { orders(status: $s) { totalCount } }",
        {"s": "PLACD"},
    ),
    ("type in a fragment condition", '{ order(id: "x") { ...F } } fragment F on Ordr { id }', None),
    ("type of an inline fragment", '{ order(id: "x") { ... on Ordr { id } } }', None),
    ("type of a variable", "query($id: IDD!) { order(id: $id) { id } }", None),
    (
        "input field",
        'mutation { cancelOrder(input: {orderId: "x", reasn: "r"}) { version } }',
        None,
    ),
    (
        "input field in a variable",
        "mutation($input: CreateOrderInput!) { createOrder(input: $input) { orderId } }",
        {"input": order_input(shippingAddress=ADDRESS_TYPO)},
    ),
]


@pytest.mark.parametrize(("kind", "document", "variables"), TYPOS, ids=[t[0] for t in TYPOS])
@pytest.mark.parametrize("caller", ["anonymous", "admin"])
async def test_production_answers_typos_without_suggestions(
    sqlite_url: str, kind: str, document: str, variables: dict[str, Any] | None, caller: str
) -> None:
    headers = ADMIN if caller == "admin" else {}
    async with app_client(sqlite_url, auth_secret=SECRET, production=True) as client:
        answer = await client.post(document, variables, **headers)
    assert error_codes(answer), answer
    assert set(error_codes(answer)) <= {"BAD_USER_INPUT"}, answer
    assert "did you mean" not in json.dumps(answer).lower(), (kind, answer)


@pytest.mark.parametrize(("kind", "document", "variables"), TYPOS, ids=[t[0] for t in TYPOS])
async def test_development_mode_still_suggests(
    sqlite_url: str, kind: str, document: str, variables: dict[str, Any] | None
) -> None:
    async with app_client(sqlite_url) as client:
        answer = await client.post(document, variables)
    assert "Did you mean" in json.dumps(answer), (kind, answer)


async def test_production_answers_typos_on_a_websocket_without_suggestions(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET, production=True) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, ADMIN)
            for number, (kind, document, variables) in enumerate(TYPOS):
                payload = {"query": document, "variables": variables or {}}
                await ws.send(
                    json.dumps({"id": str(number), "type": "subscribe", "payload": payload})
                )
                message = await ws_next(ws)
                while message["type"] == "complete":  # the end of the previous operation
                    message = await ws_next(ws)
                errors = (
                    message["payload"]
                    if message["type"] == "error"
                    else message["payload"].get("errors")
                )
                assert errors, (kind, message)
                assert "did you mean" not in json.dumps(message).lower(), (kind, message)
