"""Engines for one database: a single serialised writer connection and a separate read pool.

SQLite allows one writer at a time. Sharing one write connection behind an `asyncio.Lock`
(the command writer, the projection runner and rebuilds all take it) means no pool checkout
and no SQLITE_BUSY in the hot path; write transactions start with `BEGIN IMMEDIATE` so a
transaction never upgrades its lock half-way. Reads use their own small pool and never wait
for the writer (WAL). On PostgreSQL both engines are ordinary pools and the lock is not taken:
the database serialises what must be serialised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ordergraph.db"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a commit that returned survives a power cut, not only a crash of the process.
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


# Key lists are padded up to one of these sizes so the SQL text of an `IN (...)` query stays one
# of a few fixed strings (SQLAlchemy's compiled cache and asyncpg's prepared statements).
KEY_BUCKETS = (8, 64, 512)


def padded_chunks(keys: list[Any]) -> Iterator[list[Any]]:
    """`keys` in chunks of at most the largest bucket, each padded to a bucket size."""
    largest = KEY_BUCKETS[-1]
    for start in range(0, len(keys), largest):
        chunk = keys[start : start + largest]
        size = next(bucket for bucket in KEY_BUCKETS if bucket >= len(chunk))
        yield chunk + [chunk[-1]] * (size - len(chunk))


class DatabaseUrlError(ValueError):
    """The database URL names something ordergraph cannot run on."""


# The schemes hosting providers hand out for PostgreSQL, which mean asyncpg here.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def normalized_url(url: str) -> str:
    """`url` with its async driver named: `postgresql://` and `postgres://` are asyncpg's;
    anything else is returned as it is."""
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url.removeprefix(scheme)
    return url


class Database:
    """One database: `write()` for serialised write transactions, `read()` for reads."""

    def __init__(self, url: str, *, read_pool_size: int = 4, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.get_driver_name() != "aiosqlite":
                raise DatabaseUrlError("SQLite URLs must use the async driver: sqlite+aiosqlite://")
            if parsed.database in (None, "", ":memory:"):
                raise DatabaseUrlError(
                    "an in-memory SQLite database cannot be shared by the writer and the read "
                    "pool; give a file path, e.g. sqlite+aiosqlite:///ordergraph.db"
                )
            folder = Path(parsed.database).absolute().parent
            if not folder.is_dir():
                raise DatabaseUrlError(f"the folder of the SQLite file does not exist: {folder}")
            self.write_engine = create_async_engine(
                url, echo=echo, pool_size=1, max_overflow=0, pool_reset_on_return=None
            )
            self.read_engine = create_async_engine(
                url,
                echo=echo,
                pool_size=read_pool_size,
                max_overflow=0,
                pool_reset_on_return=None,
            )
            _configure_sqlite(self.write_engine, immediate=True)
            _configure_sqlite(self.read_engine, immediate=False)
        elif self.dialect == "postgresql":
            if parsed.get_driver_name() != "asyncpg":
                raise DatabaseUrlError(
                    "PostgreSQL URLs must use the async driver: postgresql+asyncpg://"
                )
            self.write_engine = create_async_engine(url, echo=echo, pool_size=5)
            self.read_engine = create_async_engine(url, echo=echo, pool_size=read_pool_size)
        else:
            raise DatabaseUrlError(
                f"unsupported database {self.dialect!r}: use sqlite+aiosqlite:// or "
                "postgresql+asyncpg://"
            )
        self._write_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: commits when the block ends, rolls back if it raises."""
        if self.is_sqlite:
            async with self._write_lock, self.write_engine.begin() as conn:
                yield conn
        else:
            async with self.write_engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection from the read pool (a consistent snapshot per statement)."""
        async with self.read_engine.connect() as conn:
            yield conn

    async def create_all(self, metadata: MetaData) -> None:
        """Create the tables of `metadata` that do not exist yet."""
        async with self.write() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        await self.read_engine.dispose()


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


__all__ = [
    "DEFAULT_DATABASE_URL",
    "KEY_BUCKETS",
    "Database",
    "DatabaseUrlError",
    "normalized_url",
    "padded_chunks",
]
