"""Pages of the order view, newest first by (created_at, position of OrderPlaced).

Relay's cursor connections: `first` orders after the cursor `after`, or the `last` orders before
the cursor `before`; `after` with `before` is the window between them. A page seeks the
(created_at, seq) index from its cursor with a leading `created_at <=` bound (forwards) or
`created_at >=` bound (backwards, read oldest first, then turned newest first), so page 1,000
costs what page 1 does. The page reads one row beyond its size, and one probe row beyond each
cursor it was given (an order at the cursor or past it), in the same statement: so
`has_previous_page` and `has_next_page` are exact.

One request's page is a fixed statement per shape; many requests (a DataLoader's batch) are
answered with two SQL queries per 100: a UNION ALL of their pages and one of their counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, bindparam, func, literal, or_, select, union_all

from domain.errors import ValidationFailed
from domain.values import OrderStatus
from readmodels.cursor import OrderCursor
from readmodels.dto import OrderPage
from readmodels.queries import ListOrders, ListOrdersBatch
from readmodels.readers.order_rows import ORDER_COLUMNS, OrderRow, OrderRowEdge
from readmodels.tables import order_view

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from readmodels.readers.answers import Answers, ReadDatabase

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Requests per UNION ALL statement: each adds up to three terms (its page and two probes), and
# SQLite allows at most 500 terms in a compound SELECT.
LIST_CHUNK = 100

# The parts of a page's statement: its rows, and the probes for an order at or before `after`
# (a previous page) and at or after `before` (a next page).
PAGE, PREVIOUS, NEXT = 0, 1, 2

_NEWEST_FIRST = (order_view.c.created_at.desc(), order_view.c.seq.desc())
_OLDEST_FIRST = (order_view.c.created_at.asc(), order_view.c.seq.asc())

Key = tuple[Any, Any]
"""A cursor's (created_at, seq) in SQL: bind parameters, or the values themselves."""


@dataclass(frozen=True, slots=True)
class _Checked:
    """A request with its size, direction and cursors checked."""

    size: int
    backward: bool
    after: OrderCursor | None
    before: OrderCursor | None


def _checked(request: ListOrders) -> _Checked:
    """The request's page, or ValidationFailed naming the argument at fault."""
    if request.first is not None and request.last is not None:
        raise ValidationFailed("give first or last, not both", field="last")
    backward = request.last is not None
    name = "last" if backward else "first"
    size = request.last if request.last is not None else request.first
    size = DEFAULT_PAGE if size is None else size
    if not 1 <= size <= MAX_PAGE:
        raise ValidationFailed(f"{name} must be between 1 and {MAX_PAGE}", field=name)
    after = None if request.after is None else OrderCursor.decode(request.after, "after")
    before = None if request.before is None else OrderCursor.decode(request.before, "before")
    return _Checked(size=size, backward=backward, after=after, before=before)


def _past(key: Key, *, older: bool, inclusive: bool) -> ColumnElement[bool]:
    """Orders past `key` towards the end of the list (`older`) or its start, `key`'s own
    included when `inclusive`. The leading bound on created_at alone lets SQLite seek the
    (created_at, seq) index to the key instead of scanning it from one end (page 1,000 of 100k
    orders: 17.8 ms -> 0.23 ms)."""
    created, seq = order_view.c.created_at, order_view.c.seq
    at, position = key
    if older:
        bound, beyond = created <= at, created < at
        tie = seq <= position if inclusive else seq < position
    else:
        bound, beyond = created >= at, created > at
        tie = seq >= position if inclusive else seq > position
    return and_(bound, or_(beyond, and_(created == at, tie)))


def _selects(
    where: Sequence[ColumnElement[bool]],
    after: Key | None,
    before: Key | None,
    backward: bool,
    limit: Any,
) -> list[tuple[int, Select[*tuple[Any, ...]]]]:
    """The page's select and its probes, each with its part."""
    window = list(where)
    if after is not None:
        window.append(_past(after, older=True, inclusive=False))
    if before is not None:
        window.append(_past(before, older=False, inclusive=False))
    order = _OLDEST_FIRST if backward else _NEWEST_FIRST
    parts = [(PAGE, select(*ORDER_COLUMNS).where(*window).order_by(*order).limit(limit))]
    if after is not None:
        at_or_before = _past(after, older=False, inclusive=True)
        probe = select(*ORDER_COLUMNS).where(*where, at_or_before).order_by(*_OLDEST_FIRST)
        parts.append((PREVIOUS, probe.limit(1)))
    if before is not None:
        at_or_after = _past(before, older=True, inclusive=True)
        probe = select(*ORDER_COLUMNS).where(*where, at_or_after).order_by(*_NEWEST_FIRST)
        parts.append((NEXT, probe.limit(1)))
    return parts


def _tagged(part: int, statement: Select[*tuple[Any, ...]], *tags: Any) -> Any:
    """`statement` as a UNION ALL term: its rows with its tags (a request's index) and part."""
    rows = statement.subquery()
    labels = [literal(tag).label("request") for tag in tags]
    return select(*labels, literal(part).label("part"), *rows.c).select_from(rows)


