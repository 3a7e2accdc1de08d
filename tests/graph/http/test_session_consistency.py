"""Session consistency over HTTP: every answer says the highest position its request wrote or
read (`OrderGraph-Position`), and a request's `OrderGraph-Min-Position` (or
`extensions.minPosition`) makes every read field behave as if it had that `minPosition`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from graph.settings import Settings
from tests.support.graph import CREATE_ORDER, app_client, order_input

ORDER = "query($id: ID!) { order(id: $id) { id status position } }"
ORDER_WAITING = """query($id: ID!, $p: Position) {
  order(id: $id, minPosition: $p, timeoutMs: 0) { id position } }"""
CUSTOMER = """query($id: ID!) { customer(id: $id, timeoutMs: 0) { orderCount } }"""
CONFIRM = """mutation($id: ID!) {
  confirmOrder(input: {orderId: $id}) { position order { status position } } }"""
MIN = "OrderGraph-Min-Position"


async def _post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], **headers: str
) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def _create(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await _post(http, CREATE_ORDER, {"input": order_input()})
    created: dict[str, Any] = response.json()["data"]["createOrder"]
    assert response.headers["OrderGraph-Position"] == str(created["position"])
    return created


async def test_a_mutation_answers_with_the_position_it_wrote(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        first = await _create(client.http)
        confirmed = await _post(client.http, CONFIRM, {"id": first["orderId"]})
        result = confirmed.json()["data"]["confirmOrder"]
        assert result["position"] > first["position"]
        assert confirmed.headers["OrderGraph-Position"] == str(result["position"])
        # A refused command wrote nothing, and read nothing.
        again = await _post(client.http, CONFIRM, {"id": first["orderId"]})
        assert again.json()["errors"][0]["extensions"]["code"] == "INVALID_TRANSITION"
        assert "OrderGraph-Position" not in again.headers


async def test_a_read_answers_with_what_its_views_had_applied(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = await _create(client.http)
        later = await _create(client.http)
        read = await _post(client.http, ORDER, {"id": created["orderId"]})
        assert read.json()["data"]["order"]["position"] == created["position"]
        # The view read is older than what the projection had applied when it was read.
        assert read.headers["OrderGraph-Position"] == str(later["position"])
        missing = await _post(client.http, ORDER, {"id": "o-missing"})
        assert missing.json()["data"]["order"] is None  # absent as of that position
        assert missing.headers["OrderGraph-Position"] == str(later["position"])


async def test_an_answer_that_read_and_wrote_no_position_has_no_header(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        for query in ("{ __typename }", "{ projections { name } }", "{ nope }"):
            response = await client.http.post("/graphql", json={"query": query})
            assert "OrderGraph-Position" not in response.headers, query


async def test_the_session_minimum_waits_like_a_fields_min_position(sqlite_url: str) -> None:
    async with app_client(sqlite_url, default_wait_ms=100) as client:
        created = await _create(client.http)
        ahead = created["position"] + 5
        read = await _post(client.http, ORDER, {"id": created["orderId"]}, **{MIN: str(ahead)})
        answer = read.json()
        assert answer["data"]["order"]["id"] == created["orderId"]
        # ORDER has no timeoutMs: it waited the server's default wait, and says so.
        freshness = answer["extensions"]["freshness"]
        assert freshness["stale"] is True
        assert freshness["projections"]["order_views"] == {
            "requested": ahead,
            "reached": created["position"],
        }
        # Honest: the answer reflects what the proof reached, not what was asked for.
        assert read.headers["OrderGraph-Position"] == str(created["position"])

        fresh = await _post(client.http, ORDER, {"id": created["orderId"]}, **{MIN: "1"})
        assert fresh.json()["extensions"]["freshness"]["stale"] is False


@pytest.mark.parametrize(("field", "header", "requested"), [(1, 90, 90), (90, 1, 90)])
async def test_the_larger_of_the_field_and_the_session_wins(
    sqlite_url: str, field: int, header: int, requested: int
) -> None:
    async with app_client(sqlite_url, default_wait_ms=0) as client:
        created = await _create(client.http)
        variables = {"id": created["orderId"], "p": field}
        read = await _post(client.http, ORDER_WAITING, variables, **{MIN: str(header)})
        waited = read.json()["extensions"]["freshness"]["projections"]["order_views"]
        assert waited["requested"] == requested


async def test_the_minimum_may_come_in_the_requests_extensions(sqlite_url: str) -> None:
    async with app_client(sqlite_url, default_wait_ms=0) as client:
        created = await _create(client.http)
        body = {
            "query": CUSTOMER,
            "variables": {"id": "cust-1"},
            "extensions": {"minPosition": 70},
        }
        by_post = (await client.http.post("/graphql", json=body)).json()
        params = {key: json.dumps(value) for key, value in body.items() if key != "query"}
        by_get = (await client.http.get("/graphql", params={"query": CUSTOMER, **params})).json()
        for answer in (by_post, by_get):
            waited = answer["extensions"]["freshness"]["projections"]["customer_summaries"]
            assert waited == {"requested": 70, "reached": created["position"]}
        # Both given: the larger.
        both = await client.http.post("/graphql", json=body, headers={MIN: "80"})
        waited = both.json()["extensions"]["freshness"]["projections"]["customer_summaries"]
        assert waited["requested"] == 80


async def test_a_mutations_order_waits_for_a_larger_session_minimum(sqlite_url: str) -> None:
    async with app_client(sqlite_url, default_wait_ms=0) as client:
        created = await _create(client.http)
        ahead = created["position"] + 10
        confirmed = await _post(
            client.http, CONFIRM, {"id": created["orderId"]}, **{MIN: str(ahead)}
        )
        answer = confirmed.json()
        result = answer["data"]["confirmOrder"]
        assert result["order"] == {"status": "CONFIRMED", "position": result["position"]}
        assert answer["extensions"]["freshness"]["projections"]["order_views"]["requested"] == ahead
        assert confirmed.headers["OrderGraph-Position"] == str(result["position"])  # written


BAD_HEADERS = ["-1", "abc", "1.5", "", "1e3", "0x10", "\N{SUPERSCRIPT TWO}", str(2**63), "9" * 400]
BAD_EXTENSIONS: list[Any] = ["5", 1.5, 5.0, True, -1, 2**63, [], {}]


@pytest.mark.parametrize("value", BAD_HEADERS)
async def test_a_header_that_is_not_a_position_is_bad_user_input(
    sqlite_url: str, value: str
) -> None:
    async with app_client(sqlite_url) as client:
        for accept, status in (
            ("application/json", 200),
            ("application/graphql-response+json", 400),
        ):
            headers = {MIN.encode(): value.encode("latin-1"), b"accept": accept.encode()}
            response = await client.http.post(
                "/graphql", json={"query": "{ __typename }"}, headers=headers
            )
            assert response.status_code == status
            answer = response.json()
            assert answer.get("data") is None
            error = answer["errors"][0]
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": MIN}
            assert "non-negative integer" in error["message"]
            assert "OrderGraph-Position" not in response.headers


@pytest.mark.parametrize("value", BAD_EXTENSIONS)
async def test_an_extension_that_is_not_a_position_is_bad_user_input(
    sqlite_url: str, value: Any
) -> None:
    async with app_client(sqlite_url) as client:
        before = await client.head()
        body = {"query": CREATE_ORDER, "variables": {"input": order_input()}}
        response = await client.http.post(
            "/graphql", json={**body, "extensions": {"minPosition": value}}
        )
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "extensions.minPosition"}
        assert await client.head() == before  # the mutation never ran


async def test_cors_allows_the_minimum_and_exposes_the_position(sqlite_url: str) -> None:
    origins = Settings.from_env({"ORDERGRAPH_CORS_ORIGINS": "http://app.test"}).cors_origins
    async with app_client(sqlite_url, cors_origins=origins) as client:
        preflight = await client.http.options(
            "/graphql",
            headers={
                "origin": "http://app.test",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, ordergraph-min-position",
            },
        )
        assert preflight.status_code == 200
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "ordergraph-min-position" in allowed
        created = await client.http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
            headers={"origin": "http://app.test", MIN: "0"},
        )
        assert "ordergraph-position" in created.headers["access-control-expose-headers"].lower()
        assert created.headers["OrderGraph-Position"] == str(
            created.json()["data"]["createOrder"]["position"]
        )
