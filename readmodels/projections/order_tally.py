"""Projections that sum orders into groups (a customer, a day) and remember each order's part.

Such a projection keeps its own `*_order` table: for each order its group, its lines and whether
it was cancelled, so a later ItemAdded, ItemRemoved or OrderCancelled can adjust the right group
by the right amount without reading any other projection's tables.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.events import ItemAdded, ItemRemoved, OrderCancelled, OrderPlaced
from readmodels.projections.base import Batch, Projection, Tables
from readmodels.projections.rowset import Row, RowSet, placed_before
from readmodels.sqltypes import Line

if TYPE_CHECKING:
    from domain.ports import RecordedEvent


def lines_total(lines: tuple[Line, ...]) -> Decimal:
    """The order's total: the sum of quantity x unit price."""
    return sum((qty * price for _sku, qty, price in lines), Decimal(0))


def changed_lines(lines: tuple[Line, ...], event: ItemAdded | ItemRemoved) -> tuple[Line, ...]:
    """The lines after an item was added (to an existing sku or as a new line) or removed."""
    if isinstance(event, ItemRemoved):
        return tuple(line for line in lines if line[0] != event.sku)
    if any(sku == event.sku for sku, _qty, _price in lines):
        return tuple(
            (sku, qty + event.quantity if sku == event.sku else qty, price)
            for sku, qty, price in lines
        )
    return (*lines, (event.sku, event.quantity, event.unit_price))


class TallyProjection(Projection):
    """Sums orders into groups; subclasses name the tables, the group and the sums."""

    handles = frozenset({OrderPlaced, ItemAdded, ItemRemoved, OrderCancelled})
    group_column: str
    group_table: str
    tally_table: str

    @abstractmethod
    def group_of(self, event: OrderPlaced) -> Hashable:
        """The key of the group a newly placed order belongs to."""

    @abstractmethod
    def new_group(self, key: Hashable) -> Row:
        """An empty group row."""

    @abstractmethod
    def placed(self, group: Row, event: OrderPlaced, total: Decimal) -> None:
        """Count a newly placed order worth `total`."""

    @abstractmethod
    def total_changed(self, group: Row, delta: Decimal) -> None:
        """A live order's total moved by `delta`."""

    @abstractmethod
    def cancelled(self, group: Row, total: Decimal) -> None:
        """A live order worth `total` was cancelled."""

    def batch(self, tables: Tables) -> Batch:
        return _TallyBatch(self, RowSet(tables[self.tally_table]), RowSet(tables[self.group_table]))


class _TallyBatch(Batch):
    def __init__(self, projection: TallyProjection, tallies: RowSet, groups: RowSet) -> None:
        self.projection = projection
        self.tallies = tallies
        self.groups = groups

    def rowsets(self) -> list[RowSet]:
        return [self.tallies, self.groups]

    def want(self, events: Sequence[RecordedEvent]) -> None:
        self.tallies.want(placed_before(events))
        projection = self.projection
        self.groups.want(
            projection.group_of(e.event) for e in events if isinstance(e.event, OrderPlaced)
        )
        # The groups of the orders placed before: found through their tally rows.
        self.groups.want_via(self.tallies, projection.group_column)

    def apply(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        projection = self.projection
        if isinstance(event, OrderPlaced):
            key = projection.group_of(event)
            lines = tuple((line.sku, line.quantity, line.unit_price) for line in event.lines)
            self.tallies.add(
                {
                    "order_id": recorded.stream_id,
                    projection.group_column: key,
                    "lines": lines,
                    "cancelled": False,
                }
            )
            placed_in = self.groups.get(key) or self.groups.add(projection.new_group(key))
            projection.placed(placed_in, event, lines_total(lines))
            return
        if not isinstance(event, ItemAdded | ItemRemoved | OrderCancelled):
            return
        tally = self.tallies.get(recorded.stream_id)
        if tally is None:
            raise LookupError(f"{type(event).__name__} for unknown order {recorded.stream_id}")
        group = self.groups.get(tally[projection.group_column])
        if group is None:
            raise LookupError(f"no group row for order {recorded.stream_id}")
        if tally["cancelled"]:
            return
        old_total = lines_total(tally["lines"])
        if isinstance(event, OrderCancelled):
            tally["cancelled"] = True
            projection.cancelled(group, old_total)
        else:
            tally["lines"] = changed_lines(tally["lines"], event)
            projection.total_changed(group, lines_total(tally["lines"]) - old_total)


__all__ = ["TallyProjection", "changed_lines", "lines_total"]
