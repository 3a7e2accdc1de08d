"""Fuzzing over real HTTP: schema-valid documents from hypothesis-graphql, then broken requests.

Every request must be answered within 2 s, never with a 5xx nor a masked internal error, and a
refused document must leave the event log exactly where it was. The documents come from the
schema the code builds; the examples are derandomized, so a run is reproducible.
"""

from __future__ import annotations

import json
import sqlite3
import string
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries

from domain.errors import ErrorCode
from graph.api.schema import build_schema
from graph.http.auth import Role, TokenAuthority
from tests.support.crash import served
from tests.support.graph import CREATE_ORDER, app_client, order_input

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

T = TypeVar("T")

SECRET = "fuzz-signing-secret-of-at-least-32-bytes"
AUTHORITY = TokenAuthority(SECRET)
ANSWER_WITHIN_SECONDS = 2.0
DOMAIN_CODES = frozenset(str(code) for code in ErrorCode)
# Waits are capped well under the answer deadline: a `minPosition` past the head answers stale.
WAITS = {"ORDERGRAPH_DEFAULT_WAIT_MS": "10", "ORDERGRAPH_MAX_WAIT_MS": "30"}
CUSTOMERS = ("alice", "bob")
ORDERS_PER_CUSTOMER = 15
COMMANDS = (
    "createOrder", "addOrderItem", "removeOrderItem", "changeShippingAddress",
    "confirmOrder", "shipOrder", "cancelOrder",
)  # fmt: skip
CALLERS = st.integers(0, 7).flatmap(
    lambda n: st.sampled_from(("anonymous", "forged") if n == 7 else ("admin", "staff", *CUSTOMERS))
)


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible (derandomized, no example database), no deadline, no slow-data checks."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=(
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ),
    )


@cache
def schema_sdl() -> str:
    """The SDL of the schema the code builds (not the checked-in file)."""
    return build_schema().as_str()


@dataclass(kw_only=True)
class Target:
    """A served app, its event log read straight from the database file, and what was sent."""

    http: httpx.Client
    log: sqlite3.Connection
    headers: dict[str, dict[str, str]]
    known_ids: tuple[str, ...]
    sent: dict[str, int] = field(default_factory=dict)

    def head(self) -> int:
        """The event log's head position, read from the database itself."""
        row = self.log.execute("SELECT COALESCE(MAX(position), 0) FROM event").fetchone()
        return int(row[0])

    def send(self, kind: str, request: httpx.Request) -> tuple[httpx.Response, int]:
        """Send one request; the answer and how far the log's head moved meanwhile."""
        before = self.head()
        started = time.monotonic()
        response = self.http.send(request)
        elapsed = time.monotonic() - started
        moved = self.head() - before
        self.sent[kind] = self.sent.get(kind, 0) + 1
        assert response.status_code < 500, (response.status_code, response.text)
        assert elapsed < ANSWER_WITHIN_SECONDS, (elapsed, request.content[:500])
        return response, moved

    def post(self, body: dict[str, Any], caller: str) -> httpx.Request:
        return self.http.build_request("POST", "/graphql", json=body, headers=self.headers[caller])


@contextmanager
def fuzz_target(tmp_path: Path) -> Iterator[Target]:
    """`ordergraph serve` with authentication on, and orders for each customer to work on."""
    path = tmp_path / "fuzz.db"
    env = {"ORDERGRAPH_AUTH_SECRET": SECRET, **WAITS}
    with served(f"sqlite+aiosqlite:///{path}", tmp_path / "server.log", env) as server:
        admin = {"Authorization": f"Bearer {AUTHORITY.mint('ann', Role.ADMIN)}"}
        forged = TokenAuthority("another-secret-that-is-32-bytes-long").mint("ann", Role.ADMIN)
        headers = {
            "admin": admin,
            "staff": {"Authorization": f"Bearer {AUTHORITY.mint('sam', Role.STAFF)}"},
            "anonymous": {},
            "forged": {"Authorization": f"Bearer {forged}"},
            **{
                customer: {"Authorization": f"Bearer {AUTHORITY.mint(customer, Role.CUSTOMER)}"}
                for customer in CUSTOMERS
            },
        }
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            order_ids = [
                http.post(
                    "/graphql",
                    json={"query": CREATE_ORDER, "variables": {"input": order_input(customer)}},
                    headers=admin,
                ).json()["data"]["createOrder"]["orderId"]
                for customer in CUSTOMERS
                for _ in range(ORDERS_PER_CUSTOMER)
            ]
            log = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                yield Target(
                    http=http, log=log, headers=headers, known_ids=(*order_ids, *CUSTOMERS)
                )
            finally:
                log.close()
        assert "Traceback" not in server.output(), server.output()


