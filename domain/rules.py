"""The input rules of contract.md, checked before any state is looked at: each command's
`checked()` (`domain/commands.py`) applies those of its fields."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.values import Address, OrderLine

MAX_ID_LENGTH = 128
MAX_SKU_LENGTH = 64
MAX_TEXT_LENGTH = 200
MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_UNIT_PRICE = Decimal(1_000_000)
CENT = Decimal("0.01")
_COUNTRY = re.compile(r"[A-Z]{2}")
# NUL and lone surrogates: PostgreSQL cannot store them and no UTF-8 encoder can write them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_storable(value: str, field: str) -> None:
    """Text every database can store: no NUL character, no lone surrogate."""
    if _UNSTORABLE.search(value) is not None:
        raise ValidationFailed(
            f"{field} must not contain NUL characters or lone surrogates", field=field
        )


def check_id(value: str, field: str) -> None:
    """An id (customer, order, command) is 1 to 128 characters."""
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        raise ValidationFailed(f"{field} must be 1 to {MAX_ID_LENGTH} characters", field=field)
    check_storable(value, field)


def check_text(value: str, field: str) -> None:
    """Free text (tracking number, reason, address parts) is 1 to 200 characters, not blank."""
    if not value.strip() or len(value) > MAX_TEXT_LENGTH:
        raise ValidationFailed(
            f"{field} must be 1 to {MAX_TEXT_LENGTH} characters and not blank", field=field
        )
    check_storable(value, field)


def check_sku(sku: str, field: str) -> None:
    if not 1 <= len(sku) <= MAX_SKU_LENGTH:
        raise ValidationFailed(f"sku must be 1 to {MAX_SKU_LENGTH} characters", field=field)
    if not sku.isprintable() and any(unicodedata.category(char) == "Cc" for char in sku):
        raise ValidationFailed("sku must not contain control characters", field=field)
    check_storable(sku, field)


def check_quantity(quantity: int, field: str) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed(f"quantity must be 1 to {MAX_QUANTITY:,}", field=field)


def money(price: Decimal, field: str) -> Decimal:
    """A unit price from 0 to 1,000,000 with at most 2 decimal places, as an exact cent amount."""
    if not price.is_finite() or not 0 <= price <= MAX_UNIT_PRICE:
        raise ValidationFailed(
            f"unitPrice must be a decimal from 0 to {MAX_UNIT_PRICE:,}", field=field
        )
    cents = price.quantize(CENT)
    if cents != price:
        raise ValidationFailed("unitPrice must have at most 2 decimal places", field=field)
    return abs(cents) if cents.is_zero() else cents


def check_line(line: OrderLine, field: str) -> OrderLine:
    """Check one order line; returns it with its price held to the cent."""
    check_sku(line.sku, f"{field}.sku")
    check_quantity(line.quantity, f"{field}.quantity")
    return replace(line, unit_price=money(line.unit_price, f"{field}.unitPrice"))


def check_lines(lines: Iterable[OrderLine], field: str) -> tuple[OrderLine, ...]:
    """1 to 100 lines, each valid, no sku twice."""
    checked = tuple(check_line(line, f"{field}[{index}]") for index, line in enumerate(lines))
    if not 1 <= len(checked) <= MAX_LINES:
        raise ValidationFailed(f"an order has 1 to {MAX_LINES} lines", field=field)
    seen: set[str] = set()
    for index, line in enumerate(checked):
        if line.sku in seen:
            raise ValidationFailed(
                f"sku {line.sku!r} appears on more than one line", field=f"{field}[{index}].sku"
            )
        seen.add(line.sku)
    return checked


def check_address(address: Address, field: str) -> None:
    for part in ("name", "line1", "city", "postal_code"):
        check_text(getattr(address, part), f"{field}.{_camel(part)}")
    if address.line2 is not None:
        if len(address.line2) > MAX_TEXT_LENGTH:
            raise ValidationFailed(
                f"line2 must be at most {MAX_TEXT_LENGTH} characters", field=f"{field}.line2"
            )
        check_storable(address.line2, f"{field}.line2")
    if not _COUNTRY.fullmatch(address.country):
        raise ValidationFailed(
            "country must be an ISO 3166-1 alpha-2 code (two capital letters)",
            field=f"{field}.country",
        )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


__all__ = [
    "MAX_LINES",
    "MAX_QUANTITY",
    "check_address",
    "check_id",
    "check_line",
    "check_lines",
    "check_quantity",
    "check_sku",
    "check_storable",
    "check_text",
    "money",
]
