"""The input rules of contract.md through the real bus: bad input is BAD_USER_INPUT and names
its field, whatever the order's state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from domain.commands import Command
from domain.errors import ErrorCode, ValidationFailed
from domain.events import (
    Event,
    ItemAdded,
    OrderPlaced,
)
from domain.values import OrderLine
from tests.support.domain import (
    NOW,
    ORDER_ID,
    add,
    address,
    cancel,
    change_address,
    confirmed,
    create,
    events_after,
    expect,
    line,
    on_order,
    placed,
    remove,
    ship,
)

BAD = ErrorCode.BAD_USER_INPUT


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
async def test_sku_rules(given: tuple[Event, ...], when: Command, code: ErrorCode | None) -> None:
    await expect(given, when, code)


@pytest.mark.parametrize(
    ("sku", "code"),
    [
        pytest.param("", BAD, id="empty"),
        pytest.param("a" * 65, BAD, id="65 chars"),
        pytest.param("SKU\x00", BAD, id="control character"),
        pytest.param("SKU-404", BAD, id="not on the order"),
    ],
)
async def test_remove_order_item_sku_rules(sku: str, code: ErrorCode) -> None:
    await expect(PLACED, remove(sku=sku), code)


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
async def test_quantity_rules(
    given: tuple[Event, ...], when: Command, code: ErrorCode | None
) -> None:
    await expect(given, when, code)


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
async def test_unit_price_rules_on_create(price: str, code: ErrorCode | None) -> None:
    await expect((), create(lines=(line(unit_price=Decimal(price)),)), code)


@pytest.mark.parametrize(("price", "code"), PRICES, ids=[price for price, _ in PRICES])
async def test_unit_price_rules_on_add(price: str, code: ErrorCode | None) -> None:
    await expect(PLACED, add(item=line("NEW", unit_price=Decimal(price))), code)


@pytest.mark.parametrize(
    ("price", "held"),
    [("5", "5.00"), ("5.5", "5.50"), ("1E+2", "100.00"), ("0", "0.00"), ("1000000", "1000000.00")],
)
async def test_prices_are_held_to_the_cent(price: str, held: str) -> None:
    (event,) = await events_after((), create(lines=(line(unit_price=price),)))
    assert isinstance(event, OrderPlaced)
    assert str(event.lines[0].unit_price) == held
    (added,) = await events_after(PLACED, add(item=line("NEW", unit_price=price)))
    assert isinstance(added, ItemAdded)
    assert str(added.unit_price) == held


async def test_negative_zero_price_is_held_as_zero() -> None:
    (event,) = await events_after((), create(lines=(line(unit_price="-0"),)))
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
async def test_line_count_rules(
    given: tuple[Event, ...], when: Command, code: ErrorCode | None
) -> None:
    await expect(given, when, code)


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
async def test_address_rules(
    given: tuple[Event, ...], when: Command, code: ErrorCode | None
) -> None:
    await expect(given, when, code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(200))
async def test_tracking_number_rules(name: str, value: str, code: ErrorCode | None) -> None:
    await expect((placed(), confirmed()), ship(tracking_number=value), code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(200))
async def test_cancellation_reason_rules(name: str, value: str, code: ErrorCode | None) -> None:
    await expect(PLACED, cancel(reason=value), code)


@pytest.mark.parametrize(("name", "value", "code"), text_cases(128))
async def test_customer_id_rules(name: str, value: str, code: ErrorCode | None) -> None:
    await expect((), create(customer_id=value), code)


@pytest.mark.parametrize(
    ("on_behalf_of", "code"),
    [(None, ACCEPTED), ("customer-1", ACCEPTED), ("customer-2", ErrorCode.FORBIDDEN)],
)
async def test_a_customer_creates_orders_only_for_itself(
    on_behalf_of: str | None, code: ErrorCode | None
) -> None:
    await expect((), create(customer_id="customer-1", on_behalf_of=on_behalf_of), code)


UNSTORABLE = {
    "NUL in customerId": lambda: events_after((), create(customer_id="c\x00")),
    "lone surrogate in customerId": lambda: events_after((), create(customer_id="c\ud800")),
    "lone surrogate in a sku": lambda: events_after((), create(lines=(line("S\ud800"),))),
    "NUL in an address name": lambda: events_after(
        (), create(shipping_address=address(name="A\x00"))
    ),
    "lone surrogate in a city": lambda: events_after(
        PLACED, change_address(new=address(city="\udc80"))
    ),
    "NUL in a trackingNumber": lambda: events_after(
        (placed(), confirmed()), ship(tracking_number="\x00")
    ),
    "lone surrogate in a reason": lambda: events_after(PLACED, cancel(reason="why\ud83d")),
}


@pytest.mark.parametrize("decision", UNSTORABLE.values(), ids=UNSTORABLE.keys())
async def test_text_that_cannot_be_stored_is_bad_input(
    decision: Callable[[], Awaitable[list[Event]]],
) -> None:
    with pytest.raises(ValidationFailed):
        await decision()


async def test_validation_errors_name_the_offending_field() -> None:
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
            await events_after((), command)
        assert refused.value.field == field
