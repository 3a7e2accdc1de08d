"""ordersChanged's feed: the catch-up from the view table, then live, with no gap and no
duplicate at the seam, even while orders are written concurrently; routed by customer."""

from __future__ import annotations

import asyncio

from domain.values import OrderStatus
from readmodels.dto import OrderView
from readmodels.live.lists import ListRouter, orders_changed_feed
from tests.support.domain import confirm, create
from tests.support.readmodels import Service, list_router, running_service

ORDER_VIEWS = "order_views"


async def _collect(router: ListRouter, got: list[OrderView], **filters: object) -> None:
    feed = orders_changed_feed(router, **filters)  # type: ignore[arg-type]
    async for view in feed:
        got.append(view)


async def _place(service: Service, customer: str, count: int) -> list[str]:
    placed = []
    for _ in range(count):
        result = await service.bus.dispatch(create(customer_id=customer))
        placed.append(result.order_id)
        await asyncio.sleep(0)
    return placed


async def test_the_catch_up_then_live_seam_has_no_gap_and_no_duplicate(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        before = await _place(service, "c-1", 30)
        writer = asyncio.create_task(_place(service, "c-1", 120))
        await asyncio.sleep(0.05)  # subscribe while the writes run
        router, _ = list_router(service)
        seams: list[list[OrderView]] = [[] for _ in range(4)]
        readers = [
            asyncio.create_task(
                _collect(router, got, customer_id="c-1", status=None, after_position=0)
            )
            for got in seams
        ]
        during = await writer
        confirmed = await service.bus.dispatch(confirm(before[0]))
        expected = {*before, *during}
        for got in seams:
            for _ in range(500):
                if before[0] in {v.id for v in got if v.position == confirmed.position}:
                    break
                await asyncio.sleep(0.01)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for got in seams:
            positions = [v.position for v in got]
            assert positions == sorted(set(positions)), "strictly increasing, no duplicate"
            assert {v.id for v in got} == expected, "no gap"
            assert got[-1].id == before[0]
            assert got[-1].status is OrderStatus.CONFIRMED
        assert len(router) == 0


async def test_a_list_watch_gets_only_its_customers_orders_in_its_status(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        router, starts = list_router(service)
        mine: list[OrderView] = []
        confirmed_only: list[OrderView] = []
        tasks = [
            asyncio.create_task(
                _collect(router, mine, customer_id="c-1", status=None, after_position=None)
            ),
            asyncio.create_task(
                _collect(
                    router,
                    confirmed_only,
                    customer_id=None,
                    status=OrderStatus.CONFIRMED,
                    after_position=None,
                )
            ),
        ]
        await starts.get()
        await starts.get()  # both lists started
        (own,) = await _place(service, "c-1", 1)
        await _place(service, "c-2", 3)
        done = await service.bus.dispatch(confirm(own))
        for _ in range(500):
            if mine and mine[-1].position == done.position and confirmed_only:
                break
            await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert [(v.id, v.status) for v in mine] == [
            (own, OrderStatus.PLACED),
            (own, OrderStatus.CONFIRMED),
        ]
        assert [v.id for v in confirmed_only] == [own]
        assert router.reads >= 1


async def test_a_list_watch_that_overflows_catches_up_from_the_table(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        router, starts = list_router(service, queue_size=2)
        got: list[OrderView] = []
        feed = orders_changed_feed(router, customer_id=None, status=None, after_position=None)
        first = asyncio.ensure_future(anext(feed))
        await starts.get()
        placed = await _place(service, "c-1", 20)  # the feed is not read meanwhile
        got.append(await first)
        while got[-1].id != placed[-1]:
            got.append(await asyncio.wait_for(anext(feed), 5))
        await feed.aclose()
        positions = [v.position for v in got]
        assert positions == sorted(set(positions))
        assert {v.id for v in got} == set(placed)
