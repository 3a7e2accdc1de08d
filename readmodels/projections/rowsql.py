"""Reading and writing RowSets: on PostgreSQL every table of a batch in ONE statement each way,
elsewhere (SQLite, where a statement costs no round trip) one statement per table.

On PostgreSQL a load is a UNION ALL of one SELECT per part, each row as JSON tagged with its
part (`read_all`), and a write is one statement of data-modifying CTEs, one `INSERT ... SELECT
FROM unnest(...) ON CONFLICT DO UPDATE` per table (`upsert_cte`), which the runner completes
with its checkpoint and NOTIFY parts (`readmodels/runner/viewsql.py`). Parameters are arrays,
so the statement's text depends only on which tables take part, never on how many rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Date, DateTime, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from domain.storage.database import padded_chunks
from readmodels.projections.rowset import PLAIN_ROWS, Row, Rows, RowSet

if TYPE_CHECKING:
    from sqlalchemy import Column, Dialect, Table
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql import ClauseElement
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.dml import Insert

Convert = Callable[[Any], Any]


class PgStatement:
    """One PostgreSQL statement put together from parts, with positional parameters."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.params: list[Any] = []
        self._ctes: list[str] = []

    def bind(self, value: Any, cast: str) -> str:
        """A parameter, cast to `cast` (arrays of rows must be typed for unnest)."""
        self.params.append(value)
        return f"CAST(${len(self.params)} AS {cast})"

    def cte(self, sql: str) -> str:
        """Add `sql` as a WITH query; its name."""
        name = f"q{len(self._ctes)}"
        self._ctes.append(f"{name} AS ({sql})")
        return name

    def text(self, final: str) -> str:
        return (f"WITH {', '.join(self._ctes)} " if self._ctes else "") + final


class ReadPart(Protocol):
    """One thing a load reads: on PostgreSQL a SELECT of one JSON column, else on its own."""

    def select(self, statement: PgStatement) -> str | None:
        """Its SELECT (one jsonb column), binding parameters in `statement`; None: nothing."""
        ...

    def take(self, rows: list[dict[str, Any]]) -> None:
        """The rows its SELECT returned (JSON objects)."""
        ...

    async def read(self, conn: AsyncConnection) -> None:
        """Read and take its rows with statements of its own (not PostgreSQL)."""
        ...


async def read_all(conn: AsyncConnection, parts: Sequence[ReadPart]) -> None:
    """Read every part: on PostgreSQL in one statement (one snapshot), else one by one."""
    if conn.dialect.name != "postgresql":
        for part in parts:
            await part.read(conn)
        return
    statement = PgStatement(conn.dialect)
    selects = [(index, part.select(statement)) for index, part in enumerate(parts)]
    union = " UNION ALL ".join(
        f"SELECT {index} AS part, s.r FROM ({sql}) AS s(r)" for index, sql in selects if sql
    )
    if not union:
        return
    found: list[list[dict[str, Any]]] = [[] for _ in parts]
    result = await conn.exec_driver_sql(union, tuple(statement.params))
    for index, row in cast("list[tuple[int, dict[str, Any]]]", result.all()):
        found[index].append(row)
    for part, rows in zip(parts, found, strict=True):
        part.take(rows)


class RowSetRead:
    """A RowSet's rows by key (and through another RowSet's rows, see `RowSet.want_via`)."""

    def __init__(self, rowset: RowSet) -> None:
        self.rowset = rowset
        self._converters: list[tuple[str, Convert]] = []

    def select(self, statement: PgStatement) -> str | None:
        rowset = self.rowset
        self._converters = _json_converters(rowset.table, statement.dialect)
        key = _quoted(rowset.key)
        conditions = []
        if rowset.wanted:
            conditions.append(f"r.{key} = ANY({_keys(statement, rowset)})")
        if rowset.via is not None and rowset.via[0].wanted:
            source, column = rowset.via
            keys = _keys(statement, source)
            conditions.append(
                f"r.{key} IN (SELECT v.{_quoted(column)} FROM {_quoted(source.table.name)} v "
                f"WHERE v.{_quoted(source.key)} = ANY({keys}))"
            )
        if not conditions:
            return None
        where = " OR ".join(conditions)
        return f"SELECT to_jsonb(r) FROM {_quoted(rowset.table.name)} r WHERE {where}"

    def take(self, rows: list[dict[str, Any]]) -> None:
        self.rowset.take(map(self._decode, rows))

    def _decode(self, row: dict[str, Any]) -> Row:
        return {name: convert(row[name]) for name, convert in self._converters}

    async def read(self, conn: AsyncConnection) -> None:
        rowset = self.rowset
        keys = list(rowset.wanted)
        if rowset.via is not None:
            source, column = rowset.via
            keys.extend(row[column] for row in source.rows())
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        column_ = rowset.table.c[rowset.key]
        statement = select(rowset.table).where(column_.in_(bindparam("keys", expanding=True)))
        for chunk in padded_chunks(wanted):
            result = await conn.execute(statement, {"keys": chunk})
            rowset.take(dict(row) for row in result.mappings())


