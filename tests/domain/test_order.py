"""The Order aggregate, given events / when a command / then events or an error code."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.codec import from_json, to_json
from domain.commands import Command
from domain.errors import ConcurrencyConflict, DomainError, ErrorCode, ValidationFailed
from domain.events import (
    EVENT_TYPES,
    Event,
    ItemAdded,
    ItemRemoved,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderShipped,
    ShippingAddressChanged,
)
from domain.order import Order
from domain.storage.registry import EventRegistry
from domain.values import OrderLine, OrderStatus
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
    decide,
    line,
    one_of_each_event,
    placed,
    remove,
    ship,
    shipped,
)

BAD = ErrorCode.BAD_USER_INPUT
INVALID = ErrorCode.INVALID_TRANSITION
CONFLICT = ErrorCode.CONCURRENCY_CONFLICT

Then = tuple[Event, ...] | ErrorCode


@dataclass(frozen=True, kw_only=True, slots=True)
class Case:
    given: tuple[Event, ...]
    when: Command
    then: Then


def check(case: Case) -> None:
    """Run the case's command against its history and compare with what it expects."""
    if isinstance(case.then, ErrorCode):
        with pytest.raises(DomainError) as refused:
            decide(case.given, case.when)
        assert refused.value.code is case.then, refused.value.message
    else:
        assert tuple(decide(case.given, case.when)) == case.then


def accepted(given: tuple[Event, ...], when: Command) -> None:
    """The command is allowed: exactly one event, of the order being commanded."""
    events = decide(given, when)
    assert len(events) == 1
    assert events[0].occurred_at == when.issued_at


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
def test_every_command_in_every_status(case: Case) -> None:
    check(case)


def test_create_order_starts_a_stream() -> None:
    check(Case(given=(), when=create(), then=(placed(),)))


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


# --- input rules --------------------------------------------------------------------------------

PLACED = (placed(),)
ACCEPTED: ErrorCode | None = None


def sku_cases() -> list[object]:
    skus: list[tuple[str, str, ErrorCode | None]] = [
        ("empty", "", BAD),
        ("1 char", "a", ACCEPTED),
        ("64 chars", "a" * 64, ACCEPTED),
        ("64 non-ASCII chars", "é" * 64, ACCEPTED),
        ("65 chars", "a" * 65, BAD),
        ("NUL", "ab\x00", BAD),
        ("tab", "a\tb", BAD),
        ("newline", "a\nb", BAD),
        ("DEL", "a\x7f", BAD),
        ("C1 control", "a\x85", BAD),
    ]
    cases: list[object] = []
    for name, sku, code in skus:
        cases.append(
            pytest.param(PLACED[:0], create(lines=(line(sku),)), code, id=f"create {name}")
        )
        cases.append(pytest.param(PLACED, add(item=line(sku)), code, id=f"add {name}"))
    return cases


