"""What the backend refuses never poisons a batch: the bus retries its commands one by one so
that only the culprit fails, and keeps working afterwards."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.bus import CommandBus
from domain.commands import (
    Command,
    CommandResult,
)
from domain.errors import (
    DomainError,
    ValidationFailed,
)
from domain.handlers import (
    build_command_bus,
)
from tests.support.domain import (
    Store,
    address,
    cancel,
    confirm,
    create,
    line,
    running,
    settle,
    ship,
)

# --- what must never poison a batch ---------------------------------------------------------------


async def test_an_overlong_correlation_id_fails_at_most_its_own_command(
    bus: CommandBus, store: Store
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
    bus: CommandBus, store: Store, poison: Callable[[str], Command]
) -> None:
    created = await bus.dispatch(create())
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


async def test_a_colliding_new_order_id_fails_only_that_create(store: Store) -> None:
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


async def test_the_bus_keeps_working_after_a_batch_fails_to_commit(store: Store) -> None:
    ids = iter(["first", "first", "third"])
    async with running(build_command_bus(store, new_id=lambda: next(ids))) as bus:
        await bus.dispatch(create())
        failed = await settle(bus, create())
        assert isinstance(failed[0], Exception)
        assert store.committed.head == 1
        created = await bus.dispatch(create())
        assert (created.order_id, created.position) == ("third", 2)
