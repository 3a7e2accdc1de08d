"""The daily_sales projection: per UTC day of placing, orders placed and cancelled, revenue."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Column, Date

from readmodels.projections.order_tally import TallyProjection
from readmodels.tables import daily_sale_table, order_tally_table

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from domain.events import OrderPlaced
    from readmodels.projections.base import Tables
    from readmodels.projections.rowset import Row


class DailySalesProjection(TallyProjection):
    """Keeps `daily_sale`: later changes to an order adjust the day it was placed."""

    name = "daily_sales"
    group_column = "day"
    group_table = "daily_sale"
    tally_table = "daily_sale_order"

    def define(self, metadata: MetaData, suffix: str) -> Tables:
        group = Column("day", Date, nullable=False)
        return {
            "daily_sale": daily_sale_table(metadata, "daily_sale" + suffix),
            "daily_sale_order": order_tally_table(metadata, "daily_sale_order" + suffix, group),
        }

    def group_of(self, event: OrderPlaced) -> Hashable:
        return event.occurred_at.astimezone(UTC).date()

    def new_group(self, key: Hashable) -> Row:
        return {"day": key, "orders_placed": 0, "orders_cancelled": 0, "revenue": Decimal(0)}

    def placed(self, group: Row, event: OrderPlaced, total: Decimal) -> None:
        group["orders_placed"] += 1
        group["revenue"] += total

    def total_changed(self, group: Row, delta: Decimal) -> None:
        group["revenue"] += delta

    def cancelled(self, group: Row, total: Decimal) -> None:
        group["orders_cancelled"] += 1
        group["revenue"] -= total


__all__ = ["DailySalesProjection"]
