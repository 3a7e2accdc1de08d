"""What read-side queries answer: frozen DTOs, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.values import Address, OrderStatus


class ProjectionState(StrEnum):
    RUNNING = "RUNNING"
    REBUILDING = "REBUILDING"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderLineView:
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderView:
    """An order as the order_views projection last saw it; `position` is its last event's."""

    id: str
    customer_id: str
    status: OrderStatus
    items: tuple[OrderLineView, ...]
    item_count: int
    total_amount: Decimal
    shipping_address: Address
    tracking_number: str | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderEdgeView:
    cursor: str
    node: OrderView


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderPage:
    """One page of orders, newest first; `total_count` counts the whole filter (None when the
    query did not ask for it). `has_previous_page` / `has_next_page`: whether the filter holds
    orders before the page's first edge / after its last one."""

    edges: tuple[OrderEdgeView, ...]
    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None
    total_count: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerView:
    id: str
    order_count: int
    total_spent: Decimal
    last_order_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class DailySalesView:
    date: date
    orders_placed: int
    orders_cancelled: int
    revenue: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class FailingEvent:
    """The event a projection is stuck on: its position (None when the failure is not one
    event's, e.g. a lost connection), type, the error, and how many attempts have failed."""

    position: int | None
    event_type: str | None
    error: str
    attempts: int
    failed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedEvent:
    """An event an operator told a projection to pass over, and how it had failed."""

    position: int
    event_type: str | None
    error: str | None
    skipped_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ProjectionStatus:
    name: str
    state: ProjectionState
    position: int
    head_position: int
    lag: int
    last_error: str | None
    failing: FailingEvent | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WaitResult:
    """Whether `wait_for` gave up before every projection reached `requested`."""

    stale: bool
    requested: int
    reached: dict[str, int]


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchApplied:
    """A batch one projection committed: how many events, up to where, how long after commit."""

    projection: str
    events: int
    position: int
    seconds_after_commit: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """A committed batch of one projection: its new position and the orders it touched."""

    projection: str
    position: int
    order_ids: frozenset[str]


__all__ = [
    "BatchApplied",
    "Change",
    "CustomerView",
    "DailySalesView",
    "FailingEvent",
    "OrderEdgeView",
    "OrderLineView",
    "OrderPage",
    "OrderView",
    "ProjectionState",
    "ProjectionStatus",
    "SkippedEvent",
    "WaitResult",
]
