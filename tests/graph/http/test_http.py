"""The GraphQL API end to end over HTTP: every contract field, read-your-writes and freshness."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from graph.api.freshness import FreshnessLog
from graph.app import create_app
from graph.settings import Settings
from readmodels.dto import WaitResult
from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import CREATE_ORDER, app_client, error_codes, order_input

ORDER_FIELDS = """
  id customerId status itemCount totalAmount trackingNumber cancellationReason
  createdAt updatedAt version position
  items { sku quantity unitPrice lineTotal }
  shippingAddress { name line1 line2 city postalCode country }
  customer { id orderCount totalSpent lastOrderAt }
"""

RESULT = "commandId orderId version position order { " + ORDER_FIELDS + " }"


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {RESULT} }} }}"


ADD = mutation("addOrderItem", "AddOrderItemInput")
REMOVE = mutation("removeOrderItem", "RemoveOrderItemInput")
CHANGE = mutation("changeShippingAddress", "ChangeShippingAddressInput")
CONFIRM = mutation("confirmOrder", "ConfirmOrderInput")
SHIP = mutation("shipOrder", "ShipOrderInput")
CANCEL = mutation("cancelOrder", "CancelOrderInput")


async def test_an_order_through_its_whole_life(database_url: str) -> None:
    async with app_client(database_url) as client:
        created = await client.create_order(customerId="alice")
        order_id = created["orderId"]
        assert created["version"] == 1
        assert created["order"]["totalAmount"] == "39.98"

        added = (
            await client.data(
                ADD,
                {
                    "input": {
                        "orderId": order_id,
                        "expectedVersion": 1,
                        "item": {"sku": "SKU-2", "quantity": 3, "unitPrice": "0.10"},
                    }
                },
            )
        )["addOrderItem"]
        assert added["version"] == 2
        assert added["position"] > created["position"]
        assert added["order"]["itemCount"] == 2
        assert added["order"]["totalAmount"] == "40.28"
        assert added["order"]["items"][1] == {
            "sku": "SKU-2",
            "quantity": 3,
            "unitPrice": "0.10",
            "lineTotal": "0.30",
        }

        removed = (await client.data(REMOVE, {"input": {"orderId": order_id, "sku": "SKU-2"}}))[
            "removeOrderItem"
        ]
        assert removed["order"]["itemCount"] == 1

        address = {
            "name": "Bob",
            "line1": "2 Road",
            "line2": "Flat 3",
            "city": "Paris",
            "postalCode": "75001",
            "country": "FR",
        }
        changed = (
            await client.data(CHANGE, {"input": {"orderId": order_id, "shippingAddress": address}})
        )["changeShippingAddress"]
        assert changed["order"]["shippingAddress"] == address

        confirmed = (await client.data(CONFIRM, {"input": {"orderId": order_id}}))["confirmOrder"]
        assert confirmed["order"]["status"] == "CONFIRMED"
        shipped = (
            await client.data(SHIP, {"input": {"orderId": order_id, "trackingNumber": "TRK-1"}})
        )["shipOrder"]
        order = shipped["order"]
        assert order["status"] == "SHIPPED"
        assert order["trackingNumber"] == "TRK-1"
        assert order["version"] == 6
        assert order["position"] == shipped["position"]
        assert order["createdAt"].endswith("Z")
        assert order["updatedAt"] >= order["createdAt"]

        other = await client.create_order(customerId="alice")
        cancelled = (
            await client.data(
                CANCEL, {"input": {"orderId": other["orderId"], "reason": "changed my mind"}}
            )
        )["cancelOrder"]
        assert cancelled["order"]["status"] == "CANCELLED"
        assert cancelled["order"]["cancellationReason"] == "changed my mind"

        head = cancelled["position"]
        data = await client.data(
            """
            query($id: ID!, $head: Position!) {
              customer(id: "alice", minPosition: $head) {
                id orderCount totalSpent lastOrderAt
                orders(first: 1) {
                  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
                }
                shipped: orders(status: SHIPPED) { totalCount edges { node { id status } } }
              }
              order(id: $id) { id status }
              missing: order(id: "no-such-order") { id }
              salesReport(fromDate: "2000-01-01", toDate: "2000-12-31") { date }
              projections { name state position headPosition lag lastError }
            }
            """,
            {"id": order_id, "head": head},
        )
        customer = data["customer"]
        assert customer["orderCount"] == 2
        assert customer["totalSpent"] == "39.98"
        assert customer["lastOrderAt"].endswith("Z")
        page = customer["orders"]
        assert page["totalCount"] == 2
        assert page["pageInfo"]["hasNextPage"] is True
        assert page["edges"][0]["node"]["id"] == other["orderId"]  # newest first
        assert page["edges"][0]["cursor"] == page["pageInfo"]["endCursor"]
        assert customer["shipped"] == {
            "totalCount": 1,
            "edges": [{"node": {"id": order_id, "status": "SHIPPED"}}],
        }
        assert data["order"] == {"id": order_id, "status": "SHIPPED"}
        assert data["missing"] is None
        assert data["salesReport"] == []
        assert {p["name"] for p in data["projections"]} == set(PROJECTION_NAMES)
        assert all(p["headPosition"] == head for p in data["projections"])
        assert all(p["state"] == "RUNNING" and p["lastError"] is None for p in data["projections"])

        next_page = await client.data(
            """query($after: String!) { orders(customerId: "alice", first: 1, after: $after) {
                 totalCount pageInfo { hasNextPage } edges { node { id } } } }""",
            {"after": page["pageInfo"]["endCursor"]},
        )
        assert next_page["orders"]["edges"] == [{"node": {"id": order_id}}]
        assert next_page["orders"]["pageInfo"]["hasNextPage"] is False


async def test_sales_report_and_rebuild(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        first = await client.create_order()
        second = await client.create_order(items=[{"sku": "X", "quantity": 1, "unitPrice": "100"}])
        await client.data(CANCEL, {"input": {"orderId": first["orderId"], "reason": "no"}})
        day = second["order"]["createdAt"][:10]
        head = await client.head()
        answer = await client.post(
            """query($d: String!, $p: Position!) { salesReport(fromDate: $d, toDate: $d,
                 minPosition: $p) { date ordersPlaced ordersCancelled revenue } }""",
            {"d": day, "p": head},
        )
        assert answer["data"]["salesReport"] == [
            {"date": day, "ordersPlaced": 2, "ordersCancelled": 1, "revenue": "100.00"}
        ]
        assert answer["extensions"]["freshness"] == {
            "stale": False,
            "projections": {"daily_sales": {"requested": head, "reached": head}},
        }
        rebuilt = await client.data(
            'mutation { rebuildProjection(name: "daily_sales") { name state position lag } }'
        )
        assert rebuilt["rebuildProjection"]["name"] == "daily_sales"
        assert rebuilt["rebuildProjection"]["position"] == head
        again = await client.data(
            "query($d: String!) { salesReport(fromDate: $d, toDate: $d) { revenue } }",
            {"d": day},
        )
        assert again["salesReport"] == [{"revenue": "100.00"}]


async def test_read_your_writes_and_freshness(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        answer = await client.post(CREATE_ORDER, {"input": order_input()})
        position = answer["data"]["createOrder"]["position"]
        assert answer["data"]["createOrder"]["order"]["position"] == position
        assert answer["extensions"]["freshness"] == {
            "stale": False,
            "projections": {"order_views": {"requested": position, "reached": position}},
        }

        plain = await client.post("{ orders { totalCount } }")
        assert "extensions" not in plain or "freshness" not in plain["extensions"]

        customer = await client.post(
            'query($p: Position) { customer(id: "cust-1", minPosition: $p) { orderCount } }',
            {"p": position},
        )
        assert customer["data"]["customer"] == {"orderCount": 1}
        assert set(customer["extensions"]["freshness"]["projections"]) == {"customer_summaries"}


def test_the_freshness_report_names_projections_in_one_order() -> None:
    """Reads of one request finish in any order; the report's bytes must not depend on it."""
    reports = []
    for names in (("order_views", "customer_summaries"), ("customer_summaries", "order_views")):
        log = FreshnessLog()
        for name in names:
            log.record(WaitResult(stale=False, requested=3, reached={name: 4}))
        reports.append(json.dumps(log.report()))
    assert reports[0] == reports[1]
    assert list(json.loads(reports[0])["projections"]) == ["customer_summaries", "order_views"]


