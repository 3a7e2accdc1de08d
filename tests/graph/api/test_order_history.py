"""`Order.history` over HTTP and WebSocket: oldest first, the order's access rules, one query for
a page of orders, agreeing with the view it hangs off when the views are apart, and pushed by
`orderUpdated` like any other field."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from graphql import get_named_type
from sqlalchemy import Engine, event
from websockets.asyncio.client import connect

from graph.api.identity import Role
from graph.api.schema import build_schema, graphql_schema
from graph.app import create_app
from graph.http.auth import TokenAuthority
from graph.settings import Settings
from readmodels.projections.base import Batch, Projection, Tables
from readmodels.projections.order_history import OrderHistoryProjection
from readmodels.registry import default_projections
from tests.graph.pipeline.plans_world import damage
from tests.support.graph import (
    GRAPHQL_TRANSPORT_WS,
    Client,
    app_client,
    order_input,
    post_data,
    ws_init,
    ws_next,
)
from tests.support.readmodels import PoisonedBatch, PoisonedOrderViews

HISTORY = "history { type version position occurredAt summary }"
PLACE = f"""mutation($input: CreateOrderInput!) {{
  createOrder(input: $input) {{ orderId position order {{ {HISTORY} }} }} }}"""
ADD = """mutation($id: ID!) { addOrderItem(input: {orderId: $id,
  item: {sku: "KB-MECH-87", quantity: 2, unitPrice: "89.00"}}) { position } }"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"
SHIP = """mutation($id: ID!) {
  shipOrder(input: {orderId: $id, trackingNumber: "1Z999"}) { position } }"""
ORDER = (
    f"query($id: ID!, $p: Position) {{ order(id: $id, minPosition: $p) {{ version {HISTORY} }} }}"
)
SECRET = "a-test-signing-secret-of-32-bytes!!"