def mostly(good: st.SearchStrategy[T], bad: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`good` seven times in eight, so that whole commands often get through the rules."""
    return st.integers(0, 7).flatmap(lambda n: bad if n == 7 else good)


def scalar_values(known_ids: tuple[str, ...]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for every scalar, often ones that pass the rules but as often ones that do not
    (the custom scalars, hypothesis-graphql cannot make at all)."""
    # Two capitals pass every text rule: they make a sku, a name, a city, a country...
    bad_texts = ("gb", " ", "x" * 201, "order_views", "daily_sales", "2024-01-01", "2099-12-31")
    return {
        "ID": mostly(
            st.one_of(st.sampled_from(known_ids), st.uuids().map(str)), st.text(max_size=8)
        ).map(nodes.String),
        "String": mostly(
            st.sampled_from(("GB", "FR", "DE", "SKU-1")),
            st.one_of(st.sampled_from(bad_texts), st.text(max_size=24)),
        ).map(nodes.String),
        "Int": mostly(
            st.integers(1, 12), st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers())
        ).map(nodes.Int),
        "Decimal": mostly(
            st.sampled_from(("19.99", "0", "1000000", "7")).map(nodes.String),
            st.one_of(
                st.sampled_from(("1000000.01", "0.001", "-1", "1e3", "NaN", "")).map(nodes.String),
                st.integers().map(nodes.Int),
                st.text(max_size=8).map(nodes.String),
            ),
        ),
        "Position": mostly(st.integers(0, 40), st.integers(-1, 2**64)).map(nodes.Int),
    }


def valid_documents(known_ids: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Queries, mutations, and mutations of one command each (more of them get through)."""
    sdl, scalars = schema_sdl(), scalar_values(known_ids)
    kinds = (
        queries(sdl, custom_scalars=scalars),
        mutations(sdl, custom_scalars=scalars),
        st.one_of(*(mutations(sdl, fields=(name,), custom_scalars=scalars) for name in COMMANDS)),
    )
    return st.integers(0, len(kinds) - 1).flatmap(kinds.__getitem__)


def _commands_that_may_have_run(document: str, errors: list[dict[str, Any]]) -> int | None:
    """How many command fields of a mutation ran and may have appended; None for a query.

    Root mutation fields run one after another; the first that fails (their results are non-null)
    nulls the whole `data` and stops the rest, but the commands before it have been applied.
    """
    operation = graphql.get_operation_ast(graphql.parse(document))
    assert operation is not None
    if operation.operation != graphql.OperationType.MUTATION:
        return None
    failed = {error["path"][0] for error in errors if error.get("path")}
    count = 0
    for selection in operation.selection_set.selections:
        assert isinstance(selection, graphql.FieldNode)
        key = (selection.alias or selection.name).value
        if key in failed:
            break
        count += selection.name.value != "rebuildProjection"
    return count


def check_answer(document: str, response: httpx.Response, moved: int) -> None:
    """The rules every answer to a schema-valid document keeps."""
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    errors: list[dict[str, Any]] = answer.get("errors", [])
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    assert "INTERNAL_SERVER_ERROR" not in codes, (document, errors)
    assert None not in codes, errors
    if any("path" not in error for error in errors) or not codes <= DOMAIN_CODES:
        assert moved == 0, (document, errors)
    ran = _commands_that_may_have_run(document, errors)
    # Every command appends at most one event; a refused one (or a replayed commandId) none.
    assert 0 <= moved <= (ran or 0), (document, answer)


@pytest.mark.slow
def test_schema_valid_documents_never_fail_the_server(tmp_path: Path) -> None:
    with fuzz_target(tmp_path) as target:

        @fuzz_settings(max_examples=2_000)
        @given(document=valid_documents(target.known_ids), caller=CALLERS)
        def send(document: str, caller: str) -> None:
            kind = "mutation" if document.startswith("mutation") else "query"
            response, moved = target.send(kind, target.post({"query": document}, caller))
            check_answer(document, response, moved)

        send()
        head = target.head()
    sent = target.sent
    assert sent["query"] + sent["mutation"] >= 2_000, sent
    assert min(sent["query"], sent["mutation"]) >= 500, sent
    assert head > 4, "no fuzzed command ever got through: the fuzz only reached the rules"


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


UNSTORABLE_ID_READS = (
    "query($id: ID!) { order(id: $id) { id } }",
    "query($id: ID!) { customer(id: $id) { orderCount } }",
    "query($id: ID!) { orders(customerId: $id) { totalCount } }",
)


async def _read_with_id(url: str, document: str, order_id: str) -> list[dict[str, Any]]:
    async with app_client(url) as client:
        await client.create_order()
        # ensure_ascii keeps a lone surrogate as a JSON escape, which is how a client sends one.
        response = await client.http.post(
            "/graphql",
            content=json.dumps({"query": document, "variables": {"id": order_id}}),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        errors: list[dict[str, Any]] = response.json().get("errors", [])
        return errors


@pytest.mark.parametrize("document", UNSTORABLE_ID_READS)
async def test_a_read_by_an_id_with_a_lone_surrogate_is_not_an_internal_error(
    sqlite_url: str, document: str
) -> None:
    errors = await _read_with_id(sqlite_url, document, "order-\ud800")
    assert all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors), errors


@pytest.mark.parametrize("document", UNSTORABLE_ID_READS)
async def test_a_read_by_an_id_with_a_nul_is_not_an_internal_error_on_postgres(
    postgres_url: str, document: str
) -> None:
    errors = await _read_with_id(postgres_url, document, "order-\x00")
    assert all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors), errors


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