async def test_a_wait_that_times_out_answers_stale(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = await client.create_order()
        beyond = created["position"] + 100
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await client.post(
            """query($id: ID!, $p: Position!) {
                 order(id: $id, minPosition: $p, timeoutMs: 50) { id status } }""",
            {"id": created["orderId"], "p": beyond},
        )
        assert loop.time() - started < 2
        assert answer["data"]["order"] == {"id": created["orderId"], "status": "PLACED"}
        assert answer["extensions"]["freshness"] == {
            "stale": True,
            "projections": {"order_views": {"requested": beyond, "reached": created["position"]}},
        }


async def test_idempotent_retries_racing_give_one_result(database_url: str) -> None:
    async with app_client(database_url) as client:
        head = await client.head()
        variables = {"input": order_input(commandId="retry-me")}
        answers = await asyncio.gather(*(client.post(CREATE_ORDER, variables) for _ in range(20)))
        results = {
            (a["data"]["createOrder"]["orderId"], a["data"]["createOrder"]["position"])
            for a in answers
        }
        assert len(results) == 1, answers
        assert all(a["data"]["createOrder"]["commandId"] == "retry-me" for a in answers)
        assert await client.head() == head + 1
        reused = await client.post(
            CREATE_ORDER, {"input": order_input(customer_id="someone-else", commandId="retry-me")}
        )
        assert error_codes(reused) == ["BAD_USER_INPUT"]
        assert await client.head() == head + 1


async def test_conflicting_commands_have_exactly_one_winner(database_url: str) -> None:
    async with app_client(database_url) as client:
        order_id = (await client.create_order())["orderId"]

        def add(n: int) -> dict[str, Any]:
            item = {"sku": f"NEW-{n}", "quantity": 1, "unitPrice": "1"}
            return {"input": {"orderId": order_id, "expectedVersion": 1, "item": item}}

        answers = await asyncio.gather(*(client.post(ADD, add(n)) for n in range(10)))
        winners = [a for a in answers if "errors" not in a]
        assert len(winners) == 1
        assert winners[0]["data"]["addOrderItem"]["version"] == 2
        losers = [code for a in answers for code in error_codes(a)]
        assert losers == ["CONCURRENCY_CONFLICT"] * 9


async def test_customer_of_an_order_is_never_null(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = await client.create_order(customerId="brand-new")
        # The order view is fresh (CommandResult.order waited) and the customer field is
        # non-null even before customer_summaries catches up.
        customer = await client.data(
            "query($id: ID!) { order(id: $id) { customer { id orderCount totalSpent } } }",
            {"id": created["orderId"]},
        )
        found = customer["order"]["customer"]
        assert found["id"] == "brand-new"
        assert found["orderCount"] in (0, 1)


async def test_graphiql_healthz_and_request_ids(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        page = await client.http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        health = await client.http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "leading": list(PROJECTION_NAMES)}
        echoed = await client.http.post(
            "/graphql", json={"query": "{ projections { name } }"}, headers={"X-Request-ID": "r-1"}
        )
        assert echoed.headers["x-request-id"] == "r-1"
        fresh = await client.http.post("/graphql", json={"query": "{ projections { name } }"})
        assert len(fresh.headers["x-request-id"]) == 32


async def test_graphiql_can_be_turned_off(sqlite_url: str) -> None:
    async with app_client(sqlite_url, graphiql=False) as client:
        page = await client.http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404


async def test_an_unexpected_error_is_masked_and_correlated(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        async with app.router.lifespan_context(app):
            pass
        # The lifespan is over: the command bus refuses work, which the client did not cause.
        response = await http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
            headers={"X-Request-ID": "corr-7"},
        )
        health = await http.get("/healthz")
    assert health.status_code == 503
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "corr-7"}
    assert "not running" not in response.text


async def test_post_is_answered_directly_and_bad_json_is_a_400(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        http = client.http
        ok = await http.post("/graphql", json={"query": "{ projections { name } }"})
        assert ok.status_code == 200
        for body in (
            b"{not json",
            b'{"query": "{ orders { totalCount } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
            b"\xff\xfe",
            b"[" * 100_000,
        ):
            response = await http.post(
                "/graphql", content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, body[:40]
        get_mutation = await http.get(
            "/graphql", params={"query": 'mutation { rebuildProjection(name: "x") { name } }'}
        )
        assert get_mutation.status_code in (400, 405)


async def test_listing_100_orders_with_customers_costs_constant_queries(sqlite_url: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    query = """query($n: Int!, $p: Position!) { orders(first: $n, minPosition: $p) {
        edges { node { id customer { orderCount orders(first: 2) { totalCount } } } } } }"""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "order_view" in statement or "customer_summar" in statement:
            statements.append(statement)

    async with app_client(sqlite_url) as client:
        created = await asyncio.gather(
            *(client.create_order(customerId=f"c-{n % 25}") for n in range(100))
        )
        head = max(c["position"] for c in created)
        await client.data(query, {"n": 1, "p": head})
        event.listen(Engine, "before_cursor_execute", count)
        try:
            few = await client.data(query, {"n": 5, "p": head})
            small = len(statements)
            statements.clear()
            many = await client.data(query, {"n": 100, "p": head})
            large = len(statements)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
    assert len(few["orders"]["edges"]) == 5
    assert len(many["orders"]["edges"]) == 100
    assert all(e["node"]["customer"]["orders"]["totalCount"] == 4 for e in many["orders"]["edges"])
    assert large == small, (small, large)
