"""Queries: wait for the projections behind the field when asked, then dispatch a read query."""

from __future__ import annotations

import re
from datetime import date

import strawberry

from domain.errors import ValidationFailed
from domain.rules import check_id
from graph.api.access import ADMIN, STAFF, listed_customer, may_see_customer, principal, require
from graph.api.context import Info, given
from graph.api.freshness import CUSTOMER_SUMMARIES, DAILY_SALES, ORDER_VIEWS
from graph.api.paging import Before, Last, asks_for_total, page_sizes
from graph.api.reads import answer
from graph.api.scalars import Position
from graph.api.types import (
    Customer,
    DailySales,
    Order,
    OrderConnection,
    OrderStatus,
    Projection,
    domain_status,
)
from readmodels.queries import GetCustomer, GetOrder, GetSalesReport, ListOrders, ListProjections

MIN_POSITION_DESCRIPTION = (
    "Every read field that takes `minPosition` waits until the projections behind it have "
    "applied\nthat position, at most `timeoutMs` (server default and cap apply). On timeout it "
    "answers with\nwhat the read model holds, and the response's `extensions.freshness.stale` "
    "is true."
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: str, field: str) -> date:
    if _ISO_DATE.fullmatch(value) is not None:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(f"{field} must be an ISO date such as 2024-01-31", field=field)


async def _order(
    info: Info,
    id: strawberry.ID,
    min_position: Position | None = strawberry.UNSET,
    timeout_ms: int | None = strawberry.UNSET,
) -> Order | None:
    caller = principal(info)
    check_id(id, "id")
    view = await answer(info, ORDER_VIEWS, GetOrder(order_id=id), min_position, timeout_ms)
    if view is None or not may_see_customer(caller, view.customer_id):
        return None
    return Order.from_dto(view)


@strawberry.type
class Query:
    # The contract documents minPosition/timeoutMs once, on the first read field.
    order: Order | None = strawberry.field(resolver=_order, description=MIN_POSITION_DESCRIPTION)

    @strawberry.field
    async def orders(
        self,
        info: Info,
        customer_id: strawberry.ID | None = strawberry.UNSET,
        status: OrderStatus | None = strawberry.UNSET,
        first: int | None = 20,
        after: str | None = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
        min_position: Position | None = strawberry.UNSET,
        timeout_ms: int | None = strawberry.UNSET,
    ) -> OrderConnection:
        wanted_customer = listed_customer(principal(info), given(customer_id), "list")
        wanted_first, wanted_last = page_sizes(info, first, given(last))
        query = ListOrders(
            customer_id=wanted_customer,
            status=domain_status(given(status)),
            first=wanted_first,
            after=given(after),
            last=wanted_last,
            before=given(before),
            with_total=asks_for_total(info),
        )
        page = await answer(info, ORDER_VIEWS, query, min_position, timeout_ms)
        return OrderConnection.from_dto(page)

    @strawberry.field
    async def customer(
        self,
        info: Info,
        id: strawberry.ID,
        min_position: Position | None = strawberry.UNSET,
        timeout_ms: int | None = strawberry.UNSET,
    ) -> Customer | None:
        check_id(id, "id")
        if not may_see_customer(principal(info), id):
            return None
        query = GetCustomer(customer_id=id)
        view = await answer(info, CUSTOMER_SUMMARIES, query, min_position, timeout_ms)
        return None if view is None else Customer.from_dto(view)

    @strawberry.field
    async def sales_report(
        self,
        info: Info,
        from_date: str,
        to_date: str,
        min_position: Position | None = strawberry.UNSET,
        timeout_ms: int | None = strawberry.UNSET,
    ) -> list[DailySales]:
        require(info, STAFF, "read the sales report")
        query = GetSalesReport(
            from_date=_iso_date(from_date, "fromDate"), to_date=_iso_date(to_date, "toDate")
        )
        days = await answer(info, DAILY_SALES, query, min_position, timeout_ms)
        return [DailySales.from_dto(day) for day in days]

    @strawberry.field
    async def projections(self, info: Info) -> list[Projection]:
        require(info, ADMIN, "read projection status")
        statuses = await info.context.query_bus.ask(ListProjections())
        return [Projection.from_dto(status) for status in statuses]


__all__ = ["Query"]
