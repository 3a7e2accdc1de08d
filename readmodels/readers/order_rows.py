"""Order views read from `order_view` rows, each attribute only when it is asked for.

A page of 100 orders used to build 100 `OrderView`s in full: the lines decoded from JSON into
`OrderLineView`s, the address built, whatever the answer selected (about 20 us a row). An
`OrderRow` is an `OrderView` that holds the row and reads each attribute from it when asked:
a page that selects five fields costs five lookups a row; `items` decodes the lines the first
time it is read (the select hands them over as their stored JSON text: `ORDER_COLUMNS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, type_coerce

from domain.values import Address, OrderStatus
from readmodels.cursor import OrderCursor
from readmodels.dto import OrderEdgeView, OrderLineView, OrderView
from readmodels.tables import order_view

ORDER_COLUMNS: tuple[Any, ...] = tuple(
    type_coerce(column, Text).label(column.name) if column.name == "items" else column
    for column in order_view.c
)
"""`order_view`'s columns as an `OrderRow` reads them (the lines as their JSON text)."""

_INDEX = {column.name: index for index, column in enumerate(order_view.c)}
_STATUS_AT, _ITEMS_AT, _SEQ_AT = _INDEX["status"], _INDEX["items"], _INDEX["seq"]
_ADDRESS_AT = tuple(
    _INDEX[f"ship_{part}"] for part in ("name", "line1", "line2", "city", "postal_code", "country")
)
_STATUS = {status.value: status for status in OrderStatus}
_FIELDS = tuple(field.name for field in fields(OrderView))
_UNSET: Any = object()


def _column(name: str) -> property:
    index = _INDEX[name]

    def read(self: OrderRow) -> Any:
        return self._row[index]

    return property(read)


def _lines(text: str) -> tuple[OrderLineView, ...]:
    lines = []
    for sku, quantity, price in json.loads(text):
        unit_price = Decimal(price)
        lines.append(
            OrderLineView(
                sku=sku,
                quantity=int(quantity),
                unit_price=unit_price,
                line_total=int(quantity) * unit_price,
            )
        )
    return tuple(lines)


def _remembered(name: str, build: Callable[[OrderRow], Any]) -> property:
    """An attribute built from the row the first time it is read, then kept."""

    def read(self: OrderRow) -> Any:
        value = getattr(self, name)
        if value is _UNSET:
            value = build(self)
            object.__setattr__(self, name, value)
        return value

    return property(read)


def _address(row: Sequence[Any]) -> Address:
    name, line1, line2, city, postal_code, country = (row[index] for index in _ADDRESS_AT)
    return Address(
        name=name, line1=line1, line2=line2, city=city, postal_code=postal_code, country=country
    )


class OrderRow(OrderView):
    """An `OrderView` over one row selected with `ORDER_COLUMNS` (in their order)."""

    __slots__ = ("_address", "_items", "_row")
    _row: Sequence[Any]
    _items: Any
    _address: Any

    def __init__(self, row: Sequence[Any]) -> None:
        object.__setattr__(self, "_row", row)
        object.__setattr__(self, "_items", _UNSET)
        object.__setattr__(self, "_address", _UNSET)

    id = _column("id")
    customer_id = _column("customer_id")
    item_count = _column("item_count")
    total_amount = _column("total_amount")
    tracking_number = _column("tracking_number")
    cancellation_reason = _column("cancellation_reason")
    created_at = _column("created_at")
    updated_at = _column("updated_at")
    version = _column("version")
    position = _column("position")

    @property
    def status(self) -> OrderStatus:
        return _STATUS[self._row[_STATUS_AT]]

    items = _remembered("_items", lambda self: _lines(self._row[_ITEMS_AT]))
    shipping_address = _remembered("_address", lambda self: _address(self._row))

    def __eq__(self, other: object) -> bool:
        """Equal to any `OrderView` with the same values (the row is only how it is held)."""
        if not isinstance(other, OrderView):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = OrderView.__hash__

    @property
    def seq(self) -> int:
        """The position of the order's OrderPlaced: with `created_at`, its place in a list."""
        value: int = self._row[_SEQ_AT]
        return value


class OrderRowEdge(OrderEdgeView):
    """An `OrderEdgeView` whose cursor is encoded only when it is read."""

    __slots__ = ()

    def __init__(self, node: OrderRow) -> None:
        object.__setattr__(self, "node", node)

    @property
    def cursor(self) -> str:
        node = self.node
        assert isinstance(node, OrderRow)
        return OrderCursor(created_at=node.created_at, seq=node.seq, order_id=node.id).encode()


__all__ = ["ORDER_COLUMNS", "OrderRow", "OrderRowEdge"]
