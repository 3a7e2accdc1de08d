"""Session consistency with a real streaming standby as the replica: the position an answer
reports is what its read proved, never more (a read without a minimum proves nothing there), and
a session's minimum keeps a paused replica from showing it the past."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.graph import CREATE_ORDER, order_input, uvicorn_server
from tests.support.pgserver import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ORDER = "query($id: ID!) { order(id: $id) { status position } }"
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"


async def _post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], minimum: int | None = None
) -> tuple[dict[str, Any], int | None]:
    headers = {} if minimum is None else {"OrderGraph-Min-Position": str(minimum)}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    position = response.headers.get("OrderGraph-Position")
    return answer, None if position is None else int(position)


async def test_a_session_on_a_paused_replica_reports_and_reads_honestly(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    with uvicorn_server(postgres_url, replica_urls=(replica_url,), replica_wait_ms=100) as server:
        async with httpx.AsyncClient(base_url=f"http://{server}", timeout=20) as http:
            created, placed_at = await _post(http, CREATE_ORDER, {"input": order_input()})
            order_id = created["data"]["createOrder"]["orderId"]
            assert placed_at == created["data"]["createOrder"]["position"]
            await asyncio.to_thread(postgres_standby.wait_for_replay)
            await asyncio.to_thread(postgres_standby.pause_replay)

            confirmed, confirmed_at = await _post(http, CONFIRM, {"id": order_id})
            assert confirmed_at == confirmed["data"]["confirmOrder"]["position"]

            # No minimum: the replica as it is, and no position (it proved nothing).
            plain, position = await _post(http, ORDER, {"id": order_id})
            assert plain["data"]["order"]["status"] == "PLACED"
            assert position is None

            # A session started at 0: the replica's snapshot, which says how far it is.
            started, position = await _post(http, ORDER, {"id": order_id}, minimum=0)
            assert started["data"]["order"]["status"] == "PLACED"
            reached = started["extensions"]["freshness"]["projections"]["order_views"]["reached"]
            assert position == reached
            assert placed_at is not None
            assert confirmed_at is not None
            assert placed_at <= reached < confirmed_at

            # The session that confirmed: never the past, whatever the replica holds.
            read, position = await _post(http, ORDER, {"id": order_id}, minimum=confirmed_at)
            assert read["data"]["order"] == {"status": "CONFIRMED", "position": confirmed_at}
            assert position is not None
            assert position >= confirmed_at
