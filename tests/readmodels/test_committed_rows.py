"""The order_view rows a batch committed, handed to `CommandResult.order` instead of a
read-back: the same view the database gives, and only for the exact (order, position)."""

from __future__ import annotations

import asyncio

from readmodels.projections.order_views import CommittedRows
from readmodels.queries import GetOrder
from tests.support.domain import (
    add,
    address,
    cancel,
    change_address,
    confirm,
    create,
    line,
    remove,
    ship,
)
from tests.support.readmodels import running_service


async def test_each_command_gets_the_view_the_database_holds(database_url: str) -> None:
    async with running_service(database_url) as service:
        bus, reads, query_bus = service.bus, service.order_reads, service.query_bus
        placed = await bus.dispatch(
            create(lines=(line("SKU-1", 2, "19.99"), line("SKU-2", 1, "0.10")))
        )
        order_id = placed.order_id
        commands = [
            add(order_id, line("SKU-3", 3, "7.25")),
            remove(order_id, "SKU-2"),
            change_address(order_id, address(line2="Flat 2", country="FR")),
            confirm(order_id),
            ship(order_id, "TRACK-9"),
        ]
        results = [placed]
        for command in commands:
            results.append(await bus.dispatch(command))
            handed = reads.committed(order_id, results[-1].position)
            assert handed == await query_bus.ask(GetOrder(order_id=order_id))
        other = await bus.dispatch(create())
        cancelled = await bus.dispatch(cancel(other.order_id, reason="changed my mind"))
        handed = reads.committed(other.order_id, cancelled.position)
        assert handed is not None
        assert handed.cancellation_reason == "changed my mind"
        assert handed == await query_bus.ask(GetOrder(order_id=other.order_id))
        # Each batch's row is held under its own position; no other position finds one.
        assert reads.committed(order_id, placed.position) is not None
        assert reads.committed(order_id, placed.position + 100) is None


async def test_only_the_exact_order_and_position_is_handed_over(database_url: str) -> None:
    async with running_service(database_url) as service:
        bus, reads = service.bus, service.order_reads
        placed = await bus.dispatch(create())
        # Concurrent commands on one order may share a batch: its row then carries the last
        # one's position, and the first finds nothing (its resolver reads the view instead).
        results = await asyncio.gather(
            *(bus.dispatch(add(placed.order_id, line(f"SKU-{n}"))) for n in range(10, 16))
        )
        last = max(result.position for result in results)
        assert reads.committed(placed.order_id, last) is not None
        for result in results:
            handed = reads.committed(placed.order_id, result.position)
            assert handed is None or handed.position == result.position
        assert reads.committed("no-such-order", last) is None


def test_the_hand_over_is_bounded_and_keeps_the_newest() -> None:
    rows = CommittedRows(size=3)
    rows.offer({"id": f"o{n}", "position": n} for n in range(1, 6))
    assert [rows.row(f"o{n}", n) for n in (1, 2)] == [None, None]
    assert [rows.row(f"o{n}", n) for n in (3, 4, 5)] == [
        {"id": f"o{n}", "position": n} for n in (3, 4, 5)
    ]


async def test_the_runners_own_batches_hand_their_rows_over(
    database_url: str, tmp_path: object
) -> None:
    """Views in a database of their own: no in-writer hook, the runner commits them."""
    views_url = f"sqlite+aiosqlite:///{tmp_path}/views.db"
    async with running_service(database_url, read_url=views_url) as service:
        placed = await service.bus.dispatch(create())
        waited = await service.runner.wait_for(["order_views"], placed.position, 10)
        assert not waited.stale
        handed = service.order_reads.committed(placed.order_id, placed.position)
        assert handed is not None
        assert handed == await service.query_bus.ask(GetOrder(order_id=placed.order_id))
