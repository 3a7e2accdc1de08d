"""Idempotency by commandId on every backend: a retry gets the first result, another payload is
refused, a refused command id can be used again."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from domain.bus import CommandBus
from domain.commands import (
    CommandResult,
    ConfirmOrder,
)
from domain.errors import (
    DomainError,
    ErrorCode,
    IdempotencyMismatch,
    InvalidTransition,
    OrderNotFound,
    ValidationFailed,
)
from domain.handlers import (
    build_command_bus,
)
from tests.support.domain import (
    CUSTOMER_ID,
    NOW,
    Store,
    change_address,
    command_id,
    confirm,
    create,
    recorded_command_ids,
    running,
    settle,
    ship,
)


async def test_a_retry_from_another_customer_never_gets_the_first_result(bus: CommandBus) -> None:
    created = await bus.dispatch(create(on_behalf_of=CUSTOMER_ID))
    confirming = confirm(created.order_id, on_behalf_of=CUSTOMER_ID)
    await bus.dispatch(confirming)
    # Command ids are scoped to their sender: another customer's retry is a command of its own
    # (on an order it cannot see), staff's one on an order already confirmed.
    for stolen, refusal in (
        (replace(confirming, on_behalf_of="customer-2"), OrderNotFound),
        (replace(confirming, on_behalf_of=None), InvalidTransition),
    ):
        with pytest.raises(refusal):
            await bus.dispatch(stolen)


# --- idempotency --------------------------------------------------------------------------------


@pytest.mark.parametrize("max_batch", [256, 1], ids=["one batch", "one command per batch"])
async def test_racing_retries_of_one_command_append_it_once(store: Store, max_batch: int) -> None:
    async with running(build_command_bus(store, max_batch=max_batch)) as bus:
        command = create()
        outcomes = await asyncio.gather(*(bus.dispatch(command) for _ in range(20)))
        assert len(set(outcomes)) == 1
        assert outcomes[0].command_id == command.command_id
        assert await store.head_position() == 1
        later = await bus.dispatch(command)
        assert later == outcomes[0]
    assert len(await store.read_all()) == 1
    assert await recorded_command_ids(store) == [command.command_id]


async def test_a_retry_long_after_returns_the_first_result(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create())
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
    bus: CommandBus, store: Store
) -> None:
    created = await bus.dispatch(create())
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
    bus: CommandBus, store: Store
) -> None:
    first = create()
    other = create(command_id=first.command_id, customer_id="someone-else")
    outcomes = await settle(bus, first, first, other, first)
    assert isinstance(outcomes[2], IdempotencyMismatch)
    assert outcomes[0] == outcomes[1] == outcomes[3]
    assert await store.head_position() == 1


async def test_a_refused_command_id_can_be_used_again(bus: CommandBus, store: Store) -> None:
    reused_id = command_id()
    with pytest.raises(OrderNotFound):
        await bus.dispatch(confirm("missing", command_id=reused_id))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(create(command_id=reused_id, lines=()))
    created = await bus.dispatch(create(command_id=reused_id))
    assert created.command_id == reused_id
    assert await recorded_command_ids(store) == [reused_id]


async def test_a_failed_command_is_retried_for_real(bus: CommandBus) -> None:
    created = await bus.dispatch(create())
    shipping = ship(created.order_id)
    with pytest.raises(DomainError) as refused:
        await bus.dispatch(shipping)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    await bus.dispatch(confirm(created.order_id))
    shipped = await bus.dispatch(shipping)
    assert shipped.version == 3
