"""Subscribers to one order share one read of its view per committed change."""

from __future__ import annotations

import asyncio

from readmodels import readers
from readmodels.dto import OrderView
from readmodels.feed import SharedOrderReads
from readmodels.queries import GetOrder
from readmodels.querybus import QueryBus
from tests.support.domain import create
from tests.support.readmodels import Service, running_service


async def test_concurrent_subscribers_share_one_read_per_change(sqlite_url: str) -> None:
    async with running_service(sqlite_url) as service:
        await _share(service)


async def _share(service: Service) -> None:
    db, bus, runner = service.db, service.bus, service.runner
    reads: list[str] = []

    async def counted_get_order(query: GetOrder) -> OrderView | None:
        reads.append(query.order_id)
        return await readers.get_order(db, query)

    queries = QueryBus()
    queries.register(GetOrder, counted_get_order)
    shared = SharedOrderReads(queries, size=2)
    result = await bus.dispatch(create())
    await runner.wait_for(["order_views"], result.position, 5)
    views = await asyncio.gather(
        *(shared.view(result.order_id, result.position) for _ in range(100))
    )
    assert reads == [result.order_id]
    assert {view.position for view in views if view is not None} == {result.position}
    assert await shared.view(result.order_id, result.position + 1) is not None
    assert await shared.view("other", 1) is None
    assert await shared.view(result.order_id, result.position) is not None
    assert len(reads) == 4, "the oldest read was evicted (size 2) and read again"
