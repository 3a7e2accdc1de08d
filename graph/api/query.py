"""Queries: wait for the projections behind the field when asked, then dispatch a read query."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import strawberry

from domain.errors import ValidationFailed
from domain.rules import check_id
from graph.api.access import ADMIN, STAFF, listed_customer, may_see_customer, principal, require
from graph.api.arguments import CustomerFilter, MinPosition, StatusFilter, TimeoutMs
from graph.api.context import Info, given
from graph.api.freshness import CUSTOMER_SUMMARIES, DAILY_SALES, ORDER_VIEWS
from graph.api.paging import After, Before, First, Last, asks_for_total, page_sizes
from graph.api.reads import answer
from graph.api.types import (
    Customer,
    DailySales,
    Order,
    OrderConnection,
    Projection,
    domain_status,
)
from readmodels.queries import GetCustomer, GetOrder, GetSalesReport, ListOrders, ListProjections

# The contract documents minPosition/timeoutMs once, on the first read field.
ORDER_DESCRIPTION = (
    "Every read field that takes `minPosition` waits until the projections behind it have "
    "applied that position, at most `timeoutMs` (server default and cap apply). On timeout it "
    "answers with what the read model holds, and the response's `extensions.freshness.stale` "
    "is true."
)
ORDER_ID_DESCRIPTION = (
    "The order's id (a `createOrder` result's `orderId`). The field is null when no such order "
    "exists, or when the caller may not see it (a customer sees only its own)."
)
ORDERS_DESCRIPTION = (
    "Orders, newest placed first (createdAt, then id, both descending), as a Relay connection: "
    "page forward with `first` and `after`, backward with `last` and `before`. Ask for "
    "`totalCount` only when you show it: counting costs more than the page."
)
CUSTOMER_DESCRIPTION = (
    "A customer's summary (orders placed, money spent, last order) and its orders; null when "
    "the customer has no order, or is not the caller."
)
CUSTOMER_ID_DESCRIPTION = "The customer's id, as orders carry it in `customerId`."
SALES_REPORT_DESCRIPTION = (
    "Orders placed, orders cancelled and revenue per UTC day of placing, oldest day first; a "
    "day with no orders is absent. Staff only."
)
FROM_DATE_DESCRIPTION = "The first day, an ISO date such as `2024-01-31`."
TO_DATE_DESCRIPTION = "The last day (included), at most 366 days after `fromDate`."
PROJECTIONS_DESCRIPTION = (
    "Every projection: its state and how far it has applied the event log. Admin only."
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
    id: Annotated[strawberry.ID, strawberry.argument(description=ORDER_ID_DESCRIPTION)],
    min_position: MinPosition = strawberry.UNSET,
    timeout_ms: TimeoutMs = strawberry.UNSET,
) -> Order | None:
    caller = principal(info)
    check_id(id, "id")
    view = await answer(info, ORDER_VIEWS, GetOrder(order_id=id), min_position, timeout_ms)
    if view is None or not may_see_customer(caller, view.customer_id):
        return None
    return Order.from_dto(view)


async def _orders(
    info: Info,
    customer_id: CustomerFilter = strawberry.UNSET,
    status: StatusFilter = strawberry.UNSET,
    first: First = 20,
    after: After = strawberry.UNSET,
    last: Last = strawberry.UNSET,
    before: Before = strawberry.UNSET,
    min_position: MinPosition = strawberry.UNSET,
    timeout_ms: TimeoutMs = strawberry.UNSET,
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


async def _customer(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description=CUSTOMER_ID_DESCRIPTION)],
    min_position: MinPosition = strawberry.UNSET,
    timeout_ms: TimeoutMs = strawberry.UNSET,
) -> Customer | None:
    check_id(id, "id")
    if not may_see_customer(principal(info), id):
        return None
    query = GetCustomer(customer_id=id)
    view = await answer(info, CUSTOMER_SUMMARIES, query, min_position, timeout_ms)
    return None if view is None else Customer.from_dto(view)


async def _sales_report(
    info: Info,
    from_date: Annotated[str, strawberry.argument(description=FROM_DATE_DESCRIPTION)],
    to_date: Annotated[str, strawberry.argument(description=TO_DATE_DESCRIPTION)],
    min_position: MinPosition = strawberry.UNSET,
    timeout_ms: TimeoutMs = strawberry.UNSET,
) -> list[DailySales]:
    require(info, STAFF, "read the sales report")
    query = GetSalesReport(
        from_date=_iso_date(from_date, "fromDate"), to_date=_iso_date(to_date, "toDate")
    )
    days = await answer(info, DAILY_SALES, query, min_position, timeout_ms)
    return [DailySales.from_dto(day) for day in days]


async def _projections(info: Info) -> list[Projection]:
    require(info, ADMIN, "read projection status")
    statuses = await info.context.query_bus.ask(ListProjections())
    return [Projection.from_dto(status) for status in statuses]


@strawberry.type
class Query:
    order: Order | None = strawberry.field(resolver=_order, description=ORDER_DESCRIPTION)
    orders: OrderConnection = strawberry.field(resolver=_orders, description=ORDERS_DESCRIPTION)
    customer: Customer | None = strawberry.field(
        resolver=_customer, description=CUSTOMER_DESCRIPTION
    )
    sales_report: list[DailySales] = strawberry.field(
        resolver=_sales_report, description=SALES_REPORT_DESCRIPTION
    )
    projections: list[Projection] = strawberry.field(
        resolver=_projections, description=PROJECTIONS_DESCRIPTION
    )


__all__ = ["Query"]
