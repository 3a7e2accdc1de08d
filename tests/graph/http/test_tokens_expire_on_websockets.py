"""A WebSocket serves only while the token it was initialised with is valid: at the token's
`exp` every operation stops and the socket is closed with 4403; the client re-authenticates by
reconnecting with a fresh token."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
TTL = timedelta(seconds=3)
# How long after `exp` the close may take on a busy machine: a bound on the wait only.
GRACE_SECONDS = 20


def _authorization(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _exp(token: str) -> float:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return float(claims["exp"])


async def _create_order(address: str, customer: str) -> str:
    token = AUTHORITY.mint(customer, Role.CUSTOMER)
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        created = await http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input(customer)}},
            headers=_authorization(token),
        )
    order_id: str = created.json()["data"]["createOrder"]["orderId"]
    return order_id


async def _messages_until_closed(ws: ClientConnection) -> tuple[list[dict[str, Any]], int]:
    """Every message up to the close, and the close code."""
    seen: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:
        await _collect(ws, seen)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return seen, closed.value.rcvd.code


async def _collect(ws: ClientConnection, seen: list[dict[str, Any]]) -> None:
    deadline = time.monotonic() + TTL.total_seconds() + GRACE_SECONDS
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("the socket was still open long after its token expired")
        seen.append(json.loads(await asyncio.wait_for(ws.recv(), left)))


async def _send_then_collect(ws: ClientConnection, frame: str, seen: list[dict[str, Any]]) -> None:
    await ws.send(frame)
    await _collect(ws, seen)


async def test_a_websocket_is_closed_4403_when_its_token_expires(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        order_id = await _create_order(address, "alice")
        token = AUTHORITY.mint("alice", Role.CUSTOMER, ttl=TTL)
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, _authorization(token))
            # While the token is valid the socket serves queries and subscriptions.
            query = {
                "query": "query($id: ID!) { order(id: $id) { id } }",
                "variables": {"id": order_id},
            }
            await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": query}))
            answer = await ws_next(ws)
            assert answer["payload"]["data"]["order"]["id"] == order_id
            assert (await ws_next(ws))["type"] == "complete"
            subscription = {
                "query": "subscription($id: ID!) "
                "{ orderUpdated(id: $id, afterPosition: 0) { id } }",
                "variables": {"id": order_id},
            }
            await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": subscription}))
            first = await ws_next(ws)
            assert first["type"] == "next", first
            assert "errors" not in first["payload"], first

            seen, code = await _messages_until_closed(ws)
            closed_at = time.time()

        assert code == 4403
        assert closed_at >= _exp(token) - 1  # not before the token's exp (1 s of clock slack)
        assert all(message["type"] in ("next", "ping") for message in seen), seen


async def test_an_operation_sent_after_exp_is_never_answered_with_data(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url, auth_secret=SECRET) as address:
        token = AUTHORITY.mint("bob", Role.CUSTOMER, ttl=TTL)
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, _authorization(token))
            await asyncio.sleep(max(0.0, _exp(token) + 0.5 - time.time()))
            seen: list[dict[str, Any]] = []
            late = {
                "id": "late",
                "type": "subscribe",
                "payload": {"query": "{ orders { totalCount } }"},
            }
            with pytest.raises(ConnectionClosed) as closed:
                await _send_then_collect(ws, json.dumps(late), seen)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
        assert not any(message.get("id") == "late" for message in seen), seen

        # A fresh token on a new connection works again.
        fresh = AUTHORITY.mint("bob", Role.CUSTOMER)
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, _authorization(fresh))
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": "{ orders { totalCount } }"},
                    }
                )
            )
            answer = await ws_next(ws)
            assert answer["payload"]["data"]["orders"]["totalCount"] == 0