def _union(selects: Sequence[Any]) -> Any:
    return selects[0] if len(selects) == 1 else union_all(*selects)


async def list_orders(db: ReadDatabase, query: ListOrders) -> OrderPage:
    if query.with_total:
        (page,) = await list_order_pages(db, (query,))
        return page
    checked = _checked(query)
    params: dict[str, Any] = {"limit": checked.size + 1}
    if query.customer_id is not None:
        params["customer_id"] = query.customer_id
    if query.status is not None:
        params["status"] = OrderStatus(query.status).value
    if checked.after is not None:
        params["after_created_at"], params["after_seq"] = checked.after.key
    if checked.before is not None:
        params["before_created_at"], params["before_seq"] = checked.before.key
    statement = _page_statement(
        query.customer_id is not None,
        query.status is not None,
        checked.after is not None,
        checked.before is not None,
        checked.backward,
    )
    parts: dict[int, list[OrderRow]] = defaultdict(list)
    tagged = checked.after is not None or checked.before is not None  # a page and its probes
    async with db.read() as conn:
        for row in await conn.execute(statement, params):
            if tagged:
                parts[row[0]].append(OrderRow(row[1:]))
            else:
                parts[PAGE].append(OrderRow(row))
    return _page(checked, parts, None)


@cache
def _page_statement(customer: bool, status: bool, after: bool, before: bool, backward: bool) -> Any:
    """One page of one request and its probes, its filters, cursors and limit as parameters
    (built once per shape); a plain SELECT when it has no cursor (no probes)."""
    where: list[ColumnElement[bool]] = []
    if customer:
        where.append(order_view.c.customer_id == bindparam("customer_id"))
    if status:
        where.append(order_view.c.status == bindparam("status"))
    parts = _selects(
        where,
        (bindparam("after_created_at"), bindparam("after_seq")) if after else None,
        (bindparam("before_created_at"), bindparam("before_seq")) if before else None,
        backward,
        bindparam("limit"),
    )
    if len(parts) == 1:
        return parts[0][1]
    return union_all(*(_tagged(part, statement) for part, statement in parts))


async def list_orders_batch(db: ReadDatabase, query: ListOrdersBatch) -> list[OrderPage]:
    return await list_order_pages(db, query.requests)


async def list_order_pages(db: ReadDatabase, requests: Sequence[ListOrders]) -> list[OrderPage]:
    """Pages for many requests: two SQL queries (a UNION ALL of pages, one of counts) per 100."""
    unique = list(dict.fromkeys(requests))
    checked = [_checked(request) for request in unique]
    parts: dict[int, dict[int, list[OrderRow]]] = defaultdict(lambda: defaultdict(list))
    counts: dict[int, int] = {}
    async with db.read() as conn:
        for start in range(0, len(unique), LIST_CHUNK):
            chunk = range(start, min(start + LIST_CHUNK, len(unique)))
            pages = [
                _tagged(part, statement, i)
                for i in chunk
                for part, statement in _request_selects(unique[i], checked[i])
            ]
            totals = [
                select(literal(i).label("request"), func.count().label("n"))
                .select_from(order_view)
                .where(*_where(unique[i]))
                for i in chunk
                if unique[i].with_total
            ]
            for row in await conn.execute(_union(pages)):
                parts[row[0]][row[1]].append(OrderRow(row[2:]))
            if totals:
                for request, n in await conn.execute(_union(totals)):
                    counts[request] = n
    answers = {
        request: _page(checked[i], parts[i], counts.get(i, 0) if request.with_total else None)
        for i, request in enumerate(unique)
    }
    return [answers[request] for request in requests]


def _where(request: ListOrders) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if request.customer_id is not None:
        where.append(order_view.c.customer_id == request.customer_id)
    if request.status is not None:
        where.append(order_view.c.status == OrderStatus(request.status).value)
    return where


def _request_selects(
    request: ListOrders, checked: _Checked
) -> list[tuple[int, Select[*tuple[Any, ...]]]]:
    after = None if checked.after is None else checked.after.key
    before = None if checked.before is None else checked.before.key
    return _selects(_where(request), after, before, checked.backward, checked.size + 1)


def _page(checked: _Checked, parts: dict[int, list[OrderRow]], total: int | None) -> OrderPage:
    rows = sorted(parts[PAGE], key=lambda row: (row.created_at, row.seq), reverse=True)
    more = len(rows) > checked.size
    kept = rows[-checked.size :] if checked.backward else rows[: checked.size]
    edges = tuple(OrderRowEdge(row) for row in kept)
    return OrderPage(
        edges=edges,
        has_previous_page=(checked.backward and more) or bool(parts[PREVIOUS]),
        has_next_page=(not checked.backward and more) or bool(parts[NEXT]),
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
        total_count=total,
    )


ANSWERS: Answers = {ListOrders: list_orders, ListOrdersBatch: list_orders_batch}

__all__ = [
    "ANSWERS",
    "DEFAULT_PAGE",
    "LIST_CHUNK",
    "MAX_PAGE",
    "list_order_pages",
    "list_orders",
    "list_orders_batch",
]
