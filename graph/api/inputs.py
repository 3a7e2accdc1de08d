"""The contract's input types and their conversion to domain values, passed through unaltered.

The mutations' inputs reach their resolvers as graphql-core coerced them (`CoercedInput`), not
as instances of these classes: Strawberry's field-by-field conversion of a 3-line createOrder
cost about as much as the rest of its execution. graphql-core has already checked every field
(required ones present, types, the Decimal scalar's `parse_value`/`parse_literal`), so the dict
holds str for ID and String, int, and Decimal; an optional field the client left out is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from domain.values import Address, OrderLine

T = TypeVar("T")

CoercedInput: TypeAlias = Mapping[str, Any]

COMMAND_ID_DESCRIPTION = (
    "Makes the command idempotent: a retry with the same id returns the first result and "
    "appends nothing."
)
EXPECTED_VERSION_DESCRIPTION = (
    "Optimistic concurrency: fail with CONCURRENCY_CONFLICT unless the order is at this version."
)


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal


@strawberry.input
class AddressInput:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


def _as_coerced(_cls: type, value: CoercedInput, _context: InputContext) -> CoercedInput:
    return value


def coerced(cls: type[T]) -> type[T]:
    """Hand arguments of this input type to resolvers as graphql-core's coerced dict.

    Strawberry's `from_input` hook replaces its conversion; the resolver's argument must be
    annotated `Annotated[CoercedInput, strawberry.argument(graphql_type=cls)]`.
    """
    get_object_definition(cls, strict=True).from_input = _as_coerced
    return cls


def order_line(value: CoercedInput) -> OrderLine:
    """An `OrderLineInput` as a domain value."""
    return OrderLine(sku=value["sku"], quantity=value["quantity"], unit_price=value["unitPrice"])


def address(value: CoercedInput) -> Address:
    """An `AddressInput` as a domain value (`line2` may be left out)."""
    return Address(
        name=value["name"],
        line1=value["line1"],
        line2=value.get("line2"),
        city=value["city"],
        postal_code=value["postalCode"],
        country=value["country"],
    )


@coerced
@strawberry.input
class CreateOrderInput:
    command_id: strawberry.ID | None = strawberry.field(description=COMMAND_ID_DESCRIPTION)
    customer_id: strawberry.ID
    items: list[OrderLineInput]
    shipping_address: AddressInput


@coerced
@strawberry.input
class AddOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None = strawberry.field(description=EXPECTED_VERSION_DESCRIPTION)
    item: OrderLineInput


@coerced
@strawberry.input
class RemoveOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    sku: str


@coerced
@strawberry.input
class ChangeShippingAddressInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    shipping_address: AddressInput


@coerced
@strawberry.input
class ConfirmOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None


@coerced
@strawberry.input
class ShipOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    tracking_number: str


@coerced
@strawberry.input
class CancelOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    reason: str


__all__ = [
    "AddOrderItemInput",
    "AddressInput",
    "CancelOrderInput",
    "ChangeShippingAddressInput",
    "CoercedInput",
    "ConfirmOrderInput",
    "CreateOrderInput",
    "OrderLineInput",
    "RemoveOrderItemInput",
    "ShipOrderInput",
    "address",
    "coerced",
    "order_line",
]
