"""The order_history projection: one row per event of an order, with a summary for people."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

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
from readmodels.projections.base import Batch, Projection, Tables
from readmodels.projections.rowset import AddedRows
from readmodels.sqltypes import UtcDateTime
from readmodels.tables import new_metadata

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import MetaData

    from domain.ports import RecordedEvent

_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def order_history_table(metadata: MetaData, name: str) -> Table:
    """One row per event of an order, keyed (and read) by order and version."""
    return Table(
        name,
        metadata,
        Column("order_id", String(128), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("event_type", String(128), nullable=False),
        Column("occurred_at", UtcDateTime, nullable=False),
        Column("summary", Text, nullable=False),
    )


order_history_entry = order_history_table(new_metadata(), "order_history_entry")


def _money(amount: Decimal) -> str:
    return format(amount, "f")


def summary(event: Event) -> str:
    """What happened, in a few words, such as "shipped (tracking 1Z999)"."""
    match event:
        case OrderPlaced(lines=lines):
            total = sum((line.line_total for line in lines), Decimal(0))
            count = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
            return f"placed with {count}, total {_money(total)}"
        case ItemAdded(sku=sku, quantity=quantity, unit_price=price):
            return f"added {quantity} \N{MULTIPLICATION SIGN} {sku} at {_money(price)}"
        case ItemRemoved(sku=sku):
            return f"removed {sku}"
        case ShippingAddressChanged(shipping_address=address):
            return f"shipping address changed to {address.city}, {address.country}"
        case OrderConfirmed():
            return "confirmed"
        case OrderShipped(tracking_number=tracking):
            return f"shipped (tracking {tracking})"
        case OrderCancelled(reason=reason):
            return f"cancelled: {reason}"
    # An event type with no wording yet reads as its name: "GiftNoteAdded" -> "gift note added".
    return _WORD.sub(" ", type(event).__name__).lower()


class OrderHistoryProjection(Projection):
    """Keeps `order_history_entry`: what `Order.history` reads."""

    name = "order_history"
    handles = frozenset(EVENT_TYPES.values())

    def define(self, metadata: MetaData, suffix: str) -> Tables:
        return {
            "order_history_entry": order_history_table(metadata, "order_history_entry" + suffix)
        }

    def batch(self, tables: Tables) -> Batch:
        return _HistoryBatch(tables["order_history_entry"])


class _HistoryBatch(Batch):
    """Every event adds a row; none changes one, so there is nothing to load."""

    def __init__(self, table: Table) -> None:
        self.rows = AddedRows(table)

    def rowsets(self) -> list[AddedRows]:
        return [self.rows]

    def want(self, events: Sequence[RecordedEvent]) -> None:
        return None

    def apply(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        self.rows.add(
            {
                "order_id": recorded.stream_id,
                "version": recorded.version,
                "position": recorded.position,
                "event_type": type(event).__name__,
                "occurred_at": event.occurred_at,
                "summary": summary(event),
            }
        )


__all__ = ["OrderHistoryProjection", "order_history_entry", "order_history_table", "summary"]
