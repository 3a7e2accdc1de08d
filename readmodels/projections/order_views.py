"""The order_views projection: one denormalized row per order."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from domain.events import (
    EVENT_TYPES,
    ItemAdded,
    ItemRemoved,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderShipped,
    ShippingAddressChanged,
)
from domain.values import OrderStatus
from readmodels.projections.base import Batch, Projection, Tables
from readmodels.projections.order_tally import changed_lines, lines_total
from readmodels.projections.rowset import Row, RowSet, placed_before
from readmodels.sqltypes import Line
from readmodels.tables import order_view_table

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from domain.ports import RecordedEvent
    from domain.values import Address


class CommittedRows:
    """The order_view rows the last committed batches wrote, by (order id, position): a command
    that asks for its order's view (`CommandResult.order`) takes the row its own batch wrote
    instead of reading it back. Bounded: the oldest rows go first."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._rows: OrderedDict[tuple[str, int], Row] = OrderedDict()

    def offer(self, rows: Iterable[Row]) -> None:
        """Rows just committed (never changed afterwards: each batch loads its own)."""
        kept = self._rows
        for row in rows:
            kept[(row["id"], row["position"])] = row
        while len(kept) > self._size:
            kept.popitem(last=False)

    def row(self, order_id: str, position: int) -> Row | None:
        """The order's row as committed with its event at `position`, if still held."""
        return self._rows.get((order_id, position))


class OrderViewsProjection(Projection):
    """Keeps `order_view`: what the `order` and `orders` fields read."""

    name = "order_views"
    # Every event type: each one moves an order's version and position, which the view carries
    # (clients send it back as expectedVersion), even a type this projection shows nothing of.
    handles = frozenset(EVENT_TYPES.values())

    def __init__(self) -> None:
        self.committed = CommittedRows()

    def define(self, metadata: MetaData, suffix: str) -> Tables:
        return {"order_view": order_view_table(metadata, "order_view" + suffix)}

    def batch(self, tables: Tables) -> Batch:
        return _OrderViewBatch(RowSet(tables["order_view"]), self.committed)


class _OrderViewBatch(Batch):
    def __init__(self, rows: RowSet, committed: CommittedRows) -> None:
        self.rows = rows
        self._committed = committed

    def rowsets(self) -> list[RowSet]:
        return [self.rows]

    def want(self, events: Sequence[RecordedEvent]) -> None:
        self.rows.want(placed_before(events))

    def committed(self) -> None:
        self._committed.offer(self.rows.changed())

    def apply(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        if isinstance(event, OrderPlaced):
            row: Row = {"id": recorded.stream_id, "seq": recorded.position}
            row.update(customer_id=event.customer_id, created_at=event.occurred_at)
            row.update(status=OrderStatus.PLACED.value, tracking_number=None)
            row.update(cancellation_reason=None)
            _set_lines(row, tuple((ln.sku, ln.quantity, ln.unit_price) for ln in event.lines))
            _set_address(row, event.shipping_address)
            self.rows.add(row)
        else:
            found = self.rows.get(recorded.stream_id)
            if found is None:
                raise LookupError(f"{type(event).__name__} for unknown order {recorded.stream_id}")
            row = found
            if isinstance(event, ItemAdded | ItemRemoved):
                _set_lines(row, changed_lines(row["items"], event))
            elif isinstance(event, ShippingAddressChanged):
                _set_address(row, event.shipping_address)
            elif isinstance(event, OrderConfirmed):
                row["status"] = OrderStatus.CONFIRMED.value
            elif isinstance(event, OrderShipped):
                row["status"] = OrderStatus.SHIPPED.value
                row["tracking_number"] = event.tracking_number
            elif isinstance(event, OrderCancelled):
                row["status"] = OrderStatus.CANCELLED.value
                row["cancellation_reason"] = event.reason
        row["updated_at"] = event.occurred_at
        row["version"] = recorded.version
        row["position"] = recorded.position


def _set_lines(row: Row, lines: tuple[Line, ...]) -> None:
    row["items"] = lines
    row["item_count"] = len(lines)
    row["total_amount"] = lines_total(lines)


def _set_address(row: Row, address: Address) -> None:
    row.update(
        ship_name=address.name,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_postal_code=address.postal_code,
        ship_country=address.country,
    )


__all__ = ["CommittedRows", "OrderViewsProjection"]
