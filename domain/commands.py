"""Commands: what a client asks the write model to do, one per mutation, imperative names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.values import Address, OrderLine


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    """A request to change one order. `issued_at` is UTC; it becomes the events' `occurred_at`.

    `on_behalf_of` is set when a customer (not staff) sends the command: that customer may only
    create orders for itself and touch its own orders; other customers' orders do not exist for it.
    """

    command_id: str
    issued_at: datetime
    correlation_id: str | None = None
    on_behalf_of: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCommand(Command):
    """A command on an existing order, optionally guarded by the version the client last saw."""

    order_id: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateOrder(Command):
    customer_id: str
    lines: tuple[OrderLine, ...]
    shipping_address: Address


@dataclass(frozen=True, kw_only=True, slots=True)
class AddOrderItem(OrderCommand):
    item: OrderLine


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoveOrderItem(OrderCommand):
    sku: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeShippingAddress(OrderCommand):
    shipping_address: Address


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmOrder(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ShipOrder(OrderCommand):
    tracking_number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelOrder(OrderCommand):
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandResult:
    """What a command did: the order's version after it and the position of its last event."""

    command_id: str
    order_id: str
    version: int
    position: int


__all__ = [
    "AddOrderItem",
    "CancelOrder",
    "ChangeShippingAddress",
    "Command",
    "CommandResult",
    "ConfirmOrder",
    "CreateOrder",
    "OrderCommand",
    "RemoveOrderItem",
    "ShipOrder",
]
