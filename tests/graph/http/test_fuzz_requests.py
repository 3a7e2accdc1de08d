"""Fuzzing over real HTTP with broken requests: bodies that are not JSON objects, documents
that are not valid, variables of the wrong types.

Each is refused with a 4xx or an error that is not internal, and appends nothing.
"""

from __future__ import annotations

import json
import string
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from tests.graph.fuzzing import Target, fuzz_settings, fuzz_target, scalar_values, schema_sdl
from tests.support.graph import CREATE_ORDER

if TYPE_CHECKING:
    from pathlib import Path

VARIABLE_DOCUMENTS = (
    CREATE_ORDER,
    "query($id: ID!, $p: Position, $t: Int) { order(id: $id, minPosition: $p, timeoutMs: $t)"
    " { id items { unitPrice } } }",
    "query($c: ID, $s: OrderStatus, $f: Int, $a: String) { orders(customerId: $c, status: $s,"
    " first: $f, after: $a) { totalCount edges { cursor } } }",
    "query($f: String!, $t: String!) { salesReport(fromDate: $f, toDate: $t) { revenue } }",
    "mutation($input: AddOrderItemInput!) { addOrderItem(input: $input) { version } }",
    "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { version } }",
)
VARIABLE_NAMES = ("input", "id", "p", "t", "c", "s", "f", "a")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _json_body(value: object) -> bytes:
    return json.dumps(value).encode()


def broken_requests(target: Target) -> st.SearchStrategy[tuple[str, httpx.Request]]:
    """Requests that are not a schema-valid document with well-typed variables."""
    invalid_documents = from_schema(
        schema_sdl(), custom_scalars=scalar_values(target.known_ids), mode=Mode.NEGATIVE
    )
    bodies = st.one_of(
        json_values.map(_json_body),
        st.binary(max_size=64),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"]).map(
            lambda number: (
                f'{{"query": "query($p: Position) {{ projections {{ name }} }}", '
                f'"variables": {{"p": {number}}}}}'.encode()
            )
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "query": json_values,
                "variables": json_values,
                "operationName": json_values,
                "extensions": json_values,
            },
        ).map(_json_body),
        st.integers(4_400, 6_000).map(
            lambda digits: (
                b'{"query": "{ projections { name } }", "variables": {"n": 1'
                + b"0" * digits
                + b"}}"
            )
        ),
        st.integers(1, 5_000).map(lambda depth: b'{"query": ' + b"[" * depth + b"]" * depth + b"}"),
    )

    def raw(body: bytes) -> tuple[str, httpx.Request]:
        headers = {"content-type": "application/json", **target.headers["admin"]}
        return "body", target.http.build_request("POST", "/graphql", content=body, headers=headers)

    def document(text: str) -> tuple[str, httpx.Request]:
        return "document", target.post({"query": text}, "admin")

    def over_get(text: str) -> tuple[str, httpx.Request]:
        return "document", target.http.build_request(
            "GET", "/graphql", params={"query": text}, headers=target.headers["admin"]
        )

    def typed(choice: tuple[str, dict[str, object]]) -> tuple[str, httpx.Request]:
        text, variables = choice
        return "variables", target.post({"query": text, "variables": variables}, "admin")

    return st.one_of(
        invalid_documents.map(document),
        st.text(alphabet=string.printable, max_size=80).map(document),
        st.text(max_size=40).map(over_get),
        bodies.map(raw),
        st.tuples(
            st.sampled_from(VARIABLE_DOCUMENTS),
            st.dictionaries(st.sampled_from(VARIABLE_NAMES), json_values, max_size=4),
        ).map(typed),
    )


@pytest.mark.slow
def test_broken_requests_are_refused_without_a_trace(tmp_path: Path) -> None:
    with fuzz_target(tmp_path) as target:

        @fuzz_settings(max_examples=500)
        @given(request=broken_requests(target))
        def send(request: tuple[str, httpx.Request]) -> None:
            kind, sent = request
            response, moved = target.send(kind, sent)
            if response.status_code != 200:
                assert 400 <= response.status_code < 500
                assert moved == 0
                return
            answer: dict[str, Any] = response.json()
            errors: list[dict[str, Any]] = answer.get("errors", [])
            codes = {(error.get("extensions") or {}).get("code") for error in errors}
            assert "INTERNAL_SERVER_ERROR" not in codes, (sent.content[:300], errors)
            if kind != "variables":
                assert errors, answer
                assert answer.get("data") is None, answer
            if not any((answer.get("data") or {}).values()):
                assert moved == 0

        send()
    assert sum(target.sent.values()) >= 500, target.sent
    assert target.sent.keys() == {"body", "document", "variables"}, target.sent
