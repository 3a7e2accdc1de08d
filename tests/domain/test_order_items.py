"""Adding to and removing from an order's existing lines, through the real bus."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.commands import Command
from domain.errors import ErrorCode, ValidationFailed
from domain.events import (
    Event,
    ItemAdded,
    ItemRemoved,
)
from domain.order import Order
from tests.support.domain import (
    NOW,
    ORDER_ID,
    add,
    events_after,
    expect,
    line,
    on_order,
    placed,
    remove,
)

BAD = ErrorCode.BAD_USER_INPUT
INVALID = ErrorCode.INVALID_TRANSITION


# --- adding to and removing from existing lines ------------------------------------------------


@pytest.mark.parametrize("price", ["5", "5.0", "5.00"])
async def test_adding_an_existing_sku_at_the_same_price_adds_to_its_quantity(price: str) -> None:
    given = (placed(),)  # SKU-2: 1 at 5.00
    (event,) = await events_after(given, add(item=line("SKU-2", 4, price)))
    assert event == ItemAdded(
        order_id=ORDER_ID, occurred_at=NOW, sku="SKU-2", quantity=4, unit_price=Decimal("5.00")
    )
    order = Order.replay([*given, event])
    assert order.lines == (line("SKU-1", 2, "9.99"), line("SKU-2", 5, "5.00"))
    assert order.version == 2


@pytest.mark.parametrize("price", ["5.01", "4.99", "0", "50"])
async def test_adding_an_existing_sku_at_another_price_is_bad_input(price: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await events_after((placed(),), add(item=line("SKU-2", 1, price)))
    assert refused.value.code is BAD
    assert refused.value.field == "item.unitPrice"


async def test_a_removed_sku_can_come_back_at_another_price() -> None:
    given = (placed(), ItemRemoved(order_id=ORDER_ID, occurred_at=NOW, sku="SKU-2"))
    (event,) = await events_after(given, add(item=line("SKU-2", 3, "7.25")))
    order = Order.replay([*given, event])
    assert order.lines == (line("SKU-1", 2, "9.99"), line("SKU-2", 3, "7.25"))


@pytest.mark.parametrize(
    ("given", "when", "code"),
    [
        pytest.param(on_order(line("A")), remove(sku="A"), INVALID, id="the only line"),
        pytest.param(
            (
                *on_order(line("A"), line("B")),
                ItemRemoved(order_id=ORDER_ID, occurred_at=NOW, sku="B"),
            ),
            remove(sku="A"),
            INVALID,
            id="the last line left after a removal",
        ),
        pytest.param(on_order(line("A")), remove(sku="B"), BAD, id="missing sku, one line"),
        pytest.param(
            (
                *on_order(line("A"), line("B")),
                ItemRemoved(order_id=ORDER_ID, occurred_at=NOW, sku="B"),
            ),
            remove(sku="B"),
            BAD,
            id="already removed",
        ),
        pytest.param(
            on_order(line("A"), line("B")), remove(sku="a"), BAD, id="sku is case-sensitive"
        ),
    ],
)
async def test_remove_order_item_rules(
    given: tuple[Event, ...], when: Command, code: ErrorCode
) -> None:
    await expect(given, when, code)


async def test_removing_a_line_keeps_the_others_in_order() -> None:
    given = on_order(line("A"), line("B"), line("C"))
    (event,) = await events_after(given, remove(sku="B"))
    assert Order.replay([*given, event]).lines == (line("A"), line("C"))
