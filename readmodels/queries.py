"""Read-side queries: frozen questions, each typed with the answer its handler returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from domain.values import OrderStatus
from readmodels.dto import CustomerView, DailySalesView, OrderPage, OrderView, ProjectionStatus

R = TypeVar("R")


@dataclass(frozen=True, kw_only=True, slots=True)
class Query(Generic[R]):
    """A question for the read side; `R` is what `QueryBus.ask` answers."""


@dataclass(frozen=True, kw_only=True, slots=True)
class GetOrder(Query[OrderView | None]):
    order_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GetOrders(Query[list[OrderView | None]]):
    """Several orders in one SQL query, answered in the order asked (None where missing)."""

    order_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ListOrders(Query[OrderPage]):
    """A page of orders, newest first, optionally of one customer and/or in one status.

    Relay's arguments: `first` orders after the cursor `after`, or the `last` orders before the
    cursor `before` (`after` with `before` is a window between two cursors). `first` and `last`
    together are refused; with neither, the page is the first 20."""

    customer_id: str | None = None
    status: OrderStatus | None = None
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    with_total: bool = True
    """Count every order the filter matches (a count is the costly part of a large listing)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class OrdersChangedSince(Query[list[OrderView]]):
    """Views changed after `after_position` (optionally of one customer; with a status, in it or
    in a later one: departures), by position, at most `first`: the catch-up of a live list."""

    after_position: int
    customer_id: str | None = None
    status: OrderStatus | None = None
    first: int = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class ListOrdersBatch(Query[list[OrderPage]]):
    """Many `ListOrders` at once, in a constant number of SQL queries (for DataLoaders)."""

    requests: tuple[ListOrders, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class GetCustomer(Query[CustomerView | None]):
    customer_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GetCustomers(Query[list[CustomerView | None]]):
    customer_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class GetSalesReport(Query[list[DailySalesView]]):
    """Days in [from_date, to_date] with orders placed, ascending; at most 366 days apart."""

    from_date: date
    to_date: date


@dataclass(frozen=True, kw_only=True, slots=True)
class ListProjections(Query[list[ProjectionStatus]]):
    pass


__all__ = [
    "GetCustomer",
    "GetCustomers",
    "GetOrder",
    "GetOrders",
    "GetSalesReport",
    "ListOrders",
    "ListOrdersBatch",
    "ListProjections",
    "OrdersChangedSince",
    "Query",
]
