"""Two services on one SQLite file (each with its own connections, as two processes have): what
one commits reaches the other's change hub and waits, each change once and in position order,
and the other reads nothing while nobody listens to it."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, cast

from graph.ops.seed import seed
from readmodels.dto import Change, OrderView
from readmodels.feed import SharedOrderReads, order_feed
from readmodels.live.lists import ListRouter, orders_changed_feed
from readmodels.registry import PROJECTION_NAMES
from tests.support.domain import confirm, create
from tests.support.readmodels import running_service

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from domain.ports import RecordedEvent
    from graph.bootstrap import Container
    from readmodels.feed import ChangeSubscription


async def _changes_until(
    subscription: ChangeSubscription, projection: str, position: int, timeout: float = 10
) -> list[Change]:
    """The changes received until `projection`'s reach `position`."""
    received: list[Change] = []
    deadline = time.monotonic() + timeout
    while not any(c.projection == projection and c.position >= position for c in received):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{projection} did not reach {position}: {received[-3:]}"
        received.append(await asyncio.wait_for(subscription.get(), remaining))
    return received


async def _log_after(service: Container, after: int) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    while page := await service.store.read_all(after, 1000):
        events.extend(page)
        after = page[-1].position
    return events


async def _assert_every_event_published_once(
    service: Container, changes: list[Change], after: int
) -> None:
    """order_views handles every event, so its changes must partition (after, last] into
    consecutive runs, each naming exactly the orders of its run's events."""
    views = [c for c in changes if c.projection == "order_views"]
    positions = [c.position for c in views]
    assert positions == sorted(set(positions)), "a change published twice or out of order"
    events = await _log_after(service, after)
    start = after
    for change in views:
        run = {e.stream_id for e in events if start < e.position <= change.position}
        assert change.order_ids == run, (start, change.position)
        start = change.position


async def test_orders_placed_by_another_service_reach_this_ones_hub_and_waits(
    sqlite_url: str,
) -> None:
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        subscription = here.runner.changes.subscribe(maxsize=10_000)
        placed = await there.bus.dispatch(create())
        changes = await _changes_until(subscription, "order_views", placed.position)
        assert any(placed.order_id in c.order_ids for c in changes)
        waited = await here.runner.wait_for(PROJECTION_NAMES, placed.position, 5)
        assert not waited.stale
        subscription.close()


async def test_a_wait_alone_is_satisfied_by_another_services_write(sqlite_url: str) -> None:
    """Each round well inside half a second: the runner's own safety poll takes a second."""
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        for _ in range(3):
            head = await there.store.head_position()
            waiting = asyncio.create_task(here.runner.wait_for(PROJECTION_NAMES, head + 1, 10))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            placed = await there.bus.dispatch(create())
            started = time.monotonic()
            result = await waiting
            assert not result.stale
            assert result.requested == placed.position
            assert time.monotonic() - started < 0.5


async def test_both_writing_at_once_every_change_is_published_once_in_order(
    sqlite_url: str,
) -> None:
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        after = await here.store.head_position()
        subscription = here.runner.changes.subscribe(maxsize=100_000)
        mine, theirs = await asyncio.gather(
            seed(here.bus, orders=150, customers=10, concurrency=16, rng_seed=1),
            seed(there.bus, orders=150, customers=10, concurrency=16, rng_seed=2),
        )
        last = max(mine.last_position, theirs.last_position)
        changes = await _changes_until(subscription, "order_views", last)
        await asyncio.sleep(0.2)  # anything published twice would arrive by now
        while (extra := subscription.offered - len(changes)) > 0:
            changes.extend([await subscription.get() for _ in range(extra)])
        assert subscription.dropped == 0
        await _assert_every_event_published_once(here, changes, after)
        subscription.close()


async def test_nothing_is_read_while_nobody_listens(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        await there.bus.dispatch(create())
        await asyncio.sleep(0.2)
        assert here.runner.peers.checks == 0

        subscription = here.runner.changes.subscribe()
        placed = await there.bus.dispatch(create())
        await _changes_until(subscription, "order_views", placed.position)
        assert here.runner.peers.checks > 0

        subscription.close()
        await asyncio.sleep(0.1)
        idle = here.runner.peers.checks
        await there.bus.dispatch(create())
        await asyncio.sleep(0.2)
        assert here.runner.peers.checks == idle


async def test_a_list_without_after_position_starts_at_what_is_committed(sqlite_url: str) -> None:
    """Another service commits while nobody here listens, and this one learns of it late (its
    writer held meanwhile, as a busy machine delays it): a list asked without `afterPosition`
    sends only what is committed after it started, never that backlog."""
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        started = asyncio.Event()

        async def committed() -> int:
            position = await here.runner.committed("order_views")
            started.set()
            return position

        router = ListRouter(here.runner.changes, here.query_bus, committed)
        feed = orders_changed_feed(router, customer_id=None, status=None, after_position=None)
        async with here.db.writer_held():  # nothing of `there` is published here meanwhile
            backlog = await there.bus.dispatch(create())
            assert here.runner.position("order_views") < backlog.position
            first = asyncio.ensure_future(anext(feed))
            await started.wait()
        live = await there.bus.dispatch(create())
        view = await asyncio.wait_for(first, 10)
        await feed.aclose()
        assert (view.id, view.position) == (live.order_id, live.position)


async def test_an_order_followed_without_after_position_gets_only_newer_views(
    sqlite_url: str,
) -> None:
    """The same late backlog for `orderUpdated`: the order's current view is read when it starts,
    and what this service publishes of that backlog later is not sent again."""
    async with running_service(sqlite_url) as here, running_service(sqlite_url) as there:
        started = asyncio.Event()

        class Reads(SharedOrderReads):
            async def current(self, order_id: str) -> OrderView | None:
                view = await super().current(order_id)
                started.set()
                return view

        reads = Reads(here.order_reads.query_bus)
        async with here.db.writer_held():
            placed = await there.bus.dispatch(create())
            order_id = placed.order_id
            feed = cast(
                "AsyncGenerator[OrderView, None]",
                order_feed(
                    here.runner.changes, reads, order_id, after_position=None, acting_customer=None
                ),
            )
            first = asyncio.ensure_future(anext(feed))
            await started.wait()
        confirmed = await there.bus.dispatch(confirm(placed.order_id))
        view = await asyncio.wait_for(first, 10)
        await feed.aclose()
        assert view.position == confirmed.position
