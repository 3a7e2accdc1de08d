"""The service over real HTTP and WebSocket with a real streaming standby as its replica: reads
are never stale with `minPosition` (the replica answers when it has the position, the primary
when it lags or is down, each counted in /metrics), and subscriptions get every change."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
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
from tests.support.pgserver import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ORDER = """query($id: ID!, $p: Position) {
  order(id: $id, minPosition: $p) { status position } }"""
CONFIRM = """mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"""
ORDER_UPDATED = """subscription($id: ID!) {
  orderUpdated(id: $id, afterPosition: 0) { id status position } }"""
ORDERS_CHANGED = """subscription($after: Position) {
  ordersChanged(afterPosition: $after) { id status position } }"""


async def post(server: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    return answer


async def replica_reads(server: str) -> dict[str, float]:
    """ordergraph_replica_reads_total by outcome, from /metrics."""
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        text = (await http.get("/metrics")).text
    pattern = r'^ordergraph_replica_reads_total\{outcome="(\w+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.MULTILINE)}


async def standby(action: Any) -> None:
    await asyncio.to_thread(action)


async def test_reads_over_http_are_never_stale_on_a_paused_replica(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    with uvicorn_server(postgres_url, replica_urls=(replica_url,), replica_wait_ms=200) as server:
        created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        order_id = created["orderId"]
        await standby(postgres_standby.wait_for_replay)
        caught_up = await post(server, ORDER, {"id": order_id, "p": created["position"]})
        assert caught_up["data"]["order"] == {"status": "PLACED", "position": created["position"]}
        assert (await replica_reads(server)).get("replica") == 1

        await standby(postgres_standby.pause_replay)
        confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
        fresh = await post(server, ORDER, {"id": order_id, "p": confirmed["position"]})
        assert fresh["data"]["order"] == {"status": "CONFIRMED", "position": confirmed["position"]}
        freshness = fresh["extensions"]["freshness"]
        assert freshness["stale"] is False
        assert freshness["projections"]["order_views"]["reached"] >= confirmed["position"]
        assert (await replica_reads(server)).get("fallback_lag") == 1

        # Without minPosition a read takes the replica as it is: still PLACED there.
        plain = await post(server, ORDER, {"id": order_id, "p": None})
        assert plain["data"]["order"]["status"] == "PLACED"
        assert (await replica_reads(server)).get("replica") == 2

        # A mutation's own order comes from the batch it committed, replica or not.
        another = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        assert another["order"]["position"] == another["position"]

        await standby(postgres_standby.resume_replay)
        await standby(postgres_standby.wait_for_replay)
        replayed = await post(server, ORDER, {"id": order_id, "p": confirmed["position"]})
        assert replayed["data"]["order"]["status"] == "CONFIRMED"
        reached = replayed["extensions"]["freshness"]["projections"]["order_views"]["reached"]
        assert reached >= another["position"], "the replica's checkpoint, read in its snapshot"
        counted = await replica_reads(server)
        assert counted.get("replica") == 3
        assert counted.get("fallback_lag") == 1


async def test_subscriptions_get_every_change_on_a_paused_replica(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    with uvicorn_server(postgres_url, replica_urls=(replica_url,), replica_wait_ms=100) as server:
        head = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        await standby(postgres_standby.wait_for_replay)
        await standby(postgres_standby.pause_replay)
        created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        order_id = created["orderId"]
        async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws)
            for op_id, query, variables in (
                ("one", ORDER_UPDATED, {"id": order_id}),
                ("all", ORDERS_CHANGED, {"after": head["position"]}),
            ):
                payload = {"query": query, "variables": variables}
                await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
            placed = {"id": order_id, "status": "PLACED", "position": created["position"]}
            first = [await ws_next(ws), await ws_next(ws)]
            assert {m["id"]: next(iter(m["payload"]["data"].values())) for m in first} == {
                "one": placed,
                "all": placed,
            }

            confirmed = (await post_data(server, CONFIRM, {"id": order_id}))["confirmOrder"]
            changed = {"id": order_id, "status": "CONFIRMED", "position": confirmed["position"]}
            second = [await ws_next(ws), await ws_next(ws)]
            assert {m["id"]: next(iter(m["payload"]["data"].values())) for m in second} == {
                "one": changed,
                "all": changed,
            }
        assert (await replica_reads(server)).get("fallback_lag", 0) >= 2


async def test_a_replica_that_is_down_over_http_falls_back(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    with uvicorn_server(postgres_url, replica_urls=(replica_url,)) as server:
        created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))["createOrder"]
        await standby(postgres_standby.halt)
        answer = await post(server, ORDER, {"id": created["orderId"], "p": created["position"]})
        assert answer["data"]["order"] == {"status": "PLACED", "position": created["position"]}
        assert answer["extensions"]["freshness"]["stale"] is False
        plain = await post(server, ORDER, {"id": created["orderId"], "p": None})
        assert plain["data"]["order"]["status"] == "PLACED"
        assert (await replica_reads(server)).get("fallback_down") == 2


async def test_reads_go_on_from_the_replica_while_the_primary_is_down(
    postgres_server: PostgresServer,
) -> None:
    """(`postgres_server` only for its skip, or failure under CI, when PostgreSQL is missing.)"""
    primary = PostgresServer.start()  # one of its own: the suite's server must stay up
    try:
        replica = primary.start_standby()
        try:
            name = primary.create_database()
            await standby(replica.wait_for_replay)
            with uvicorn_server(primary.url(name), replica_urls=(replica.url(name),)) as server:
                created = (await post_data(server, CREATE_ORDER, {"input": order_input()}))[
                    "createOrder"
                ]
                await standby(replica.wait_for_replay)
                await standby(primary.halt)
                try:
                    seen = await post(
                        server, ORDER, {"id": created["orderId"], "p": created["position"]}
                    )
                    plain = await post(server, ORDER, {"id": created["orderId"], "p": None})
                finally:
                    await standby(primary.resume)
            assert seen["data"]["order"] == {"status": "PLACED", "position": created["position"]}
            assert seen["extensions"]["freshness"]["stale"] is False
            assert plain["data"]["order"]["status"] == "PLACED"
        finally:
            replica.stop()
    finally:
        primary.stop()
