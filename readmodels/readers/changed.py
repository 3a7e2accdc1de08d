"""Orders whose view changed after a position, oldest change first: the catch-up of a live list.

With a status, the views of orders that may have left it since are read too (by the lifecycle:
readmodels/live/departures.py), so the list learns of departures it missed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from readmodels.live.departures import statuses_sent
from readmodels.queries import OrdersChangedSince
from readmodels.readers.order_rows import ORDER_COLUMNS, OrderRow
from readmodels.tables import order_view

if TYPE_CHECKING:
    from readmodels.dto import OrderView
    from readmodels.readers.answers import Answers, ReadDatabase


async def orders_changed_since(db: ReadDatabase, query: OrdersChangedSince) -> list[OrderView]:
    """Up to `query.first` views with a position above `query.after_position` (of the filter's
    customer; in its status or a later one), by position: a client pages on with the last one's
    position."""
    statement = select(*ORDER_COLUMNS).where(order_view.c.position > query.after_position)
    if query.customer_id is not None:
        statement = statement.where(order_view.c.customer_id == query.customer_id)
    if query.status is not None:
        statuses = [status.value for status in statuses_sent(query.status)]
        statement = statement.where(order_view.c.status.in_(statuses))
    statement = statement.order_by(order_view.c.position).limit(query.first)
    async with db.read() as conn:
        rows = (await conn.execute(statement)).all()
    return [OrderRow(row) for row in rows]


ANSWERS: Answers = {OrdersChangedSince: orders_changed_since}

__all__ = ["ANSWERS", "orders_changed_since"]
