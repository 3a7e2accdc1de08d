"""Concurrent commands on every backend: versions and positions stay gapless, caps and expected
versions hold, nothing is lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from domain.bus import CommandBus
from domain.commands import (
    CommandResult,
)
from domain.errors import (
    DomainError,
    ErrorCode,
    ValidationFailed,
)
from domain.events import ItemAdded, OrderConfirmed, OrderPlaced, ShippingAddressChanged
from domain.order import Order
from tests.support.domain import (
    Store,
    add,
    address,
    cancel,
    change_address,
    confirm,
    create,
    failures,
    line,
    recorded_command_ids,
    results,
    settle,
)

# --- concurrency --------------------------------------------------------------------------------


async def test_fifty_concurrent_commands_on_one_order(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create())
    commands = [
        change_address(created.order_id, new=address(line1=f"{index} Road")) for index in range(50)
    ]
    outcomes = await asyncio.gather(*(bus.dispatch(command) for command in commands))
    assert sorted(result.version for result in outcomes) == list(range(2, 52))
    assert sorted(result.position for result in outcomes) == list(range(2, 52))
    stream = await store.read_stream(created.order_id)
    assert [r.version for r in stream] == list(range(1, 52))
    by_command = {r.metadata.command_id: r for r in stream}
    for command, result in zip(commands, outcomes, strict=True):
        recorded = by_command[command.command_id]
        assert (recorded.version, recorded.position) == (result.version, result.position)
        assert isinstance(recorded.event, ShippingAddressChanged)
        assert recorded.event.shipping_address == command.shipping_address


async def test_thirty_concurrent_add_order_item(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create(lines=(line("SKU-1", 10, "2.50"),)))
    outcomes = await asyncio.gather(
        *(
            bus.dispatch(add(created.order_id, item=line("SKU-1", index + 1, "2.5")))
            for index in range(30)
        )
    )
    assert sorted(result.version for result in outcomes) == list(range(2, 32))
    events = [r.event for r in await store.read_stream(created.order_id)]
    assert sum(isinstance(event, ItemAdded) for event in events) == 30
    order = Order.replay(events)
    assert order.lines == (line("SKU-1", 10 + sum(range(1, 31)), "2.50"),)
    assert order.lines[0].line_total == Decimal("1187.50")


async def test_concurrent_adds_cannot_overshoot_the_quantity_cap(
    bus: CommandBus, store: Store
) -> None:
    created = await bus.dispatch(create(lines=(line("SKU-1", 9_990, "1.00"),)))
    outcomes = await settle(
        bus, *(add(created.order_id, item=line("SKU-1", 1, "1")) for _ in range(15))
    )
    assert len(results(outcomes)) == 10
    assert all(isinstance(error, ValidationFailed) for error in failures(outcomes))
    order = Order.replay([r.event for r in await store.read_stream(created.order_id)])
    assert order.lines[0].quantity == 10_000


async def test_expected_version_races_have_one_winner(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create())
    outcomes = await settle(
        bus, *(confirm(created.order_id, expected_version=1) for _ in range(10))
    )
    (winner,) = results(outcomes)
    assert winner.version == 2
    codes = {error.code for error in failures(outcomes) if isinstance(error, DomainError)}
    assert len(failures(outcomes)) == 9
    assert codes <= {ErrorCode.CONCURRENCY_CONFLICT, ErrorCode.INVALID_TRANSITION}
    assert [type(r.event) for r in await store.read_stream(created.order_id)] == [
        OrderPlaced,
        OrderConfirmed,
    ]


async def test_concurrent_orders_interleave_without_losing_anything(
    bus: CommandBus, store: Store
) -> None:
    async def life() -> CommandResult:
        created = await bus.dispatch(create())
        await bus.dispatch(add(created.order_id))
        await bus.dispatch(confirm(created.order_id, expected_version=2))
        return await bus.dispatch(cancel(created.order_id, expected_version=3))

    finals = await asyncio.gather(*(life() for _ in range(20)))
    assert {result.version for result in finals} == {4}
    logged = await store.read_all(limit=1000)
    assert [r.position for r in logged] == list(range(1, 81))
    assert len(await recorded_command_ids(store)) == 80
