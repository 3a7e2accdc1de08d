"""Subscriptions, pushed from the projection runner's change feed (never polled)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.rules import check_id
from graph.api.access import ADMIN, principal, require
from graph.api.context import Info, given
from graph.api.freshness import require_projection_name
from graph.api.scalars import Position
from graph.api.types import Order, Projection
from readmodels.feed import order_feed

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
    caller = principal(info)
    check_id(id, "id")
    feed = order_feed(
        info.context.runner.changes,
        info.context.order_reads,
        id,
        after_position=given(after_position),
        acting_customer=caller.acting_customer,
    )
    async for view in feed:
        yield Order.from_dto(view)


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
