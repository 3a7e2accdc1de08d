"""Pages of the order view, newest first by (created_at, position of OrderPlaced).

One request's page is a fixed statement per filter shape; many requests (a DataLoader's batch)
are answered with two SQL queries per 100: a UNION ALL of their pages and one of their counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, bindparam, func, literal, or_, select, union_all

from domain.errors import ValidationFailed
from domain.values import OrderStatus
from readmodels.cursor import OrderCursor
from readmodels.dto import OrderEdgeView, OrderPage
from readmodels.queries import ListOrders, ListOrdersBatch
from readmodels.readers.orders import order_from_row
from readmodels.tables import order_view

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import BindParameter, ColumnElement, RowMapping

    from readmodels.readers.answers import Answers, ReadDatabase

MAX_PAGE = 100
# Requests per UNION ALL statement (SQLite allows at most 500 terms in a compound SELECT).
LIST_CHUNK = 100

_NEWEST_FIRST = (order_view.c.created_at.desc(), order_view.c.seq.desc())


async def list_orders(db: ReadDatabase, query: ListOrders) -> OrderPage:
    if query.with_total:
        (page,) = await list_order_pages(db, (query,))
        return page
    _check_first(query)
    params: dict[str, Any] = {"limit": query.first + 1}
    if query.customer_id is not None:
        params["customer_id"] = query.customer_id
    if query.status is not None:
        params["status"] = OrderStatus(query.status).value
    if query.after is not None:
        cursor = OrderCursor.decode(query.after)
        params["after_created_at"], params["after_seq"] = cursor.created_at, cursor.seq
    statement = _page_statement(
        query.customer_id is not None, query.status is not None, query.after is not None
    )
    async with db.read() as conn:
        rows = list((await conn.execute(statement, params)).mappings())
    return _page(query, rows, None)


def _older_than(created_at: Any, seq: Any) -> ColumnElement[bool]:
    """Orders after a cursor, newest first: (created_at, seq) below the cursor's. The leading
    `created_at <=` lets SQLite seek the (created_at, seq) index to the cursor instead of
    scanning it from the newest order (page 1,000 of 100k orders: 17.8 ms -> 0.23 ms)."""
    return and_(
        order_view.c.created_at <= created_at,
        or_(
            order_view.c.created_at < created_at,
            and_(order_view.c.created_at == created_at, order_view.c.seq < seq),
        ),
    )


@cache
def _page_statement(customer: bool, status: bool, after: bool) -> Select[*tuple[Any, ...]]:
    """One page of one request, its filters and limit as parameters (built once per shape)."""
    where: list[ColumnElement[bool]] = []
    if customer:
        where.append(order_view.c.customer_id == bindparam("customer_id"))
    if status:
        where.append(order_view.c.status == bindparam("status"))
    if after:
        created_at: BindParameter[datetime] = bindparam("after_created_at")
        seq: BindParameter[int] = bindparam("after_seq")
        where.append(_older_than(created_at, seq))
    return select(order_view).where(*where).order_by(*_NEWEST_FIRST).limit(bindparam("limit"))


async def list_orders_batch(db: ReadDatabase, query: ListOrdersBatch) -> list[OrderPage]:
    return await list_order_pages(db, query.requests)


async def list_order_pages(db: ReadDatabase, requests: Sequence[ListOrders]) -> list[OrderPage]:
    """Pages for many requests: two SQL queries (a UNION ALL of pages, one of counts) per 100."""
    unique = list(dict.fromkeys(requests))
    filters = {request: _filters(request) for request in unique}
    rows: dict[int, list[RowMapping]] = defaultdict(list)
    counts: dict[int, int] = {}
    async with db.read() as conn:
        for start in range(0, len(unique), LIST_CHUNK):
            chunk = list(enumerate(unique))[start : start + LIST_CHUNK]
            pages = [_page_select(i, request, filters[request]) for i, request in chunk]
            totals = [
                select(literal(i).label("request"), func.count().label("n"))
                .select_from(order_view)
                .where(*filters[request][0])
                for i, request in chunk
                if request.with_total
            ]
            for row in (await conn.execute(_union(pages))).mappings():
                rows[row["request"]].append(row)
            if totals:
                for row in (await conn.execute(_union(totals))).mappings():
                    counts[row["request"]] = row["n"]
    answers = {
        request: _page(request, rows[i], counts.get(i, 0) if request.with_total else None)
        for i, request in enumerate(unique)
    }
    return [answers[request] for request in requests]


Filters = tuple[list["ColumnElement[bool]"], "ColumnElement[bool] | None"]


def _check_first(request: ListOrders) -> None:
    if not 1 <= request.first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")


def _filters(request: ListOrders) -> Filters:
    _check_first(request)
    where: list[ColumnElement[bool]] = []
    if request.customer_id is not None:
        where.append(order_view.c.customer_id == request.customer_id)
    if request.status is not None:
        where.append(order_view.c.status == OrderStatus(request.status).value)
    after = None
    if request.after is not None:
        cursor = OrderCursor.decode(request.after)
        after = _older_than(cursor.created_at, cursor.seq)
    return where, after


def _page_select(index: int, request: ListOrders, filters: Filters) -> Select[*tuple[Any, ...]]:
    where, after = filters
    conditions = [*where, after] if after is not None else where
    page = (
        select(order_view)
        .where(*conditions)
        .order_by(*_NEWEST_FIRST)
        .limit(request.first + 1)
        .subquery()
    )
    return select(literal(index).label("request"), *page.c).select_from(page)


def _union(selects: Sequence[Select[*tuple[Any, ...]]]) -> Any:
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _page(request: ListOrders, rows: list[RowMapping], total: int | None) -> OrderPage:
    rows.sort(key=lambda row: (row["created_at"], row["seq"]), reverse=True)
    edges = tuple(
        OrderEdgeView(
            cursor=OrderCursor(
                created_at=row["created_at"], seq=row["seq"], order_id=row["id"]
            ).encode(),
            node=order_from_row(row),
        )
        for row in rows[: request.first]
    )
    return OrderPage(
        edges=edges,
        has_next_page=len(rows) > request.first,
        end_cursor=edges[-1].cursor if edges else None,
        total_count=total,
    )


ANSWERS: Answers = {ListOrders: list_orders, ListOrdersBatch: list_orders_batch}

__all__ = [
    "ANSWERS",
    "LIST_CHUNK",
    "MAX_PAGE",
    "list_order_pages",
    "list_orders",
    "list_orders_batch",
]
