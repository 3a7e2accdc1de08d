"""The input types the mutations share, the coerced dicts they arrive as, and their conversion.

The mutations' inputs reach their resolvers as graphql-core coerced them, not as instances of
these classes: Strawberry's field-by-field conversion of a 3-line createOrder cost about as
much as the rest of its execution. graphql-core has already checked every field (required
ones present, types, the Decimal scalar's `parse_value`/`parse_literal`), so the dict holds str
for ID and String, int, and Decimal; an optional field the client left out is absent. Each
input's `...Fields` TypedDict spells out that dict for the resolver that reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, TypeVar

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from domain.values import Address, OrderLine

T = TypeVar("T")

COMMAND_ID_DESCRIPTION = (
    "Makes the command idempotent: a retry with the same id returns the first result and "
    "appends nothing."
)
EXPECTED_VERSION_DESCRIPTION = (
    "Optimistic concurrency: fail with CONCURRENCY_CONFLICT unless the order is at this version."
)
ORDER_INPUT_DESCRIPTION = (
    "The order the command applies to, and its fields. With `commandId` a retry is safe (it "
    "returns the first result and appends nothing); with `expectedVersion` the command fails "
    "with CONCURRENCY_CONFLICT when the order has moved on."
)


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal


class OrderLineFields(TypedDict):
    """An `OrderLineInput` as graphql-core coerced it."""

    sku: str
    quantity: int
    unitPrice: Decimal


@strawberry.input
class AddressInput:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


class AddressFields(TypedDict):
    """An `AddressInput` as graphql-core coerced it."""

    name: str
    line1: str
    line2: NotRequired[str | None]
    city: str
    postalCode: str
    country: str


class CommandFields(TypedDict):
    """What every command's input holds."""

    commandId: NotRequired[str | None]


class OrderCommandFields(CommandFields):
    """What the input of every command on an existing order holds."""

    orderId: str
    expectedVersion: NotRequired[int | None]


def _as_coerced(_cls: type, value: Mapping[str, Any], _context: InputContext) -> Mapping[str, Any]:
    return value


def coerced(cls: type[T]) -> type[T]:
    """Hand arguments of this input type to resolvers as graphql-core's coerced dict.

    Strawberry's `from_input` hook replaces its conversion; the resolver's argument must be
    annotated `Annotated[<its Fields TypedDict>, strawberry.argument(graphql_type=cls)]`.
    """
    get_object_definition(cls, strict=True).from_input = _as_coerced
    return cls


def order_line(value: OrderLineFields) -> OrderLine:
    """An `OrderLineInput` as a domain value."""
    return OrderLine(sku=value["sku"], quantity=value["quantity"], unit_price=value["unitPrice"])


def address(value: AddressFields) -> Address:
    """An `AddressInput` as a domain value (`line2` may be left out)."""
    return Address(
        name=value["name"],
        line1=value["line1"],
        line2=value.get("line2"),
        city=value["city"],
        postal_code=value["postalCode"],
        country=value["country"],
    )


__all__ = [
    "COMMAND_ID_DESCRIPTION",
    "EXPECTED_VERSION_DESCRIPTION",
    "ORDER_INPUT_DESCRIPTION",
    "AddressFields",
    "AddressInput",
    "CommandFields",
    "OrderCommandFields",
    "OrderLineFields",
    "OrderLineInput",
    "address",
    "coerced",
    "order_line",
]
