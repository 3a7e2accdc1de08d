"""The command bus on a real database: group commit, idempotency, concurrency, middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from domain.bus import BusNotRunning, CommandBus, Middleware, Next, UnitOfWork, UnknownCommand
from domain.commands import (
    AddOrderItem,
    ChangeShippingAddress,
    Command,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
    OrderCommand,
)
from domain.errors import (
    DomainError,
    ErrorCode,
    IdempotencyMismatch,
    OrderNotFound,
    ValidationFailed,
)
from domain.events import ItemAdded, OrderConfirmed, OrderPlaced, ShippingAddressChanged
from domain.handlers import (
    add_order_item,
    build_command_bus,
    confirm_order,
    create_order,
)
from domain.middleware import idempotency, logging_middleware
from domain.order import Order
from domain.storage.sql import SqlEventStore
from domain.values import OrderStatus
from tests.support.domain import (
    CUSTOMER_ID,
    NOW,
    add,
    address,
    cancel,
    change_address,
    command_id,
    command_rows,
    confirm,
    create,
    line,
    open_store,
    remove,
    running,
    ship,
)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    async with open_store(database_url) as opened:
        yield opened


@pytest.fixture
async def bus(store: SqlEventStore) -> AsyncIterator[CommandBus]:
    async with running(build_command_bus(store)) as started:
        yield started


def failures(outcomes: list[CommandResult | BaseException]) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def results(outcomes: list[CommandResult | BaseException]) -> list[CommandResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, CommandResult)]


async def settle(bus: CommandBus, *commands: Command) -> list[CommandResult | BaseException]:
    """Dispatch all at once (so they share a batch) and collect results and errors in order."""
    return list(
        await asyncio.gather(
            *(bus.dispatch(command) for command in commands), return_exceptions=True
        )
    )


async def new_order(bus: CommandBus, **changes: object) -> CommandResult:
    return await bus.dispatch(create(**changes))


# --- the happy path -----------------------------------------------------------------------------


async def test_a_whole_order_life_through_the_bus(bus: CommandBus, store: SqlEventStore) -> None:
    created = await new_order(bus)
    assert (created.version, created.position) == (1, 1)
    order_id = created.order_id
    steps = [
        add(order_id, item=line("SKU-1", 3, "9.99")),
        remove(order_id, sku="SKU-2"),
        change_address(order_id),
        confirm(order_id, expected_version=4),
        ship(order_id),
    ]
    for version, command in enumerate(steps, start=2):
        result = await bus.dispatch(command)
        assert result == CommandResult(
            command_id=command.command_id, order_id=order_id, version=version, position=version
        )
    order = Order.replay([r.event for r in await store.read_stream(order_id)])
    assert order.status is OrderStatus.SHIPPED
    assert order.lines == (line("SKU-1", 5, "9.99"),)
    assert order.version == 6
    assert store.committed.head == 6


async def test_commands_on_a_missing_order_are_not_found(bus: CommandBus) -> None:
    for command in (confirm("nope"), add("nope"), cancel("nope", expected_version=1)):
        with pytest.raises(OrderNotFound) as refused:
            await bus.dispatch(command)
        assert refused.value.code is ErrorCode.NOT_FOUND


async def test_created_orders_get_distinct_time_ordered_ids(bus: CommandBus) -> None:
    created = [await new_order(bus) for _ in range(5)]
    ids = [result.order_id for result in created]
    assert len(set(ids)) == 5
    assert all(len(order_id) == 36 for order_id in ids)
    assert [r.position for r in created] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (128, True), (129, False)])
async def test_command_id_length(
    bus: CommandBus, store: SqlEventStore, length: int, ok: bool
) -> None:
    command = create(command_id="c" * length)
    if ok:
        assert (await bus.dispatch(command)).command_id == command.command_id
    else:
        with pytest.raises(ValidationFailed) as refused:
            await bus.dispatch(command)
        assert refused.value.field == "commandId"
    assert await store.head_position() == (1 if ok else 0)


@pytest.mark.parametrize("order_id", ["", "o" * 129])
async def test_order_id_length_is_bad_input(bus: CommandBus, order_id: str) -> None:
    for command in (confirm(order_id), add(order_id), cancel(order_id)):
        with pytest.raises(ValidationFailed) as refused:
            await bus.dispatch(command)
        assert refused.value.field == "orderId"


async def test_a_customer_touches_only_its_own_orders(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
    order_id = created.order_id
    for command in (
        confirm(order_id, on_behalf_of="customer-2"),
        add(order_id, on_behalf_of="customer-2"),
        cancel(order_id, on_behalf_of="customer-2", expected_version=1),
    ):
        with pytest.raises(OrderNotFound) as refused:
            await bus.dispatch(command)
        assert refused.value.message == OrderNotFound(order_id).message
    with pytest.raises(DomainError) as forbidden:
        await bus.dispatch(create(on_behalf_of="customer-2"))
    assert forbidden.value.code is ErrorCode.FORBIDDEN
    assert await store.head_position() == 1
    own = await bus.dispatch(confirm(order_id, on_behalf_of=CUSTOMER_ID))
    assert own.version == 2


async def test_a_retry_from_another_customer_never_gets_the_first_result(bus: CommandBus) -> None:
    created = await new_order(bus, on_behalf_of=CUSTOMER_ID)
    confirming = confirm(created.order_id, on_behalf_of=CUSTOMER_ID)
    await bus.dispatch(confirming)
    for stolen in (
        replace(confirming, on_behalf_of="customer-2"),
        replace(confirming, on_behalf_of=None),
    ):
        with pytest.raises(IdempotencyMismatch):
            await bus.dispatch(stolen)


# --- idempotency --------------------------------------------------------------------------------


@pytest.mark.parametrize("max_batch", [256, 1], ids=["one batch", "one command per batch"])
async def test_idempotent_retries_racing(store: SqlEventStore, max_batch: int) -> None:
    async with running(build_command_bus(store, max_batch=max_batch)) as bus:
        command = create()
        outcomes = await asyncio.gather(*(bus.dispatch(command) for _ in range(20)))
        assert len(set(outcomes)) == 1
        assert outcomes[0].command_id == command.command_id
        assert await store.head_position() == 1
        later = await bus.dispatch(command)
        assert later == outcomes[0]
    assert len(await store.read_all()) == 1
    assert [row["command_id"] for row in await command_rows(store)] == [command.command_id]


async def test_a_retry_long_after_returns_the_first_result(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
    confirming = confirm(created.order_id)
    first = await bus.dispatch(confirming)
    await bus.dispatch(change_address(created.order_id))
    retried = await bus.dispatch(
        ConfirmOrder(
            command_id=confirming.command_id,
            issued_at=NOW.replace(year=2026),
            correlation_id="another request",
            order_id=created.order_id,
        )
    )
    assert (
        retried
        == first
        == CommandResult(
            command_id=confirming.command_id, order_id=created.order_id, version=2, position=2
        )
    )
    assert await store.head_position() == 3


async def test_a_reused_command_id_with_another_payload_is_refused(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
    reused = [
        create(command_id=created.command_id, customer_id="someone-else"),
        confirm(created.order_id, command_id=created.command_id),
    ]
    for command in reused:
        with pytest.raises(IdempotencyMismatch) as refused:
            await bus.dispatch(command)
        assert refused.value.code is ErrorCode.BAD_USER_INPUT
        assert refused.value.field == "commandId"
    assert await store.head_position() == 1


async def test_a_reused_command_id_with_another_payload_in_the_same_batch(
    bus: CommandBus, store: SqlEventStore
) -> None:
    first = create()
    other = create(command_id=first.command_id, customer_id="someone-else")
    outcomes = await settle(bus, first, first, other, first)
    assert isinstance(outcomes[2], IdempotencyMismatch)
    assert outcomes[0] == outcomes[1] == outcomes[3]
    assert await store.head_position() == 1


async def test_a_refused_command_id_can_be_used_again(
    bus: CommandBus, store: SqlEventStore
) -> None:
    reused_id = command_id()
    with pytest.raises(OrderNotFound):
        await bus.dispatch(confirm("missing", command_id=reused_id))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(create(command_id=reused_id, lines=()))
    created = await bus.dispatch(create(command_id=reused_id))
    assert created.command_id == reused_id
    assert [row["command_id"] for row in await command_rows(store)] == [reused_id]


async def test_a_failed_command_is_retried_for_real(bus: CommandBus) -> None:
    created = await new_order(bus)
    shipping = ship(created.order_id)
    with pytest.raises(DomainError) as refused:
        await bus.dispatch(shipping)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    await bus.dispatch(confirm(created.order_id))
    shipped = await bus.dispatch(shipping)
    assert shipped.version == 3


# --- concurrency --------------------------------------------------------------------------------


async def test_fifty_concurrent_commands_on_one_order(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
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


async def test_thirty_concurrent_add_order_item(bus: CommandBus, store: SqlEventStore) -> None:
    created = await new_order(bus, lines=(line("SKU-1", 10, "2.50"),))
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
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus, lines=(line("SKU-1", 9_990, "1.00"),))
    outcomes = await settle(
        bus, *(add(created.order_id, item=line("SKU-1", 1, "1")) for _ in range(15))
    )
    assert len(results(outcomes)) == 10
    assert all(isinstance(error, ValidationFailed) for error in failures(outcomes))
    order = Order.replay([r.event for r in await store.read_stream(created.order_id)])
    assert order.lines[0].quantity == 10_000


async def test_expected_version_races_have_one_winner(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
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
    bus: CommandBus, store: SqlEventStore
) -> None:
    async def life() -> CommandResult:
        created = await new_order(bus)
        await bus.dispatch(add(created.order_id))
        await bus.dispatch(confirm(created.order_id, expected_version=2))
        return await bus.dispatch(cancel(created.order_id, expected_version=3))

    finals = await asyncio.gather(*(life() for _ in range(20)))
    assert {result.version for result in finals} == {4}
    logged = await store.read_all(limit=1000)
    assert [r.position for r in logged] == list(range(1, 81))
    assert len(await command_rows(store)) == 80


# --- refusals in a batch ------------------------------------------------------------------------


async def test_a_failing_command_does_not_affect_the_others_in_its_batch(
    bus: CommandBus, store: SqlEventStore
) -> None:
    created = await new_order(bus)
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
    assert len(await command_rows(store)) == 5


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
    store: SqlEventStore,
) -> None:
    bus = build_command_bus(store)
    bus.register(Explode, explode)
    async with running(bus):
        created = await new_order(bus)
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
        assert boom.command_id not in {row["command_id"] for row in await command_rows(store)}
        assert (await bus.dispatch(cancel(order_id, expected_version=2))).version == 3


class Fatal(BaseException):
    """Not an Exception: what a handler should never raise, but might."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Die(Command):
    """A test command whose handler raises a BaseException."""


