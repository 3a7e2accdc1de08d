"""Subscriptions, pushed from the projection runner's change feed (never polled)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.errors import OrderNotFound
from domain.rules import check_id
from graph.api.access import ADMIN, principal, require
from graph.api.context import Info, given
from graph.api.freshness import ORDER_VIEWS, require_projection_name
from graph.api.scalars import Position
from graph.api.types import Order, Projection
from readmodels.queries import GetOrder

ORDER_UPDATED_DESCRIPTION = (
    "The order's new view, each time the projection applies a change to it. With `afterPosition`\n"
    "(say, the `position` of a view the client just read), a view newer than it is sent at once,\n"
    "so no change between that read and this subscription is missed."
)
PROJECTION_UPDATED_DESCRIPTION = (
    "A projection's status, each time its position advances (all projections when name is omitted)."
)


async def order_updated(
    info: Info, id: strawberry.ID, after_position: Position | None = strawberry.UNSET
) -> AsyncGenerator[Order, None]:
    """Push the order's view each time order_views changes it; race-free with afterPosition."""
    context = info.context
    caller = principal(info)
    check_id(id, "id")
    # Subscribe before reading, so a change committed in between is still delivered.
    subscription = context.runner.changes.subscribe()
    try:
        view = await context.query_bus.ask(GetOrder(order_id=id))
        if caller.acting_customer is not None and (
            view is None or view.customer_id != caller.acting_customer
        ):
            raise OrderNotFound(id)
        last_sent = 0 if view is None else view.position
        after = given(after_position)
        if after is not None:
            last_sent = min(last_sent, after)
        if view is not None and view.position > last_sent:
            last_sent = view.position
            yield Order.from_dto(view)
        async for change in subscription:
            if change.projection != ORDER_VIEWS or id not in change.order_ids:
                continue
            view = await context.order_reads.view(id, change.position)
            if view is not None and view.position > last_sent:
                last_sent = view.position
                yield Order.from_dto(view)
    finally:
        subscription.close()


async def projection_updated(
    info: Info, name: str | None = strawberry.UNSET
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
    projection_updated: AsyncGenerator[Projection, None] = strawberry.subscription(
        resolver=projection_updated, description=PROJECTION_UPDATED_DESCRIPTION
    )


__all__ = ["Subscription", "order_updated", "projection_updated"]
