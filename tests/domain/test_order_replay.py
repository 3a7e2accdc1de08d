"""Rebuilding an Order from its events: replay folds every event the bus decides."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from domain.events import (
    Event,
    OrderPlaced,
)
from domain.order import Order
from domain.storage.registry import EventRegistry
from domain.values import OrderStatus
from tests.support.domain import (
    ORDER_ID,
    add,
    address,
    cancel,
    change_address,
    confirm,
    confirmed,
    create,
    events_after,
    line,
    one_of_each_event,
    remove,
)

# --- replay and codec ----------------------------------------------------------------------------

HISTORY: list[Event] = one_of_each_event()[:-1]  # ... ends SHIPPED


def test_replay_folds_every_event() -> None:
    order = Order.replay(HISTORY)
    assert order == Order(
        id=ORDER_ID,
        customer_id="customer-1",
        status=OrderStatus.SHIPPED,
        lines=(line("SKU-1", 5, "9.99"), line("SKU-9", 1, "0.00")),
        shipping_address=address(line2="Flat 3", country="FR"),
        version=7,
    )


def test_replay_equals_applying_one_event_at_a_time() -> None:
    assert isinstance(HISTORY[0], OrderPlaced)
    order = Order.started(HISTORY[0])
    for count, event in enumerate(HISTORY[1:], start=2):
        order = order.apply(event)
        assert order == Order.replay(HISTORY[:count])
        assert order.version == count


def test_replay_after_a_storage_round_trip_gives_the_same_order() -> None:
    registry = EventRegistry()
    stored = [json.dumps(registry.encode(event)) for event in HISTORY]
    loaded = [registry.decode(*json.loads(text)) for text in stored]
    assert loaded == HISTORY
    assert Order.replay(loaded) == Order.replay(HISTORY)


def test_a_stream_must_start_with_order_placed() -> None:
    with pytest.raises(TypeError, match="starts with OrderPlaced"):
        Order.replay([confirmed()])


async def test_decided_events_replay_to_the_state_the_decision_saw() -> None:
    history: list[Event] = []
    for command in (
        create(),
        add(item=line("SKU-2", 2, "5")),
        remove(sku="SKU-1"),
        change_address(),
        confirm(expected_version=4),
        cancel(expected_version=5),
    ):
        history.extend(await events_after(history, command))
    order = Order.replay(history)
    assert order.status is OrderStatus.CANCELLED
    assert order.version == 6
    assert order.lines == (line("SKU-2", 3, "5.00"),)
    assert sum((x.line_total for x in order.lines), Decimal(0)) == Decimal("15.00")
