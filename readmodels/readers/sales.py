"""The daily sales report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from domain.errors import ValidationFailed
from readmodels.dto import DailySalesView
from readmodels.queries import GetSalesReport
from readmodels.tables import daily_sale

if TYPE_CHECKING:
    from readmodels.readers.answers import Answers, ReadDatabase

MAX_REPORT_DAYS = 366


async def get_sales_report(db: ReadDatabase, query: GetSalesReport) -> list[DailySalesView]:
    if query.from_date > query.to_date:
        raise ValidationFailed("fromDate must not be after toDate", field="fromDate")
    if (query.to_date - query.from_date).days > MAX_REPORT_DAYS:
        raise ValidationFailed(f"the report spans at most {MAX_REPORT_DAYS} days", field="toDate")
    statement = (
        select(daily_sale)
        .where(daily_sale.c.day.between(query.from_date, query.to_date))
        .order_by(daily_sale.c.day)
    )
    async with db.read() as conn:
        rows = (await conn.execute(statement)).mappings().all()
    return [
        DailySalesView(
            date=row["day"],
            orders_placed=row["orders_placed"],
            orders_cancelled=row["orders_cancelled"],
            revenue=row["revenue"],
        )
        for row in rows
    ]


ANSWERS: Answers = {GetSalesReport: get_sales_report}

__all__ = ["ANSWERS", "MAX_REPORT_DAYS", "get_sales_report"]
