"""Crash safety of the real server: SIGKILL it under a concurrent write load, restart it on the
same database, and check that every acknowledged command is in the log and that the views
equal a fresh replay of it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.crash import ServerProcess
from tests.support.graph import order_input

if TYPE_CHECKING:
    from pathlib import Path

CLIENTS = 6
ACKS_BEFORE_KILL = 120
# After the acks, wait a little longer each time, so the kill lands at a new point of a commit.
KILL_DELAYS = (0.0, 0.004, 0.011)
ITEMS_PER_ORDER = 4
WAIT_MS = 10_000

CREATE = """mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { orderId version position } }"""
ADD_ITEM = """mutation($id: ID!, $sku: String!) {
  addOrderItem(input: {orderId: $id, item: {sku: $sku, quantity: 2, unitPrice: "3.25"}}) {
    orderId version position } }"""
CANCEL = """mutation($id: ID!) {
  cancelOrder(input: {orderId: $id, reason: "changed my mind"}) { orderId version position } }"""
HEAD = "{ projections { name headPosition } }"
ORDER_VERSION = """query($id: ID!, $p: Position) {
  order(id: $id, minPosition: $p, timeoutMs: 10000) { version } }"""
ORDERS_PAGE = """query($after: String, $p: Position) {
  orders(first: 20, after: $after, minPosition: $p, timeoutMs: 10000) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id customerId status itemCount totalAmount trackingNumber cancellationReason
      createdAt updatedAt version position
      items { sku quantity unitPrice lineTotal }
      shippingAddress { name line1 line2 city postalCode country } } } } }"""
CUSTOMER = """query($id: ID!, $p: Position) {
  customer(id: $id, minPosition: $p, timeoutMs: 10000) {
    id orderCount totalSpent lastOrderAt } }"""
SALES = """query($from: String!, $to: String!, $p: Position) {
  salesReport(fromDate: $from, toDate: $to, minPosition: $p, timeoutMs: 10000) {
    date ordersPlaced ordersCancelled revenue } }"""
REBUILD = "mutation($name: String!) { rebuildProjection(name: $name) { name position } }"
PROJECTIONS = ("order_views", "customer_summaries", "daily_sales")


@dataclass(frozen=True, kw_only=True, slots=True)
class Ack:
    """What the server acknowledged for one command."""

    order_id: str
    version: int
    position: int


async def _graphql(
    http: httpx.AsyncClient, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The answer to one request, which must be a 200 without errors."""
    response = await http.post("/graphql", json={"query": document, "variables": variables or {}})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    freshness = (answer.get("extensions") or {}).get("freshness")
    assert freshness is None or freshness["stale"] is False, answer
    return answer


async def _command(
    http: httpx.AsyncClient, document: str, variables: dict[str, Any], acks: list[Ack]
) -> Ack:
    (result,) = (await _graphql(http, document, variables))["data"].values()
    ack = Ack(order_id=result["orderId"], version=result["version"], position=result["position"])
    acks.append(ack)
    return ack


async def _write_load(base_url: str, client: int, acks: list[Ack]) -> None:
    """Create orders and add items to them until the server goes away."""
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
        try:
            for number in range(10_000):
                variables = {"input": order_input(f"cust-{client}-{number % 3}")}
                order_id = (await _command(http, CREATE, variables, acks)).order_id
                for item in range(ITEMS_PER_ORDER):
                    await _command(http, ADD_ITEM, {"id": order_id, "sku": f"EXTRA-{item}"}, acks)
                if number % 4 == 3:
                    await _command(http, CANCEL, {"id": order_id}, acks)
        except httpx.TransportError:
            return


async def _load_then_kill(server: ServerProcess, acks: list[Ack], delay: float) -> None:
    """Drive CLIENTS concurrent writers, and SIGKILL the server while they are busy."""
    target = len(acks) + ACKS_BEFORE_KILL
    writers = [
        asyncio.create_task(_write_load(server.base_url, client, acks)) for client in range(CLIENTS)
    ]
    async with asyncio.timeout(20):
        while len(acks) < target:
            for writer in writers:
                if writer.done():
                    writer.result()
                    pytest.fail("a writer stopped before the server was killed")
            await asyncio.sleep(0.005)
    await asyncio.sleep(delay)
    server.kill()
    await asyncio.gather(*writers)


async def _head(http: httpx.AsyncClient) -> int:
    data = (await _graphql(http, HEAD))["data"]
    return max(int(p["headPosition"]) for p in data["projections"])


async def _check_acknowledged(http: httpx.AsyncClient, acks: list[Ack]) -> int:
    """Every acknowledged command is in the log: the head and each order's version reach it."""
    newest = max(ack.position for ack in acks)
    head = await _head(http)
    assert head >= newest
    versions: dict[str, int] = {}
    for ack in acks:
        versions[ack.order_id] = max(versions.get(ack.order_id, 0), ack.version)
    for order_id, version in versions.items():
        answer = await _graphql(http, ORDER_VERSION, {"id": order_id, "p": newest})
        order = answer["data"]["order"]
        assert order is not None, f"acknowledged order {order_id} is missing"
        assert order["version"] >= version, (order_id, order, version)
    return head


async def _views(http: httpx.AsyncClient, head: int) -> dict[str, Any]:
    """Everything the three projections serve, read once they have applied `head`."""
    orders: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await _graphql(http, ORDERS_PAGE, {"after": after, "p": head}))["data"]["orders"]
        orders.extend(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    customer_ids = sorted({edge["node"]["customerId"] for edge in orders})
    customers = [
        (await _graphql(http, CUSTOMER, {"id": customer_id, "p": head}))["data"]["customer"]
        for customer_id in customer_ids
    ]
    today = datetime.now(UTC).date()
    window = {"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=1))}
    sales = (await _graphql(http, SALES, {**window, "p": head}))["data"]["salesReport"]
    return {"orders": orders, "customers": customers, "sales": sales}


async def _check_views_equal_a_replay(http: httpx.AsyncClient, head: int) -> None:
    before = await _views(http, head)
    assert before["orders"]
    assert before["customers"]
    assert before["sales"]
    for name in PROJECTIONS:
        rebuilt = (await _graphql(http, REBUILD, {"name": name}))["data"]["rebuildProjection"]
        assert rebuilt == {"name": name, "position": head}
    assert await _views(http, head) == before


async def _kill_and_check(database_url: str, tmp_path: Path, kills: int) -> None:
    server = ServerProcess(database_url, tmp_path / "server.log")
    acks: list[Ack] = []
    try:
        await asyncio.to_thread(server.start)
        for kill in range(kills):
            await _load_then_kill(server, acks, KILL_DELAYS[kill % len(KILL_DELAYS)])
            await asyncio.to_thread(server.start)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
                head = await _check_acknowledged(http, acks)
                await _check_views_equal_a_replay(http, head)
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()


@pytest.mark.slow
async def test_acknowledged_writes_survive_sigkill_on_sqlite(tmp_path: Path) -> None:
    await _kill_and_check(f"sqlite+aiosqlite:///{tmp_path}/x.db", tmp_path, kills=3)


@pytest.mark.slow
async def test_acknowledged_writes_survive_sigkill_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    await _kill_and_check(postgres_url, tmp_path, kills=1)
