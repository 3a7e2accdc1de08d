"""A change reaches only the subscriptions it can affect: publishing to the watchers of order A
never offers anything to (nor reads for) the watchers of order B."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from readmodels import readers
from readmodels.dto import Change, OrderView
from readmodels.feed import ChangeHub, SharedOrderReads, order_feed
from readmodels.queries import GetOrder
from readmodels.querybus import QueryBus
from tests.support.domain import add, create
from tests.support.readmodels import running_service

ORDER_VIEWS = "order_views"


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def _change(position: int, *order_ids: str) -> Change:
    return Change(projection=ORDER_VIEWS, position=position, order_ids=frozenset(order_ids))


def test_a_change_is_offered_only_to_the_watchers_of_the_orders_it_touched() -> None:
    hub = ChangeHub()
    watchers_a = [hub.subscribe(projection=ORDER_VIEWS, order_id="A") for _ in range(3)]
    watchers_b = [hub.subscribe(projection=ORDER_VIEWS, order_id="B") for _ in range(1000)]
    everything = hub.subscribe()
    hub.publish(_change(7, "A"))
    assert [w.offered for w in watchers_a] == [1, 1, 1]
    assert sum(w.offered for w in watchers_b) == 0
    assert everything.offered == 1
    assert hub.offers == 4  # three watchers of A and the unkeyed one, not 1,004
    hub.publish(Change(projection="customer_summaries", position=8, order_ids=frozenset("A")))
    assert [w.offered for w in watchers_a] == [1, 1, 1]  # another projection's change of A


def test_closing_the_last_watcher_of_an_order_forgets_the_order() -> None:
    hub = ChangeHub()
    first, second = (hub.subscribe(projection=ORDER_VIEWS, order_id="A") for _ in range(2))
    assert hub.watchers(ORDER_VIEWS, "A") == 2
    first.close()
    second.close()
    assert hub.watchers(ORDER_VIEWS, "A") == 0
    assert len(hub) == 0


async def test_a_subscriber_that_fell_behind_skips_to_the_newest_change() -> None:
    hub = ChangeHub()
    subscription = hub.subscribe(projection=ORDER_VIEWS, order_id="A")
    for position in (1, 2, 3):
        hub.publish(_change(position, "A"))
    assert (await subscription.latest()).position == 3


async def test_an_update_to_order_a_executes_nothing_for_the_feeds_of_order_b(
    sqlite_url: str,
) -> None:
    async with running_service(sqlite_url) as service:
        db, bus, runner = service.db, service.bus, service.runner
        reads: list[str] = []

        async def counted_get_order(query: GetOrder) -> OrderView | None:
            # Counted once answered: a feed whose first read is still in flight when the
            # update commits may read the updated view first, and then has nothing to send.
            view = await readers.get_order(db, query)
            reads.append(query.order_id)
            return view

        queries = QueryBus()
        queries.register(GetOrder, counted_get_order)
        shared = SharedOrderReads(queries)
        a = await bus.dispatch(create())
        b = await bus.dispatch(create())
        await runner.wait_for([ORDER_VIEWS], b.position, 5)

        async def follow(order_id: str, got: list[OrderView]) -> None:
            feed = order_feed(
                runner.changes, shared, order_id, after_position=None, acting_customer=None
            )
            async for view in feed:
                got.append(view)

        got_a: list[OrderView] = []
        got_b: list[OrderView] = []
        tasks = [asyncio.create_task(follow(a.order_id, got_a)) for _ in range(5)]
        tasks += [asyncio.create_task(follow(b.order_id, got_b)) for _ in range(50)]
        await _until(lambda: runner.changes.watchers(ORDER_VIEWS, b.order_id) == 50)
        await _until(lambda: len(reads) == 55)  # each feed's first read of the current view
        reads.clear()
        offers_before = runner.changes.offers
        updated = await bus.dispatch(add(a.order_id))
        await _until(lambda: len(got_a) == 5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert {v.position for v in got_a} == {updated.position}
        assert got_b == []
        assert reads == [a.order_id]  # one shared read, none for B
        assert runner.changes.offers - offers_before == 5
