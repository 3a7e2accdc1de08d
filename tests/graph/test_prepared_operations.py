"""An operation the gate has let through once runs prepared the next time (no parse, no
validation, no extension hooks): every answer must be byte for byte the one the full path
gives, errors, freshness report and refusals included."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from strawberry.extensions import SchemaExtension

from graph.api.schema import build_schema
from graph.settings import Settings
from tests.support.graph import app_client, order_input

COMMAND_ID = "prepared-test-command-1"
CREATE_WITH_VIEW = """
mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) {
    commandId orderId version position
    order { id status totalAmount items { sku quantity unitPrice lineTotal } createdAt }
  }
}
"""
GET = "query Get($id: ID!) { order(id: $id) { id status version position } }"
LIST = """
query List($first: Int, $after: Position) {
  orders(first: $first, minPosition: $after) {
    totalCount edges { cursor node { id totalAmount shippingAddress { city } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TWO = "query A { __typename } query B { projections { name } }"
REFUSED = "refused by the gate"
"""Marks a request the gate refuses (removed before it is sent): it is never prepared."""


def _requests(order_id: str, position: int) -> list[dict[str, Any]]:
    confirm = "mutation C($input: ConfirmOrderInput!) { confirmOrder(input: $input) { version } }"
    return [
        {"query": "{ __typename }"},
        {"query": GET, "variables": {"id": order_id}},
        {"query": GET, "variables": {"id": "no-such-order"}},
        {"query": GET, "variables": {"id": ["not", "an", "id"]}},
        {"query": GET},
        {"query": LIST, "variables": {"first": 5, "after": str(position)}},
        {"query": LIST, "variables": {"first": "five"}},
        {"query": LIST, "variables": {"first": 100_000}},
        {"query": TWO, "operationName": "B"},
        {"query": TWO, "operationName": "A"},
        {"query": TWO, REFUSED: True},
        {"query": TWO, "operationName": "C", REFUSED: True},
        {
            "query": CREATE_WITH_VIEW,
            "variables": {"input": {**order_input("cust-9"), "commandId": COMMAND_ID}},
        },
        {
            "query": confirm,
            "variables": {"input": {"orderId": "no-such-order", "commandId": "c-1"}},
        },
    ]


def _answer(response: httpx.Response) -> tuple[int, str | None, bytes]:
    return response.status_code, response.headers.get("content-type"), response.content


async def _hits(http: httpx.AsyncClient) -> int:
    text = (await http.get("/metrics")).text
    found = re.search(r'^ordergraph_prepared_operations_total\{outcome="hit"\} (\S+)$', text, re.M)
    assert found is not None, text
    return int(float(found.group(1)))


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/json", "application/json"),
        ("application/graphql-response+json", "application/json; charset=utf-8"),
        ("application/graphql-response+json, application/json;q=0.9", "application/json"),
    ],
)
async def test_a_prepared_operation_answers_as_the_full_path_does(
    sqlite_url: str, accept: str, content_type: str
) -> None:
    headers = {"accept": accept, "content-type": content_type}
    async with app_client(sqlite_url) as client:
        created = await client.create_order()
        http = client.http
        for request in _requests(created["orderId"], created["position"]):
            refused = request.pop(REFUSED, False)
            body = json.dumps(request)
            first = _answer(await http.post("/graphql", content=body, headers=headers))
            hits = await _hits(http)
            again = _answer(await http.post("/graphql", content=body, headers=headers))
            assert again == first, request
            assert (await _hits(http) == hits + 1) is not refused, (request, first)


async def test_what_the_gate_refuses_is_never_prepared(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        http = client.http
        for body in (
            {"query": TWO},
            {"query": "{ noSuchField }"},
            {"query": TWO, "operationName": "C"},
        ):
            answers = [_answer(await http.post("/graphql", json=body)) for _ in range(2)]
            assert answers[0] == answers[1]
            assert answers[0][0] >= 400 or b'"errors"' in answers[0][2]
        assert await _hits(http) == 0


async def test_what_the_short_path_does_not_take_the_view_answers(sqlite_url: str) -> None:
    """Bodies and headers outside the short path (_run_prepared) get the view's answer, also
    for a prepared operation: streaming, other content types, extensions, bad JSON."""
    typename = {"query": "{ __typename }"}
    async with app_client(sqlite_url) as client:
        http = client.http
        assert (await http.post("/graphql", json=typename)).status_code == 200
        hits = await _hits(http)
        event_stream = await http.post(
            "/graphql", json=typename, headers={"accept": "text/event-stream"}
        )
        assert event_stream.status_code == 200
        with_extensions = await http.post("/graphql", json={**typename, "extensions": {}})
        assert with_extensions.json() == {"data": {"__typename": "Query"}}
        plain = await http.post(
            "/graphql", content=json.dumps(typename), headers={"content-type": "text/plain"}
        )
        assert plain.status_code == 400
        broken = await http.post(
            "/graphql",
            content=b'{"query": "{ __typename }"',
            headers={"content-type": "application/json"},
        )
        assert broken.status_code == 400
        # The view ran the two that reached execution, through the prepared operation.
        assert await _hits(http) == hits + 2


async def test_a_prepared_mutation_is_still_refused_over_get(sqlite_url: str) -> None:
    mutation = 'mutation { retryProjection(name: "order_views") { name } }'
    async with app_client(sqlite_url) as client:
        http = client.http
        before = _answer(await http.get("/graphql", params={"query": mutation}))
        assert before[0] >= 400
        assert (await http.post("/graphql", json={"query": mutation})).status_code == 200
        after = _answer(await http.get("/graphql", params={"query": mutation}))
        assert after == before


class Counting(SchemaExtension):
    executions = 0

    def on_execute(self) -> Iterator[None]:
        Counting.executions += 1
        yield


async def test_with_extra_extensions_every_operation_takes_the_full_path() -> None:
    schema = build_schema(Settings(), extra_extensions=[Counting])
    Counting.executions = 0
    for _ in range(3):
        assert (await schema.execute("{ __typename }")).data == {"__typename": "Query"}
    assert Counting.executions == 3
    assert not schema.gate_only
