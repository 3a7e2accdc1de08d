"""Builders and helpers for the write-model tests: valid messages by default, one field changed."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain.bus import CommandBus
from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    Command,
    ConfirmOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from domain.errors import OrderNotFound
from domain.events import (
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
from domain.rules import check_command
from domain.storage import tables as schema
from domain.storage.database import Database
from domain.storage.registry import EventRegistry
from domain.storage.sql import SqlEventStore
from domain.values import Address, OrderLine

NOW = datetime(2025, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
ORDER_ID = "order-1"
CUSTOMER_ID = "customer-1"

_command_numbers = itertools.count(1)


def command_id() -> str:
    """A fresh command id, unique within the test session."""
    return f"cmd-{next(_command_numbers)}"


def address(**changes: Any) -> Address:
    base = Address(
        name="Ada Lovelace",
        line1="12 St James's Square",
        line2=None,
        city="London",
        postal_code="SW1Y 4JH",
        country="GB",
    )
    return replace(base, **changes)


def line(sku: str = "SKU-1", quantity: int = 1, unit_price: str | Decimal = "9.99") -> OrderLine:
    return OrderLine(sku=sku, quantity=quantity, unit_price=Decimal(unit_price))


def create(**changes: Any) -> CreateOrder:
    base = CreateOrder(
        command_id=command_id(),
        issued_at=NOW,
        customer_id=CUSTOMER_ID,
        lines=(line("SKU-1", 2, "9.99"), line("SKU-2", 1, "5.00")),
        shipping_address=address(),
    )
    return replace(base, **changes)


def add(order_id: str = ORDER_ID, item: OrderLine | None = None, **changes: Any) -> AddOrderItem:
    command = AddOrderItem(
        command_id=command_id(),
        issued_at=NOW,
        order_id=order_id,
        item=item or line("SKU-3", 1, "1.50"),
    )
    return replace(command, **changes)


def remove(order_id: str = ORDER_ID, sku: str = "SKU-2", **changes: Any) -> RemoveOrderItem:
    command = RemoveOrderItem(command_id=command_id(), issued_at=NOW, order_id=order_id, sku=sku)
    return replace(command, **changes)


def change_address(
    order_id: str = ORDER_ID, new: Address | None = None, **changes: Any
) -> ChangeShippingAddress:
    command = ChangeShippingAddress(
        command_id=command_id(),
        issued_at=NOW,
        order_id=order_id,
        shipping_address=new or address(line1="1 New Road", city="Leeds"),
    )
    return replace(command, **changes)


def confirm(order_id: str = ORDER_ID, **changes: Any) -> ConfirmOrder:
    command = ConfirmOrder(command_id=command_id(), issued_at=NOW, order_id=order_id)
    return replace(command, **changes)


def ship(order_id: str = ORDER_ID, tracking_number: str = "TRACK-1", **changes: Any) -> ShipOrder:
    command = ShipOrder(
        command_id=command_id(), issued_at=NOW, order_id=order_id, tracking_number=tracking_number
    )
    return replace(command, **changes)


def cancel(
    order_id: str = ORDER_ID, reason: str = "changed my mind", **changes: Any
) -> CancelOrder:
    command = CancelOrder(command_id=command_id(), issued_at=NOW, order_id=order_id, reason=reason)
    return replace(command, **changes)


def placed(order_id: str = ORDER_ID, **changes: Any) -> OrderPlaced:
    """The OrderPlaced that `create()` produces for `order_id`."""
    base = OrderPlaced(
        order_id=order_id,
        occurred_at=NOW,
        customer_id=CUSTOMER_ID,
        lines=(line("SKU-1", 2, "9.99"), line("SKU-2", 1, "5.00")),
        shipping_address=address(),
    )
    return replace(base, **changes)


def confirmed(order_id: str = ORDER_ID) -> OrderConfirmed:
    return OrderConfirmed(order_id=order_id, occurred_at=NOW)


def shipped(order_id: str = ORDER_ID) -> OrderShipped:
    return OrderShipped(order_id=order_id, occurred_at=NOW, tracking_number="TRACK-0")


def cancelled(order_id: str = ORDER_ID) -> OrderCancelled:
    return OrderCancelled(order_id=order_id, occurred_at=NOW, reason="out of stock")


def one_of_each_event(order_id: str = ORDER_ID) -> list[Event]:
    """Every event type once: a codec sample (cancelled after shipped: not a valid history)."""
    return [
        placed(order_id),
        ItemAdded(
            order_id=order_id, occurred_at=NOW, sku="SKU-1", quantity=3, unit_price=Decimal("9.99")
        ),
        ItemAdded(
            order_id=order_id, occurred_at=NOW, sku="SKU-9", quantity=1, unit_price=Decimal("0.00")
        ),
        ItemRemoved(order_id=order_id, occurred_at=NOW, sku="SKU-2"),
        ShippingAddressChanged(
            order_id=order_id,
            occurred_at=NOW,
            shipping_address=address(line2="Flat 3", country="FR"),
        ),
        OrderConfirmed(order_id=order_id, occurred_at=NOW),
        OrderShipped(order_id=order_id, occurred_at=NOW, tracking_number="1Z999"),
        OrderCancelled(order_id=order_id, occurred_at=NOW, reason="never happens after shipping"),
    ]


def decide(history: Sequence[Event], command: Command) -> list[Event]:
    """What the bus and handlers decide, without a database: the input rules, UnitOfWork.get's
    checks, then the Order's."""
    command = check_command(command)
    if isinstance(command, CreateOrder):
        return [Order.place(command, ORDER_ID)]
    assert isinstance(command, OrderCommand)
    if not history:
        raise OrderNotFound(command.order_id)
    order = Order.replay(list(history))
    if command.on_behalf_of is not None and command.on_behalf_of != order.customer_id:
        raise OrderNotFound(command.order_id)
    order.check_version(command.expected_version)
    match command:
        case AddOrderItem():
            return [order.add_item(command)]
        case RemoveOrderItem():
            return [order.remove_item(command)]
        case ChangeShippingAddress():
            return [order.change_shipping_address(command)]
        case ConfirmOrder():
            return [order.confirm(command)]
        case ShipOrder():
            return [order.ship(command)]
        case CancelOrder():
            return [order.cancel(command)]
    raise TypeError(f"no decision for {type(command).__name__}")


@asynccontextmanager
async def open_store(
    url: str, registry: EventRegistry | None = None
) -> AsyncIterator[SqlEventStore]:
    """An event store on `url` with its schema created; the engines are disposed on exit."""
    db = Database(url)
    try:
        store = SqlEventStore(db, registry)
        await store.create_schema()
        yield store
    finally:
        await db.dispose()


@asynccontextmanager
async def running(bus: CommandBus) -> AsyncIterator[CommandBus]:
    """The bus started for the block and stopped after it."""
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


async def command_rows(store: SqlEventStore) -> list[dict[str, Any]]:
    """The `command` table's rows (idempotency records), by position."""
    async with store.db.read() as conn:
        rows = await conn.execute(select(schema.command).order_by(schema.command.c.position))
        return [dict(row._mapping) for row in rows]


__all__ = [
    "CUSTOMER_ID",
    "NOW",
    "ORDER_ID",
    "add",
    "address",
    "cancel",
    "cancelled",
    "change_address",
    "command_id",
    "command_rows",
    "confirm",
    "confirmed",
    "create",
    "decide",
    "line",
    "one_of_each_event",
    "open_store",
    "placed",
    "remove",
    "running",
    "ship",
    "shipped",
]