@pytest.mark.parametrize(("given", "when", "code"), sku_cases())
def test_sku_rules(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    expect(given, when, code)


@pytest.mark.parametrize(
    ("sku", "code"),
    [
        pytest.param("", BAD, id="empty"),
        pytest.param("a" * 65, BAD, id="65 chars"),
        pytest.param("SKU\x00", BAD, id="control character"),
        pytest.param("SKU-404", BAD, id="not on the order"),
    ],
)
def test_remove_order_item_sku_rules(sku: str, code: ErrorCode) -> None:
    expect(PLACED, remove(sku=sku), code)


def expect(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    """`code` None: the command is accepted; else it is refused with `code`."""
    if code is None:
        accepted(given, when)
    else:
        check(Case(given=given, when=when, then=code))


def on_order(*lines: OrderLine) -> tuple[Event, ...]:
    return (placed(lines=lines),)


@pytest.mark.parametrize(
    ("given", "when", "code"),
    [
        pytest.param((), create(lines=(line(quantity=0),)), BAD, id="create 0"),
        pytest.param((), create(lines=(line(quantity=-1),)), BAD, id="create -1"),
        pytest.param((), create(lines=(line(quantity=1),)), ACCEPTED, id="create 1"),
        pytest.param((), create(lines=(line(quantity=10_000),)), ACCEPTED, id="create 10000"),
        pytest.param((), create(lines=(line(quantity=10_001),)), BAD, id="create 10001"),
        pytest.param(PLACED, add(item=line("NEW", 0)), BAD, id="add new 0"),
        pytest.param(PLACED, add(item=line("NEW", 1)), ACCEPTED, id="add new 1"),
        pytest.param(PLACED, add(item=line("NEW", 10_000)), ACCEPTED, id="add new 10000"),
        pytest.param(PLACED, add(item=line("NEW", 10_001)), BAD, id="add new 10001"),
        pytest.param(
            on_order(line("A", 9_999)), add(item=line("A", 1)), ACCEPTED, id="9999 + 1 = 10000"
        ),
        pytest.param(on_order(line("A", 9_999)), add(item=line("A", 2)), BAD, id="9999 + 2"),
        pytest.param(on_order(line("A", 1)), add(item=line("A", 10_000)), BAD, id="1 + 10000"),
        pytest.param(on_order(line("A", 1)), add(item=line("A", 0)), BAD, id="existing + 0"),
        pytest.param(
            (
                *on_order(line("A", 5_000)),
                ItemAdded(
                    order_id=ORDER_ID,
                    occurred_at=NOW,
                    sku="A",
                    quantity=4_999,
                    unit_price=Decimal("9.99"),
                ),
            ),
            add(item=line("A", 1)),
            ACCEPTED,
            id="5000 + 4999 already added + 1",
        ),
        pytest.param(
            (
                *on_order(line("A", 5_000)),
                ItemAdded(
                    order_id=ORDER_ID,
                    occurred_at=NOW,
                    sku="A",
                    quantity=4_999,
                    unit_price=Decimal("9.99"),
                ),
            ),
            add(item=line("A", 2)),
            BAD,
            id="5000 + 4999 already added + 2",
        ),
    ],
)
def test_quantity_rules(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    expect(given, when, code)


PRICES: list[tuple[str, ErrorCode | None]] = [
    ("-0.01", BAD),
    ("0", ACCEPTED),
    ("0.00", ACCEPTED),
    ("0.01", ACCEPTED),
    ("1.23", ACCEPTED),
    ("1.234", BAD),
    ("0.001", BAD),
    ("1000000", ACCEPTED),
    ("1000000.00", ACCEPTED),
    ("1000000.01", BAD),
    ("1E+2", ACCEPTED),
    ("1E+7", BAD),
    ("NaN", BAD),
    ("-NaN", BAD),
    ("sNaN", BAD),
    ("Infinity", BAD),
    ("-Infinity", BAD),
]


@pytest.mark.parametrize(("price", "code"), PRICES, ids=[price for price, _ in PRICES])
def test_unit_price_rules_on_create(price: str, code: ErrorCode | None) -> None:
    expect((), create(lines=(line(unit_price=Decimal(price)),)), code)


@pytest.mark.parametrize(("price", "code"), PRICES, ids=[price for price, _ in PRICES])
def test_unit_price_rules_on_add(price: str, code: ErrorCode | None) -> None:
    expect(PLACED, add(item=line("NEW", unit_price=Decimal(price))), code)


@pytest.mark.parametrize(
    ("price", "held"),
    [("5", "5.00"), ("5.5", "5.50"), ("1E+2", "100.00"), ("0", "0.00"), ("1000000", "1000000.00")],
)
def test_prices_are_held_to_the_cent(price: str, held: str) -> None:
    (event,) = decide((), create(lines=(line(unit_price=price),)))
    assert isinstance(event, OrderPlaced)
    assert str(event.lines[0].unit_price) == held
    (added,) = decide(PLACED, add(item=line("NEW", unit_price=price)))
    assert isinstance(added, ItemAdded)
    assert str(added.unit_price) == held


def test_negative_zero_price_is_held_as_zero() -> None:
    (event,) = decide((), create(lines=(line(unit_price="-0"),)))
    assert isinstance(event, OrderPlaced)
    assert str(event.lines[0].unit_price) == "0.00"


def lines_of(count: int) -> tuple[OrderLine, ...]:
    return tuple(line(f"SKU-{index}") for index in range(count))


@pytest.mark.parametrize(
    ("given", "when", "code"),
    [
        pytest.param((), create(lines=()), BAD, id="create 0 lines"),
        pytest.param((), create(lines=lines_of(1)), ACCEPTED, id="create 1 line"),
        pytest.param((), create(lines=lines_of(100)), ACCEPTED, id="create 100 lines"),
        pytest.param((), create(lines=lines_of(101)), BAD, id="create 101 lines"),
        pytest.param(
            (), create(lines=(line("A"), line("B"), line("A"))), BAD, id="create duplicate sku"
        ),
        pytest.param(
            (),
            create(lines=(line("A", 1, "1.00"), line("A", 2, "2.00"))),
            BAD,
            id="create duplicate sku, other quantity and price",
        ),
        pytest.param(on_order(*lines_of(99)), add(item=line("NEW")), ACCEPTED, id="add 100th line"),
        pytest.param(on_order(*lines_of(100)), add(item=line("NEW")), BAD, id="add 101st line"),
        pytest.param(
            on_order(*lines_of(100)),
            add(item=line("SKU-7")),
            ACCEPTED,
            id="add to an existing line of a full order",
        ),
    ],
)
def test_line_count_rules(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    expect(given, when, code)


def text_cases(max_length: int) -> list[tuple[str, str, ErrorCode | None]]:
    return [
        ("empty", "", BAD),
        ("1 char", "x", ACCEPTED),
        (f"{max_length} chars", "x" * max_length, ACCEPTED),
        (f"{max_length + 1} chars", "x" * (max_length + 1), BAD),
    ]


def address_cases() -> list[object]:
    cases: list[object] = []
    parts = ("name", "line1", "city", "postal_code")
    for part in parts:
        for name, value, code in text_cases(200):
            new = address(**{part: value})
            cases.append(pytest.param((), create(shipping_address=new), code, id=f"{part} {name}"))
            cases.append(
                pytest.param(PLACED, change_address(new=new), code, id=f"change {part} {name}")
            )
    line2: list[tuple[str, str | None, ErrorCode | None]] = [
        ("absent", None, ACCEPTED),
        ("200 chars", "x" * 200, ACCEPTED),
        ("201 chars", "x" * 201, BAD),
    ]
    for name, line2_value, code in line2:
        new = address(line2=line2_value)
        cases.append(pytest.param((), create(shipping_address=new), code, id=f"line2 {name}"))
        cases.append(pytest.param(PLACED, change_address(new=new), code, id=f"change line2 {name}"))
    for country, code in [
        ("DE", ACCEPTED),
        ("de", BAD),
        ("De", BAD),
        ("DEU", BAD),
        ("D", BAD),
        ("", BAD),
        ("D1", BAD),
        ("DE\n", BAD),
    ]:
        new = address(country=country)
        cases.append(
            pytest.param((), create(shipping_address=new), code, id=f"country {country!r}")
        )
        cases.append(
            pytest.param(PLACED, change_address(new=new), code, id=f"change country {country!r}")
        )
    return cases


@pytest.mark.parametrize(("given", "when", "code"), address_cases())
def test_address_rules(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    expect(given, when, code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(200))
def test_tracking_number_rules(name: str, value: str, code: ErrorCode | None) -> None:
    expect((placed(), confirmed()), ship(tracking_number=value), code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(200))
def test_cancellation_reason_rules(name: str, value: str, code: ErrorCode | None) -> None:
    expect(PLACED, cancel(reason=value), code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(128))
def test_customer_id_rules(name: str, value: str, code: ErrorCode | None) -> None:
    expect((), create(customer_id=value), code)


@pytest.mark.parametrize(
    ("on_behalf_of", "code"),
    [(None, ACCEPTED), ("customer-1", ACCEPTED), ("customer-2", ErrorCode.FORBIDDEN)],
)
def test_a_customer_creates_orders_only_for_itself(
    on_behalf_of: str | None, code: ErrorCode | None
) -> None:
    expect((), create(customer_id="customer-1", on_behalf_of=on_behalf_of), code)


UNSTORABLE = {
    "NUL in customerId": lambda: decide((), create(customer_id="c\x00")),
    "lone surrogate in customerId": lambda: decide((), create(customer_id="c\ud800")),
    "lone surrogate in a sku": lambda: decide((), create(lines=(line("S\ud800"),))),
    "NUL in an address name": lambda: decide((), create(shipping_address=address(name="A\x00"))),
    "lone surrogate in a city": lambda: decide(PLACED, change_address(new=address(city="\udc80"))),
    "NUL in a trackingNumber": lambda: decide(
        (placed(), confirmed()), ship(tracking_number="\x00")
    ),
    "lone surrogate in a reason": lambda: decide(PLACED, cancel(reason="why\ud83d")),
}


@pytest.mark.parametrize("decision", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_text_that_cannot_be_stored_is_bad_input(decision: Callable[[], list[Event]]) -> None:
    with pytest.raises(ValidationFailed):
        decision()


def test_validation_errors_name_the_offending_field() -> None:
    fields = {
        "items[1].quantity": create(lines=(line("A"), line("B", 0))),
        "items[0].unitPrice": create(lines=(line(unit_price="0.001"),)),
        "items[2].sku": create(lines=(line("A"), line("B"), line("A"))),
        "shippingAddress.postalCode": create(shipping_address=address(postal_code="")),
        "shippingAddress.country": create(shipping_address=address(country="gb")),
        "customerId": create(customer_id=""),
    }
    for field, command in fields.items():
        with pytest.raises(ValidationFailed) as refused:
            decide((), command)
        assert refused.value.field == field


# --- adding to and removing from existing lines ------------------------------------------------


@pytest.mark.parametrize("price", ["5", "5.0", "5.00"])
def test_adding_an_existing_sku_at_the_same_price_adds_to_its_quantity(price: str) -> None:
    given = (placed(),)  # SKU-2: 1 at 5.00
    (event,) = decide(given, add(item=line("SKU-2", 4, price)))
    assert event == ItemAdded(
        order_id=ORDER_ID, occurred_at=NOW, sku="SKU-2", quantity=4, unit_price=Decimal("5.00")
    )
    order = Order.replay([*given, event])
    assert order.lines == (line("SKU-1", 2, "9.99"), line("SKU-2", 5, "5.00"))
    assert order.version == 2


@pytest.mark.parametrize("price", ["5.01", "4.99", "0", "50"])
def test_adding_an_existing_sku_at_another_price_is_bad_input(price: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decide((placed(),), add(item=line("SKU-2", 1, price)))
    assert refused.value.code is BAD
    assert refused.value.field == "item.unitPrice"


def test_a_removed_sku_can_come_back_at_another_price() -> None:
    given = (placed(), ItemRemoved(order_id=ORDER_ID, occurred_at=NOW, sku="SKU-2"))
    (event,) = decide(given, add(item=line("SKU-2", 3, "7.25")))
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
def test_remove_order_item_rules(given: tuple[Event, ...], when: Command, code: ErrorCode) -> None:
    expect(given, when, code)


def test_removing_a_line_keeps_the_others_in_order() -> None:
    given = on_order(line("A"), line("B"), line("C"))
    (event,) = decide(given, remove(sku="B"))
    assert Order.replay([*given, event]).lines == (line("A"), line("C"))


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
def test_expected_version(given: tuple[Event, ...], expected: int, code: ErrorCode | None) -> None:
    expect(given, change_address(expected_version=expected), code)


def test_a_concurrency_conflict_says_which_versions() -> None:
    with pytest.raises(ConcurrencyConflict) as refused:
        decide((placed(), confirmed()), cancel(expected_version=1))
    assert (refused.value.stream_id, refused.value.expected, refused.value.actual) == (
        ORDER_ID,
        1,
        2,
    )


def test_the_version_is_checked_before_the_status() -> None:
    check(Case(given=(placed(), cancelled()), when=confirm(expected_version=1), then=CONFLICT))


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


def test_decided_events_replay_to_the_state_the_decision_saw() -> None:
    history: list[Event] = []
    for command in (
        create(),
        add(item=line("SKU-2", 2, "5")),
        remove(sku="SKU-1"),
        change_address(),
        confirm(expected_version=4),
        cancel(expected_version=5),
    ):
        history.extend(decide(history, command))
    order = Order.replay(history)
    assert order.status is OrderStatus.CANCELLED
    assert order.version == 6
    assert order.lines == (line("SKU-2", 3, "5.00"),)
    assert sum((x.line_total for x in order.lines), Decimal(0)) == Decimal("15.00")


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
