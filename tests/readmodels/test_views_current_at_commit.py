"""Projections kept current in the writer's own transaction: a view is there the moment its
command commits, and a projection that fails there never fails the command."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from domain.handlers import build_command_bus
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from readmodels.dto import ProjectionState, ProjectionStatus
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.runner.runner import ProjectionRunner
from readmodels.tables import new_metadata
from tests.readmodels.test_runner import PoisonedOrderViews
from tests.support.domain import confirm, create

if TYPE_CHECKING:
    from readmodels.projections.base import Projection


async def _setup(
    url: str, projections: list[Projection]
) -> tuple[Database, SqlEventStore, ProjectionRunner]:
    db = Database(url)
    store = SqlEventStore(db)
    await store.create_schema()
    # A slow safety poll, so that nothing but the writer's transaction can have applied a batch.
    runner = ProjectionRunner(store, db, projections, poll_interval=30, lead_interval=0.01)
    store.add_commit_hook(runner.in_writer_transaction())
    await runner.start()
    return db, store, runner


def _status(runner: ProjectionRunner, name: str) -> ProjectionStatus:
    return next(status for status in runner.status() if status.name == name)


async def test_views_are_current_when_the_command_returns(database_url: str) -> None:
    db, store, runner = await _setup(
        database_url, [PoisonedOrderViews(None), CustomerSummariesProjection()]
    )
    bus = build_command_bus(store)
    await bus.start()
    try:
        await runner.wait_for(["order_views"], 0, 1)
        for _ in range(3):
            result = await bus.dispatch(create())
            # No wait: the views committed with the command.
            assert runner.position("order_views") == result.position
            assert runner.position("customer_summaries") == result.position
        table = PoisonedOrderViews(None).define(new_metadata(), "")["order_view"]
        async with db.read() as conn:
            assert await conn.scalar(select(func.count()).select_from(table)) == 3
    finally:
        await bus.stop()
        await runner.stop()
        await db.dispose()


async def test_a_projection_failing_in_the_writer_never_fails_the_command(
    database_url: str,
) -> None:
    poisoned = PoisonedOrderViews(2)
    db, store, runner = await _setup(database_url, [poisoned, CustomerSummariesProjection()])
    bus = build_command_bus(store)
    await bus.start()
    try:
        first = await bus.dispatch(create())
        await runner.wait_for(["order_views"], first.position, 5)
        second = await bus.dispatch(confirm(first.order_id))
        assert second.position == 2
        assert await store.head_position() == 2
        # The savepoint rolled back both projections' work for that batch; the runner's own
        # tasks take over: customer_summaries catches up, order_views fails on the poison.
        waited = await runner.wait_for(["customer_summaries"], 2, 5)
        assert not waited.stale
        deadline = asyncio.get_running_loop().time() + 5
        while _status(runner, "order_views").state is not ProjectionState.FAILED:
            assert asyncio.get_running_loop().time() < deadline, runner.status()
            await asyncio.sleep(0.01)
        assert _status(runner, "order_views").position == 1
        poisoned.poison = None
        assert not (await runner.wait_for(["order_views"], 2, 10)).stale
    finally:
        await bus.stop()
        await runner.stop()
        await db.dispose()


async def test_a_skip_ordered_on_one_process_reaches_the_leader_on_another(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)
    store = SqlEventStore(db)
    await store.create_schema()
    await store.start()
    bus = build_command_bus(store)
    await bus.start()
    # Two runners on one database act as two processes: each has its own leadership connection.
    leader = ProjectionRunner(store, db, [PoisonedOrderViews(2)], lead_interval=0.05)
    await leader.start()
    await leader.wait_for(["order_views"], 0, 1)
    follower = ProjectionRunner(store, db, [PoisonedOrderViews(None)], lead_interval=0.05)
    await follower.start()
    try:
        first = await bus.dispatch(create())
        await bus.dispatch(confirm(first.order_id))
        deadline = asyncio.get_running_loop().time() + 10
        while _status(leader, "order_views").state is not ProjectionState.FAILED:
            assert asyncio.get_running_loop().time() < deadline, leader.status()
            await asyncio.sleep(0.01)
        assert leader.leading() == ["order_views"]
        assert follower.leading() == []
        await follower.skip_event("order_views", 2)
        assert not (await leader.wait_for(["order_views"], 2, 10)).stale
    finally:
        await follower.stop()
        await leader.stop()
        await bus.stop()
        await store.stop()
        await db.dispose()
