"""The customer_summaries projection: per customer, orders placed, money spent, last order."""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Column, String

from readmodels.projections.order_tally import TallyProjection
from readmodels.tables import customer_summary_table, order_tally_table

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from domain.events import OrderPlaced
    from readmodels.projections.base import Tables
    from readmodels.projections.rowset import Row


class CustomerSummariesProjection(TallyProjection):
    """Keeps `customer_summary`: orderCount counts cancelled orders, totalSpent excludes them."""

    name = "customer_summaries"
    group_column = "customer_id"
    group_table = "customer_summary"
    tally_table = "customer_summary_order"

    def define(self, metadata: MetaData, suffix: str) -> Tables:
        group = Column("customer_id", String(128), nullable=False)
        return {
            "customer_summary": customer_summary_table(metadata, "customer_summary" + suffix),
            "customer_summary_order": order_tally_table(
                metadata, "customer_summary_order" + suffix, group
            ),
        }

    def group_of(self, event: OrderPlaced) -> Hashable:
        return event.customer_id

    def new_group(self, key: Hashable) -> Row:
        return {
            "customer_id": key,
            "order_count": 0,
            "total_spent": Decimal(0),
            "last_order_at": None,
        }

    def placed(self, group: Row, event: OrderPlaced, total: Decimal) -> None:
        group["order_count"] += 1
        group["total_spent"] += total
        last = group["last_order_at"]
        group["last_order_at"] = event.occurred_at if last is None else max(last, event.occurred_at)

    def total_changed(self, group: Row, delta: Decimal) -> None:
        group["total_spent"] += delta

    def cancelled(self, group: Row, total: Decimal) -> None:
        group["total_spent"] -= total


__all__ = ["CustomerSummariesProjection"]
