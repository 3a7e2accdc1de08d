"""Subscriptions, pushed from the projection runner's change feed (never polled).

`orderUpdated` and `ordersChanged` hand their views to the transport's live sink when it gives
one (one execution and one encoded frame per change for every subscriber sharing a document,
its variables and visibility: graph/api/live/sink.py), and yield them otherwise."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import strawberry

from domain.rules import check_id
from graph.api.access import ADMIN, listed_customer, principal, require
from graph.api.arguments import AfterPosition, CustomerFilter
from graph.api.context import Info, given
from graph.api.freshness import ORDER_VIEWS, require_projection_name, timeout_seconds
from graph.api.live.sink import live_sink
from graph.api.scalars import Position
from graph.api.types import Order, OrderStatus, Projection, domain_status
from readmodels.dto import OrderView
from readmodels.feed import order_feed
from readmodels.live.lists import follow_list, orders_changed_feed
from readmodels.live.orders import follow_order

ORDER_UPDATED_DESCRIPTION = (
    "The order's new view, each time the projection applies a change to it. With `afterPosition` "
    "(say, the `position` of a view the client just read), a view newer than it is sent at once, "
    "so no change between that read and this subscription is missed."
)
ORDERS_CHANGED_DESCRIPTION = (
    "Every order whose view changes and matches the filter (a customer, a status), in position "
    "order. With `afterPosition` (say, the largest `position` of a list the client just read), "
    "the views changed since then are sent first, then the live changes, with no gap and no "
    "duplicate. With a status, the change that takes an order out of it is sent too, with the "
    "order's new state (another status): drop it from the list. After that the order is sent "
    "again only if it matches again. Such a departure may name an order the list never had (one "
    "that passed through the status unseen, or before `afterPosition`): ignore an unknown id. "
    "A customer sees only its own orders (another `customerId` is FORBIDDEN)."
)
PROJECTION_UPDATED_DESCRIPTION = (
    "A projection's status, each time its position advances (all projections when name is omitted)."
)
FOLLOWED_ORDER_DESCRIPTION = (
    "The order to follow. One that does not exist, or that the caller may not see, ends the "
    "subscription with NOT_FOUND (the same error for both)."
)
ORDER_AFTER_POSITION_DESCRIPTION = (
    "The `position` of the view the client holds: a newer view is sent at once, so nothing "
    "between that read and this subscription is missed."
)
STATUS_FOLLOWED_DESCRIPTION = (
    "Only orders in this status, plus the change that takes one out of it (drop that order)."
)
PROJECTION_FOLLOWED_DESCRIPTION = "Only this projection, such as `order_views`; else every one."


async def _deliver(info: Info, feed: AsyncIterator[OrderView]) -> AsyncGenerator[Order, None]:
    """Yield the feed's views, or hand them to the transport's live sink when it has one."""
    sink = live_sink(info)
    if sink is None:
        async for view in feed:
            yield Order.from_dto(view)
        return
    async for view in feed:
        await sink.send(view)


async def order_updated(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description=FOLLOWED_ORDER_DESCRIPTION)],
    after_position: Annotated[
        Position | None, strawberry.argument(description=ORDER_AFTER_POSITION_DESCRIPTION)
    ] = strawberry.UNSET,
) -> AsyncGenerator[Order, None]:
    """Push the order's view each time order_views changes it; race-free with afterPosition.
    An order that does not exist, or that the caller may not see, ends it with NOT_FOUND (the
    same error for both), decided once order_views has applied afterPosition (at most the
    server's default wait; the socket's session minimum too, when larger): an order created at
    or before that position is never missing."""
    caller = principal(info)
    check_id(id, "id")
    after = given(after_position)
    applied = info.context.session.at_least(after)  # the socket's minimum position too
    if applied is not None:
        await info.context.runner.wait_for(
            (ORDER_VIEWS,), applied, timeout_seconds(info.context.settings, None)
        )
    sink = live_sink(info)
    if sink is not None:  # one follower task per order offers the views: none per subscriber
        await follow_order(
            info.context.live.orders,
            id,
            sink.deliver,
            after_position=after,
            acting_customer=caller.acting_customer,
        )
        return
    feed = order_feed(
        info.context.runner.changes,
        info.context.order_reads,
        id,
        after_position=after,
        acting_customer=caller.acting_customer,
    )
    async for order in _deliver(info, feed):
        yield order


async def orders_changed(
    info: Info,
    customer_id: CustomerFilter = strawberry.UNSET,
    status: Annotated[
        OrderStatus | None, strawberry.argument(description=STATUS_FOLLOWED_DESCRIPTION)
    ] = strawberry.UNSET,
    after_position: AfterPosition = strawberry.UNSET,
) -> AsyncGenerator[Order, None]:
    """Push every order whose view changes and matches the filter; race-free with afterPosition."""
    wanted_customer = listed_customer(principal(info), given(customer_id), "follow")
    router = info.context.live.lists
    sink = live_sink(info)
    if sink is not None:  # the router hands the views over: no task per subscriber
        sink.in_order()
        await follow_list(
            router,
            sink,
            customer_id=wanted_customer,
            status=domain_status(given(status)),
            after_position=given(after_position),
        )
        return
    feed = orders_changed_feed(
        router,
        customer_id=wanted_customer,
        status=domain_status(given(status)),
        after_position=given(after_position),
    )
    async for order in _deliver(info, feed):
        yield order


async def projection_updated(
    info: Info,
    name: Annotated[
        str | None, strawberry.argument(description=PROJECTION_FOLLOWED_DESCRIPTION)
    ] = strawberry.UNSET,
) -> AsyncGenerator[Projection, None]:
    """Push a projection's status each time it commits a batch that changed rows."""
    require(info, ADMIN, "follow projections")
    wanted = given(name)
    if wanted is not None:
        require_projection_name(wanted)
    runner = info.context.runner
    subscription = runner.changes.subscribe()
    try:
        async for change in subscription:
            if wanted is not None and change.projection != wanted:
                continue
            for status in runner.status():
                if status.name == change.projection:
                    yield Projection.from_dto(status)
    finally:
        subscription.close()


@strawberry.type
class Subscription:
    order_updated: AsyncGenerator[Order, None] = strawberry.subscription(
        resolver=order_updated, description=ORDER_UPDATED_DESCRIPTION
    )
    orders_changed: AsyncGenerator[Order, None] = strawberry.subscription(
        resolver=orders_changed, description=ORDERS_CHANGED_DESCRIPTION
    )
    projection_updated: AsyncGenerator[Projection, None] = strawberry.subscription(
        resolver=projection_updated, description=PROJECTION_UPDATED_DESCRIPTION
    )


__all__ = ["Subscription", "order_updated", "orders_changed", "projection_updated"]
