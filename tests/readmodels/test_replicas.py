"""Reads on a real streaming standby: from the replica when it has what a read needs, never
stale when it has not (the views database answers, counted), and the live feeds exact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import pytest

from domain.errors import OrderNotFound
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings
from readmodels.dto import OrderView, WaitResult
from readmodels.feed import order_feed
from readmodels.freshness import MinPosition
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.queries import GetOrder
from readmodels.replicas import ReplicaRead
from tests.support.domain import confirm, create
from tests.support.pgserver import PostgresServer

ORDER_VIEWS = OrderViewsProjection.name

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def replicated(
    primary: str, replica: str, standby: PostgresServer, *, wait_ms: int = 250
) -> AsyncIterator[tuple[Container, list[ReplicaRead]]]:
    """The service on `primary`, reading on `replica`, started, with the replica caught up;
    and every replica read it counted."""
    reads: list[ReplicaRead] = []
    settings = Settings(database_url=primary, replica_urls=(replica,), replica_wait_ms=wait_ms)
    container = bootstrap(settings, on_replica_read=reads.append)
    try:
        await container.start()
        await asyncio.to_thread(standby.wait_for_replay)
        yield container, reads
    finally:
        await container.stop()


def at(position: int, timeout: float = 5.0) -> MinPosition:
    return MinPosition(projections=(ORDER_VIEWS,), position=position, timeout=timeout)


def followed(
    service: Container, order_id: str, customer: str | None
) -> AsyncGenerator[OrderView, None]:
    """The order's feed from its current view on (`order_feed` is an async generator)."""
    feed = order_feed(
        service.runner.changes,
        service.order_reads,
        order_id,
        after_position=0,
        acting_customer=customer,
    )
    return cast("AsyncGenerator[OrderView, None]", feed)


def outcomes(reads: list[ReplicaRead]) -> list[str]:
    return [read.outcome for read in reads]


async def test_a_caught_up_replica_answers_and_proves_what_it_reflects(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    async with replicated(postgres_url, replica_url, postgres_standby) as (service, reads):
        placed = await service.bus.dispatch(create())
        await asyncio.to_thread(postgres_standby.wait_for_replay)

        answered = await service.query_bus.answer(GetOrder(order_id=placed.order_id), at(0))
        assert answered.answer is not None
        assert answered.answer.position == placed.position
        assert answered.freshness == WaitResult(
            stale=False, requested=0, reached={ORDER_VIEWS: placed.position}
        )
        assert outcomes(reads) == ["replica"]
        assert reads[0].behind == 0

        # It is the replica that answers: paused, it does not know a newer order.
        await asyncio.to_thread(postgres_standby.pause_replay)
        later = await service.bus.dispatch(create())
        assert await service.query_bus.ask(GetOrder(order_id=later.order_id)) is None
        assert await service.query_bus.ask(GetOrder(order_id=placed.order_id)) is not None
        assert outcomes(reads) == ["replica"] * 3


async def test_a_read_with_min_position_on_a_paused_replica_is_never_stale(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    async with replicated(postgres_url, replica_url, postgres_standby, wait_ms=1_000) as (
        service,
        reads,
    ):
        await asyncio.to_thread(postgres_standby.pause_replay)
        placed = await service.bus.dispatch(create())
        query = GetOrder(order_id=placed.order_id)
        loop = asyncio.get_running_loop()

        started = loop.time()
        answered = await service.query_bus.answer(query, at(placed.position))
        waited = loop.time() - started
        assert answered.answer is not None, "the views database answered it"
        assert answered.answer.position == placed.position
        assert answered.freshness is not None
        assert not answered.freshness.stale
        assert answered.freshness.reached[ORDER_VIEWS] >= placed.position
        assert 1.0 <= waited < 4, "it waited ORDERGRAPH_REPLICA_WAIT_MS for the replica first"
        assert outcomes(reads) == ["fallback_lag"]
        assert reads[0].behind is not None
        assert reads[0].behind >= 1

        started = loop.time()
        answered = await service.query_bus.answer(query, at(placed.position, timeout=0.05))
        assert loop.time() - started < 0.8, "the read's own timeout bounds the wait"
        assert answered.answer is not None
        assert outcomes(reads) == ["fallback_lag"] * 2


async def test_a_replica_that_catches_up_during_the_wait_answers(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    async with replicated(postgres_url, replica_url, postgres_standby, wait_ms=5_000) as (
        service,
        reads,
    ):
        await asyncio.to_thread(postgres_standby.pause_replay)
        placed = await service.bus.dispatch(create())
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, lambda: asyncio.ensure_future(resume(postgres_standby)))

        answered = await service.query_bus.answer(
            GetOrder(order_id=placed.order_id), at(placed.position)
        )

        assert answered.answer is not None
        assert answered.answer.position == placed.position
        assert outcomes(reads) == ["replica"]
        assert reads[0].waited is not None
        assert reads[0].waited >= 0.25


async def resume(standby: PostgresServer) -> None:
    await asyncio.to_thread(standby.resume_replay)


async def test_a_replica_that_is_down_falls_back_and_comes_back(
    postgres_url: str,
    replica_url: str,
    postgres_standby: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("readmodels.replicas.COOL_DOWN_SECONDS", 0.2)
    async with replicated(postgres_url, replica_url, postgres_standby) as (service, reads):
        placed = await service.bus.dispatch(create())
        query = GetOrder(order_id=placed.order_id)
        assert await service.query_bus.ask(query, at(placed.position)) is not None
        assert outcomes(reads) == ["replica"]

        await asyncio.to_thread(postgres_standby.halt)
        confirmed = await service.bus.dispatch(confirm(placed.order_id))
        view = await service.query_bus.ask(query, at(confirmed.position))
        assert view is not None
        assert view.position == confirmed.position
        assert (await service.query_bus.ask(query)) is not None
        assert outcomes(reads) == ["replica", "fallback_down", "fallback_down"]

        await asyncio.to_thread(postgres_standby.resume)
        await asyncio.to_thread(postgres_standby.wait_for_replay)
        await asyncio.sleep(0.3)
        view = await service.query_bus.ask(query, at(confirmed.position))
        assert view is not None
        assert view.position == confirmed.position
        assert outcomes(reads)[-1] == "replica"


async def test_live_reads_on_a_paused_replica_stay_exact(
    postgres_url: str, replica_url: str, postgres_standby: PostgresServer
) -> None:
    async with replicated(postgres_url, replica_url, postgres_standby, wait_ms=50) as (
        service,
        reads,
    ):
        await asyncio.to_thread(postgres_standby.pause_replay)
        placed = await service.bus.dispatch(create())
        feed = followed(service, placed.order_id, None)
        first = await asyncio.wait_for(anext(feed), 5)
        assert first.position == placed.position, "the replica lags: the views database answered"

        confirmed = await service.bus.dispatch(confirm(placed.order_id))
        second = await asyncio.wait_for(anext(feed), 5)
        assert second.position == confirmed.position
        assert second.status.value == "CONFIRMED"
        await feed.aclose()
        assert set(outcomes(reads)) == {"fallback_lag"}

        # An order the replica has not seen is not "not found" to its own customer.
        other = await service.bus.dispatch(create(customer_id="cust-2"))
        mine = followed(service, other.order_id, "cust-2")
        try:
            view = await asyncio.wait_for(anext(mine), 5)
        except OrderNotFound:
            pytest.fail("a lagging replica hid the customer's own order")
        finally:
            await mine.aclose()
        assert view.position == other.position