async def test_an_orders_history_oldest_first(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        placed = (await client.data(PLACE, {"input": order_input("ada")}))["createOrder"]
        (entry,) = placed["order"]["history"]
        assert entry["summary"] == "placed with 1 line, total 39.98"
        order_id = placed["orderId"]
        added = (await client.data(ADD, {"id": order_id}))["addOrderItem"]
        confirmed = (await client.data(CONFIRM, {"id": order_id}))["confirmOrder"]
        order = (await client.data(ORDER, {"id": order_id}))["order"]
    assert order["version"] == 3
    assert [(e["type"], e["version"], e["position"], e["summary"]) for e in order["history"]] == [
        ("OrderPlaced", 1, placed["position"], "placed with 1 line, total 39.98"),
        ("ItemAdded", 2, added["position"], "added 2 \N{MULTIPLICATION SIGN} KB-MECH-87 at 89.00"),
        ("OrderConfirmed", 3, confirmed["position"], "confirmed"),
    ]
    assert order["history"][0] == entry
    assert all(e["occurredAt"].endswith("Z") for e in order["history"])


def test_only_order_history_exposes_history_entries() -> None:
    schema = graphql_schema(build_schema())
    exposing = [
        (type_name, field_name)
        for type_name, type_ in schema.type_map.items()
        for field_name, field in getattr(type_, "fields", {}).items()
        if get_named_type(field.type).name == "OrderHistoryEntry"
    ]
    assert exposing == [("Order", "history")]


async def test_a_customer_reads_only_its_own_orders_history(sqlite_url: str) -> None:
    authority = TokenAuthority(SECRET)

    def caller(subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {authority.mint(subject, Role.CUSTOMER)}"}

    async with app_client(sqlite_url, auth_secret=SECRET) as client:
        http = client.http
        body = {"query": PLACE, "variables": {"input": order_input("alice")}}
        placed = (await http.post("/graphql", json=body, headers=caller("alice"))).json()
        order_id = placed["data"]["createOrder"]["orderId"]
        ask = {"query": ORDER, "variables": {"id": order_id}}
        mine = (await http.post("/graphql", json=ask, headers=caller("alice"))).json()
        theirs = (await http.post("/graphql", json=ask, headers=caller("bob"))).json()
        listed = {"query": f"{{ orders {{ edges {{ node {{ {HISTORY} }} }} }} }}"}
        bobs_list = (await http.post("/graphql", json=listed, headers=caller("bob"))).json()
    assert [e["type"] for e in mine["data"]["order"]["history"]] == ["OrderPlaced"]
    assert theirs == {"data": {"order": None}}
    assert bobs_list["data"]["orders"]["edges"] == []


async def test_a_page_of_orders_reads_their_histories_in_one_query(sqlite_url: str) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "order_history_entry" in statement:
            statements.append(statement)

    page = f"{{ orders(first: 100) {{ edges {{ node {{ id {HISTORY} }} }} }} }}"
    async with app_client(sqlite_url) as client:
        await asyncio.gather(*(client.create_order(customerId=f"c-{n % 7}") for n in range(100)))
        event.listen(Engine, "before_cursor_execute", count)
        try:
            data = await client.data(page)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
    edges = data["orders"]["edges"]
    assert len(edges) == 100
    assert all([e["type"] for e in edge["node"]["history"]] == ["OrderPlaced"] for edge in edges)
    assert len(statements) == 1, statements


async def test_a_view_row_without_a_position_still_answers_its_history(tmp_path: Path) -> None:
    """A view row damaged in the database (its position NULL) has no position to wait for or to
    cut the history at: the field answers every entry there is instead of failing."""
    async with app_client(f"sqlite+aiosqlite:///{tmp_path}/o.db") as client:
        order_id = (await client.data(PLACE, {"input": order_input()}))["createOrder"]["orderId"]
        await client.data(ADD, {"id": order_id})
        damage(tmp_path / "o.db", {order_id: "null_position"})
        answer = await client.post(
            "query($id: ID!) { order(id: $id) { version history { version } } }", {"id": order_id}
        )
    assert answer == {
        "data": {"order": {"version": 2, "history": [{"version": 1}, {"version": 2}]}}
    }


class PoisonedHistory(OrderHistoryProjection):
    """order_history that fails on the event at `poison` while `poison` is set."""

    def __init__(self) -> None:
        self.poison: int | None = None

    def batch(self, tables: Tables) -> Batch:
        return PoisonedBatch(super().batch(tables), self)


@asynccontextmanager
async def views_apart(
    url: str, views_url: str, projections: list[Projection]
) -> AsyncIterator[Client]:
    """The app with its views in a database of their own (the runner applies them), a short
    default wait, and `projections` in place of the stock ones of the same names."""
    settings = replace(
        Settings(database_url=url), read_database_url=views_url, default_wait_ms=1500
    )
    names = {p.name for p in projections}
    others = [p for p in default_projections() if p.name not in names]
    app = create_app(settings, projections=[*projections, *others])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield Client(http)


async def _reached(client: Client, name: str, position: int) -> None:
    """Until `name` has applied `position` (as `projections` reports it), at most 10 s."""
    for _ in range(1000):
        statuses = (await client.data("{ projections { name position } }"))["projections"]
        if any(s["name"] == name and s["position"] >= position for s in statuses):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{name} did not reach {position}")


async def test_history_waits_for_its_view_and_never_runs_ahead_of_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    history, views = PoisonedHistory(), PoisonedOrderViews(poison=None)
    async with views_apart(
        sqlite_url, f"sqlite+aiosqlite:///{tmp_path}/v.db", [history, views]
    ) as client:
        placed = (await client.data(PLACE, {"input": order_input()}))["createOrder"]
        order_id = placed["orderId"]
        history.poison = placed["position"] + 1
        confirmed = (await client.data(CONFIRM, {"id": order_id}))["confirmOrder"]["position"]

        # order_history is stuck behind the view: the field waits (the default wait), then
        # answers with what it has, and says so.
        stale = await client.post(ORDER, {"id": order_id, "p": confirmed})
        assert stale["data"]["order"]["version"] == 2
        assert [e["version"] for e in stale["data"]["order"]["history"]] == [1]
        freshness = stale["extensions"]["freshness"]
        assert freshness["stale"] is True
        assert freshness["projections"]["order_history"] == {
            "requested": confirmed,
            "reached": placed["position"],
        }

        # It catches up while the field waits: the answer has the view's every event.
        waiting = asyncio.ensure_future(client.post(ORDER, {"id": order_id, "p": confirmed}))
        await asyncio.sleep(0.2)
        history.poison = None
        await client.data('mutation { retryProjection(name: "order_history") { name } }')
        fresh = await waiting
        assert [e["version"] for e in fresh["data"]["order"]["history"]] == [1, 2]
        assert fresh["extensions"]["freshness"]["stale"] is False

        # order_views stuck behind order_history: the history stops at the view's version.
        views.poison = confirmed + 1
        shipped = (await client.data(SHIP, {"id": order_id}))["shipOrder"]["position"]
        await _reached(client, "order_history", shipped)
        ahead = await client.post(
            "query($id: ID!) { order(id: $id) { version history { version } } }", {"id": order_id}
        )
        assert ahead["data"]["order"] == {"version": 2, "history": [{"version": 1}, {"version": 2}]}


async def test_order_updated_pushes_the_new_history_entry(server: str) -> None:
    placed = (await post_data(server, PLACE, {"input": order_input()}))["createOrder"]
    order_id = placed["orderId"]
    document = f"subscription($id: ID!) {{ orderUpdated(id: $id) {{ version {HISTORY} }} }}"
    async with connect(f"ws://{server}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        payload = {"query": document, "variables": {"id": order_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.1)  # subscribed before the change
        await post_data(server, CONFIRM, {"id": order_id})
        first = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
        await post_data(server, SHIP, {"id": order_id})
        second = (await ws_next(ws))["payload"]["data"]["orderUpdated"]
    assert [e["summary"] for e in first["history"]] == [
        "placed with 1 line, total 39.98",
        "confirmed",
    ]
    assert [e["summary"] for e in second["history"]] == [
        "placed with 1 line, total 39.98",
        "confirmed",
        "shipped (tracking 1Z999)",
    ]
    assert second["history"][:2] == first["history"]
