"""Following one order with no task per follower: one hub subscription, one task and one read
per change for every follower of the order, each follower offered the view synchronously.

`follow_order` keeps `order_feed`'s guarantees (readmodels/feed.py): the follower is registered
before the first read, so a change committed in between is still offered; a view newer than
`after_position` is delivered at once; positions strictly increase; an order that does not
exist (in the view as read when following starts: the caller waits for the view to reach the
client's `after_position` first), or belongs to another customer than `acting_customer`, is
OrderNotFound, with the same message either way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from domain.errors import OrderNotFound
from readmodels.projections.order_views import OrderViewsProjection

if TYPE_CHECKING:
    from collections.abc import Callable

    from readmodels.dto import OrderView
    from readmodels.feed import ChangeHub, ChangeSubscription, SharedOrderReads

log = logging.getLogger("ordergraph.live")


class OrderFollower:
    """Delivers each newer view of one order to `deliver` (synchronously, in position order)."""

    __slots__ = ("_deliver", "last_sent", "pending")

    def __init__(self, deliver: Callable[[OrderView], None]) -> None:
        self._deliver = deliver
        self.last_sent: int | None = None  # None until the first read settled it
        self.pending: OrderView | None = None

    def offer(self, view: OrderView) -> None:
        if self.last_sent is None:  # still reading the current view: keep the newest
            if self.pending is None or view.position > self.pending.position:
                self.pending = view
            return
        if view.position > self.last_sent:
            self.last_sent = view.position
            self._deliver(view)


class _Followed:
    """One followed order: its subscription, its task and its followers."""

    def __init__(self, subscription: ChangeSubscription) -> None:
        self.subscription = subscription
        self.followers: set[OrderFollower] = set()
        self.task: asyncio.Task[None] | None = None


class OrderFollowers:
    """The followed orders of one hub (the composition root builds one per hub); its length is
    the number of followers."""

    def __init__(self, hub: ChangeHub, reads: SharedOrderReads) -> None:
        self._hub = hub
        self.reads = reads
        self._orders: dict[str, _Followed] = {}

    def add(self, order_id: str, follower: OrderFollower) -> None:
        followed = self._orders.get(order_id)
        if followed is None:
            subscription = self._hub.subscribe(
                projection=OrderViewsProjection.name, order_id=order_id
            )
            followed = self._orders[order_id] = _Followed(subscription)
            loop = asyncio.get_running_loop()
            followed.task = loop.create_task(self._run(order_id, followed))
        followed.followers.add(follower)

    def remove(self, order_id: str, follower: OrderFollower) -> None:
        followed = self._orders.get(order_id)
        if followed is None:
            return
        followed.followers.discard(follower)
        if not followed.followers:
            del self._orders[order_id]
            followed.subscription.close()
            if followed.task is not None:
                followed.task.cancel()

    def __len__(self) -> int:
        return sum(len(f.followers) for f in self._orders.values())

    async def _run(self, order_id: str, followed: _Followed) -> None:
        while True:
            change = await followed.subscription.latest()
            try:
                view = await self.reads.view(order_id, change.position)
            except Exception:
                log.exception("live: reading order %s at %d failed", order_id, change.position)
                continue
            if view is None:
                continue
            for follower in list(followed.followers):
                try:
                    follower.offer(view)
                except Exception:
                    log.exception("live: a follower of order %s failed", order_id)


async def follow_order(
    followers: OrderFollowers,
    order_id: str,
    deliver: Callable[[OrderView], None],
    *,
    after_position: int | None,
    acting_customer: str | None,
) -> None:
    """Deliver the order's views as they change until cancelled (see the module docstring)."""
    follower = OrderFollower(deliver)
    followers.add(order_id, follower)
    try:
        view = await followers.reads.current(order_id)
        if view is None or (acting_customer is not None and view.customer_id != acting_customer):
            raise OrderNotFound(order_id)
        last_sent = view.position
        if after_position is not None:
            last_sent = min(last_sent, after_position)
        follower.last_sent = last_sent
        follower.offer(view)
        pending, follower.pending = follower.pending, None
        if pending is not None:
            follower.offer(pending)
        await asyncio.Event().wait()  # until cancelled
    finally:
        followers.remove(order_id, follower)


__all__ = [
    "OrderFollower",
    "OrderFollowers",
    "follow_order",
]