async def die(command: Die, uow: UnitOfWork) -> CommandResult:
    raise Fatal


async def test_a_handler_raising_a_base_exception_does_not_hang_the_bus(
    store: SqlEventStore,
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


# --- what must never poison a batch ---------------------------------------------------------------


async def test_an_overlong_correlation_id_fails_at_most_its_own_command(
    bus: CommandBus, store: SqlEventStore
) -> None:
    outcomes = await settle(bus, create(), create(correlation_id="r" * 129), create())
    assert isinstance(outcomes[0], CommandResult)
    assert isinstance(outcomes[2], CommandResult)
    assert isinstance(outcomes[1], CommandResult | ValidationFailed)


POISONS: dict[str, Callable[[str], Command]] = {
    "NUL in a reason": lambda order_id: cancel(order_id, reason="oops\x00"),
    "NUL in a trackingNumber": lambda order_id: ship(order_id, tracking_number="T\x00"),
    "NUL in a customerId": lambda _: create(customer_id="c\x00"),
    "NUL in a city": lambda _: create(shipping_address=address(city="N\x00")),
    "NUL in an orderId": lambda _: confirm("o\x00"),
    "NUL in a commandId": lambda _: create(command_id="c\x00"),
    "lone surrogate in a sku": lambda _: create(lines=(line("S\ud800"),)),
    "lone surrogate in a reason": lambda order_id: cancel(order_id, reason="\udfff"),
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
async def test_unstorable_text_fails_at_most_its_own_command(
    bus: CommandBus, store: SqlEventStore, poison: Callable[[str], Command]
) -> None:
    created = await new_order(bus)
    await bus.dispatch(confirm(created.order_id))
    outcomes = await settle(bus, create(), poison(created.order_id), create())
    assert isinstance(outcomes[0], CommandResult)
    assert isinstance(outcomes[2], CommandResult)
    assert isinstance(outcomes[1], CommandResult | DomainError)
    assert (await bus.dispatch(create())).position == await store.head_position()


async def test_an_unencodable_correlation_id_fails_at_most_its_own_command(
    bus: CommandBus,
) -> None:
    outcomes = await settle(bus, create(), create(correlation_id="r\ud800"), create())
    assert isinstance(outcomes[0], CommandResult)
    assert isinstance(outcomes[2], CommandResult)


async def test_a_colliding_new_order_id_fails_only_that_create(store: SqlEventStore) -> None:
    # A UUIDv7 collision is practically impossible; if an injected id generator repeats one, the
    # database refuses the batch and the bus retries its commands one by one, so only the
    # colliding create fails (as an internal error: the client did nothing wrong). The retry
    # runs the handlers again, so they draw ids again.
    ids = iter(["first", "second", "first", "second", "first"])
    async with running(build_command_bus(store, new_id=lambda: next(ids))) as bus:
        await bus.dispatch(create())
        outcomes = await settle(bus, create(), create())
        assert isinstance(outcomes[0], CommandResult)
        assert outcomes[0].order_id == "second"
        assert isinstance(outcomes[1], Exception)
        assert not isinstance(outcomes[1], DomainError)
        assert store.committed.head == 2


async def test_the_bus_keeps_working_after_a_batch_fails_to_commit(store: SqlEventStore) -> None:
    ids = iter(["first", "first", "third"])
    async with running(build_command_bus(store, new_id=lambda: next(ids))) as bus:
        await bus.dispatch(create())
        failed = await settle(bus, create())
        assert isinstance(failed[0], Exception)
        assert store.committed.head == 1
        created = await bus.dispatch(create())
        assert (created.order_id, created.position) == ("third", 2)


# --- the bus's life and routing -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Unregistered(Command):
    pass


async def test_an_unregistered_command_type_is_refused_clearly(bus: CommandBus) -> None:
    with pytest.raises(UnknownCommand, match="no handler is registered for Unregistered"):
        await bus.dispatch(Unregistered(command_id=command_id(), issued_at=NOW))


def is_running(bus: CommandBus) -> bool:
    return bus.running


async def test_dispatch_outside_start_and_stop_is_refused(store: SqlEventStore) -> None:
    bus = build_command_bus(store)
    assert not is_running(bus)
    with pytest.raises(BusNotRunning):
        await bus.dispatch(create())
    async with running(bus):
        assert is_running(bus)
        await bus.dispatch(create())
    assert not is_running(bus)
    with pytest.raises(BusNotRunning):
        await bus.dispatch(create())
    async with running(bus):
        assert (await bus.dispatch(create())).position == 2
    assert await store.head_position() == 2


async def test_stop_commits_what_is_queued(store: SqlEventStore) -> None:
    bus = build_command_bus(store, max_batch=4)
    await bus.start()
    pending = [asyncio.create_task(bus.dispatch(create())) for _ in range(10)]
    await asyncio.sleep(0)
    await bus.stop()
    done = await asyncio.gather(*pending)
    assert sorted(result.position for result in done) == list(range(1, 11))
    assert await store.head_position() == 10


async def test_a_cancelled_caller_does_not_stop_its_command(
    bus: CommandBus, store: SqlEventStore
) -> None:
    command = create()
    waiting = asyncio.create_task(bus.dispatch(command))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    retried = await bus.dispatch(command)
    assert retried.position == 1
    assert await store.head_position() == 1


# --- middleware -----------------------------------------------------------------------------------


async def test_middleware_runs_in_order_around_handlers_that_never_see_it(
    store: SqlEventStore,
) -> None:
    trace: list[str] = []
    seen_by_handlers: list[Command] = []

    def tracer(name: str) -> Middleware:
        async def middleware(command: Command, uow: UnitOfWork, call_next: Next) -> CommandResult:
            trace.append(f"{name}>{type(command).__name__}")
            try:
                return await call_next(command, uow)
            finally:
                trace.append(f"{name}<")

        return middleware

    async def traced_create(command: CreateOrder, uow: UnitOfWork) -> CommandResult:
        seen_by_handlers.append(command)
        trace.append("handler")
        return await create_order(command, uow, new_id=lambda: "o-1")

    async def traced_confirm(command: ConfirmOrder, uow: UnitOfWork) -> CommandResult:
        seen_by_handlers.append(command)
        trace.append("handler")
        return await confirm_order(command, uow)

    outer, inner = tracer("outer"), tracer("inner")
    bus = CommandBus(store, middlewares=(outer, logging_middleware, idempotency, inner))
    bus.register(CreateOrder, traced_create)
    bus.register(ConfirmOrder, traced_confirm)
    bus.register(AddOrderItem, add_order_item)
    creating = create()
    async with running(bus):
        await bus.dispatch(creating)
        assert trace == ["outer>CreateOrder", "inner>CreateOrder", "handler", "inner<", "outer<"]
        trace.clear()
        await bus.dispatch(creating)
        assert trace == ["outer>CreateOrder", "outer<"], "a replay never reaches the handler"
        trace.clear()
        with pytest.raises(OrderNotFound):
            await bus.dispatch(confirm("missing"))
        assert trace == ["outer>ConfirmOrder", "inner>ConfirmOrder", "handler", "inner<", "outer<"]
    assert seen_by_handlers[0] == creating
    assert [type(command) for command in seen_by_handlers] == [CreateOrder, ConfirmOrder]


async def test_the_logging_middleware_logs_refusals_with_their_code(
    bus: CommandBus, caplog: pytest.LogCaptureFixture
) -> None:
    refused = confirm("missing", correlation_id="req-42")
    with caplog.at_level("INFO", logger="ordergraph.commands"), pytest.raises(OrderNotFound):
        await bus.dispatch(refused)
    (message,) = [r.getMessage() for r in caplog.records if refused.command_id in r.getMessage()]
    assert "ConfirmOrder" in message
    assert "NOT_FOUND" in message
    assert "req-42" in message


async def test_bad_input_is_bad_input_whatever_the_orders_state(bus: CommandBus) -> None:
    bad_price = line(unit_price="1.005")
    with pytest.raises(ValidationFailed) as missing:
        await bus.dispatch(add("no-such-order", item=bad_price))
    assert missing.value.field == "item.unitPrice"
    created = await new_order(bus)
    await bus.dispatch(confirm(created.order_id))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(add(created.order_id, item=bad_price))
    with pytest.raises(ValidationFailed) as blank:
        await bus.dispatch(ship(created.order_id, tracking_number=" "))
    assert blank.value.field == "trackingNumber"
