"""A corpus of requests to /graphql (every Accept, bodies good and bad, GET and POST) and the
answers recorded in `http_corpus.json`, normalized (generated ids, times and cursors replaced by
placeholders). tests/graph/http/test_http_corpus.py holds the endpoint to them; its docstring says
where the recording came from and when to record again.

    python -m tests.graph.http.http_corpus --write FILE    # record the current app's answers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from tests.support.graph import app_client, order_input

RECORDED = Path(__file__).with_name("http_corpus.json")

CREATE_WITH_VIEW = """
mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) {
    commandId orderId version position
    order { id status totalAmount items { sku quantity unitPrice lineTotal } createdAt }
  }
}
"""
GET = "query Get($id: ID!) { order(id: $id) { id status version position } }"
FRESH = "query Fresh($id: ID!, $p: Position) { order(id: $id, minPosition: $p) { id status } }"
LIST = """
query List($first: Int, $after: Position) {
  orders(first: $first, minPosition: $after) {
    totalCount edges { cursor node { id totalAmount shippingAddress { city } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TWO = "query A { __typename } query B { projections { name } }"
CONFIRM = "mutation C($input: ConfirmOrderInput!) { confirmOrder(input: $input) { version } }"
SUBSCRIPTION = 'subscription { orderUpdated(id: "x") { id } }'
ACCEPTS = (
    ("application/json", "application/json"),
    ("application/graphql-response+json", "application/json; charset=utf-8"),
    ("application/graphql-response+json, application/json;q=0.9", "application/json"),
    ("*/*", "application/json"),
)
PLACEHOLDERS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r'"correlationId":"[0-9a-f]{32}"'), '"correlationId":"<id>"'),
    (re.compile(r'"(cursor|endCursor)":"[A-Za-z0-9+/=]+"'), r'"\1":"<cursor>"'),
)


def json_requests(order_id: str, position: int) -> list[dict[str, Any]]:
    """POST bodies (JSON objects) sent under every Accept of ACCEPTS."""
    return [
        {"query": "{ __typename }"},
        {"query": "{ __typename }", "extensions": {}},
        {"query": "{ __typename }", "variables": None, "operationName": None},
        {"query": GET, "variables": {"id": order_id}},
        {"query": GET, "variables": {"id": "no-such-order"}},
        {"query": GET, "variables": {"id": ["not", "an", "id"]}},
        {"query": GET},
        {"query": FRESH, "variables": {"id": order_id, "p": position}},
        {"query": LIST, "variables": {"first": 5, "after": position}},
        {"query": LIST, "variables": {"first": "five"}},
        {"query": LIST, "variables": {"first": 100_000}},
        {"query": LIST, "variables": {"first": 0}},
        {"query": TWO, "operationName": "B"},
        {"query": TWO, "operationName": "A"},
        {"query": TWO},
        {"query": TWO, "operationName": "C"},
        {"query": "{ noSuchField }"},
        {"query": "{ projections { name"},
        {"query": "query($n: Int!) { orders(first: $n) { totalCount } }"},
        {"query": '{ order(id: "x") { id } projections { name } }'},
        {"query": "{ __schema { queryType { name } } }"},
        {"query": '{ __type(name: "Order") { name fields { name } } }'},
        {
            "query": CREATE_WITH_VIEW,
            "variables": {"input": {**order_input("cust-9"), "commandId": "corpus-command-1"}},
        },
        {"query": CONFIRM, "variables": {"input": {"orderId": "no-such-order"}}},
        {"query": CONFIRM, "variables": {"input": {"orderId": order_id, "expectedVersion": 9}}},
    ]


def raw_requests() -> list[tuple[str, str, dict[str, str], str | bytes | None]]:
    """(method, path with query string, headers, body) sent as they are."""
    json_type = {"content-type": "application/json"}
    return [
        ("POST", "/graphql", json_type, b'{"query": "{ __typename }"'),
        ("POST", "/graphql", json_type, b"[1, 2]"),
        ("POST", "/graphql", json_type, b'[{"query": "{ __typename }"}]'),
        ("POST", "/graphql", json_type, b'"a string"'),
        ("POST", "/graphql", json_type, b"{}"),
        ("POST", "/graphql", json_type, b'{"query": 7}'),
        ("POST", "/graphql", json_type, b'{"query": "{ __typename }", "variables": [1]}'),
        ("POST", "/graphql", json_type, b'{"query": "{ __typename }", "operationName": 7}'),
        ("POST", "/graphql", json_type, b'{"query": "{ __typename }", "extensions": 7}'),
        ("POST", "/graphql", {"content-type": "text/plain"}, b'{"query": "{ __typename }"}'),
        ("POST", "/graphql", {}, b'{"query": "{ __typename }"}'),
        ("POST", "/graphql", json_type, json.dumps({"query": SUBSCRIPTION})),
        ("GET", "/graphql?query=%7B__typename%7D", {}, None),
        ("GET", "/graphql?query=%7B__typename%7D", {"accept": "application/json"}, None),
        ("GET", "/graphql?query=mutation%7BretryProjection(name%3A%22x%22)%7Bname%7D%7D", {}, None),
        ("GET", "/graphql?query=" + SUBSCRIPTION.replace(" ", "%20"), {}, None),
        ("GET", "/graphql?query=%7B__typename%7D&variables=%5B1%5D", {}, None),
        ("GET", "/graphql?query=%7B__typename%7D&variables=nope", {}, None),
        ("GET", "/graphql?query=%7Bx", {}, None),
        ("PUT", "/graphql", json_type, b'{"query": "{ __typename }"}'),
    ]


def normalize(body: bytes) -> str:
    text = body.decode("utf-8", "backslashreplace")
    for pattern, placeholder in PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text


def _answer(response: httpx.Response) -> list[Any]:
    return [response.status_code, response.headers.get("content-type"), normalize(response.content)]


async def record(url: str) -> dict[str, list[Any]]:
    """Every request of the corpus, by a readable key, and its normalized answer."""
    answers: dict[str, list[Any]] = {}
    async with app_client(url) as client:
        created = await client.create_order()
        http = client.http
        for accept, content_type in ACCEPTS:
            headers = {"accept": accept, "content-type": content_type}
            for body in json_requests(created["orderId"], created["position"]):
                text = json.dumps(body)
                response = await http.post("/graphql", content=text, headers=headers)
                answers[f"POST {accept} {normalize(text.encode())}"] = _answer(response)
        for method, path, headers, raw in raw_requests():
            response = await http.request(method, path, headers=headers, content=raw)
            shown = raw.decode() if isinstance(raw, bytes) else raw
            answers[f"{method} {path} {json.dumps(headers)} {shown}"] = _answer(response)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/corpus.db"
        answers = asyncio.run(record(url))
    options.write.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    sys.stderr.write(f"{len(answers)} answers written to {options.write}\n")


if __name__ == "__main__":
    main()
