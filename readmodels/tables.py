"""The read side's tables: view tables built per generation, checkpoints and skipped events.

View tables are built by factories taking the table's name, so a rebuild can create a shadow
generation beside the live one. Index and constraint names include the table name, and shadow
names carry a random suffix: SQLite index names are global to the database and survive
`ALTER TABLE ... RENAME`, so every generation needs names of its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from domain.storage.tables import NAMING_CONVENTION
from readmodels.sqltypes import LineList, Money, UtcDateTime


def new_metadata() -> MetaData:
    """An empty MetaData with the read side's naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def order_view_table(metadata: MetaData, name: str) -> Table:
    """One row per order, lines denormalized; `seq` is the position of its OrderPlaced."""
    table = Table(
        name,
        metadata,
        Column("id", String(128), primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("customer_id", String(128), nullable=False),
        Column("status", String(16), nullable=False),
        Column("items", LineList, nullable=False),
        Column("item_count", Integer, nullable=False),
        Column("total_amount", Money, nullable=False),
        Column("ship_name", String(200), nullable=False),
        Column("ship_line1", String(200), nullable=False),
        Column("ship_line2", String(200), nullable=True),
        Column("ship_city", String(200), nullable=False),
        Column("ship_postal_code", String(200), nullable=False),
        Column("ship_country", String(2), nullable=False),
        Column("tracking_number", String(200), nullable=True),
        Column("cancellation_reason", String(200), nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("version", Integer, nullable=False),
        Column("position", BigInteger, nullable=False),
    )
    Index(None, table.c.created_at, table.c.seq)
    Index(None, table.c.customer_id, table.c.created_at, table.c.seq)
    Index(None, table.c.status, table.c.created_at, table.c.seq)
    # The live list's catch-up reads the views changed after a position (readers/changed.py).
    Index(None, table.c.position)
    return table


def customer_summary_table(metadata: MetaData, name: str) -> Table:
    """One row per customer who placed an order."""
    return Table(
        name,
        metadata,
        Column("customer_id", String(128), primary_key=True),
        Column("order_count", Integer, nullable=False),
        Column("total_spent", Money, nullable=False),
        Column("last_order_at", UtcDateTime, nullable=True),
    )


def daily_sale_table(metadata: MetaData, name: str) -> Table:
    """One row per UTC day on which at least one order was placed."""
    return Table(
        name,
        metadata,
        Column("day", Date, primary_key=True),
        Column("orders_placed", Integer, nullable=False),
        Column("orders_cancelled", Integer, nullable=False),
        Column("revenue", Money, nullable=False),
    )


def order_tally_table(metadata: MetaData, name: str, group: Column[Any]) -> Table:
    """A projection's private memory of each order: its group key, lines and cancelled flag."""
    return Table(
        name,
        metadata,
        Column("order_id", String(128), primary_key=True),
        group,
        Column("lines", LineList, nullable=False),
        Column("cancelled", Boolean, nullable=False),
    )


control_metadata = new_metadata()

projection_checkpoint = Table(
    "projection_checkpoint",
    control_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("shadow_suffix", String(32), nullable=True),
)

projection_skip = Table(
    "projection_skip",
    control_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("skipped_at", UtcDateTime, nullable=False),
    # What the skipped event was and how it failed, when the projection was stuck on it.
    Column("event_type", String(128), nullable=True),
    Column("error", Text, nullable=True),
)

# The event a projection is stuck on, written by the process that runs it (so that every
# process, and `ordergraph status`, can show it); the row goes once the projection moves on.
projection_failure = Table(
    "projection_failure",
    control_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=True),
    Column("event_type", String(128), nullable=True),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
)

live_metadata = new_metadata()
order_view = order_view_table(live_metadata, "order_view")
customer_summary = customer_summary_table(live_metadata, "customer_summary")
daily_sale = daily_sale_table(live_metadata, "daily_sale")

__all__ = [
    "NAMING_CONVENTION",
    "control_metadata",
    "customer_summary",
    "customer_summary_table",
    "daily_sale",
    "daily_sale_table",
    "live_metadata",
    "new_metadata",
    "order_tally_table",
    "order_view",
    "order_view_table",
    "projection_checkpoint",
    "projection_failure",
    "projection_skip",
]