def upsert_cte(statement: PgStatement, rowset: Rows, gate: str | None) -> str | None:
    """The WITH query that writes what changed in `rowset` (None when nothing did), only when
    the SQL condition `gate` holds (None: always): an upsert by key, or for AddedRows a plain
    INSERT."""
    rows = rowset.changed()
    if not rows:
        return None
    table = rowset.table
    dialect = statement.dialect
    arrays = []
    for column in table.columns:
        process = column.type._cached_bind_processor(dialect)
        values = [row[column.name] for row in rows]
        if process is not None:
            values = [process(value) for value in values]
        arrays.append(statement.bind(values, f"{column.type.compile(dialect)}[]"))
    names = ", ".join(_quoted(column.name) for column in table.columns)
    where = "" if gate is None else f" WHERE {gate}"
    upsert = ""
    if isinstance(rowset, RowSet):
        changes = ", ".join(
            f"{name} = EXCLUDED.{name}"
            for name in (_quoted(c.name) for c in table.columns if not c.primary_key)
        )
        upsert = f" ON CONFLICT ({_quoted(rowset.key)}) DO UPDATE SET {changes}"
    return statement.cte(
        f"INSERT INTO {_quoted(table.name)} ({names}) SELECT * FROM unnest({', '.join(arrays)})"
        f"{where}{upsert}"
    )


async def write_rows(conn: AsyncConnection, rowsets: Iterable[Rows]) -> None:
    """Write back what changed in `rowsets`, unconditionally: on PostgreSQL in one statement,
    else one upsert (an executemany) per table."""
    rowsets = list(rowsets)
    if conn.dialect.name == "postgresql":
        statement = PgStatement(conn.dialect)
        if any([upsert_cte(statement, rowset, None) for rowset in rowsets]):
            await conn.exec_driver_sql(statement.text("SELECT 1"), tuple(statement.params))
    else:
        for rowset in rowsets:
            await upsert_each(conn, rowset)


async def upsert_each(conn: AsyncConnection, rowset: Rows) -> None:
    """Write what changed in `rowset` with one executemany (the path where statements are
    cheap): an upsert by key, or for AddedRows a plain INSERT; on a PLAIN_ROWS table with
    plain tuples and a statement compiled once."""
    rows = rowset.changed()
    if not rows:
        return
    table = rowset.table
    by_key = isinstance(rowset, RowSet)
    if table.info.get(PLAIN_ROWS):
        plain = _plain_statement(table, conn.dialect, by_key=by_key)
        await conn.exec_driver_sql(plain.sql, plain.tuples(rows))
    else:
        await conn.execute(_upsert(table, conn.dialect) if by_key else insert(table), rows)


def _upsert(table: Table, dialect: Dialect) -> Insert:
    """INSERT, or on a key already there UPDATE every other column, one row per parameter set."""
    (key,) = table.primary_key.columns
    others = [c.name for c in table.columns if not c.primary_key]
    if dialect.name == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=[key], set_={name: pg.excluded[name] for name in others}
        )
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=[key], set_={name: lite.excluded[name] for name in others}
    )


class _PlainStatement:
    """One compiled statement and, per positional parameter, the row key and bind processor."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, table: Table) -> None:
        compiled: SQLCompiler = statement.compile(dialect=dialect)  # type: ignore[assignment]
        self.sql = compiled.string
        self.keys = list(compiled.positiontup or [])
        self.processors: list[Convert | None] = [
            table.c[key].type._cached_bind_processor(dialect) for key in self.keys
        ]

    def tuples(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        pairs = list(zip(self.keys, self.processors, strict=True))
        return [
            tuple(row[key] if proc is None else proc(row[key]) for key, proc in pairs)
            for row in rows
        ]


def _plain_statement(table: Table, dialect: Dialect, *, by_key: bool) -> _PlainStatement:
    """The table's upsert (or INSERT), compiled once per dialect (kept in `table.info`)."""
    cache: dict[tuple[str, bool], _PlainStatement] = table.info.setdefault(
        PLAIN_ROWS + ":compiled", {}
    )
    found = cache.get((dialect.name, by_key))
    if found is None:
        statement = _upsert(table, dialect) if by_key else insert(table)
        found = cache[dialect.name, by_key] = _PlainStatement(statement, dialect, table)
    return found


def _json_converters(table: Table, dialect: Dialect) -> list[tuple[str, Convert]]:
    """How each column of a row of `table` read as JSON on PostgreSQL becomes what a SELECT
    gives: times and dates parsed from their ISO text, then the column type's own result
    processing (computed once, kept in `table.info`)."""
    found: list[tuple[str, Convert]] | None = table.info.get("ordergraph_json_columns")
    if found is None:
        found = [(column.name, _json_converter(column, dialect)) for column in table.columns]
        table.info["ordergraph_json_columns"] = found
    return found


def _json_converter(column: Column[Any], dialect: Dialect) -> Convert:
    base = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    parse: Convert = _same
    if isinstance(base, DateTime):
        parse = datetime.fromisoformat
    elif isinstance(base, Date):
        parse = date.fromisoformat
    process: Convert = column.type._cached_result_processor(dialect, None) or _same

    def convert(value: Any) -> Any:
        return None if value is None else process(parse(value))

    return convert


def _same(value: Any) -> Any:
    return value


def _keys(statement: PgStatement, rowset: RowSet) -> str:
    """`rowset`'s wanted keys as one array parameter of its key column's type."""
    column = rowset.table.c[rowset.key]
    process = column.type._cached_bind_processor(statement.dialect)
    keys = list(rowset.wanted) if process is None else [process(k) for k in rowset.wanted]
    return statement.bind(keys, f"{column.type.compile(statement.dialect)}[]")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = [
    "PgStatement",
    "ReadPart",
    "RowSetRead",
    "read_all",
    "upsert_cte",
    "upsert_each",
    "write_rows",
]
