"""Events and commands survive the codec: exact money, UTC times, every type."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.codec import from_json, to_json
from domain.commands import Command
from domain.events import (
    EVENT_TYPES,
    Event,
    ItemAdded,
    OrderPlaced,
)
from domain.storage.registry import EventRegistry
from tests.support.domain import (
    ORDER_ID,
    add,
    address,
    cancel,
    change_address,
    confirm,
    create,
    line,
    one_of_each_event,
    placed,
    remove,
    ship,
)

SAMPLES = one_of_each_event()


def test_the_codec_samples_cover_every_event_type() -> None:
    assert {type(event) for event in SAMPLES} == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", SAMPLES, ids=[type(event).__name__ for event in SAMPLES])
def test_codec_round_trips_every_event_type(event: Event) -> None:
    data = json.loads(json.dumps(to_json(event)))
    assert from_json(type(event), data) == event
    registry = EventRegistry()
    event_type, version, payload = registry.encode(event)
    assert (event_type, version) == (type(event).__name__, 1)
    assert registry.decode(event_type, version, json.loads(json.dumps(payload))) == event


def test_codec_keeps_money_exact_and_times_utc() -> None:
    event = ItemAdded(
        order_id=ORDER_ID,
        occurred_at=datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
        sku="S",
        quantity=3,
        unit_price=Decimal("0.10"),
    )
    data = to_json(event)
    assert data["unit_price"] == "0.10"
    assert data["occurred_at"] == "2025-01-01T00:00:00+00:00"
    decoded = from_json(ItemAdded, json.loads(json.dumps(data)))
    assert str(decoded.unit_price) == "0.10"
    assert decoded.occurred_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert decoded.occurred_at.utcoffset() == timedelta(0)
    assert decoded.unit_price * 3 == Decimal("0.30")


COMMAND_SAMPLES: list[Command] = [
    create(correlation_id="corr-1"),
    add(item=line("X", 3, "0.10"), expected_version=4),
    remove(),
    change_address(new=address(line2="Flat 9")),
    confirm(expected_version=1),
    ship(),
    cancel(),
]


@pytest.mark.parametrize(
    "command", COMMAND_SAMPLES, ids=[type(command).__name__ for command in COMMAND_SAMPLES]
)
def test_codec_round_trips_every_command_type(command: Command) -> None:
    assert from_json(type(command), json.loads(json.dumps(to_json(command)))) == command


def test_placed_event_lines_survive_the_codec_in_order() -> None:
    event = placed(lines=tuple(line(f"S{index}", index + 1, f"{index}.5") for index in range(5)))
    decoded = from_json(OrderPlaced, json.loads(json.dumps(to_json(event))))
    assert decoded.lines == event.lines
    assert [x.sku for x in decoded.lines] == ["S0", "S1", "S2", "S3", "S4"]
