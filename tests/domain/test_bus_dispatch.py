"""Dispatching through the bus on every backend: an order's whole life, NOT_FOUND, ids, access,
and input rules checked before anything else."""

from __future__ import annotations

import pytest

from domain.bus import CommandBus
from domain.commands import (
    CommandResult,
)
from domain.errors import (
    DomainError,
    ErrorCode,
    OrderNotFound,
    ValidationFailed,
)
from domain.order import Order
from domain.values import OrderStatus
from tests.support.domain import (
    CUSTOMER_ID,
    Store,
    add,
    cancel,
    change_address,
    confirm,
    create,
    line,
    remove,
    ship,
)

# --- the happy path -----------------------------------------------------------------------------


async def test_a_whole_order_life_through_the_bus(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create())
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
    created = [await bus.dispatch(create()) for _ in range(5)]
    ids = [result.order_id for result in created]
    assert len(set(ids)) == 5
    assert all(len(order_id) == 36 for order_id in ids)
    assert [r.position for r in created] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (128, True), (129, False)])
async def test_a_command_id_holds_1_to_128_characters(
    bus: CommandBus, store: Store, length: int, ok: bool
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


async def test_a_customer_touches_only_its_own_orders(bus: CommandBus, store: Store) -> None:
    created = await bus.dispatch(create())
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


async def test_bad_input_is_bad_input_whatever_the_orders_state(bus: CommandBus) -> None:
    bad_price = line(unit_price="1.005")
    with pytest.raises(ValidationFailed) as missing:
        await bus.dispatch(add("no-such-order", item=bad_price))
    assert missing.value.field == "item.unitPrice"
    created = await bus.dispatch(create())
    await bus.dispatch(confirm(created.order_id))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(add(created.order_id, item=bad_price))
    with pytest.raises(ValidationFailed) as blank:
        await bus.dispatch(ship(created.order_id, tracking_number=" "))
    assert blank.value.field == "trackingNumber"
