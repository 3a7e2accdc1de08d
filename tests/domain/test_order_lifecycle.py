"""The order's life through the real bus and handlers: every command in every status, and the
expected version checked before anything else."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from domain.commands import Command
from domain.errors import ConcurrencyConflict, DomainError, ErrorCode
from domain.events import (
    Event,
    ItemAdded,
    ItemRemoved,
    OrderCancelled,
    OrderConfirmed,
    OrderShipped,
    ShippingAddressChanged,
)
from domain.order import Order
from domain.values import OrderStatus
from tests.support.domain import (
    NOW,
    ORDER_ID,
    add,
    address,
    cancel,
    cancelled,
    change_address,
    confirm,
    confirmed,
    create,
    events_after,
    expect,
    placed,
    remove,
    ship,
    shipped,
)

INVALID = ErrorCode.INVALID_TRANSITION
CONFLICT = ErrorCode.CONCURRENCY_CONFLICT

Then = tuple[Event, ...] | ErrorCode


@dataclass(frozen=True, kw_only=True, slots=True)
class Case:
    given: tuple[Event, ...]
    when: Command
    then: Then


async def check(case: Case) -> None:
    """Run the case's command through the bus on its history and compare with what it expects."""
    if isinstance(case.then, ErrorCode):
        with pytest.raises(DomainError) as refused:
            await events_after(case.given, case.when)
        assert refused.value.code is case.then, refused.value.message
    else:
        assert tuple(await events_after(case.given, case.when)) == case.then


PLACED = (placed(),)
ACCEPTED: ErrorCode | None = None


# --- every command in every status ------------------------------------------------------------

HISTORIES: dict[str, tuple[Event, ...]] = {
    "PLACED": (placed(),),
    "CONFIRMED": (placed(), confirmed()),
    "SHIPPED": (placed(), confirmed(), shipped()),
    "CANCELLED": (placed(), cancelled()),
    "CANCELLED after CONFIRMED": (placed(), confirmed(), cancelled()),
}

COMMANDS: dict[str, tuple[Command, Event]] = {
    "addOrderItem": (
        add(),
        ItemAdded(
            order_id=ORDER_ID, occurred_at=NOW, sku="SKU-3", quantity=1, unit_price=Decimal("1.50")
        ),
    ),
    "removeOrderItem": (remove(), ItemRemoved(order_id=ORDER_ID, occurred_at=NOW, sku="SKU-2")),
    "changeShippingAddress": (
        change_address(),
        ShippingAddressChanged(
            order_id=ORDER_ID,
            occurred_at=NOW,
            shipping_address=address(line1="1 New Road", city="Leeds"),
        ),
    ),
    "confirmOrder": (confirm(), OrderConfirmed(order_id=ORDER_ID, occurred_at=NOW)),
    "shipOrder": (
        ship(),
        OrderShipped(order_id=ORDER_ID, occurred_at=NOW, tracking_number="TRACK-1"),
    ),
    "cancelOrder": (
        cancel(),
        OrderCancelled(order_id=ORDER_ID, occurred_at=NOW, reason="changed my mind"),
    ),
}

# contract.md, "The order's life".
ALLOWED: dict[str, frozenset[str]] = {
    "addOrderItem": frozenset({"PLACED"}),
    "removeOrderItem": frozenset({"PLACED"}),
    "changeShippingAddress": frozenset({"PLACED", "CONFIRMED"}),
    "confirmOrder": frozenset({"PLACED"}),
    "shipOrder": frozenset({"CONFIRMED"}),
    "cancelOrder": frozenset({"PLACED", "CONFIRMED"}),
}

STATUS_AFTER: dict[str, OrderStatus | None] = {
    "addOrderItem": None,
    "removeOrderItem": None,
    "changeShippingAddress": None,
    "confirmOrder": OrderStatus.CONFIRMED,
    "shipOrder": OrderStatus.SHIPPED,
    "cancelOrder": OrderStatus.CANCELLED,
}

TRANSITIONS = [
    pytest.param(
        Case(
            given=history,
            when=command,
            then=(event,) if status.split()[0] in ALLOWED[name] else INVALID,
        ),
        id=f"{name} when {status}",
    )
    for status, history in HISTORIES.items()
    for name, (command, event) in COMMANDS.items()
]


@pytest.mark.parametrize("case", TRANSITIONS)
async def test_each_command_is_allowed_only_in_the_statuses_the_contract_names(case: Case) -> None:
    await check(case)


async def test_create_order_starts_a_stream() -> None:
    await check(Case(given=(), when=create(), then=(placed(),)))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_allowed_commands_move_the_order_on(name: str) -> None:
    _, event = COMMANDS[name]
    before = Order.replay([placed(), confirmed()] if name == "shipOrder" else [placed()])
    after = before.apply(event)
    assert after.version == before.version + 1
    assert after.status == (STATUS_AFTER[name] or before.status)


def test_the_matrix_covers_every_status_and_command() -> None:
    assert {status.split()[0] for status in HISTORIES} == {s.value for s in OrderStatus}
    assert set(COMMANDS) == set(ALLOWED) == set(STATUS_AFTER)


# --- expected version --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "code"),
    [
        pytest.param(PLACED, 1, ACCEPTED, id="1 at 1"),
        pytest.param(PLACED, 0, CONFLICT, id="0 at 1"),
        pytest.param(PLACED, 2, CONFLICT, id="2 at 1"),
        pytest.param((placed(), confirmed()), 2, ACCEPTED, id="2 at 2"),
        pytest.param((placed(), confirmed()), 1, CONFLICT, id="1 at 2"),
    ],
)
async def test_a_command_at_another_expected_version_is_a_conflict(
    given: tuple[Event, ...], expected: int, code: ErrorCode | None
) -> None:
    await expect(given, change_address(expected_version=expected), code)


async def test_a_concurrency_conflict_says_which_versions() -> None:
    with pytest.raises(ConcurrencyConflict) as refused:
        await events_after((placed(), confirmed()), cancel(expected_version=1))
    assert (refused.value.stream_id, refused.value.expected, refused.value.actual) == (
        ORDER_ID,
        1,
        2,
    )


async def test_the_version_is_checked_before_the_status() -> None:
    await check(
        Case(given=(placed(), cancelled()), when=confirm(expected_version=1), then=CONFLICT)
    )
