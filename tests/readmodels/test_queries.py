"""Queries over the views: paging, filters, validation, the sales report and the bus."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.commands import CancelOrder, ConfirmOrder, CreateOrder
from domain.errors import ValidationFailed
from domain.values import OrderLine, OrderStatus
from readmodels.dto import OrderPage, ProjectionState
from readmodels.queries import (
    GetCustomer,
    GetOrder,
    GetOrders,
    GetSalesReport,
    ListOrders,
    ListOrdersBatch,
    ListProjections,
    Query,
)
from readmodels.querybus import QueryBus
from readmodels.registry import PROJECTION_NAMES
from tests.support.readmodels import ADDRESS, T0, Service, running_service

LINE = OrderLine(sku="A", quantity=3, unit_price=Decimal("2.50"))


@dataclass(frozen=True)
class World:
    queries: QueryBus
    order_ids: list[str]  # in creation order


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with running_service(database_url) as service:
        order_ids = await _place_orders(service)
        yield World(queries=service.query_bus, order_ids=order_ids)


async def _place_orders(service: Service) -> list[str]:
    bus, runner, store = service.bus, service.runner, service.store
    order_ids = []
    for n in range(25):  # all created at the same instant, one after another
        result = await bus.dispatch(
            CreateOrder(
                command_id=str(uuid.uuid4()),
                issued_at=T0,
                customer_id=f"c{n % 2}",
                lines=(LINE,),
                shipping_address=ADDRESS,
            )
        )
        order_ids.append(result.order_id)
    later = T0 + timedelta(days=3)
    await bus.dispatch(
        CancelOrder(command_id="x1", issued_at=later, order_id=order_ids[0], reason="r")
    )
    await bus.dispatch(ConfirmOrder(command_id="x2", issued_at=later, order_id=order_ids[1]))
    await bus.dispatch(
        CreateOrder(
            command_id="late",
            issued_at=later,
            customer_id="c0",
            lines=(LINE, OrderLine(sku="B", quantity=1, unit_price=Decimal("0.05"))),
            shipping_address=ADDRESS,
        )
    )
    assert not (await runner.wait_for(PROJECTION_NAMES, await store.head_position(), 5)).stale
    return order_ids


async def _walk(queries: QueryBus, request: ListOrders) -> list[OrderPage]:
    pages = [await queries.ask(request)]
    while pages[-1].has_next_page:
        after = pages[-1].end_cursor
        pages.append(
            await queries.ask(
                ListOrders(
                    customer_id=request.customer_id,
                    status=request.status,
                    first=request.first,
                    after=after,
                )
            )
        )
    return pages


async def test_orders_list_newest_first_in_reverse_creation_order(world: World) -> None:
    pages = await _walk(world.queries, ListOrders(first=4))
    ids = [edge.node.id for page in pages for edge in page.edges]
    assert len(ids) == 26
    assert ids[1:] == list(reversed(world.order_ids))
    assert {page.total_count for page in pages} == {26}
    assert [len(page.edges) for page in pages] == [4] * 6 + [2]
    assert pages[-1].end_cursor == pages[-1].edges[-1].cursor
    newest = pages[0].edges[0].node
    assert newest.item_count == 2
    assert newest.total_amount == Decimal("7.55")
    assert [i.line_total for i in newest.items] == [Decimal("7.50"), Decimal("0.05")]


async def test_filters_by_customer_and_status_with_exact_counts(world: World) -> None:
    c0 = await _walk(world.queries, ListOrders(customer_id="c0", first=5))
    assert {page.total_count for page in c0} == {14}
    assert all(e.node.customer_id == "c0" for page in c0 for e in page.edges)
    cancelled = await world.queries.ask(ListOrders(status=OrderStatus.CANCELLED))
    assert [e.node.id for e in cancelled.edges] == [world.order_ids[0]]
    assert cancelled.edges[0].node.cancellation_reason == "r"
    none = await world.queries.ask(ListOrders(customer_id="c1", status=OrderStatus.SHIPPED))
    assert none == OrderPage(
        edges=(),
        has_previous_page=False,
        has_next_page=False,
        start_cursor=None,
        end_cursor=None,
        total_count=0,
    )


async def test_a_batch_of_list_requests_answers_like_each_request(world: World) -> None:
    requests = (
        ListOrders(customer_id="c0", first=3),
        ListOrders(customer_id="c1", first=100),
        ListOrders(status=OrderStatus.CONFIRMED),
        ListOrders(customer_id="c0", first=3),
        ListOrders(customer_id="nobody"),
    )
    batch = await world.queries.ask(ListOrdersBatch(requests=requests))
    assert batch == [await world.queries.ask(request) for request in requests]


async def test_orders_and_customers_by_id(world: World) -> None:
    first, missing, second = await world.queries.ask(
        GetOrders(order_ids=(world.order_ids[1], "missing", world.order_ids[0]))
    )
    assert first is not None
    assert second is not None
    assert missing is None
    assert (first.status, second.status) == (OrderStatus.CONFIRMED, OrderStatus.CANCELLED)
    assert await world.queries.ask(GetOrder(order_id=world.order_ids[1])) == first
    customer = await world.queries.ask(GetCustomer(customer_id="c0"))
    assert customer is not None
    assert customer.order_count == 14  # the cancelled order counts
    assert customer.total_spent == Decimal("7.50") * 12 + Decimal("7.55")
    assert customer.last_order_at == T0 + timedelta(days=3)
    assert await world.queries.ask(GetCustomer(customer_id="nobody")) is None


async def test_the_sales_report_is_bounded_and_ascending(world: World) -> None:
    day = T0.date()
    report = await world.queries.ask(GetSalesReport(from_date=day, to_date=day + timedelta(days=3)))
    assert [(r.date, r.orders_placed, r.orders_cancelled, r.revenue) for r in report] == [
        (day, 25, 1, Decimal("7.50") * 24),
        (day + timedelta(days=3), 1, 0, Decimal("7.55")),
    ]
    inner = await world.queries.ask(
        GetSalesReport(from_date=day + timedelta(days=1), to_date=day + timedelta(days=2))
    )
    assert inner == []
    year = await world.queries.ask(GetSalesReport(from_date=day, to_date=day + timedelta(days=366)))
    assert len(year) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ListOrders(first=0), "first"),
        (ListOrders(first=101), "first"),
        (ListOrders(after="not a cursor"), "after"),
        (ListOrders(after="bm90fGF8Y3Vyc29y"), "after"),
        (ListOrdersBatch(requests=(ListOrders(), ListOrders(first=-1))), "first"),
        (GetSalesReport(from_date=date(2024, 3, 2), to_date=date(2024, 3, 1)), "fromDate"),
        (GetSalesReport(from_date=date(2024, 1, 1), to_date=date(2025, 1, 2)), "toDate"),
    ],
)
async def test_invalid_queries_are_refused(world: World, query: Query[object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await world.queries.ask(query)
    assert refused.value.field == field
    assert refused.value.code == "BAD_USER_INPUT"


async def test_the_bus_lists_projections_and_refuses_unknown_queries(world: World) -> None:
    statuses = await world.queries.ask(ListProjections())
    assert [s.name for s in statuses] == list(PROJECTION_NAMES)
    assert {(s.state, s.lag) for s in statuses} == {(ProjectionState.RUNNING, 0)}

    @dataclass(frozen=True, kw_only=True, slots=True)
    class Unknown(Query[int]):
        pass

    with pytest.raises(LookupError, match="Unknown"):
        await world.queries.ask(Unknown())
