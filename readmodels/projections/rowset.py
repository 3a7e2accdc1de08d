"""The rows of one table a batch touches: loaded once, changed in memory, written back at once."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, insert, select, update

from domain.storage.database import padded_chunks

if TYPE_CHECKING:
    from sqlalchemy import Dialect, Table
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql import ClauseElement
    from sqlalchemy.sql.compiler import SQLCompiler

    from domain.ports import RecordedEvent

Row = dict[str, Any]

PLAIN_ROWS = "ordergraph_plain_rows"
"""A key of `Table.info`: a table marked with it (a rebuild's shadow tables) is written with
plain tuples through `exec_driver_sql` and fixed statements, the columns' bind processing
done here once per value, instead of SQLAlchemy's per-row parameter dictionaries."""


def placed_before(events: Iterable[RecordedEvent]) -> list[str]:
    """The streams of `events` that may have rows already: a stream whose first event (version
    1) is among them was placed in this batch, so no earlier batch wrote a row for it."""
    events = list(events)
    born = {e.stream_id for e in events if e.version == 1}
    return [e.stream_id for e in events if e.stream_id not in born]


class _PlainStatement:
    """One compiled statement and, per positional parameter, the row key and bind processor."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, table: Table, prefix: str
    ) -> None:
        compiled = cast("SQLCompiler", statement.compile(dialect=dialect))
        self.sql = compiled.string
        order = compiled.positiontup or []
        self.keys = [name.removeprefix(prefix) for name in order]
        self.processors: list[Callable[[Any], Any] | None] = [
            table.c[key].type._cached_bind_processor(dialect) for key in self.keys
        ]

    def tuples(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        pairs = list(zip(self.keys, self.processors, strict=True))
        return [
            tuple(row[key] if proc is None else proc(row[key]) for key, proc in pairs)
            for row in rows
        ]


def _plain_statements(table: Table, dialect: Dialect) -> tuple[_PlainStatement, _PlainStatement]:
    """The table's fixed INSERT and UPDATE-by-key statements, compiled once per dialect."""
    cache: dict[str, tuple[_PlainStatement, _PlainStatement]] = table.info.setdefault(
        PLAIN_ROWS + ":compiled", {}
    )
    found = cache.get(dialect.name)
    if found is None:
        (key_column,) = table.primary_key.columns
        others = [c.name for c in table.columns if c.name != key_column.name]
        update_statement = (
            update(table)
            .where(key_column == bindparam("k_" + key_column.name))
            .values({name: bindparam("k_" + name) for name in others})
        )
        found = (
            _PlainStatement(insert(table), dialect, table, ""),
            _PlainStatement(update_statement, dialect, table, "k_"),
        )
        cache[dialect.name] = found
    return found


def _plain_insert(table: Table, dialect: Dialect) -> _PlainStatement:
    """The table's fixed INSERT, compiled once per dialect (for tables of any key)."""
    cache: dict[str, _PlainStatement] = table.info.setdefault(PLAIN_ROWS + ":insert", {})
    found = cache.get(dialect.name)
    if found is None:
        found = cache[dialect.name] = _PlainStatement(insert(table), dialect, table, "")
    return found


async def insert_rows(conn: AsyncConnection, table: Table, rows: list[Row]) -> None:
    """Insert new rows with one executemany (plain tuples when the table is `PLAIN_ROWS`): for
    a view whose events only ever add rows."""
    if not rows:
        return
    if table.info.get(PLAIN_ROWS):
        inserting = _plain_insert(table, conn.dialect)
        await conn.exec_driver_sql(inserting.sql, inserting.tuples(rows))
    else:
        await conn.execute(insert(table), rows)


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

    def changed(self) -> list[Row]:
        """The rows the next `flush` writes: the new ones and the changed ones."""
        rows = self._rows
        return [rows[key] for key in self._new] + [rows[key] for key in self._dirty]

    async def flush(self, conn: AsyncConnection) -> None:
        """Insert the new rows and update the changed ones, each with one executemany."""
        if self.table.info.get(PLAIN_ROWS):
            await self._flush_plain(conn)
            return
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

    async def _flush_plain(self, conn: AsyncConnection) -> None:
        inserting, updating = _plain_statements(self.table, conn.dialect)
        if self._new:
            rows = inserting.tuples(self._rows[key] for key in self._new)
            await conn.exec_driver_sql(inserting.sql, rows)
        if self._dirty:
            rows = updating.tuples(self._rows[key] for key in self._dirty)
            await conn.exec_driver_sql(updating.sql, rows)
        self._new.clear()
        self._dirty.clear()


__all__ = ["PLAIN_ROWS", "Row", "RowSet", "insert_rows", "placed_before"]
