"""The contract's input types and their conversion to domain values, passed through unaltered."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.values import Address, OrderLine

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

    def to_value(self) -> OrderLine:
        return OrderLine(sku=self.sku, quantity=self.quantity, unit_price=self.unit_price)


@strawberry.input
class AddressInput:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str

    def to_value(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
        )


@strawberry.input
class CreateOrderInput:
    command_id: strawberry.ID | None = strawberry.field(description=COMMAND_ID_DESCRIPTION)
    customer_id: strawberry.ID
    items: list[OrderLineInput]
    shipping_address: AddressInput


@strawberry.input
class AddOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None = strawberry.field(description=EXPECTED_VERSION_DESCRIPTION)
    item: OrderLineInput


@strawberry.input
class RemoveOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    sku: str


@strawberry.input
class ChangeShippingAddressInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    shipping_address: AddressInput


@strawberry.input
class ConfirmOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None


@strawberry.input
class ShipOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    tracking_number: str


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
    "ConfirmOrderInput",
    "CreateOrderInput",
    "OrderLineInput",
    "RemoveOrderItemInput",
    "ShipOrderInput",
]
