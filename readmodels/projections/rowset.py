"""The rows of one table a batch touches: loaded once, changed in memory, written back at once."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update

from domain.storage.database import padded_chunks

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]


class RowSet:
    """Rows of `table` keyed by its one-column primary key, for one batch."""

    def __init__(self, table: Table) -> None:
        (key_column,) = table.primary_key.columns
        self.table = table
        self.key = key_column.name
        self._rows: dict[Hashable, Row] = {}
        self._new: set[Hashable] = set()
        self._dirty: set[Hashable] = set()

    async def load(self, conn: AsyncConnection, keys: Iterable[Hashable]) -> None:
        """Fetch the rows with these keys that are not held yet (one query per 512 keys)."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._rows]
        if not wanted:
            return
        column = self.table.c[self.key]
        statement = select(self.table).where(column.in_(bindparam("keys", expanding=True)))
        for chunk in padded_chunks(wanted):
            result = await conn.execute(statement, {"keys": chunk})
            for row in result.mappings():
                self._rows[row[self.key]] = dict(row)

    def get(self, key: Hashable) -> Row | None:
        """The row to change (it will be written back), or None when it does not exist."""
        row = self._rows.get(key)
        if row is not None and key not in self._new:
            self._dirty.add(key)
        return row

    def peek(self, key: Hashable) -> Row | None:
        """The row to read only."""
        return self._rows.get(key)

    def add(self, row: Row) -> Row:
        """A new row (replacing any held row with the same key)."""
        key = row[self.key]
        if key in self._rows and key not in self._new:
            self._dirty.add(key)
        else:
            self._new.add(key)
        self._rows[key] = row
        return row

    async def flush(self, conn: AsyncConnection) -> None:
        """Insert the new rows and update the changed ones, each with one executemany."""
        if self._new:
            await conn.execute(insert(self.table), [self._rows[key] for key in self._new])
        if self._dirty:
            others = [c.name for c in self.table.columns if c.name != self.key]
            statement = (
                update(self.table)
                .where(self.table.c[self.key] == bindparam("k_" + self.key))
                .values({name: bindparam("k_" + name) for name in others})
            )
            params = [
                {"k_" + name: value for name, value in self._rows[key].items()}
                for key in self._dirty
            ]
            await conn.execute(statement, params)
        self._new.clear()
        self._dirty.clear()


__all__ = ["Row", "RowSet"]
