"""The live feed: change notifications (each subscriber gets a bounded queue that drops its
oldest entry), one shared read of an order's view per change, and the order feed a subscription
consumes."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING

from domain.errors import OrderNotFound
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.queries import GetOrder

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from types import TracebackType

    from readmodels.dto import Change, OrderView
    from readmodels.querybus import QueryBus


class ChangeSubscription:
    """One subscriber's queue of changes; an async iterator and an async context manager.

    It is registered when created, so a subscriber that reads the current view after subscribing
    misses nothing. When the queue is full the oldest change is dropped (and counted in
    `dropped`): a slow subscriber never blocks the runner.
    """

    def __init__(self, hub: ChangeHub, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._queue: asyncio.Queue[Change] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, change: Change) -> None:
        """Queue `change`, dropping the oldest queued change if the queue is full."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(change)

    async def get(self) -> Change:
        """The next change, waiting for one."""
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving changes."""
        self._hub.discard(self)

    def __aiter__(self) -> ChangeSubscription:
        return self

    async def __anext__(self) -> Change:
        return await self.get()

    async def __aenter__(self) -> ChangeSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ChangeHub:
    """Fans each published change out to every subscription."""

    def __init__(self) -> None:
        self._subscriptions: set[ChangeSubscription] = set()

    def subscribe(self, maxsize: int = 256) -> ChangeSubscription:
        """A new subscription, registered at once."""
        subscription = ChangeSubscription(self, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def discard(self, subscription: ChangeSubscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, change: Change) -> None:
        """Hand `change` to every subscriber without waiting."""
        for subscription in self._subscriptions:
            subscription.offer(change)

    def __len__(self) -> int:
        return len(self._subscriptions)


class SharedOrderReads:
    """One read of an order's view per committed change, shared by every subscriber to it:
    a change seen by 1,000 `orderUpdated` subscribers costs one query, not 1,000."""

    def __init__(self, query_bus: QueryBus, size: int = 1024) -> None:
        self._query_bus = query_bus
        self._size = size
        self._reads: OrderedDict[tuple[str, int], asyncio.Future[OrderView | None]] = OrderedDict()

    async def current(self, order_id: str) -> OrderView | None:
        """The order's view as it is now (not shared)."""
        return await self._query_bus.ask(GetOrder(order_id=order_id))

    async def view(self, order_id: str, position: int) -> OrderView | None:
        """The order's view as read once the change at `position` was committed."""
        key = (order_id, position)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self._query_bus.ask(GetOrder(order_id=order_id)))
            read.add_done_callback(lambda done: self._forget_failed(key, done))
            self._reads[key] = read
            while len(self._reads) > self._size:
                self._reads.popitem(last=False)
        # Shielded: one subscriber going away must not cancel the read the others wait for.
        return await asyncio.shield(read)

    def _forget_failed(self, key: tuple[str, int], read: asyncio.Future[OrderView | None]) -> None:
        if read.cancelled() or read.exception() is not None:
            self._reads.pop(key, None)


async def order_feed(
    changes: ChangeHub,
    reads: SharedOrderReads,
    order_id: str,
    *,
    after_position: int | None,
    acting_customer: str | None,
) -> AsyncIterator[OrderView]:
    """The order's view each time order_views changes it, race-free: the subscription is taken
    before the first read, so a change committed in between is still delivered. A view newer than
    `after_position` is sent at once; positions only increase. An order that does not exist, or
    belongs to another customer than `acting_customer` (when given), is OrderNotFound."""
    subscription = changes.subscribe()
    try:
        view = await reads.current(order_id)
        if acting_customer is not None and (view is None or view.customer_id != acting_customer):
            raise OrderNotFound(order_id)
        last_sent = 0 if view is None else view.position
        if after_position is not None:
            last_sent = min(last_sent, after_position)
        if view is not None and view.position > last_sent:
            last_sent = view.position
            yield view
        async for change in subscription:
            if change.projection != OrderViewsProjection.name or order_id not in change.order_ids:
                continue
            view = await reads.view(order_id, change.position)
            if view is not None and view.position > last_sent:
                last_sent = view.position
                yield view
    finally:
        subscription.close()


__all__ = ["ChangeHub", "ChangeSubscription", "SharedOrderReads", "order_feed"]
