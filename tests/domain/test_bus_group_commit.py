"""Group commit on every backend: the commands of one batch succeed or fail each on its own, and
an unexpected handler error fails only its command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from domain.bus import BusNotRunning, CommandBus, UnitOfWork
from domain.commands import (
    ChangeShippingAddress,
    Command,
    CommandResult,
    OrderCommand,
)
from domain.errors import (
    DomainError,
    ErrorCode,
)
from domain.events import ItemAdded, OrderConfirmed, OrderPlaced
from domain.handlers import (
    build_command_bus,
)
from tests.support.domain import (
    NOW,
    Store,
    add,
    address,
    cancel,
    command_id,
    confirm,
    create,
    line,
    recorded_command_ids,
    running,
    settle,
    ship,
)

# --- refusals in a batch ------------------------------------------------------------------------


async def test_a_failing_command_does_not_affect_the_others_in_its_batch(
    bus: CommandBus, store: Store
) -> None:
    created = await bus.dispatch(create())
    order_id = created.order_id
    outcomes = await settle(
        bus,
        create(customer_id="good-1"),
        create(lines=(line("bad\x00sku"),)),
        add(order_id, item=line("SKU-2", 1, "5.01")),
        confirm("missing"),
        add(order_id, item=line("SKU-7", 2, "3.00")),
        ship(order_id),
        confirm(order_id, expected_version=5),
        confirm(order_id, expected_version=2),
        create(customer_id="good-2"),
    )
    codes = [outcome.code if isinstance(outcome, DomainError) else "ok" for outcome in outcomes]
    assert codes == [
        "ok",
        ErrorCode.BAD_USER_INPUT,
        ErrorCode.BAD_USER_INPUT,
        ErrorCode.NOT_FOUND,
        "ok",
        ErrorCode.INVALID_TRANSITION,
        ErrorCode.CONCURRENCY_CONFLICT,
        "ok",
        "ok",
    ]
    logged = await store.read_all()
    assert [r.position for r in logged] == [1, 2, 3, 4, 5]
    assert len({r.metadata.recorded_at for r in logged[1:]}) == 1, "not one batch"
    stream = await store.read_stream(order_id)
    assert [type(r.event) for r in stream] == [OrderPlaced, ItemAdded, OrderConfirmed]
    assert len(await recorded_command_ids(store)) == 5


@dataclass(frozen=True, kw_only=True, slots=True)
class Explode(OrderCommand):
    """A test command whose handler stages an event and then fails unexpectedly."""


async def explode(command: Explode, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    moving = ChangeShippingAddress(
        command_id=command.command_id,
        issued_at=command.issued_at,
        order_id=command.order_id,
        shipping_address=address(city="Nowhere"),
    )
    uow.record(command, order, order.change_shipping_address(moving))
    raise RuntimeError("the handler broke")


async def test_an_unexpected_handler_error_fails_only_that_command(
    store: Store,
) -> None:
    bus = build_command_bus(store)
    bus.register(Explode, explode)
    async with running(bus):
        created = await bus.dispatch(create())
        order_id = created.order_id
        boom = Explode(command_id=command_id(), issued_at=NOW, order_id=order_id)
        outcomes = await settle(bus, boom, confirm(order_id, expected_version=1), create(), boom)
        assert isinstance(outcomes[0], RuntimeError)
        assert isinstance(outcomes[3], RuntimeError)
        assert isinstance(outcomes[1], CommandResult)
        assert outcomes[1].version == 2
        assert isinstance(outcomes[2], CommandResult)
        stream = await store.read_stream(order_id)
        assert [(r.version, r.metadata.command_id) for r in stream] == [
            (1, created.command_id),
            (2, outcomes[1].command_id),
        ]
        assert await store.head_position() == 3
        assert boom.command_id not in set(await recorded_command_ids(store))
        assert (await bus.dispatch(cancel(order_id, expected_version=2))).version == 3


class Fatal(BaseException):
    """Not an Exception: what a handler should never raise, but might."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Die(Command):
    """A test command whose handler raises a BaseException."""


async def die(command: Die, uow: UnitOfWork) -> CommandResult:
    raise Fatal


async def test_a_handler_raising_a_base_exception_does_not_hang_the_bus(
    store: Store,
) -> None:
    bus = build_command_bus(store)
    bus.register(Die, die)
    await bus.start()
    try:
        outcome = await asyncio.wait_for(
            asyncio.gather(
                bus.dispatch(Die(command_id=command_id(), issued_at=NOW)), return_exceptions=True
            ),
            2,
        )
        assert isinstance(outcome[0], BaseException)
        later = await asyncio.wait_for(
            asyncio.gather(bus.dispatch(create()), return_exceptions=True), 2
        )
        assert isinstance(later[0], CommandResult | BusNotRunning)
    finally:
        await asyncio.wait_for(asyncio.gather(bus.stop(), return_exceptions=True), 2)
