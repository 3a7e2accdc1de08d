"""Subscriptions as multipart/mixed responses over a real uvicorn, read as raw bytes: Apollo's
protocol (`subscriptionSpec`: each part `{"payload": ...}`, `{}` heartbeats, transport errors as
`{"payload": null, "errors": [...]}`, the closing boundary) and the plain one GraphiQL's fetcher
reads (each part the GraphQL response itself)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from graph.api.identity import Role
from graph.http import accept
from graph.http.auth import TokenAuthority
from graph.http.multipart import APOLLO_MULTIPART as APOLLO_FORMAT
from tests.support.graph import CREATE_ORDER, error_codes, order_input, post_data, uvicorn_server
from tests.support.streams import APOLLO_MULTIPART, GRAPHIQL_ACCEPT, open_stream

if TYPE_CHECKING:
    from collections.abc import Iterator

ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status position } }"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"
SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
APOLLO_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'


async def _create(address: str, headers: dict[str, str] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=f"http://{address}", headers=headers) as http:
        body = {"query": CREATE_ORDER, "variables": {"input": order_input("dora")}}
        return (await http.post("/graphql", json=body)).json()["data"]["createOrder"]


@pytest.fixture
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    quick = dataclasses.replace(APOLLO_FORMAT, keep_alive_seconds=0.2)
    monkeypatch.setattr(accept, "APOLLO_MULTIPART", quick)
    accept.accepted.cache_clear()
    yield
    accept.accepted.cache_clear()


@pytest.mark.usefixtures("quick_heartbeat")
async def test_apollo_parts_carry_payloads_between_heartbeats(server: str) -> None:
    created = await _create(server)
    variables = {"id": created["orderId"], "after": created["position"]}
    async with open_stream(server, ORDER_UPDATED, variables, accept=APOLLO_MULTIPART) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"] == APOLLO_TYPE
        assert await stream.part() == {}  # a heartbeat while nothing happens
        confirmed = (await post_data(server, CONFIRM, {"id": created["orderId"]}))["confirmOrder"]
        assert await stream.next_part() == {
            "payload": {
                "data": {
                    "orderUpdated": {
                        "id": created["orderId"],
                        "status": "CONFIRMED",
                        "position": confirmed["position"],
                    }
                }
            }
        }


async def test_a_subscription_that_ends_closes_the_body_with_the_final_boundary(
    server: str,
) -> None:
    variables = {"id": "no-such-order", "after": 0}
    async with open_stream(server, ORDER_UPDATED, variables, accept=APOLLO_MULTIPART) as stream:
        ended = await stream.next_part()
        assert ended["payload"]["data"] is None
        assert error_codes(ended["payload"]) == ["NOT_FOUND"]
        assert await stream.next_part() is None
        assert await stream.rest() == "\r\n--graphql--\r\n"


async def test_an_expired_token_is_a_transport_error_then_the_end(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        token = AUTHORITY.mint("dora", Role.CUSTOMER, ttl=timedelta(seconds=2))
        headers = {"authorization": f"Bearer {token}"}
        created = await _create(address, headers)
        variables = {"id": created["orderId"], "after": 0}
        async with open_stream(
            address, ORDER_UPDATED, variables, accept=APOLLO_MULTIPART, headers=headers
        ) as stream:
            assert "errors" not in (await stream.next_part())["payload"]
            ended = await stream.next_part(timeout=20)
            assert ended["payload"] is None
            assert error_codes(ended) == ["UNAUTHENTICATED"]
            assert await stream.next_part() is None


async def test_a_refusal_is_answered_in_json_when_the_client_accepts_it(server: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post(
            "/graphql",
            json={"query": "subscription { nope }"},
            headers={"accept": f"{APOLLO_MULTIPART}, application/graphql-response+json"},
        )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_graphiqls_fetcher_gets_each_answer_as_a_plain_part(server: str) -> None:
    created = await _create(server)
    variables = {"id": created["orderId"], "after": 0}
    async with open_stream(server, ORDER_UPDATED, variables, accept=GRAPHIQL_ACCEPT) as stream:
        assert stream.response.headers["content-type"] == 'multipart/mixed;boundary="graphql"'
        first = await stream.next_part()
        assert first["data"]["orderUpdated"]["status"] == "PLACED"
    # A query from the same fetcher is answered in JSON, as before.
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"accept": GRAPHIQL_ACCEPT}
        )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_query_from_a_client_that_accepts_only_multipart_is_one_part(server: str) -> None:
    async with open_stream(
        server, "{ __typename }", accept='multipart/mixed;subscriptionSpec="1.0"'
    ) as stream:
        assert await stream.next_part() == {"payload": {"data": {"__typename": "Query"}}}
        assert await stream.next_part() is None
