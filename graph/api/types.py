"""The contract's output types and enums, each built from a read-side DTO with `from_dto`.

An order's DTOs (`OrderView`, its `OrderLineView`s and `Address`, `OrderEdgeView`) carry the
attribute names of `Order`, `OrderLine`, `Address` and `OrderEdge`, and `Order.status` serializes
by value, so they are the resolvers' sources as they are: Strawberry reads a field with
`getattr`, and a page of 100 orders needs no copy into 500 Strawberry objects.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, cast

import strawberry

from domain.values import OrderStatus as DomainOrderStatus
from graph.api.context import Info, given
from graph.api.freshness import ORDER_VIEWS
from graph.api.history import HISTORY_DESCRIPTION, OrderHistoryEntry, order_history
from graph.api.paging import (
    STATUS_FILTER_DESCRIPTION,
    After,
    Before,
    First,
    Last,
    asks_for_total,
    page_sizes,
)
from graph.api.reads import read, wait_for_projections
from graph.api.scalars import Position
from readmodels.dto import (
    CustomerView,
    DailySalesView,
    OrderPage,
    OrderView,
    ProjectionStatus,
)
from readmodels.queries import GetOrder, ListOrders


@strawberry.enum
class OrderStatus(Enum):
    PLACED = "PLACED"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


def domain_status(status: OrderStatus | None) -> DomainOrderStatus | None:
    return None if status is None else DomainOrderStatus(status.value)


@strawberry.enum
class ProjectionState(Enum):
    RUNNING = "RUNNING"
    REBUILDING = "REBUILDING"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


@strawberry.type
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Whether the list holds orders before this page's first edge."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor (null on an empty page)."
    )
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    counted: strawberry.Private[int | None]

    @strawberry.field
    def total_count(self) -> int:
        # The resolver asked for a count whenever this field is selected (asks_for_total).
        assert self.counted is not None
        return self.counted

    @classmethod
    def from_dto(cls, page: OrderPage) -> OrderConnection:
        return cls(
            # The edge DTOs are the sources of OrderEdge and Order (see the module docstring).
            edges=cast("list[OrderEdge]", page.edges),
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
            counted=page.total_count,
        )


@strawberry.type
class Customer:
    id: strawberry.ID
    order_count: int = strawberry.field(description="Orders ever placed, cancelled ones included.")
    total_spent: Decimal = strawberry.field(
        description="Sum of the totals of the customer's orders that are not cancelled."
    )
    last_order_at: datetime | None

    @strawberry.field
    async def orders(
        self,
        info: Info,
        status: Annotated[
            OrderStatus | None, strawberry.argument(description=STATUS_FILTER_DESCRIPTION)
        ] = strawberry.UNSET,
        first: First = 20,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> OrderConnection:
        wanted_first, wanted_last = page_sizes(info, first, given(last))
        query = ListOrders(
            customer_id=self.id,
            status=domain_status(given(status)),
            first=wanted_first,
            after=given(after),
            last=wanted_last,
            before=given(before),
            with_total=asks_for_total(info),
        )
        return OrderConnection.from_dto(await info.context.loaders.customer_orders.load(query))

    @classmethod
    def from_dto(cls, view: CustomerView) -> Customer:
        return cls(
            id=strawberry.ID(view.id),
            order_count=view.order_count,
            total_spent=view.total_spent,
            last_order_at=view.last_order_at,
        )


@strawberry.type
class Order:
    id: strawberry.ID
    customer_id: strawberry.ID
    status: OrderStatus
    items: list[OrderLine]
    item_count: int
    total_amount: Decimal
    shipping_address: Address
    tracking_number: str | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(
        description="The order stream's version that this view reflects."
    )
    position: Position = strawberry.field(
        description="Global position of the last event applied to this view."
    )
    history: list[OrderHistoryEntry] = strawberry.field(
        resolver=order_history, description=HISTORY_DESCRIPTION
    )

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        return Customer.from_dto(await info.context.loaders.customers.load(self.customer_id))

    @classmethod
    def from_dto(cls, view: OrderView) -> Order:
        """The view itself: it is the source of every `Order` field (see the module docstring)."""
        return cast("Order", view)


@strawberry.type(description="Sales per UTC day on which orders were placed.")
class DailySales:
    date: str
    orders_placed: int
    orders_cancelled: int
    revenue: Decimal = strawberry.field(
        description="Sum of the current totals of that day's orders that are not cancelled."
    )

    @classmethod
    def from_dto(cls, view: DailySalesView) -> DailySales:
        return cls(
            date=view.date.isoformat(),
            orders_placed=view.orders_placed,
            orders_cancelled=view.orders_cancelled,
            revenue=view.revenue,
        )


@strawberry.type(description="The event a failing projection is stuck on.")
class FailingEvent:
    position: Position | None = strawberry.field(
        description="The event's position; null when the failure is not one event's."
    )
    event_type: str | None
    error: str
    attempts: int = strawberry.field(description="Failed attempts at this event so far.")
    failed_at: datetime = strawberry.field(description="When the last attempt failed.")


@strawberry.type(description="An event an operator told a projection to pass over.")
class SkippedEvent:
    position: Position
    event_type: str | None = strawberry.field(description="Known when it was stuck on it.")
    error: str | None = strawberry.field(description="What applying it raised, when known.")
    skipped_at: datetime


async def _failing_event(root: Projection, info: Info) -> FailingEvent | None:
    failing = (await info.context.runner.failures()).get(root.name)
    if failing is None:
        return None
    return FailingEvent(
        position=None if failing.position is None else Position(failing.position),
        event_type=failing.event_type,
        error=failing.error,
        attempts=failing.attempts,
        failed_at=failing.failed_at,
    )


async def _skipped_events(root: Projection, info: Info) -> list[SkippedEvent]:
    return [
        SkippedEvent(
            position=Position(skip.position),
            event_type=skip.event_type,
            error=skip.error,
            skipped_at=skip.skipped_at,
        )
        for skip in await info.context.runner.skipped_events(root.name)
    ]


async def _state(root: Projection, info: Info) -> ProjectionState:
    if root.reported_state is ProjectionState.RUNNING and await _failing_event(root, info):
        return ProjectionState.FAILED  # failing in the process that runs it
    return root.reported_state


@strawberry.type
class Projection:
    name: str
    reported_state: strawberry.Private[ProjectionState]
    # As this process knows it, and FAILED when the process that runs it recorded a failure
    # (the contract gives the field no description).
    state: ProjectionState = strawberry.field(resolver=_state)
    position: Position = strawberry.field(
        description="Last global position this projection has applied."
    )
    head_position: Position = strawberry.field(description="Last global position in the event log.")
    lag: int = strawberry.field(description="headPosition - position.")
    last_error: str | None

    failing_event: FailingEvent | None = strawberry.field(
        resolver=_failing_event,
        description="The event it is stuck on, as recorded by the process that runs it "
        "(any process answers); null when it is not failing.",
    )
    skipped_events: list[SkippedEvent] = strawberry.field(
        resolver=_skipped_events, description="The events it was told to skip, oldest first."
    )

    @classmethod
    def from_dto(cls, status: ProjectionStatus) -> Projection:
        return cls(
            name=status.name,
            reported_state=ProjectionState(status.state.value),
            position=Position(status.position),
            head_position=Position(status.head_position),
            lag=status.lag,
            last_error=status.last_error,
        )


async def _command_result_order(root: CommandResult, info: Info) -> Order | None:
    """The row the command's own batch wrote when this process still holds it (no read-back),
    else the view read once order_views has applied the command's position (or the session's
    minimum, when it is larger)."""
    context = info.context
    newer = context.session.at_least(root.position) != root.position
    view = None if newer else context.order_reads.committed(root.order_id, root.position)
    if view is None:
        query = GetOrder(order_id=root.order_id)
        view = await read(context, ORDER_VIEWS, query, root.position, None)
    else:
        await wait_for_projections(context, (ORDER_VIEWS,), root.position, None)
    return None if view is None else Order.from_dto(view)


@strawberry.type(description="What a command did on the write side.")
class CommandResult:
    command_id: strawberry.ID
    order_id: strawberry.ID
    version: int = strawberry.field(description="The order stream's version after this command.")
    position: Position = strawberry.field(
        description=(
            "Global position of the last event this command appended: the read-your-writes token."
        )
    )
    order: Order | None = strawberry.field(
        resolver=_command_result_order,
        description=(
            "The order as the read model shows it once it has applied `position` "
            "(read-your-writes in one round trip)."
        ),
    )


__all__ = [
    "Address",
    "CommandResult",
    "Customer",
    "DailySales",
    "Order",
    "OrderConnection",
    "OrderEdge",
    "OrderLine",
    "OrderStatus",
    "PageInfo",
    "Projection",
    "ProjectionState",
    "domain_status",
]
