"""Events: the facts the write model records, past tense, each with its schema version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from domain.values import Address, OrderLine


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Something that happened to one order. `occurred_at` is UTC and comes from the command."""

    SCHEMA_VERSION: ClassVar[int] = 1

    order_id: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderPlaced(Event):
    customer_id: str
    lines: tuple[OrderLine, ...]
    shipping_address: Address


@dataclass(frozen=True, kw_only=True, slots=True)
class ItemAdded(Event):
    """`quantity` is what was added: a sku already on the order grows by it."""

    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class ItemRemoved(Event):
    sku: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ShippingAddressChanged(Event):
    shipping_address: Address


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderConfirmed(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderShipped(Event):
    tracking_number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCancelled(Event):
    reason: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        OrderPlaced,
        ItemAdded,
        ItemRemoved,
        ShippingAddressChanged,
        OrderConfirmed,
        OrderShipped,
        OrderCancelled,
    )
}

__all__ = [
    "EVENT_TYPES",
    "Event",
    "ItemAdded",
    "ItemRemoved",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderPlaced",
    "OrderShipped",
    "ShippingAddressChanged",
]
