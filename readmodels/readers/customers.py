"""The customer summaries by customer id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from readmodels.dto import CustomerView
from readmodels.queries import GetCustomer, GetCustomers
from readmodels.readers.keyed import rows_by_key
from readmodels.tables import customer_summary

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

    from readmodels.readers.answers import Answers, ReadDatabase


def _customer_from_row(row: RowMapping) -> CustomerView:
    return CustomerView(
        id=row["customer_id"],
        order_count=row["order_count"],
        total_spent=row["total_spent"],
        last_order_at=row["last_order_at"],
    )


async def get_customer(db: ReadDatabase, query: GetCustomer) -> CustomerView | None:
    (found,) = await get_customers_by_id(db, (query.customer_id,))
    return found


async def get_customers(db: ReadDatabase, query: GetCustomers) -> list[CustomerView | None]:
    return await get_customers_by_id(db, query.customer_ids)


async def get_customers_by_id(
    db: ReadDatabase, customer_ids: Sequence[str]
) -> list[CustomerView | None]:
    rows = await rows_by_key(db, customer_summary.c.customer_id, customer_ids)
    return [_customer_from_row(rows[i]) if i in rows else None for i in customer_ids]


ANSWERS: Answers = {GetCustomer: get_customer, GetCustomers: get_customers}

__all__ = ["ANSWERS", "get_customer", "get_customers", "get_customers_by_id"]
