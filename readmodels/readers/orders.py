"""The order view by id: one order, or many in one query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from domain.storage.database import padded_chunks
from domain.values import Address, OrderStatus
from readmodels.dto import OrderLineView, OrderView
from readmodels.queries import GetOrder, GetOrders
from readmodels.readers.order_rows import ORDER_COLUMNS, OrderRow
from readmodels.tables import order_view

if TYPE_CHECKING:
    from readmodels.readers.answers import Answers, ReadDatabase

_STATUS = {status.value: status for status in OrderStatus}

_ORDER_BY_ID = select(*ORDER_COLUMNS).where(order_view.c.id == bindparam("id"))
_ORDERS_BY_ID = select(*ORDER_COLUMNS).where(order_view.c.id.in_(bindparam("keys", expanding=True)))


def order_from_row(row: Mapping[Any, Any]) -> OrderView:
    """The DTO for an `order_view` row as a projection holds it (its lines decoded): the row a
    batch just committed. Rows read from the database are `OrderRow`s (order_rows.py)."""
    return OrderView(
        id=row["id"],
        customer_id=row["customer_id"],
        status=_STATUS[row["status"]],
        items=tuple(
            OrderLineView(sku=sku, quantity=qty, unit_price=price, line_total=qty * price)
            for sku, qty, price in row["items"]
        ),
        item_count=row["item_count"],
        total_amount=row["total_amount"],
        shipping_address=Address(
            name=row["ship_name"],
            line1=row["ship_line1"],
            line2=row["ship_line2"],
            city=row["ship_city"],
            postal_code=row["ship_postal_code"],
            country=row["ship_country"],
        ),
        tracking_number=row["tracking_number"],
        cancellation_reason=row["cancellation_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        position=row["position"],
    )


async def get_order(db: ReadDatabase, query: GetOrder) -> OrderView | None:
    async with db.read() as conn:
        row = (await conn.execute(_ORDER_BY_ID, {"id": query.order_id})).first()
    return None if row is None else OrderRow(row)


async def get_orders(db: ReadDatabase, query: GetOrders) -> list[OrderView | None]:
    return await get_orders_by_id(db, query.order_ids)


async def get_orders_by_id(db: ReadDatabase, order_ids: Sequence[str]) -> list[OrderView | None]:
    found: dict[str, OrderView] = {}
    if order_ids:
        async with db.read() as conn:
            for chunk in padded_chunks(list(dict.fromkeys(order_ids))):
                for row in await conn.execute(_ORDERS_BY_ID, {"keys": chunk}):
                    view = OrderRow(row)
                    found[view.id] = view
    return [found.get(order_id) for order_id in order_ids]


ANSWERS: Answers = {GetOrder: get_order, GetOrders: get_orders}

__all__ = ["ANSWERS", "get_order", "get_orders", "get_orders_by_id", "order_from_row"]
