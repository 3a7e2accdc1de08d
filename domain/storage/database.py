"""Engines for one database: a single serialised writer connection and a separate read pool.

SQLite allows one writer at a time. Sharing one write connection behind an `asyncio.Lock`
(the command writer, the projection runner and rebuilds all take it) means no pool checkout
and no SQLITE_BUSY in the hot path; write transactions start with `BEGIN IMMEDIATE` so a
transaction never upgrades its lock half-way. Reads use their own small pool and never wait
for the writer (WAL). On PostgreSQL both engines are ordinary pools and the lock is not taken:
the database serialises what must be serialised.

On PostgreSQL every session carries `PG_SESSION_SETTINGS`: a process that stops making progress
inside a transaction (SIGSTOP, an event loop held by other work, a lost network) has its session
ended by the server after `idle_in_transaction_session_timeout`, so the locks it holds (the
append lock, a checkpoint) are freed for the other processes within seconds; a lock waited for
longer than `lock_timeout` is a fault (SERVICE_UNAVAILABLE, retried by the bus), not a hang, and
makes the store end the sessions stalled where no timeout reaches (`stalls.py`).
`application_name` is `ordergraph:<pid>`, so `pg_stat_activity` shows which process holds what.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ordergraph.db"
# A URL starts with a scheme and a colon; anything else is a file path.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# The forms that name no driver (PostgreSQL's as libpq and every hosting provider write it).
_DRIVERLESS = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg"}
_DRIVERLESS_SQLITE = "sqlite"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a commit that returned survives a power cut, not only a crash of the process.
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)

# Every PostgreSQL session's settings (milliseconds). A lock waited for that long is a fault;
# the store then ends sessions stalled mid-message, which no timeout ends (stalls.py).
PG_SESSION_SETTINGS = {
    "idle_in_transaction_session_timeout": "2000",
    "lock_timeout": "2000",
}
PG_CONNECT_TIMEOUT_SECONDS = 10


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


def database_url(text: str) -> str:
    """`text` as the URL ordergraph runs on. `postgresql://` and `postgres://` (what hosting
    providers hand out) take the asyncpg driver, with libpq's `sslmode` passed on as asyncpg's
    `ssl`; `sqlite:///x.db` takes aiosqlite; a plain file path (`orders.db`, `./data/orders.db`,
    `/var/lib/ordergraph/orders.db`, `~/orders.db`) is a SQLite file. Anything else comes back
    as it is, for `check_database_url` to judge."""
    if not text or _SCHEME.match(text) is None:
        return f"sqlite+aiosqlite:///{os.path.expanduser(text)}" if text else text
    scheme, _, rest = text.partition(":")
    if scheme.lower() == _DRIVERLESS_SQLITE:
        return f"sqlite+aiosqlite:{rest}"
    driver = _DRIVERLESS.get(scheme.lower())
    if driver is None:
        return text
    try:
        parsed = make_url(f"{driver}:{rest}")
    except ArgumentError:
        return text
    if "sslmode" in parsed.query and "ssl" not in parsed.query:
        ssl = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": ssl})
    return parsed.render_as_string(hide_password=False)


def check_database_url(url: str) -> URL:
    """The parsed `url` if ordergraph can run on it (an async driver, a SQLite file whose folder
    exists); else DatabaseUrlError saying what to give instead."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "not a database URL: give postgresql://USER:PASSWORD@HOST:5432/NAME or a SQLite "
            "file path such as ./ordergraph.db"
        ) from None
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise DatabaseUrlError(
                f"SQLite through {parsed.get_driver_name()!r} is not supported: use "
                "sqlite+aiosqlite:///PATH, or give the file path alone"
            )
        if parsed.database in (None, "", ":memory:"):
            raise DatabaseUrlError(
                "an in-memory SQLite database cannot be shared by the writer and the read "
                "pool; give a file path, e.g. ./ordergraph.db"
            )
        folder = Path(parsed.database).absolute().parent
        if not folder.is_dir():
            raise DatabaseUrlError(
                f"the folder of the SQLite file does not exist: {folder} (create it, or give "
                "another path)"
            )
    elif dialect == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise DatabaseUrlError(
                f"PostgreSQL through {parsed.get_driver_name()!r} is not supported: use "
                "postgresql://, which ordergraph runs with asyncpg"
            )
    else:
        raise DatabaseUrlError(
            f"unsupported database {dialect!r}: use PostgreSQL (postgresql://...) or a SQLite "
            "file path"
        )
    return parsed


class Database:
    """One database: `write()` for serialised write transactions, `read()` for reads."""

    def __init__(self, url: str, *, read_pool_size: int = 4, echo: bool = False) -> None:
        url = database_url(url)
        parsed = check_database_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
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
        else:
            self.write_engine = create_async_engine(url, echo=echo, pool_size=5)
            self.read_engine = create_async_engine(url, echo=echo, pool_size=read_pool_size)
            _configure_postgresql(self.write_engine)
            _configure_postgresql(self.read_engine)
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
    async def writer_held(self) -> AsyncIterator[None]:
        """Hold this process's writer without opening a transaction: none of this process's
        `write()` transactions is under way meanwhile (on SQLite; on PostgreSQL `write()`
        does not take it)."""
        async with self._write_lock:
            yield

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


def _configure_postgresql(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        settings = dict(params.get("server_settings") or {})
        settings.update(PG_SESSION_SETTINGS, application_name=f"ordergraph:{os.getpid()}")
        params["server_settings"] = settings
        params.setdefault("timeout", PG_CONNECT_TIMEOUT_SECONDS)


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
    "PG_SESSION_SETTINGS",
    "Database",
    "DatabaseUrlError",
    "check_database_url",
    "database_url",
    "padded_chunks",
]
