"""Demo data goes through the CommandBus and lands in the views like any client's orders."""

from __future__ import annotations

from graph.ops.seed import seed
from readmodels.queries import GetSalesReport, ListOrders
from tests.support.readmodels import running_service


async def test_seed_places_orders_for_the_customers_asked_for(sqlite_url: str) -> None:
    seen: list[tuple[int, int]] = []
    async with running_service(sqlite_url) as service:
        store, bus, runner, queries = service.store, service.bus, service.runner, service.query_bus
        report = await seed(
            bus, orders=60, customers=7, days=30, progress=lambda d, t: seen.append((d, t))
        )
        assert report.orders == 60
        assert report.commands >= 60
        assert report.last_position == await store.head_position()
        assert seen[-1] == (60, 60)
        assert not (
            await runner.wait_for(["order_views", "daily_sales"], report.last_position, 10)
        ).stale
        page = await queries.ask(ListOrders(first=100))
        assert page.total_count == 60
        assert {edge.node.customer_id for edge in page.edges} <= {
            f"customer-{n:04d}" for n in range(1, 8)
        }
        statuses = {edge.node.status.value for edge in page.edges}
        assert {"PLACED", "CONFIRMED", "SHIPPED", "CANCELLED"} >= statuses
        assert len(statuses) >= 3
        newest, oldest = page.edges[0].node.created_at, page.edges[-1].node.created_at
        assert (newest - oldest).days >= 20
        report_days = await queries.ask(
            GetSalesReport(from_date=oldest.date(), to_date=newest.date())
        )
        assert sum(day.orders_placed for day in report_days) == 60
