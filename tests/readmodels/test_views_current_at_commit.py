"""Projections kept current in the writer's own transaction: a view is there the moment its
command commits, and a projection that fails there never fails the command."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from readmodels.dto import ProjectionState, ProjectionStatus
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.runner.runner import ProjectionRunner
from readmodels.tables import new_metadata
from tests.support.domain import confirm, create, line
from tests.support.readmodels import PoisonedOrderViews, running_service


def _status(runner: ProjectionRunner, name: str) -> ProjectionStatus:
    return next(status for status in runner.status() if status.name == name)


async def _until_failed(runner: ProjectionRunner, name: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while _status(runner, name).state is not ProjectionState.FAILED:
        assert asyncio.get_running_loop().time() < deadline, runner.status()
        await asyncio.sleep(0.01)


async def test_views_are_current_when_the_command_returns(database_url: str) -> None:
    projections = [PoisonedOrderViews(None), CustomerSummariesProjection()]
    async with running_service(database_url, projections=projections) as service:
        db, bus, runner = service.db, service.bus, service.runner
        await runner.wait_for(["order_views"], 0, 1)
        for _ in range(3):
            result = await bus.dispatch(create())
            # No wait: the views committed with the command.
            assert runner.position("order_views") == result.position
            assert runner.position("customer_summaries") == result.position
        table = PoisonedOrderViews(None).define(new_metadata(), "")["order_view"]
        async with db.read() as conn:
            assert await conn.scalar(select(func.count()).select_from(table)) == 3


async def test_a_projection_failing_in_the_writer_never_fails_the_command(
    database_url: str,
) -> None:
    poisoned = PoisonedOrderViews(2)
    projections = [poisoned, CustomerSummariesProjection()]
    async with running_service(database_url, projections=projections) as service:
        bus, runner, store = service.bus, service.runner, service.store
        first = await bus.dispatch(create())
        await runner.wait_for(["order_views"], first.position, 5)
        second = await bus.dispatch(confirm(first.order_id))
        assert second.position == 2
        assert await store.head_position() == 2
        # customer_summaries went with the command; order_views is left to the runner's own
        # task, which fails on the poison.
        assert runner.position("customer_summaries") == 2
        await _until_failed(runner, "order_views", 5)
        assert _status(runner, "order_views").position == 1
        poisoned.poison = None
        assert not (await runner.wait_for(["order_views"], 2, 10)).stale


async def test_a_view_the_database_refuses_in_the_writer_never_fails_the_command(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_service(database_url) as service:
        bus, runner, store = service.bus, service.runner, service.store
        await bus.dispatch(create())
        async with service.db.write() as conn:  # a view row the database will not take
            await conn.execute(
                text(
                    "CREATE UNIQUE INDEX ix_refuse_poison ON daily_sale_order (cancelled) "
                    "WHERE lines LIKE '%POISON%'"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO daily_sale_order (order_id, day, lines, cancelled) "
                    "VALUES ('x', '2000-01-01', '[[\"POISON\", 1, \"1\"]]', false)"
                )
            )
        poison = await bus.dispatch(create(lines=(line("POISON", 1, "1"),), command_id="poison"))
        # The rows went in without the views (the whole transaction was made again without
        # them); the runner's own task then fails on the row in daily_sales only.
        assert poison.position == await store.head_position() == 2
        assert "without it" in caplog.text
        await _until_failed(runner, "daily_sales", 5)
        for name in ("order_views", "customer_summaries"):
            assert not (await runner.wait_for([name], 2, 5)).stale
        after = await bus.dispatch(create())
        assert after.position == 3


async def test_a_skip_ordered_on_one_process_reaches_the_leader_on_another(
    postgres_url: str,
) -> None:
    # Two services on one database act as two processes: each has its own connections.
    async with running_service(postgres_url, projections=[PoisonedOrderViews(2)]) as one:
        leader = one.runner
        await leader.wait_for(["order_views"], 0, 1)
        async with running_service(postgres_url, projections=[PoisonedOrderViews(None)]) as other:
            follower = other.runner
            first = await one.bus.dispatch(create())
            await one.bus.dispatch(confirm(first.order_id))
            await _until_failed(leader, "order_views", 10)
            assert leader.leading() == ["order_views"]
            assert follower.leading() == []
            await follower.skip_event("order_views", 2)
            assert not (await leader.wait_for(["order_views"], 2, 10)).stale
