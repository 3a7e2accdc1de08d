"""The rows of one table a batch touches: named first, loaded once, changed in memory, written
back at once.

A batch names the keys its events touch (`want`, or `want_via` for rows found through another
table's rows); the runner then reads every RowSet of every projection in the batch together and
writes back what changed together (`readmodels/projections/rowsql.py`: on PostgreSQL one
statement each way for all of them).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table

    from domain.ports import RecordedEvent

Row = dict[str, Any]

PLAIN_ROWS = "ordergraph_plain_rows"
"""A key of `Table.info`: a table marked with it (a rebuild's shadow tables) is written, where
rows go by executemany (SQLite), with plain tuples and a fixed statement, the columns' bind
processing done once per value, instead of SQLAlchemy's per-row parameter dictionaries."""


def placed_before(events: Iterable[RecordedEvent]) -> list[str]:
    """The streams of `events` that may have rows already: a stream whose first event (version
    1) is among them was placed in this batch, so no earlier batch wrote a row for it."""
    events = list(events)
    born = {e.stream_id for e in events if e.version == 1}
    return [e.stream_id for e in events if e.stream_id not in born]


class RowSet:
    """Rows of `table` keyed by its one-column primary key, for one batch."""

    def __init__(self, table: Table) -> None:
        (key_column,) = table.primary_key.columns
        self.table = table
        self.key = key_column.name
        self.wanted: list[Hashable] = []
        """The keys to load (those that exist are loaded)."""
        self.via: tuple[RowSet, str] | None = None
        """Rows to load as well: those whose key is this column of another RowSet's rows."""
        self._rows: dict[Hashable, Row] = {}
        self._new: set[Hashable] = set()
        self._dirty: set[Hashable] = set()

    def want(self, keys: Iterable[Hashable]) -> None:
        """Load the rows with these keys, where they exist."""
        self.wanted.extend(dict.fromkeys(key for key in keys if key not in self._rows))

    def want_via(self, source: RowSet, column: str) -> None:
        """Load too the rows whose key is `column` of the rows `source` loads (read in the same
        statement, so both are one snapshot); `source` must be loaded before this one."""
        self.via = (source, column)

    def take(self, rows: Iterable[Row]) -> None:
        """Rows read from the table (the runner's part)."""
        for row in rows:
            self._rows.setdefault(row[self.key], row)

    def get(self, key: Hashable) -> Row | None:
        """The row to change (it will be written back), or None when it does not exist."""
        row = self._rows.get(key)
        if row is not None and key not in self._new:
            self._dirty.add(key)
        return row

    def peek(self, key: Hashable) -> Row | None:
        """The row to read only."""
        return self._rows.get(key)

    def rows(self) -> Iterable[Row]:
        """Every row held (loaded or added)."""
        return self._rows.values()

    def add(self, row: Row) -> Row:
        """A new row (replacing any held row with the same key)."""
        key = row[self.key]
        if key in self._rows and key not in self._new:
            self._dirty.add(key)
        else:
            self._new.add(key)
        self._rows[key] = row
        return row

    def changed(self) -> list[Row]:
        """The rows to write back (a batch is written once): the new ones and the changed
        ones."""
        rows = self._rows
        return [rows[key] for key in self._new] + [rows[key] for key in self._dirty]


class AddedRows:
    """Rows of `table` a batch only adds (a view whose events never change a row; any key):
    nothing to load, and written with a plain INSERT, so a row already there is an error."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._rows: list[Row] = []

    def add(self, row: Row) -> Row:
        self._rows.append(row)
        return row

    def changed(self) -> list[Row]:
        """The rows to write: every one added."""
        return list(self._rows)


Rows = RowSet | AddedRows
"""A table's part of a batch: rows kept by key, or rows only added."""


__all__ = ["PLAIN_ROWS", "AddedRows", "Row", "RowSet", "Rows", "placed_before"]
