"""Authentication, roles, document limits and request guards, over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.api.identity import Role
from graph.cli import main
from graph.http.auth import TokenAuthority
from graph.settings import Settings, SettingsError
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    Client,
    app_client,
    error_codes,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
ORDER = "query($id: ID!) { order(id: $id) { id customerId } }"
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { version } }"
ADD_ITEM = """mutation($id: ID!) { addOrderItem(input: {orderId: $id,
  item: {sku: "X", quantity: 1, unitPrice: "1.00"}}) { version } }"""


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint(subject, role)}"}


class AuthClient:
    """Posts as a given caller to an app that requires authentication."""

    def __init__(self, client: Client) -> None:
        self.http = client.http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.fixture
async def secured(sqlite_url: str) -> AsyncIterator[AuthClient]:
    async with app_client(sqlite_url, auth_secret=SECRET) as client:
        yield AuthClient(client)


async def _create(client: AuthClient, customer: str) -> str:
    answer = await client.post(
        CREATE_ORDER, {"input": order_input(customer)}, bearer(Role.CUSTOMER, customer)
    )
    assert "errors" not in answer, answer
    order_id: str = answer["data"]["createOrder"]["orderId"]
    return order_id


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwdw=="}],
)
async def test_no_valid_credentials_is_unauthenticated(
    secured: AuthClient, headers: dict[str, str]
) -> None:
    answer = await secured.post(ORDER, {"id": "x"}, headers)
    assert error_codes(answer) == ["UNAUTHENTICATED"]
    answer = await secured.post(CREATE_ORDER, {"input": order_input()}, headers)
    assert error_codes(answer) == ["UNAUTHENTICATED"]


async def test_a_customer_creates_and_reads_only_its_own_orders(secured: AuthClient) -> None:
    mine = await _create(secured, "alice")
    theirs = await _create(secured, "bob")
    alice = bearer(Role.CUSTOMER, "alice")

    answer = await secured.post(CREATE_ORDER, {"input": order_input("bob")}, alice)
    assert error_codes(answer) == ["FORBIDDEN"]

    seen = await secured.post(ORDER, {"id": mine}, alice)
    assert seen["data"]["order"]["customerId"] == "alice"
    hidden = await secured.post(ORDER, {"id": theirs}, alice)
    assert hidden == {"data": {"order": None}}

    listing = await secured.post(
        "{ orders(minPosition: 2) { totalCount edges { node { customerId } } } }", None, alice
    )
    assert listing["data"]["orders"]["totalCount"] == 1
    other = await secured.post('{ orders(customerId: "bob") { totalCount } }', None, alice)
    assert error_codes(other) == ["FORBIDDEN"]
    summary = await secured.post('{ customer(id: "bob") { orderCount } }', None, alice)
    assert summary == {"data": {"customer": None}}


async def test_a_customer_cannot_touch_another_customers_order(secured: AuthClient) -> None:
    theirs = await _create(secured, "bob")
    answer = await secured.post(ADD_ITEM, {"id": theirs}, bearer(Role.CUSTOMER, "alice"))
    assert error_codes(answer) == ["NOT_FOUND"]
    mine = await secured.post(ADD_ITEM, {"id": theirs}, bearer(Role.CUSTOMER, "bob"))
    assert mine["data"]["addOrderItem"]["version"] == 2


async def test_roles_decide_what_may_be_called(secured: AuthClient) -> None:
    order_id = await _create(secured, "alice")
    customer, staff, admin = (
        bearer(Role.CUSTOMER, "alice"),
        bearer(Role.STAFF, "sam"),
        bearer(Role.ADMIN, "ann"),
    )
    assert error_codes(await secured.post(CONFIRM, {"id": order_id}, customer)) == ["FORBIDDEN"]
    confirmed = await secured.post(CONFIRM, {"id": order_id}, staff)
    assert confirmed["data"]["confirmOrder"]["version"] == 2

    report = '{ salesReport(fromDate: "2020-01-01", toDate: "2020-01-02") { date } }'
    assert error_codes(await secured.post(report, None, customer)) == ["FORBIDDEN"]
    assert (await secured.post(report, None, staff))["data"] == {"salesReport": []}

    status = "{ projections { name } }"
    assert error_codes(await secured.post(status, None, staff)) == ["FORBIDDEN"]
    assert len((await secured.post(status, None, admin))["data"]["projections"]) == 4
    rebuild = 'mutation { rebuildProjection(name: "daily_sales") { name } }'
    assert error_codes(await secured.post(rebuild, None, staff)) == ["FORBIDDEN"]
    rebuilt = await secured.post(rebuild, None, admin)
    assert rebuilt["data"]["rebuildProjection"]["name"] == "daily_sales"


async def test_websocket_needs_a_token_in_connection_init(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403

        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            created = await http.post(
                "/graphql",
                json={"query": CREATE_ORDER, "variables": {"input": order_input("bob")}},
                headers=bearer(Role.CUSTOMER, "bob"),
            )
        order_id = created.json()["data"]["createOrder"]["orderId"]

        subscription = "subscription($id: ID!) { orderUpdated(id: $id) { id } }"
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, bearer(Role.CUSTOMER, "alice"))
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": subscription, "variables": {"id": order_id}},
                    }
                )
            )
            message = await ws_next(ws)
            assert message["type"] == "next"
            assert message["payload"]["data"] is None
            assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"

        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, bearer(Role.CUSTOMER, "bob"))
            since_start = subscription.replace("(id: $id)", "(id: $id, afterPosition: 0)")
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": since_start, "variables": {"id": order_id}},
                    }
                )
            )
            message = await ws_next(ws)
            assert message["type"] == "next"
            assert message["payload"]["data"]["orderUpdated"]["id"] == order_id


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (
            "{ orders { edges { node { customer { orders { edges { node { customer { orders "
            "{ edges { node { id } } } } } } } } } } } }",
            "exceeds maximum operation depth",
        ),
        ("{ " + " ".join(f"a{i}: projections {{ name }}" for i in range(31)) + " }", "alias"),
        (
            "{ orders(first: 100) { edges { node { items { sku quantity unitPrice lineTotal } "
            "customer { orders(first: 100) { edges { node { items { sku } } } } } } } } }",
            "cost",
        ),
        (
            "query A { projections { name } } query B { projections { name } }",
            "Must provide operation name",
        ),
    ],
)
async def test_expensive_or_hostile_documents_are_refused(
    sqlite_url: str, document: str, needle: str
) -> None:
    async with app_client(sqlite_url) as client:
        head = await client.head()
        answer = await client.post(document)
        assert "data" not in answer or answer["data"] is None
        assert needle in json.dumps(answer["errors"])
        assert await client.head() == head


async def test_a_body_over_the_limit_is_413_before_it_is_read(sqlite_url: str) -> None:
    async with app_client(sqlite_url, max_body_bytes=2_000) as client:
        padding = " " * 3_000
        response = await client.http.post(
            "/graphql",
            content=f'{{"query": "{{ projections {{ name }} }}{padding}"}}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"query": "{ projections { name } }'
            yield padding.encode()
            yield b'"}'

        chunked = await client.http.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert chunked.status_code == 413
        small = await client.http.post("/graphql", json={"query": "{ projections { name } }"})
        assert small.status_code == 200


async def test_a_request_over_the_time_limit_is_504(sqlite_url: str) -> None:
    async with app_client(sqlite_url, request_timeout_ms=200) as client:
        response = await client.http.post(
            "/graphql",
            json={"query": '{ order(id: "x", minPosition: 999, timeoutMs: 5000) { id } }'},
        )
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_no_mutation_over_get_and_only_json_bodies(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        head = await client.head()
        query = 'mutation { cancelOrder(input: {orderId: "x", reason: "r"}) { version } }'
        over_get = await client.http.get("/graphql", params={"query": query})
        assert over_get.status_code in (400, 405)
        form = await client.http.post("/graphql", data={"query": query})
        assert form.status_code in (400, 415)
        text = await client.http.post(
            "/graphql", content=json.dumps({"query": query}), headers={"content-type": "text/plain"}
        )
        assert text.status_code in (400, 415)
        for body in (b"", b"{", b"[]", b'{"query": 5}', b'"x"'):
            bad = await client.http.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )
            assert 400 <= bad.status_code < 500, (body, bad.status_code)
        assert await client.head() == head


async def test_production_mode_hides_the_schema(sqlite_url: str) -> None:
    async with app_client(sqlite_url, auth_secret=SECRET, production=True) as client:
        admin = bearer(Role.ADMIN, "ann")
        introspection = await client.http.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=admin
        )
        assert "introspection" in introspection.text.lower()
        typo = await client.http.post(
            "/graphql", json={"query": "{ projection { name } }"}, headers=admin
        )
        assert "Did you mean" not in typo.text
        page = await client.http.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()


def test_production_mode_needs_a_secret() -> None:
    with pytest.raises(SettingsError, match="signing secret"):
        Settings(production=True)


async def test_development_mode_answers_only_on_loopback(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        response = await client.http.post(
            "http://orders.example.com/graphql", json={"query": "{ projections { name } }"}
        )
        assert response.status_code == 403
        assert "loopback" in response.text


def test_serve_refuses_a_public_address_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ORDERGRAPH_AUTH_SECRET", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 1
    assert "without authentication" in capsys.readouterr().err


def test_the_token_command_mints_a_verifiable_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORDERGRAPH_AUTH_SECRET", SECRET)
    assert main(["token", "--role", "staff", "--subject", "sam"]) == 0
    token = capsys.readouterr().out.strip()
    principal = AUTHORITY.verify(token)
    assert (principal.subject, principal.role) == ("sam", Role.STAFF)
