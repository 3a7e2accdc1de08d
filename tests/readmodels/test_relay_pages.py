"""Relay's cursor connections over the order view: `first`/`after` forwards, `last`/`before`
backwards, a window between two cursors, and exact hasPreviousPage/hasNextPage, on SQLite and
PostgreSQL, alone (one statement) and in a batch (the UNION ALL with counts)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.commands import CancelOrder, CreateOrder
from domain.errors import ValidationFailed
from domain.values import OrderLine, OrderStatus
from readmodels.dto import OrderPage
from readmodels.queries import ListOrders, ListOrdersBatch
from readmodels.querybus import QueryBus
from readmodels.registry import PROJECTION_NAMES
from tests.support.readmodels import ADDRESS, T0, running_service

LINE = OrderLine(sku="A", quantity=1, unit_price=Decimal("1.00"))


@dataclass(frozen=True)
class World:
    queries: QueryBus
    newest_first: list[str]
    cancelled: set[str]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    """23 orders: 10 placed at one instant (ties on created_at), 13 a minute apart; customers
    c0/c1 alternate; every third is cancelled."""
    async with running_service(database_url) as service:
        ids: list[str] = []
        for n in range(23):
            at = T0 if n < 10 else T0 + timedelta(minutes=n)
            result = await service.bus.dispatch(
                CreateOrder(
                    command_id=str(uuid.uuid4()),
                    issued_at=at,
                    customer_id=f"c{n % 2}",
                    lines=(LINE,),
                    shipping_address=ADDRESS,
                )
            )
            ids.append(result.order_id)
        cancelled = set(ids[::3])
        for order_id in cancelled:
            cancel = CancelOrder(
                command_id=str(uuid.uuid4()), issued_at=T0, order_id=order_id, reason="r"
            )
            await service.bus.dispatch(cancel)
        head = await service.store.head_position()
        assert not (await service.runner.wait_for(PROJECTION_NAMES, head, 5)).stale
        yield World(queries=service.query_bus, newest_first=ids[::-1], cancelled=cancelled)


def _ids(pages: list[OrderPage]) -> list[str]:
    return [edge.node.id for page in pages for edge in page.edges]


async def _forwards(queries: QueryBus, request: ListOrders) -> list[OrderPage]:
    pages = [await queries.ask(request)]
    while pages[-1].has_next_page:
        pages.append(await queries.ask(replace(request, after=pages[-1].end_cursor)))
    return pages


async def _backwards(queries: QueryBus, request: ListOrders) -> list[OrderPage]:
    """From the end of the list to its start; the pages returned in list order."""
    pages = [await queries.ask(request)]
    while pages[0].has_previous_page:
        pages.insert(0, await queries.ask(replace(request, before=pages[0].start_cursor)))
    return pages


FILTERS = [
    {},
    {"customer_id": "c1"},
    {"status": OrderStatus.CANCELLED},
    {"customer_id": "c0", "status": OrderStatus.PLACED},
]


@pytest.mark.parametrize("with_total", [False, True], ids=["alone", "batched"])
@pytest.mark.parametrize("size", [1, 4, 100])
@pytest.mark.parametrize("wanted", FILTERS, ids=["all", "customer", "status", "both"])
async def test_walking_backwards_lists_what_walking_forwards_does(
    world: World, wanted: dict[str, object], size: int, with_total: bool
) -> None:
    base = ListOrders(with_total=with_total, **wanted)  # type: ignore[arg-type]
    forwards = await _forwards(world.queries, replace(base, first=size))
    backwards = await _backwards(world.queries, replace(base, last=size))
    expected = [
        order_id
        for n, order_id in enumerate(world.newest_first)
        if wanted.get("customer_id") in (None, f"c{(22 - n) % 2}")
        and wanted.get("status")
        in (None, OrderStatus.CANCELLED if order_id in world.cancelled else OrderStatus.PLACED)
    ]
    assert _ids(forwards) == _ids(backwards) == expected
    assert all(len(page.edges) == size for page in forwards[:-1])
    assert all(len(page.edges) == size for page in backwards[1:])
    # Both ends: nothing before the first page, nothing after the last.
    for pages in (forwards, backwards):
        assert not pages[0].has_previous_page
        assert not pages[-1].has_next_page
        assert all(page.has_next_page for page in pages[:-1])
        assert all(page.has_previous_page for page in pages[1:])
        for page in pages:
            assert page.start_cursor == page.edges[0].cursor
            assert page.end_cursor == page.edges[-1].cursor
            assert page.total_count == (len(expected) if with_total else None)


async def test_cursors_serve_either_direction(world: World) -> None:
    forwards = await _forwards(world.queries, ListOrders(first=5, with_total=False))
    second = forwards[1]
    back_to_first = await world.queries.ask(
        ListOrders(last=5, before=second.start_cursor, with_total=False)
    )
    assert back_to_first == forwards[0]
    backwards = await _backwards(world.queries, ListOrders(last=5, with_total=False))
    # A backward page's end cursor, followed forwards, gives the rest of the list.
    rest = await world.queries.ask(ListOrders(first=100, after=backwards[0].end_cursor))
    assert _ids([rest]) == world.newest_first[len(backwards[0].edges) :]
    assert rest.has_previous_page
    assert not rest.has_next_page


async def test_a_window_between_two_cursors(world: World) -> None:
    pages = await _forwards(world.queries, ListOrders(first=5, with_total=False))
    window = ListOrders(after=pages[0].end_cursor, before=pages[2].start_cursor)
    whole = await world.queries.ask(replace(window, first=100))
    assert _ids([whole]) == _ids([pages[1]])
    assert (whole.has_previous_page, whole.has_next_page) == (True, True)
    newest_two = await world.queries.ask(replace(window, first=2))
    assert _ids([newest_two]) == _ids([pages[1]])[:2]
    oldest_two = await world.queries.ask(replace(window, last=2))
    assert _ids([oldest_two]) == _ids([pages[1]])[-2:]
    assert (oldest_two.has_previous_page, oldest_two.has_next_page) == (True, True)
    empty = await world.queries.ask(
        ListOrders(after=pages[2].start_cursor, before=pages[0].end_cursor, first=10)
    )
    assert empty.edges == ()
    assert (empty.start_cursor, empty.end_cursor) == (None, None)
    assert (empty.has_previous_page, empty.has_next_page) == (True, True)


async def test_a_cursor_from_another_filter_still_bounds_the_page(world: World) -> None:
    everything = await world.queries.ask(ListOrders(first=100))
    # The newest order is c0's; from its cursor on, c1's list has all its orders after it.
    cursor = everything.edges[0].cursor
    c1 = await world.queries.ask(ListOrders(customer_id="c1", after=cursor, first=100))
    assert not c1.has_previous_page
    assert len(c1.edges) == 11
    c1_before = await world.queries.ask(ListOrders(customer_id="c1", before=cursor, last=100))
    assert (c1_before.edges, c1_before.has_next_page) == ((), True)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ListOrders(first=5, last=5), "last"),
        (ListOrders(last=0), "last"),
        (ListOrders(last=101), "last"),
        (ListOrders(before="not a cursor"), "before"),
        (ListOrders(last=3, after="bm90fGF8Y3Vyc29y"), "after"),
        (ListOrders(first=0, last=200), "last"),
    ],
)
async def test_bad_page_arguments_are_refused_alone_or_batched(
    world: World, request_: ListOrders, field: str
) -> None:
    for query in (
        replace(request_, with_total=False),
        request_,
        ListOrdersBatch(requests=(ListOrders(), request_)),
    ):
        with pytest.raises(ValidationFailed) as refused:
            await world.queries.ask(query)  # type: ignore[misc]
        assert refused.value.field == field
