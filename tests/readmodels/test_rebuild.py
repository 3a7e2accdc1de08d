"""Rebuilds: replayed into shadow tables and swapped in while reads keep answering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from domain.storage.sql import SqlEventStore
from readmodels.dto import ProjectionState
from readmodels.projections.base import EventFailed
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_history import OrderHistoryProjection
from readmodels.queries import GetCustomer, GetSalesReport, ListOrders
from readmodels.querybus import build_query_bus
from readmodels.registry import PROJECTION_NAMES, default_projections, reader_answers
from readmodels.runner.checkpoint import save_checkpoint
from readmodels.runner.runner import ProjectionRunner
from readmodels.tables import new_metadata
from tests.support.readmodels import (
    T0,
    PoisonedOrderViews,
    append_histories,
    assert_views_equal_replay,
    checkpoints,
    dump,
    live_tables,
    order_history,
    running_service,
)

ORDERS = 300


@pytest.fixture
async def runner(database_url: str) -> AsyncIterator[ProjectionRunner]:
    async with running_service(database_url) as service:
        await append_histories(service.store, ORDERS)
        assert not (await service.runner.wait_for(PROJECTION_NAMES, ORDERS * 5, 10)).stale
        yield service.runner


async def _read_in_a_loop(runner: ProjectionRunner, stop: asyncio.Event) -> set[ProjectionState]:
    queries = build_query_bus(runner.db, runner, reader_answers())
    states: set[ProjectionState] = set()
    last_count = ORDERS
    while not stop.is_set():
        page = await queries.ask(ListOrders(first=100))
        assert len(page.edges) == 100
        assert page.total_count is not None
        assert page.total_count >= last_count
        last_count = page.total_count
        customer = await queries.ask(GetCustomer(customer_id="customer-3"))
        assert customer is not None
        assert customer.order_count >= ORDERS // 17
        report = await queries.ask(
            GetSalesReport(from_date=T0.date(), to_date=T0.date() + timedelta(days=7))
        )
        assert sum(day.orders_placed for day in report) >= ORDERS
        states.update(status.state for status in runner.status())
        await asyncio.sleep(0)
    return states


@pytest.mark.parametrize("name", PROJECTION_NAMES)
async def test_a_rebuild_swaps_in_equal_views_while_reads_never_fail(
    runner: ProjectionRunner, name: str
) -> None:
    projection = {p.name: p for p in default_projections()}[name]
    before = await dump(runner.db, live_tables(projection))
    stop = asyncio.Event()
    reads = asyncio.create_task(_read_in_a_loop(runner, stop))
    progress: list[tuple[int, int]] = []
    status = await runner.rebuild(name, lambda done, total: progress.append((done, total)))
    stop.set()
    assert ProjectionState.REBUILDING in await reads
    assert status.state is ProjectionState.RUNNING
    assert status.position == ORDERS * 5
    assert progress[-1] == (ORDERS * 5, ORDERS * 5)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert await dump(runner.db, live_tables(projection)) == before


async def test_the_live_projection_keeps_updating_during_a_rebuild(
    runner: ProjectionRunner,
) -> None:
    assert isinstance(runner.log, SqlEventStore)
    store = runner.log
    stop = asyncio.Event()
    reads = asyncio.create_task(_read_in_a_loop(runner, stop))

    async def write_more() -> None:
        for n in range(30):
            order_id = f"late-{n}"
            await store.append(order_id, order_history(order_id, "customer-3", T0, n))
            await asyncio.sleep(0)

    for name in PROJECTION_NAMES:  # twice each: index names must not collide across generations
        await asyncio.gather(
            write_more() if name == "order_views" else asyncio.sleep(0), runner.rebuild(name)
        )
        await runner.rebuild(name)
    stop.set()
    await reads
    head = await store.head_position()
    assert head == (ORDERS + 30) * 5
    assert not (await runner.wait_for(PROJECTION_NAMES, head, 5)).stale
    await assert_views_equal_replay(runner, store, runner.db)


async def test_start_drops_the_shadow_tables_of_an_interrupted_rebuild(
    runner: ProjectionRunner,
) -> None:
    projection = CustomerSummariesProjection()
    shadow_metadata = new_metadata()
    shadow = projection.define(shadow_metadata, "__dead")
    await runner.db.create_all(shadow_metadata)
    async with runner.db.write() as conn:
        await save_checkpoint(conn, projection.name, shadow_suffix="__dead")
    await runner.stop()
    await runner.start()
    async with runner.db.read() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert not {table.name for table in shadow.values()} & set(names)
    assert "customer_summary" in names


async def test_one_pass_rebuilds_every_projection_into_equal_views_while_writes_go_on(
    runner: ProjectionRunner,
) -> None:
    """`rebuild_many` reads the log once for all three; each is swapped in equal to what the
    live path built, and to a fresh replay, with writes and reads going on meanwhile."""
    assert isinstance(runner.log, SqlEventStore)
    store = runner.log
    projections = default_projections()
    before = {p.name: await dump(runner.db, live_tables(p)) for p in projections}
    stop = asyncio.Event()
    reads = asyncio.create_task(_read_in_a_loop(runner, stop))
    progress: list[tuple[int, int]] = []
    statuses = await runner.rebuild_many(
        PROJECTION_NAMES, lambda done, total: progress.append((done, total))
    )
    assert [s.name for s in statuses] == list(PROJECTION_NAMES)
    assert all(s.state is ProjectionState.RUNNING for s in statuses)
    assert all(s.position == ORDERS * 5 for s in statuses)
    assert progress[-1] == (ORDERS * 5, ORDERS * 5)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    for p in projections:
        assert await dump(runner.db, live_tables(p)) == before[p.name]

    async def write_more() -> None:
        for n in range(30):
            order_id = f"late-{n}"
            await store.append(order_id, order_history(order_id, "customer-3", T0, n))
            await asyncio.sleep(0)

    await asyncio.gather(write_more(), runner.rebuild_many(PROJECTION_NAMES))
    stop.set()
    assert ProjectionState.REBUILDING in await reads
    head = await store.head_position()
    assert not (await runner.wait_for(PROJECTION_NAMES, head, 5)).stale
    await assert_views_equal_replay(runner, store, runner.db)


async def test_one_projection_failing_in_a_one_pass_rebuild_keeps_the_others_work(
    database_url: str,
) -> None:
    poisoned = PoisonedOrderViews(poison=None)
    others = [CustomerSummariesProjection(), DailySalesProjection(), OrderHistoryProjection()]
    async with running_service(database_url, projections=[poisoned, *others]) as service:
        runner = service.runner
        await append_histories(service.store, ORDERS)
        assert not (await runner.wait_for(PROJECTION_NAMES, ORDERS * 5, 10)).stale
        views_before = await dump(runner.db, live_tables(poisoned))
        poisoned.poison = 777
        with pytest.raises(EventFailed) as failed:
            await runner.rebuild_many(PROJECTION_NAMES)
        assert failed.value.position == 777
        poisoned.poison = None
        assert await dump(runner.db, live_tables(poisoned)) == views_before
        stored = await checkpoints(runner.db)
        assert stored == dict.fromkeys(PROJECTION_NAMES, ORDERS * 5)
        async with runner.db.read() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert not [name for name in names if "__" in name]  # no shadow tables left
        assert {s.name: s.state for s in runner.status()} == dict.fromkeys(
            PROJECTION_NAMES, ProjectionState.RUNNING
        )
        await assert_views_equal_replay(runner, service.store, runner.db)
