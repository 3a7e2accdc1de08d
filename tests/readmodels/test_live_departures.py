"""A live list filtered by status is also sent the change that takes an order out of it, with the
order's new state; after that the order is sent only if it matches again. Live (the router knows
each order's status before its change) and in the catch-up from the table (by the lifecycle)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from domain.errors import DomainError
from domain.order import Order
from domain.values import OrderStatus
from readmodels.dto import Change, OrderView
from readmodels.live.departures import LATER, StatusMemory, sent_to, statuses_sent
from readmodels.live.lists import ListRouter, orders_changed_feed
from readmodels.tables import order_view
from tests.support.domain import (
    add,
    cancel,
    cancelled,
    change_address,
    confirm,
    confirmed,
    create,
    placed,
    remove,
    ship,
    shipped,
)
from tests.support.readmodels import list_router, running_service

if TYPE_CHECKING:
    from domain.commands import OrderCommand
    from domain.events import Event
    from tests.support.readmodels import Service

CONFIRMED, SHIPPED, CANCELLED, PLACED = (
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.CANCELLED,
    OrderStatus.PLACED,
)


async def _collect(router: ListRouter, got: list[OrderView], after: int | None) -> None:
    feed = orders_changed_feed(router, customer_id=None, status=CONFIRMED, after_position=after)
    async for view in feed:
        got.append(view)


async def _until(got: list[OrderView], order_id: str, status: OrderStatus) -> None:
    for _ in range(500):
        if any(v.id == order_id and v.status is status for v in got):
            await asyncio.sleep(0.1)  # whatever else would be sent arrives meanwhile
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{order_id} never reached the list as {status}: {got}")


async def _place(service: Service) -> str:
    return (await service.bus.dispatch(create())).order_id


async def test_a_confirmed_list_learns_departures_and_nothing_else(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        router, starts = list_router(service)
        got: list[OrderView] = []
        following = asyncio.create_task(_collect(router, got, after=None))
        await starts.get()
        shipped_one, cancelled_one, never, edited = [await _place(service) for _ in range(4)]
        await service.bus.dispatch(confirm(shipped_one))
        await service.bus.dispatch(confirm(cancelled_one))
        await service.bus.dispatch(ship(shipped_one))
        await service.bus.dispatch(cancel(never))  # PLACED -> CANCELLED: never in the list
        await service.bus.dispatch(add(edited))
        await service.bus.dispatch(change_address(cancelled_one))  # still CONFIRMED: an update
        await service.bus.dispatch(cancel(cancelled_one))
        await _until(got, cancelled_one, CANCELLED)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        assert [(v.id, v.status) for v in got] == [
            (shipped_one, CONFIRMED),
            (cancelled_one, CONFIRMED),
            (shipped_one, SHIPPED),
            (cancelled_one, CONFIRMED),
            (cancelled_one, CANCELLED),
        ]
        assert got[2].tracking_number is not None  # the new state, in full


async def test_the_catch_up_sends_the_departures_since_after_position(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        leaving, staying, placed_only = [await _place(service) for _ in range(3)]
        await service.bus.dispatch(confirm(leaving))
        after = (await service.bus.dispatch(confirm(staying))).position
        shipped_at = (await service.bus.dispatch(ship(leaving))).position
        await service.bus.dispatch(add(placed_only))

        router, _ = list_router(service)
        got: list[OrderView] = []
        following = asyncio.create_task(_collect(router, got, after=after))
        await _until(got, leaving, SHIPPED)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        assert [(v.id, v.status, v.position) for v in got] == [(leaving, SHIPPED, shipped_at)]

        # From the start, the catch-up has each order once, in its current state.
        everything: list[OrderView] = []
        following = asyncio.create_task(_collect(router, everything, after=0))
        await _until(everything, leaving, SHIPPED)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        assert [(v.id, v.status) for v in everything] == [(staying, CONFIRMED), (leaving, SHIPPED)]


async def test_an_order_that_matches_again_is_sent_again(sqlite_url: str) -> None:
    """No command brings an order back to CONFIRMED today; the router must not rely on that when
    it knows the status before a change. The view rows are changed in the table and the changes
    published as the projection would."""
    async with running_service(sqlite_url) as service:
        router, starts = list_router(service)
        got: list[OrderView] = []
        following = asyncio.create_task(_collect(router, got, after=None))
        await starts.get()
        order_id = await _place(service)
        await service.bus.dispatch(confirm(order_id))
        await service.bus.dispatch(ship(order_id))
        await _until(got, order_id, SHIPPED)
        head = await service.store.head_position()
        for step, status in enumerate([CONFIRMED, SHIPPED, SHIPPED, CONFIRMED], start=1):
            async with service.read_db.write() as conn:
                await conn.execute(
                    update(order_view)
                    .where(order_view.c.id == order_id)
                    .values(status=status.value, position=head + step)
                )
            change = Change(
                projection="order_views", position=head + step, order_ids=frozenset({order_id})
            )
            service.runner.changes.publish(change)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        assert [(v.status, v.position - head) for v in got[2:]] == [
            (CONFIRMED, 1),  # matches again
            (SHIPPED, 2),  # leaves again
            (CONFIRMED, 4),  # the change at 3 kept it out: not sent
        ]


def _reachable(status: OrderStatus) -> set[OrderStatus]:
    histories: dict[OrderStatus, list[Event]] = {
        PLACED: [placed()],
        CONFIRMED: [placed(), confirmed()],
        SHIPPED: [placed(), confirmed(), shipped()],
        CANCELLED: [placed(), cancelled()],
    }
    order = Order.replay(histories[status])
    commands: list[OrderCommand] = [
        add(),
        remove(),
        change_address(),
        confirm(),
        ship(),
        cancel(),
    ]
    reached: set[OrderStatus] = set()
    for command in commands:
        try:
            after = order.apply(order.decide(command)).status
        except DomainError:
            continue
        if after is not status:
            reached |= {after, *_reachable(after)}
    return reached


@pytest.mark.parametrize("status", list(OrderStatus))
def test_the_lifecycle_is_the_aggregates(status: OrderStatus) -> None:
    assert _reachable(status) == LATER[status]
    assert statuses_sent(status)[0] is status


@pytest.mark.parametrize(
    ("now", "before", "sent"),
    [
        (CONFIRMED, PLACED, True),  # enters
        (CONFIRMED, CONFIRMED, True),  # changes inside
        (SHIPPED, CONFIRMED, True),  # leaves
        (CANCELLED, CONFIRMED, True),  # leaves
        (CANCELLED, PLACED, False),  # never was in it
        (PLACED, PLACED, False),
        (SHIPPED, SHIPPED, False),  # left before
        (SHIPPED, None, True),  # not known: it may have left now
        (CANCELLED, None, True),
        (PLACED, None, False),  # not known, but never after CONFIRMED
    ],
)
def test_what_a_confirmed_list_is_sent(
    now: OrderStatus, before: OrderStatus | None, sent: bool
) -> None:
    assert sent_to(CONFIRMED, now, before) is sent


def test_the_status_memory_is_bounded_and_keeps_the_newest() -> None:
    memory = StatusMemory(size=2)
    memory.remember("a", PLACED)
    memory.remember("b", PLACED)
    memory.remember("a", CONFIRMED)  # a is the newest again
    memory.remember("c", PLACED)
    assert (memory.before("a"), memory.before("b"), memory.before("c")) == (CONFIRMED, None, PLACED)
    memory.forget()
    assert len(memory) == 0
