"""graphql-sse ("distinct connections") over a real uvicorn, read as curl reads it: a POST with
`Accept: text/event-stream` streams `event: next` messages and ends with `event: complete`.

Covered here: events of orderUpdated and ordersChanged as they happen, afterPosition's catch-up,
a query and a refused request over the stream, NOT_FOUND, authentication, the client going away
(its execution group freed), keep-alives, the stream outliving the request timeout, token
expiry, the per-process cap and a client that stops reading."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest

from graph.api.identity import Role
from graph.http import accept, outbox
from graph.http.auth import TokenAuthority
from graph.http.sse import SSE
from tests.graph.pipeline.test_live_sharing import metric
from tests.support.crash import served
from tests.support.graph import CREATE_ORDER, error_codes, order_input, post_data, uvicorn_server
from tests.support.streams import EVENT_STREAM, RawStream, open_stream

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status version position } }"""
ORDERS_CHANGED = """subscription($after: Position) {
  ordersChanged(afterPosition: $after) { id status position } }"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"
SHIP = """mutation($id: ID!) {
  shipOrder(input: {orderId: $id, trackingNumber: "T-1"}) { position } }"""
SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)


async def _create(address: str, customer: str = "cust-1", token: str | None = None) -> Any:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        response = await http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input(customer)}},
            headers=headers,
        )
    return response.json()["data"]["createOrder"]


async def _until(address: str, name: str, value: int, *, admin: bool = False) -> None:
    """Wait until the metric `name` reads `value` (a bound on the wait only); `admin`: with
    an admin token (the server has a secret)."""
    headers = {"authorization": f"Bearer {AUTHORITY.mint('ops', Role.ADMIN)}"} if admin else {}
    pattern = re.compile(rf"^{name} (\S+)$", re.MULTILINE)
    seen = None
    async with httpx.AsyncClient(base_url=f"http://{address}", headers=headers) as http:
        for _ in range(400):
            found = pattern.search((await http.get("/metrics")).text)
            assert found is not None
            seen = int(float(found.group(1)))
            if seen == value:
                return
            await asyncio.sleep(0.025)
    raise AssertionError(f"{name} never reached {value}: {seen}")


async def test_order_updated_streams_each_change_made_over_http(server: str) -> None:
    created = await _create(server)
    order_id = created["orderId"]
    variables = {"id": order_id, "after": created["position"]}
    async with open_stream(server, ORDER_UPDATED, variables) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"] == EVENT_STREAM
        assert stream.response.headers["cache-control"] == "no-cache"
        # afterPosition is the creation's: the confirmation arrives even if it is made before
        # the server has registered the subscription.
        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        first = await stream.next_event()
        assert first.event == "next"
        assert first.json() == {
            "data": {
                "orderUpdated": {
                    "id": order_id,
                    "status": "CONFIRMED",
                    "version": 2,
                    "position": confirmed["position"],
                }
            }
        }
        shipped = (await post_data(server, SHIP, {"id": order_id}))["shipOrder"]
        second = (await stream.next_event()).json()["data"]["orderUpdated"]
        assert (second["status"], second["position"]) == ("SHIPPED", shipped["position"])


async def test_orders_changed_catches_up_from_after_position_then_goes_live(server: str) -> None:
    first, second, third = [await _create(server) for _ in range(3)]
    async with open_stream(server, ORDERS_CHANGED, {"after": first["position"]}) as stream:
        caught_up = [(await stream.next_event()).json() for _ in range(2)]
        assert [c["data"]["ordersChanged"]["id"] for c in caught_up] == [
            second["orderId"],
            third["orderId"],
        ]
        fourth = await _create(server)
        live = (await stream.next_event()).json()["data"]["ordersChanged"]
        assert (live["id"], live["position"]) == (fourth["orderId"], fourth["position"])


async def test_a_query_is_one_next_then_complete_and_the_body_ends(server: str) -> None:
    async with open_stream(server, "{ __typename }") as stream:
        assert (await stream.next_event()).json() == {"data": {"__typename": "Query"}}
        assert (await stream.next_event()).event == "complete"
        assert await stream.rest() == ""


async def test_a_refused_request_is_a_next_with_its_errors_then_complete(server: str) -> None:
    async with open_stream(server, "subscription { nope }") as stream:
        assert stream.response.status_code == 200
        refused = (await stream.next_event()).json()
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert "data" not in refused
        assert (await stream.next_event()).event == "complete"
    # What is not a GraphQL request at all is answered like any other request.
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post(
            "/graphql",
            content=b"{not json",
            headers={"accept": EVENT_STREAM, "content-type": "application/json"},
        )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_an_order_that_does_not_exist_ends_with_not_found(server: str) -> None:
    variables = {"id": "no-such-order", "after": 0}
    async with open_stream(server, ORDER_UPDATED, variables) as stream:
        answer = (await stream.next_event()).json()
        assert answer["data"] is None
        assert error_codes(answer) == ["NOT_FOUND"]
        assert (await stream.next_event()).event == "complete"
        assert await stream.rest() == ""


async def test_the_caller_is_authenticated_by_its_authorization_header(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        alice = AUTHORITY.mint("alice", Role.CUSTOMER)
        order = await _create(address, "alice", alice)
        variables = {"id": order["orderId"], "after": 0}
        async with open_stream(address, ORDER_UPDATED, variables) as anonymous:
            assert error_codes((await anonymous.next_event()).json()) == ["UNAUTHENTICATED"]
            assert (await anonymous.next_event()).event == "complete"
        bob = {"authorization": f"Bearer {AUTHORITY.mint('bob', Role.CUSTOMER)}"}
        async with open_stream(address, ORDER_UPDATED, variables, headers=bob) as other:
            assert error_codes((await other.next_event()).json()) == ["NOT_FOUND"]
        own = {"authorization": f"Bearer {alice}"}
        async with open_stream(address, ORDER_UPDATED, variables, headers=own) as owner:
            view = (await owner.next_event()).json()["data"]["orderUpdated"]
            assert view["id"] == order["orderId"]


async def test_a_client_that_goes_away_frees_its_execution_group(server: str) -> None:
    created = await _create(server)
    variables = {"id": created["orderId"], "after": created["position"]}
    async with open_stream(server, ORDER_UPDATED, variables) as stream:
        await post_data(server, CONFIRM, {"id": created["orderId"]})
        await stream.next_event()  # the stream runs in its shared group
        assert await metric(server, "ordergraph_live_groups") == 1
        assert await metric(server, "ordergraph_http_streams") == 1
    await _until(server, "ordergraph_live_groups", 0)
    await _until(server, "ordergraph_live_members", 0)
    await _until(server, "ordergraph_http_streams", 0)
    await _until(server, "ordergraph_live_order_followers", 0)


@pytest.fixture
def quick_keep_alive(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(accept, "SSE", dataclasses.replace(SSE, keep_alive_seconds=0.2))
    accept.accepted.cache_clear()
    yield
    accept.accepted.cache_clear()


@pytest.mark.usefixtures("quick_keep_alive")
async def test_an_idle_stream_is_kept_alive_past_the_request_timeout(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, request_timeout_ms=500) as address:
        created = await _create(address)
        variables = {"id": created["orderId"], "after": created["position"]}
        async with open_stream(address, ORDER_UPDATED, variables) as stream:
            started = time.monotonic()
            comments = 0
            while time.monotonic() - started < 1.5:  # three request timeouts
                event = await stream.event()
                assert event == type(event)("", ":"), event
                comments += 1
            assert comments >= 3
            await post_data(address, CONFIRM, {"id": created["orderId"]})
            confirmed = (await stream.next_event()).json()["data"]["orderUpdated"]
            assert confirmed["status"] == "CONFIRMED"


async def test_the_stream_ends_with_unauthenticated_when_the_token_expires(
    sqlite_url: str,
) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        token = AUTHORITY.mint("carol", Role.CUSTOMER, ttl=timedelta(seconds=2))
        order = await _create(address, "carol", token)
        variables = {"id": order["orderId"], "after": 0}
        headers = {"authorization": f"Bearer {token}"}
        async with open_stream(address, ORDER_UPDATED, variables, headers=headers) as stream:
            assert "errors" not in (await stream.next_event()).json()
            ended = (await stream.next_event(timeout=20)).json()
            ended_at = time.time()
            assert error_codes(ended) == ["UNAUTHENTICATED"]
            assert (await stream.next_event()).event == "complete"
            assert await stream.rest() == ""
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        assert ended_at >= exp - 1  # not before the token's exp (1 s of clock slack)
        await _until(address, "ordergraph_live_groups", 0, admin=True)


async def test_a_process_holds_at_most_its_limit_of_streams(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, max_http_streams=1) as address:
        created = await _create(address)
        variables = {"id": created["orderId"], "after": 0}
        async with open_stream(address, ORDER_UPDATED, variables) as held:
            await held.next_event()
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                refused = await http.post(
                    "/graphql",
                    json={"query": ORDER_UPDATED, "variables": variables},
                    headers={"accept": EVENT_STREAM},
                )
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert error_codes(refused.json()) == ["SERVICE_UNAVAILABLE"]
        await _until(address, "ordergraph_http_streams", 0)
        async with open_stream(address, "{ __typename }") as again:
            assert (await again.next_event()).event == "next"


async def test_a_client_that_stops_reading_is_ended_and_frees_its_group(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "STUCK_SECONDS", 1.0)
    lines = [{"sku": f"SKU-{n:03}", "quantity": 1, "unitPrice": "1.00"} for n in range(100)]
    # Each event ~70 KB: a few dozen fill any socket buffer of a client that reads nothing.
    items = " ".join(f"i{n}: items {{ sku quantity unitPrice lineTotal }}" for n in range(10))
    with uvicorn_server(sqlite_url) as address:
        start = (await _create(address))["position"]
        query = f"subscription {{ ordersChanged(afterPosition: {start}) {{ id {items} }} }}"
        body = json.dumps({"query": query}).encode()
        host, port = address.split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
            b"accept: text/event-stream\r\ncontent-length: %d\r\n\r\n%s"
            % (address.encode(), len(body), body)
        )
        try:
            await _until(address, "ordergraph_http_streams", 1)
            for _ in range(200):  # never read: the server's buffer fills, then the stream ends
                await post_data(address, CREATE_ORDER, {"input": order_input(items=lines)})
                if await metric(address, "ordergraph_live_slow_consumers_closed_total") >= 1:
                    break
            assert await metric(address, "ordergraph_live_slow_consumers_closed_total") == 1
            await _until(address, "ordergraph_http_streams", 0)
            await _until(address, "ordergraph_live_groups", 0)
        finally:
            sock.close()


async def test_sigterm_ends_an_open_stream_at_once_without_complete(tmp_path: Path) -> None:
    """`ordergraph serve` stops at once with a stream open (uvicorn alone would wait its
    graceful 30 s), and the stream ends without `complete`: an interruption to resume from,
    not the subscription's end."""
    url = f"sqlite+aiosqlite:///{tmp_path}/served.db"
    with served(url, tmp_path / "serve.log") as server:
        address = server.base_url.removeprefix("http://")
        async with open_stream(address, ORDERS_CHANGED, {"after": 0}) as stream:
            await _until(address, "ordergraph_http_streams", 1)
            began = time.monotonic()
            await asyncio.to_thread(server.stop)
            took = time.monotonic() - began
            rest = await stream.rest()
    assert took < 10, f"SIGTERM took {took:.1f} s with a stream open"
    assert "event: complete" not in rest
    assert "Traceback" not in server.output()


async def test_a_get_streams_as_an_event_source_would_ask(server: str) -> None:
    created = await _create(server)
    variables = json.dumps({"id": created["orderId"], "after": 0})
    params = {"query": ORDER_UPDATED, "variables": variables}
    async with (
        httpx.AsyncClient(base_url=f"http://{server}") as http,
        http.stream("GET", "/graphql", params=params, headers={"accept": EVENT_STREAM}) as got,
    ):
        assert got.headers["content-type"] == EVENT_STREAM
        first = await RawStream(got).next_event()
        assert first.json()["data"]["orderUpdated"]["status"] == "PLACED"
        mutation = {"query": CONFIRM, "variables": json.dumps({"id": created["orderId"]})}
        refused = await http.get("/graphql", params=mutation, headers={"accept": EVENT_STREAM})
    assert refused.status_code == 405
    assert error_codes(refused.json()) == ["METHOD_NOT_ALLOWED"]
