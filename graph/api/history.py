"""`Order.history`: what happened to an order, read from the order_history projection.

The field hangs off `Order`, so whoever may see the order may see its history, and nothing else
exposes it. The history must agree with the view it hangs off: when order_history has not yet
applied the view's position (the runner applies the views in its own transactions, e.g. to a
separate views database), the field waits for it, as a read with `minPosition` would (at most the
server's default wait, reported in `extensions.freshness`), and it leaves out any event newer than
the view. Reads go through the request's DataLoader: a page of orders selecting `history` costs
one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry

from graph.api.context import Info
from graph.api.reads import wait_for_projections
from graph.api.scalars import Position
from readmodels.projections.order_history import OrderHistoryProjection

if TYPE_CHECKING:
    from readmodels.dto import OrderView

ORDER_HISTORY = OrderHistoryProjection.name

HISTORY_DESCRIPTION = (
    "What happened to the order, oldest first: one entry per event, up to this view's `version`."
)


@strawberry.type(description="One event of an order's history.")
class OrderHistoryEntry:
    """Its source is the reader's `OrderHistoryEntryView`, whose attributes carry these names."""

    type: str = strawberry.field(description="The event's name, such as `ItemAdded`.")
    version: int = strawberry.field(description="The order's version once this event applied.")
    position: Position = strawberry.field(description="The event's global position.")
    occurred_at: datetime
    summary: str = strawberry.field(
        description="What happened, for people: "
        '"added 2 \N{MULTIPLICATION SIGN} KB-MECH-87 at 89.00".'
    )


async def order_history(root: OrderView, info: Info) -> list[OrderHistoryEntry]:
    """The order's entries up to the view's position. A view row damaged in the database may
    have no position: then nothing is waited for and every entry is returned, as read (the same
    for an entry without one), so the field answers what is there instead of raising."""
    context = info.context
    upto: int | None = root.position
    if upto is not None and context.runner.position(ORDER_HISTORY) < upto:
        await wait_for_projections(context, (ORDER_HISTORY,), upto, None)
    entries = await context.loaders.order_history.load(root.id)
    return [cast("OrderHistoryEntry", e) for e in entries if _within(e.position, upto)]


def _within(position: int | None, upto: int | None) -> bool:
    return position is None or upto is None or position <= upto


__all__ = ["HISTORY_DESCRIPTION", "ORDER_HISTORY", "OrderHistoryEntry", "order_history"]
