"""Live lists: every order whose view changes and matches a filter, in position order.

One `ListRouter` per change hub (the composition root builds it) takes every order_views
change once, reads the views it touched in one query (shared by every list watcher) and routes
each view only to the watchers of its customer and to those watching every customer.
`orders_changed_feed` turns one watch into the race-free stream a subscription sends: the watch
is registered before the catch-up read (the views changed after `after_position`, from the view
table by position; without one, the position order_views has committed, read from the
database), and from then on a change at position P delivers the views with a position in (last
sent, P]; a view newer than P is left to the change that carries it. So there is no gap at the
seam, no duplicate, and positions strictly increase. A watch that falls behind (its queue
overflows, or a shared read fails) catches up from the table again, from its last sent position.
A list filtered by status is also sent the change that takes an order out of it (departures.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol

from readmodels.live.departures import StatusMemory, sent_to
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.queries import GetOrders, OrdersChangedSince

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

    from domain.values import OrderStatus
    from readmodels.dto import OrderView
    from readmodels.feed import ChangeHub, ChangeSubscription
    from readmodels.querybus import QueryBus

log = logging.getLogger("ordergraph.live")

CATCH_UP_PAGE = 500
_ORDER_VIEWS = OrderViewsProjection.name


class ListWatch:
    """One list subscriber's queue of (change position, views for it); bounded: on overflow it
    is emptied and flagged, and its feed catches up from the table."""

    def __init__(
        self, router: ListRouter, customer_id: str | None, status: OrderStatus | None, size: int
    ) -> None:
        self._router = router
        self.customer_id = customer_id
        self.status = status
        self._size = size
        self._queue: asyncio.Queue[tuple[int, tuple[OrderView, ...]]] = asyncio.Queue()
        self.behind = False
        self.overflows = 0
        self._direct: Callable[[int, tuple[OrderView, ...]], None] | None = None
        self._on_behind: Callable[[], None] | None = None

    def go_direct(
        self, direct: Callable[[int, tuple[OrderView, ...]], None], on_behind: Callable[[], None]
    ) -> None:
        """From now on hand each change to `direct` synchronously (no queue, no task)."""
        self._direct, self._on_behind = direct, on_behind

    def go_queued(self) -> None:
        self._direct = self._on_behind = None

    def take(self) -> list[tuple[int, tuple[OrderView, ...]]]:
        """What is queued, emptied."""
        taken = []
        while not self._queue.empty():
            taken.append(self._queue.get_nowait())
        return taken

    def matches(self, view: OrderView, before: OrderStatus | None) -> bool:
        """Whether this list is sent `view`, the order's status before its change being
        `before` (None: not known): see departures.py."""
        return self.status is None or sent_to(self.status, view.status, before)

    def offer(self, position: int, views: tuple[OrderView, ...]) -> None:
        if self._direct is not None:
            self._direct(position, views)
            return
        if self._queue.qsize() >= self._size:
            self.fell_behind()
            return
        self._queue.put_nowait((position, views))

    def fell_behind(self) -> None:
        """Drop what is queued: the feed re-reads the table from its last sent position."""
        if self._on_behind is not None:
            self._on_behind()
            return
        while not self._queue.empty():
            self._queue.get_nowait()
        self.behind = True
        self.overflows += 1
        self._queue.put_nowait((0, ()))  # wake the feed

    async def get(self) -> tuple[int, tuple[OrderView, ...]]:
        return await self._queue.get()

    def close(self) -> None:
        self._router.discard(self)


class ListRouter:
    """Routes order_views changes to list watches by customer, one shared read per change.
    `committed` reads the position order_views has committed in the database now (other
    processes' batches included, which this process may publish only later): where a list
    asked without `after_position` starts."""

    def __init__(
        self,
        hub: ChangeHub,
        query_bus: QueryBus,
        committed: Callable[[], Awaitable[int]],
        *,
        queue_size: int = 256,
    ) -> None:
        self._hub = hub
        self.query_bus = query_bus
        self.committed = committed
        self._queue_size = queue_size
        self._by_customer: dict[str, set[ListWatch]] = {}
        self._everyone: set[ListWatch] = set()
        self._subscription: ChangeSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.statuses = StatusMemory()
        self.reads = 0
        """Shared reads of changed views (one per change while anyone watches a list)."""

    def watch(self, customer_id: str | None, status: OrderStatus | None) -> ListWatch:
        """A watch registered at once (before any read its feed makes)."""
        watch = ListWatch(self, customer_id, status, self._queue_size)
        if customer_id is None:
            self._everyone.add(watch)
        else:
            self._by_customer.setdefault(customer_id, set()).add(watch)
        if self._subscription is None:
            self._subscription = self._hub.subscribe(maxsize=4096)
            self._task = asyncio.get_running_loop().create_task(self._route(self._subscription))
        return watch

    def discard(self, watch: ListWatch) -> None:
        if watch.customer_id is None:
            self._everyone.discard(watch)
        else:
            watchers = self._by_customer.get(watch.customer_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._by_customer[watch.customer_id]
        if not self._everyone and not self._by_customer and self._subscription is not None:
            self._subscription.close()
            self._subscription = None
            self.statuses.forget()
            if self._task is not None:
                self._task.cancel()
                self._task = None

    def __len__(self) -> int:
        return len(self._everyone) + sum(len(w) for w in self._by_customer.values())

    def _everyone_watching(self) -> list[ListWatch]:
        return [*self._everyone, *(w for ws in self._by_customer.values() for w in ws)]

    async def _route(self, subscription: ChangeSubscription) -> None:
        dropped = 0
        while True:
            change = await subscription.get()
            if subscription.dropped != dropped:
                dropped = subscription.dropped
                self.statuses.forget()
                for watch in self._everyone_watching():
                    watch.fell_behind()
            if change.projection != _ORDER_VIEWS or not change.order_ids:
                continue
            try:
                self.reads += 1
                found = await self.query_bus.ask(GetOrders(order_ids=tuple(change.order_ids)))
            except Exception:
                log.exception("live lists: reading the views of change %d failed", change.position)
                self.statuses.forget()
                for watch in self._everyone_watching():
                    watch.fell_behind()
                continue
            self._deliver(change.position, found)

    def _deliver(self, position: int, found: list[OrderView | None]) -> None:
        views = sorted((v for v in found if v is not None), key=lambda v: v.position)
        routed: dict[ListWatch, list[OrderView]] = {}
        statuses = self.statuses
        for view in views:
            before = statuses.before(view.id)
            if view.position <= position:  # a newer view waits for the change that carries it
                statuses.remember(view.id, view.status)
            for watch in (*self._by_customer.get(view.customer_id, ()), *self._everyone):
                if watch.matches(view, before):
                    routed.setdefault(watch, []).append(view)
        for watch, selected in routed.items():
            try:
                watch.offer(position, tuple(selected))
            except Exception:
                log.exception("live lists: a watch failed on change %d", position)


async def _catch_up(watch: ListWatch, query_bus: QueryBus, after: int) -> AsyncIterator[OrderView]:
    while True:
        page = await query_bus.ask(
            OrdersChangedSince(
                after_position=after,
                customer_id=watch.customer_id,
                status=watch.status,
                first=CATCH_UP_PAGE,
            )
        )
        for view in page:
            after = view.position
            yield view
        if len(page) < CATCH_UP_PAGE:
            return


async def orders_changed_feed(
    router: ListRouter,
    *,
    customer_id: str | None,
    status: OrderStatus | None,
    after_position: int | None,
) -> AsyncGenerator[OrderView, None]:
    """Views of the orders matching (customer_id, status) as they change, positions strictly
    increasing: with `after_position`, first those changed since it (from the table); without,
    only what is committed after the watch started (`ListRouter.committed`), never a backlog
    this process learns of late (another process's commits on a SQLite file)."""
    watch = router.watch(customer_id, status)
    try:
        last = await router.committed() if after_position is None else after_position
        if after_position is not None:
            async for view in _catch_up(watch, router.query_bus, last):
                last = view.position
                yield view
        while True:
            position, views = await watch.get()
            if watch.behind:
                watch.behind = False
                async for view in _catch_up(watch, router.query_bus, last):
                    last = view.position
                    yield view
                continue
            for view in views:
                if last < view.position <= position:
                    last = view.position
                    yield view
    finally:
        watch.close()


class ListSink(Protocol):
    """Where `follow_list` hands its views: in order; `behind` once it dropped some."""

    behind: asyncio.Event

    def deliver(self, view: OrderView) -> None: ...

    async def resumed(self) -> int:
        """Once it has room again: the position of the last view it kept."""
        ...


async def follow_list(
    router: ListRouter,
    sink: ListSink,
    *,
    customer_id: str | None,
    status: OrderStatus | None,
    after_position: int | None,
) -> None:
    """`orders_changed_feed` without a task of its own between changes: once caught up, the
    router hands each change to the watch synchronously and the views go straight to `sink`.
    When the sink (a full socket) or the router (a failed read) falls behind, the table is read
    again from the last view the sink kept. Runs until cancelled."""
    watch = router.watch(customer_id, status)
    last: int

    def direct(position: int, views: tuple[OrderView, ...]) -> None:
        nonlocal last
        for view in views:
            if last < view.position <= position:
                last = view.position
                sink.deliver(view)

    try:
        last = await router.committed() if after_position is None else after_position
        catching_up = after_position is not None
        while True:
            if catching_up:
                async for view in _catch_up(watch, router.query_bus, last):
                    if sink.behind.is_set():
                        break
                    last = view.position
                    sink.deliver(view)
            if not sink.behind.is_set():
                for position, views in watch.take():
                    direct(position, views)
                if watch.behind:
                    watch.behind, catching_up = False, True
                    continue
                watch.go_direct(direct, sink.behind.set)
                try:
                    await sink.behind.wait()
                finally:
                    watch.go_queued()
            last = await sink.resumed()
            catching_up = True
    finally:
        watch.close()


__all__ = [
    "CATCH_UP_PAGE",
    "ListRouter",
    "ListSink",
    "ListWatch",
    "follow_list",
    "orders_changed_feed",
]
