"""RowSets read and written together (readmodels/projections/rowsql.py) hold exactly what a plain
SELECT of the same rows gives, on both backends: money exact, times UTC-aware, dates, booleans,
lines, NULLs; and a row found through another table's rows is read in the same go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.storage.database import Database
from readmodels.projections.base import Tables
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.projections.rowset import Row, RowSet
from readmodels.projections.rowsql import RowSetRead, read_all, write_rows
from readmodels.tables import new_metadata

WHEN = datetime(2025, 3, 14, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def tables_of(db: Database) -> dict[str, Tables]:
    metadata = new_metadata()
    found = {
        "orders": OrderViewsProjection().define(metadata, ""),
        "customers": CustomerSummariesProjection().define(metadata, ""),
        "days": DailySalesProjection().define(metadata, ""),
    }
    await db.create_all(metadata)
    return found


def order_row(order_id: str, **changes: Any) -> Row:
    row: Row = {
        "id": order_id,
        "seq": 2**62,
        "customer_id": "c-1",
        "status": "PLACED",
        "items": (("S\u00e9", 3, Decimal("999999.99")), ("B", 1, Decimal("0.00"))),
        "item_count": 2,
        "total_amount": Decimal("2999999.97"),
        "ship_name": 'O\'Brien "quoted"',
        "ship_line1": "1 Main St",
        "ship_line2": None,
        "ship_city": "Z\u00fcrich",
        "ship_postal_code": "8000",
        "ship_country": "CH",
        "tracking_number": None,
        "cancellation_reason": None,
        "created_at": WHEN,
        "updated_at": WHEN,
        "version": 1,
        "position": 7,
    }
    row.update(changes)
    return row


async def selected(db: Database, rowset: RowSet) -> dict[Any, Row]:
    async with db.read() as conn:
        result = await conn.execute(select(rowset.table))
        return {row[rowset.key]: dict(row) for row in result.mappings()}


async def test_rows_read_together_equal_a_plain_select(db: Database) -> None:
    tables = await tables_of(db)
    orders = RowSet(tables["orders"]["order_view"])
    tallies = RowSet(tables["customers"]["customer_summary_order"])
    customers = RowSet(tables["customers"]["customer_summary"])
    days = RowSet(tables["days"]["daily_sale"])
    orders.add(order_row("o-1"))
    orders.add(order_row("o-2", ship_line2="Flat 2", tracking_number="T-1", status="SHIPPED"))
    lines = (("A", 1, Decimal("10.10")),)
    tallies.add({"order_id": "o-1", "customer_id": "c-1", "lines": lines, "cancelled": True})
    customers.add(
        {
            "customer_id": "c-1",
            "order_count": 2,
            "total_spent": Decimal("0.1"),
            "last_order_at": WHEN,
        }
    )
    customers.add(
        {"customer_id": "c-2", "order_count": 0, "total_spent": Decimal(0), "last_order_at": None}
    )
    days.add(
        {
            "day": date(2025, 3, 14),
            "orders_placed": 1,
            "orders_cancelled": 0,
            "revenue": Decimal("5"),
        }
    )
    async with db.write() as conn:
        await write_rows(conn, [orders, tallies, customers, days])

    again = {
        "orders": RowSet(orders.table),
        "tallies": RowSet(tallies.table),
        "customers": RowSet(customers.table),
        "days": RowSet(days.table),
    }
    again["orders"].want(["o-1", "o-2", "missing"])
    again["tallies"].want(["o-1"])
    again["customers"].want_via(again["tallies"], "customer_id")  # c-1 only, through o-1
    again["days"].want([date(2025, 3, 14), date(2025, 3, 15)])
    async with db.write() as conn:
        await read_all(conn, [RowSetRead(rowset) for rowset in again.values()])

    for rowset in again.values():
        stored = await selected(db, rowset)
        held = {row[rowset.key]: row for row in rowset.rows()}
        if rowset is again["customers"]:
            stored.pop("c-2")
        assert held == stored
        assert held, rowset.table.name


async def test_written_rows_replace_rows_already_there(db: Database) -> None:
    tables = await tables_of(db)
    first = RowSet(tables["orders"]["order_view"])
    first.add(order_row("o-1"))
    async with db.write() as conn:
        await write_rows(conn, [first])
    changed = RowSet(first.table)
    changed.want(["o-1"])
    async with db.write() as conn:
        await read_all(conn, [RowSetRead(changed)])
        row = changed.get("o-1")
        assert row is not None
        row.update(status="CANCELLED", cancellation_reason="r", version=2)
        await write_rows(conn, [changed])
    (stored,) = (await selected(db, changed)).values()
    assert stored == order_row("o-1", status="CANCELLED", cancellation_reason="r", version=2)
