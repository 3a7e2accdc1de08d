"""Builders and helpers for the write-model tests: valid messages by default, one field changed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.bus import CommandBus
from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    Command,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
    RemoveOrderItem,
    ShipOrder,
)
from domain.errors import DomainError, ErrorCode
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
from domain.handlers import build_command_bus
from domain.ports import RecordedEvent
from domain.storage import tables as schema
from domain.storage.database import Database
from domain.storage.memory import MemoryEventStore, MemoryRecords
from domain.storage.registry import EventRegistry
from domain.storage.sql import SqlEventStore
from domain.values import Address, OrderLine

Store = SqlEventStore | MemoryEventStore
"""Every event store backend the contract suite runs on."""

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


def on_order(*lines: OrderLine) -> tuple[Event, ...]:
    """The history of an order placed with exactly these lines."""
    return (placed(lines=lines),)


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


async def recorded_command_ids(store: Store) -> list[str]:
    """The ids of the commands the store holds idempotency records of, by position."""
    if isinstance(store, SqlEventStore):
        return [row["command_id"] for row in await command_rows(store)]
    handled = sorted(store.records.commands.values(), key=lambda h: h.result.position)
    return [h.result.command_id for h in handled]


@dataclass(frozen=True, slots=True)
class Backend:
    """Where a test's event stores live: a database URL, or (None) memory records that every
    store the test opens shares, as processes share a database."""

    name: str
    url: str | None = None
    records: MemoryRecords = field(default_factory=MemoryRecords)

    @asynccontextmanager
    async def open(self, registry: EventRegistry | None = None) -> AsyncIterator[Store]:
        """A store on this backend, closed on exit."""
        if self.url is None:
            yield MemoryEventStore(self.records, registry)
            return
        async with open_store(self.url, registry) as store:
            yield store


# --- staging by hand, for the event-store contract ---------------------------------------


class Boom(Exception):
    """Raised on purpose inside a transaction."""


async def stage_then_fail(store: Store, sizes: dict[str, int]) -> None:
    """Stage `sizes[stream]` events on each new stream in one transaction, then raise Boom."""
    async with store.transaction() as batch:
        for stream, size in sizes.items():
            await batch.stream_version(stream)
            batch.stage(
                stream,
                [placed(stream), *[confirmed(stream)] * (size - 1)],
                expected_version=0,
                command_id=f"c-{stream}",
                correlation_id=None,
            )
        raise Boom


def positions(events: list[RecordedEvent]) -> list[int]:
    return [recorded.position for recorded in events]


# --- the real bus, in memory: given events / when a command / then events or an error --------


async def events_after(given: Iterable[Event], when: Command) -> list[Event]:
    """The events the real bus and handlers append for `when` on an order (ORDER_ID) whose
    history is `given`, on an in-memory store; a refusal raises its DomainError."""
    history = list(given)
    store = MemoryEventStore()
    if history:
        await store.append(ORDER_ID, history)
    async with running(build_command_bus(store, new_id=lambda: ORDER_ID)) as bus:
        await bus.dispatch(when)
    return [recorded.event for recorded in await store.read_all(after=len(history))]


async def expect(given: Iterable[Event], when: Command, then: ErrorCode | None) -> None:
    """`then` None: the command is accepted, one event stamped with its time; else it is
    refused with that code."""
    if then is None:
        events = await events_after(given, when)
        assert len(events) == 1
        assert events[0].occurred_at == when.issued_at
        return
    with pytest.raises(DomainError) as refused:
        await events_after(given, when)
    assert refused.value.code is then, refused.value.message


Outcomes = list[CommandResult | BaseException]


async def settle(bus: CommandBus, *commands: Command) -> Outcomes:
    """Dispatch all at once (so they share a batch) and collect results and errors in order."""
    return list(
        await asyncio.gather(
            *(bus.dispatch(command) for command in commands), return_exceptions=True
        )
    )


def failures(outcomes: Outcomes) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def results(outcomes: Outcomes) -> list[CommandResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, CommandResult)]


__all__ = [
    "CUSTOMER_ID",
    "NOW",
    "ORDER_ID",
    "Backend",
    "Boom",
    "Outcomes",
    "Store",
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
    "events_after",
    "expect",
    "failures",
    "line",
    "on_order",
    "one_of_each_event",
    "open_store",
    "placed",
    "positions",
    "recorded_command_ids",
    "remove",
    "results",
    "running",
    "settle",
    "ship",
    "shipped",
    "stage_then_fail",
]
