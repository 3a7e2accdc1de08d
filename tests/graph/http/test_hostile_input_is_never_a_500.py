"""Whatever a client sends, the answer is a coded 4xx-class error (or a 4400 close on a
WebSocket), never INTERNAL_SERVER_ERROR or an HTTP 500, and nothing is appended."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.graph import (
    GRAPHQL_TRANSPORT_WS,
    app_client,
    error_codes,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from tests.support.graph import Client

SECRET = "a-test-signing-secret-of-32-bytes!!"
HUGE = "9" * 5_000
CLIENT_ERRORS = {"BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"}

HUGE_LITERALS = [
    document.replace("HUGE", HUGE)
    for document in (
        "{ orders(first: HUGE) { totalCount } }",
        "{ orders(first: -HUGE) { totalCount } }",
        '{ order(id: "x", minPosition: HUGE) { id } }',
        '{ order(id: "x", timeoutMs: HUGE) { id } }',
        'mutation { addOrderItem(input: {orderId: "x", item: {sku: "X", quantity: HUGE, '
        'unitPrice: "1.00"}}) { version } }',
        'mutation { addOrderItem(input: {orderId: "x", item: {sku: "X", quantity: 1, '
        "unitPrice: HUGE}}) { version } }",
        'mutation { addOrderItem(input: {orderId: "x", item: {sku: "X", quantity: 1, '
        'unitPrice: "1.00"}, expectedVersion: HUGE}) { version } }',
    )
]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


OUT_OF_RANGE_CURSORS = [
    _cursor(f"2024-01-01T00:00:00+00:00|{2**63}|x"),
    _cursor(f"2024-01-01T00:00:00+00:00|{HUGE}|x"),
    _cursor("2024-01-01T00:00:00+00:00|-5|x"),
    _cursor("0001-01-01T00:00:00+05:00|1|x"),
    _cursor("9999-12-31T23:59:59-05:00|1|x"),
    _cursor("9999-12-31T23:59:59+00:00|1|x"),
]


def _assert_client_error(answer: dict[str, Any]) -> None:
    codes = error_codes(answer)
    assert codes, answer
    assert set(codes) <= CLIENT_ERRORS, answer
    assert "Internal server error" not in json.dumps(answer)


async def _post_raw(client: Client, body: str, **headers: str) -> tuple[int, str]:
    response = await client.http.post(
        "/graphql", content=body.encode(), headers={"content-type": "application/json", **headers}
    )
    return response.status_code, response.text


@pytest.mark.parametrize("document", HUGE_LITERALS)
async def test_integer_literals_of_thousands_of_digits_are_bad_user_input(
    sqlite_url: str, document: str
) -> None:
    async with app_client(sqlite_url) as client:
        head = await client.head()
        _assert_client_error(await client.post(document))
        assert await client.head() == head


@pytest.mark.parametrize("cursor", OUT_OF_RANGE_CURSORS)
async def test_a_cursor_out_of_range_is_bad_user_input(sqlite_url: str, cursor: str) -> None:
    async with app_client(sqlite_url) as client:
        answer = await client.post(
            "query($c: String) { orders(after: $c) { totalCount } }", {"c": cursor}
        )
        _assert_client_error(answer)
        assert answer["errors"][0]["extensions"].get("field") == "after"


async def test_an_operation_name_with_a_lone_surrogate_is_a_400(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        body = '{"query": "query A { projections { name } }", "operationName": "\\ud800"}'
        status, _text = await _post_raw(client, body)
        assert 400 <= status < 500


async def test_a_subscription_over_a_json_post_is_a_coded_400(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        response = await client.http.post(
            "/graphql", json={"query": "subscription { projectionUpdated { name } }"}
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/json"
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "WebSocket" in error["message"]


@pytest.mark.parametrize("role", [["admin"], {"admin": True}, 1, None, True])
async def test_a_role_claim_that_is_not_a_string_is_unauthenticated(
    sqlite_url: str, role: object
) -> None:
    token = jwt.encode(
        {"sub": "mallory", "role": role, "iss": "ordergraph", "exp": 4_000_000_000},
        SECRET,
        algorithm="HS256",
    )
    async with app_client(sqlite_url, auth_secret=SECRET) as client:
        answer = await client.post("{ projections { name } }", Authorization=f"Bearer {token}")
        assert error_codes(answer) == ["UNAUTHENTICATED"]


async def test_two_concurrent_rebuilds_of_one_projection_are_a_coded_conflict(
    sqlite_url: str,
) -> None:
    rebuild = 'mutation { rebuildProjection(name: "daily_sales") { name } }'
    async with app_client(sqlite_url) as client:
        await client.create_order()
        answers = await asyncio.gather(*(client.post(rebuild) for _ in range(4)))
        codes = [code for answer in answers for code in error_codes(answer)]
        assert "INTERNAL_SERVER_ERROR" not in codes, answers
        assert set(codes) <= {"REBUILD_IN_PROGRESS"}, answers
        assert any("errors" not in answer for answer in answers)


async def _closed_with(ws: ClientConnection) -> int:
    """The close code the server sends next (any message before it is skipped)."""
    with pytest.raises(ConnectionClosed) as closed:
        await _drain(ws)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


async def _drain(ws: ClientConnection) -> None:
    while True:
        await asyncio.wait_for(ws.recv(), 10)


def _subscribe(payload: object, operation_id: object = "1") -> str:
    return json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})


MALFORMED_FRAMES: list[str | bytes] = [
    b"\xff\xfe",
    b'{"type": "ping"}',
    "[1, 2]",
    '"subscribe"',
    "17",
    "null",
    '{"type": 5}',
    '{"type": "ping", "x": HUGE}'.replace("HUGE", HUGE),
    "[" * 100_000 + "]" * 100_000,
    _subscribe([1]),
    _subscribe(None),
    _subscribe({"query": 5}),
    _subscribe({"query": "{ projections { name } }", "variables": [1]}),
    _subscribe({"query": "{ projections { name } }", "operationName": 7}),
    _subscribe({"query": "{ projections { name } }"}, operation_id=[1]),
    _subscribe({"query": "{ projections { name } }"}, operation_id=None),
    '{"type": "complete", "id": {"a": 1}}',
]


async def test_malformed_websocket_frames_close_4400(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        for frame in MALFORMED_FRAMES:
            async with connect(
                f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS], max_size=None
            ) as ws:
                await ws_init(ws)
                await ws.send(frame)
                assert await _closed_with(ws) == 4400, frame[:80]


async def _first_answer(address: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await ws.send(_subscribe(payload))
        return await ws_next(ws, timeout=10)


async def test_websocket_operations_with_hostile_input_get_coded_errors(sqlite_url: str) -> None:
    cases: list[dict[str, Any]] = [{"query": document} for document in HUGE_LITERALS] + [
        {"query": "subscription A { projectionUpdated { name } }", "operationName": "B"},
        {"query": "query A { projections { name } }", "operationName": "\ud800"},
        {"query": "query A { projections { name } }", "operationName": "B" * 500},
        {
            "query": "query($c: String) { orders(after: $c) { totalCount } }",
            "variables": {"c": OUT_OF_RANGE_CURSORS[0]},
        },
    ]
    with uvicorn_server(sqlite_url) as address:
        for payload in cases:
            message = await _first_answer(address, payload)
            assert message["type"] in ("error", "next"), message
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            codes = {error["extensions"]["code"] for error in errors}
            assert codes <= CLIENT_ERRORS, (payload["query"][:60], message)


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (
            "query($n: Int) { orders(first: $n) { totalCount } }",
            {"n": 1.0},
            "n",
        ),
        (
            "mutation($input: CreateOrderInput!) { createOrder(input: $input) { version } }",
            {
                "input": {
                    "customerId": "c",
                    "items": [{"sku": "A", "quantity": 1000.0, "unitPrice": "1.00"}],
                    "shippingAddress": {
                        "name": "n",
                        "line1": "l",
                        "city": "c",
                        "postalCode": "p",
                        "country": "GB",
                    },
                }
            },
            "items[0].quantity",
        ),
    ],
)
async def test_an_integral_float_is_never_an_int(
    sqlite_url: str, query: str, variables: dict[str, Any], field: str
) -> None:
    async with app_client(sqlite_url) as client:
        response = await client.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
        assert await client.head() == 0  # nothing was appended


async def test_a_persisted_query_with_a_lone_surrogate_is_a_coded_refusal(
    sqlite_url: str,
) -> None:
    query = '{ order(id: "\ud800") { id } }'
    digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()
    body = json.dumps(
        {"query": query, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    )
    async with app_client(sqlite_url) as client:
        status, text = await _post_raw(client, body)
    assert status < 500, text
    assert all(e["extensions"]["code"] in CLIENT_ERRORS for e in json.loads(text)["errors"])
