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
from readmodels.readers.orders import order_from_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from types import TracebackType

    from readmodels.dto import Change, OrderView
    from readmodels.projections.order_views import CommittedRows
    from readmodels.querybus import QueryBus


class ChangeSubscription:
    """One subscriber's queue of changes; an async iterator and an async context manager.

    It is registered when created, so a subscriber that reads the current view after subscribing
    misses nothing. When the queue is full the oldest change is dropped (and counted in
    `dropped`): a slow subscriber never blocks the runner. A subscription taken with `order_id`
    receives only the changes of `projection` that touched that order.
    """

    def __init__(
        self,
        hub: ChangeHub,
        maxsize: int,
        key: tuple[str, str] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._queue: asyncio.Queue[Change] = asyncio.Queue(maxsize)
        self.key = key
        self.dropped = 0
        self.offered = 0

    def offer(self, change: Change) -> None:
        """Queue `change`, dropping the oldest queued change if the queue is full."""
        self.offered += 1
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(change)

    async def get(self) -> Change:
        """The next change, waiting for one."""
        return await self._queue.get()

    async def latest(self) -> Change:
        """The newest change queued, waiting for one; those before it are skipped (latest-state:
        for a subscriber that re-reads the current view, the older ones add nothing)."""
        change = await self._queue.get()
        while not self._queue.empty():
            change = self._queue.get_nowait()
            self._hub.skipped += 1
        return change

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
    """Routes each published change to the subscriptions it can affect: those keyed by
    (projection, order id) for the orders it touched, and the unkeyed ones (which take every
    change). A publish costs O(orders touched + their watchers + unkeyed subscriptions), never
    O(every subscription in the process). `on_subscribe` is called after each subscription is
    registered (the SQLite peer watch starts following other processes then)."""

    def __init__(self, on_subscribe: Callable[[], None] | None = None) -> None:
        self._everything: set[ChangeSubscription] = set()
        self._keyed: dict[tuple[str, str], set[ChangeSubscription]] = {}
        self._on_subscribe = on_subscribe
        self.offers = 0
        """Changes handed to a subscription, all told (the routing tests count it)."""
        self.skipped = 0
        """Changes a subscriber skipped for a newer one (`latest`), all told."""

    def subscribe(
        self, maxsize: int = 256, *, projection: str | None = None, order_id: str | None = None
    ) -> ChangeSubscription:
        """A new subscription, registered at once: to every change, or with `order_id` (and
        `projection`) only to that projection's changes that touched that order."""
        if order_id is None:
            subscription = ChangeSubscription(self, maxsize)
            self._everything.add(subscription)
        else:
            if projection is None:
                raise ValueError("a subscription by order names its projection")
            key = (projection, order_id)
            subscription = ChangeSubscription(self, maxsize, key)
            self._keyed.setdefault(key, set()).add(subscription)
        if self._on_subscribe is not None:
            self._on_subscribe()
        return subscription

    def discard(self, subscription: ChangeSubscription) -> None:
        key = subscription.key
        if key is None:
            self._everything.discard(subscription)
            return
        watchers = self._keyed.get(key)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self._keyed[key]

    def publish(self, change: Change) -> None:
        """Hand `change` to every subscription it can affect, without waiting."""
        for subscription in self._everything:
            subscription.offer(change)
        offers = len(self._everything)
        keyed = self._keyed
        if keyed:
            projection = change.projection
            for order_id in change.order_ids:
                watchers = keyed.get((projection, order_id))
                if watchers:
                    for subscription in watchers:
                        subscription.offer(change)
                    offers += len(watchers)
        self.offers += offers

    @property
    def listened(self) -> bool:
        """Whether any subscription is open (in constant time)."""
        return bool(self._everything or self._keyed)

    def watchers(self, projection: str, order_id: str) -> int:
        """How many subscriptions follow `order_id` in `projection`."""
        return len(self._keyed.get((projection, order_id), ()))

    def __len__(self) -> int:
        return len(self._everything) + sum(len(w) for w in self._keyed.values())


class SharedOrderReads:
    """One read of an order's view per committed change, shared by every subscriber to it:
    a change seen by 1,000 `orderUpdated` subscribers costs one query, not 1,000.

    `query_bus` is the live feeds' bus (`QueryBus.following`): it reads at least what the views
    database has applied when asked, so a change a feed was told of is in the view it reads, on
    a replica too."""

    def __init__(
        self, query_bus: QueryBus, size: int = 1024, committed: CommittedRows | None = None
    ) -> None:
        self.query_bus = query_bus
        self._size = size
        self._committed = committed
        self._reads: OrderedDict[tuple[str, int], asyncio.Future[OrderView | None]] = OrderedDict()

    async def current(self, order_id: str) -> OrderView | None:
        """The order's view as it is now (not shared)."""
        return await self.query_bus.ask(GetOrder(order_id=order_id))

    def committed(self, order_id: str, position: int) -> OrderView | None:
        """The order's view as the batch with its event at `position` committed it, when this
        process wrote it and still holds the row (`committed`); None: read it instead."""
        row = None if self._committed is None else self._committed.row(order_id, position)
        return None if row is None else order_from_row(row)

    async def view(self, order_id: str, position: int) -> OrderView | None:
        """The order's view as read once the change at `position` was committed."""
        key = (order_id, position)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self.query_bus.ask(GetOrder(order_id=order_id)))
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
    belongs to another customer than `acting_customer` (when given), is OrderNotFound (the same
    message either way)."""
    subscription = changes.subscribe(projection=OrderViewsProjection.name, order_id=order_id)
    try:
        view = await reads.current(order_id)
        if view is None or (acting_customer is not None and view.customer_id != acting_customer):
            raise OrderNotFound(order_id)
        last_sent = view.position
        if after_position is not None:
            last_sent = min(last_sent, after_position)
        if view.position > last_sent:
            last_sent = view.position
            yield view
        while True:
            change = await subscription.latest()
            view = await reads.view(order_id, change.position)
            if view is not None and view.position > last_sent:
                last_sent = view.position
                yield view
    finally:
        subscription.close()


__all__ = ["ChangeHub", "ChangeSubscription", "SharedOrderReads", "order_feed"]
