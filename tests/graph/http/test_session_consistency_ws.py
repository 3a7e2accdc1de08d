"""Session consistency over graphql-transport-ws: `minPosition` in the `connection_init` payload
is every operation's session minimum on that socket (an operation's `extensions.minPosition`
may raise it), and `orderUpdated` decides NOT_FOUND only once that position is applied."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from websockets.asyncio.client import connect

from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.asyncio.client import ClientConnection

CUSTOMER = '{ customer(id: "cust-1") { orderCount } }'
ORDER_UPDATED = 'subscription { orderUpdated(id: "o-nobody") { id } }'


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with uvicorn_server(sqlite_url, default_wait_ms=50) as address:
        yield address


async def _create(address: str) -> dict[str, Any]:
    created: dict[str, Any] = (await post_data(address, CREATE_ORDER, {"input": order_input()}))[
        "createOrder"
    ]
    return created


async def _run(
    ws: ClientConnection, op_id: str, query: str, extensions: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": query}
    if extensions is not None:
        payload["extensions"] = extensions
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
    message = await ws_next(ws)
    assert message["id"] == op_id
    return message


def _requested(message: dict[str, Any]) -> int | None:
    extensions = message["payload"].get("extensions")
    if extensions is None:
        return None
    waited: int = extensions["freshness"]["projections"]["customer_summaries"]["requested"]
    return waited


async def test_connection_inits_min_position_holds_for_every_operation(server: str) -> None:
    created = await _create(server)
    ahead = created["position"] + 3
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws, {"minPosition": ahead})
        first = await _run(ws, "1", CUSTOMER)
        assert first["payload"]["data"]["customer"] == {"orderCount": 1}
        assert first["payload"]["extensions"]["freshness"]["stale"] is True
        assert _requested(first) == ahead
        assert (await ws_next(ws))["type"] == "complete"
        # An operation's own extensions.minPosition raises it, for that operation only.
        raised = await _run(ws, "2", CUSTOMER, {"minPosition": ahead + 5})
        assert _requested(raised) == ahead + 5
        assert (await ws_next(ws))["type"] == "complete"
        lower = await _run(ws, "3", CUSTOMER, {"minPosition": 1})
        assert _requested(lower) == ahead
        assert (await ws_next(ws))["type"] == "complete"


async def test_each_operation_reports_its_own_freshness(server: str) -> None:
    await _create(server)
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        waited = await _run(ws, "1", CUSTOMER, {"minPosition": 1})
        assert _requested(waited) == 1
        assert (await ws_next(ws))["type"] == "complete"
        plain = await _run(ws, "2", CUSTOMER)
        assert "extensions" not in plain["payload"]  # the first operation's wait is not its


@pytest.mark.parametrize("value", ["7", -1, 1.5, True, {"n": 1}])
async def test_a_min_position_that_is_not_a_position_refuses_every_operation(
    server: str, value: Any
) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws, {"minPosition": value})  # acknowledged: the code comes per operation
        for op_id in ("1", "2"):
            refused = await _run(ws, op_id, CUSTOMER)
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"] == {
                "code": "BAD_USER_INPUT",
                "field": "minPosition",
            }
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        refused = await _run(ws, "1", CUSTOMER, {"minPosition": value})
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["field"] == "extensions.minPosition"


async def test_order_updated_decides_not_found_once_the_session_is_applied(
    sqlite_url: str,
) -> None:
    with uvicorn_server(sqlite_url, default_wait_ms=5000) as address:
        created = await _create(address)
        ahead = created["position"] + 1  # the next write
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws, {"minPosition": ahead})
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": ORDER_UPDATED}}
            await ws.send(json.dumps(subscribe))
            with pytest.raises(TimeoutError):  # waiting for the session's position
                await asyncio.wait_for(ws.recv(), 0.5)
            await _create(address)
            ended = await ws_next(ws)
    assert ended["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
