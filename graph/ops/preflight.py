"""Checks of the databases before a command touches anything, each failure one line that says
what to fix: the URL, the SQLite file (a folder, unwritable, missing when it must exist), and
whether the database server answers (naming host and port). Where the service listens is
checked in `listen.py`."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.storage.database import Database, DatabaseUrlError, check_database_url
from graph.ops.migrate import check
from graph.ops.terminal import shown_url

if TYPE_CHECKING:
    from graph.settings import Settings

# What to run when the schema is only checked on start and the database does not exist yet.
MIGRATE_OFF_HINT = (
    "ORDERGRAPH_MIGRATE_ON_START=false only checks an existing database: run "
    "`ordergraph migrate` first"
)


class StartupError(RuntimeError):
    """What stops a command, in one line."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).absolute()


def check_url(url: str) -> None:
    """`url` names a database ordergraph can run on (see `check_database_url`)."""
    try:
        check_database_url(url)
    except DatabaseUrlError as error:
        raise StartupError(f"bad database URL {shown_url(url)!r}: {error}") from None


def check_sqlite(url: str, *, create: bool, missing_hint: str) -> None:
    """The SQLite file of `url` is usable: not a folder, writable, and existing unless
    `create` (then its folder must be writable). `missing_hint` says what to run instead."""
    path = sqlite_file(url)
    if path is None:
        return
    if path.is_dir():
        raise StartupError(
            f"the SQLite database {path} is a folder: give a file path, e.g. "
            f"sqlite+aiosqlite:///{path / 'ordergraph.db'}"
        )
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise StartupError(f"cannot write the SQLite database {path}: permission denied")
        return
    if not create:
        raise StartupError(f"there is no database at {path}: {missing_hint}")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StartupError(
            f"cannot create the SQLite database {path}: the folder {path.parent} is not writable"
        )


def describe(error: BaseException) -> str:
    """The innermost cause of `error`, in one line."""
    seen: set[int] = set()
    cause: BaseException = error
    while id(cause) not in seen:
        seen.add(id(cause))
        inner = getattr(cause, "orig", None) or cause.__cause__
        if not isinstance(inner, BaseException):
            break
        cause = inner
    message = str(cause).strip().splitlines()
    reason = message[0] if message else ""
    name = type(cause).__name__
    return f"{name}: {reason}" if reason else name


async def check_reachable(db: Database) -> None:
    """The database answers a query; otherwise a StartupError naming where it was sought."""
    try:
        async with db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # every driver's own error types
        raise StartupError(f"cannot reach {where(db.url)}: {describe(error)}") from error


async def check_databases(settings: Settings) -> None:
    """Each database of `settings` answers and, when the schema is only checked on start
    (ORDERGRAPH_MIGRATE_ON_START=false), is at this code's revision (else SchemaMismatch)."""
    for url in filter(None, (settings.database_url, settings.read_database_url)):
        db = Database(url)
        try:
            await check_reachable(db)
            if not settings.migrate_on_start:
                await check(db)
        finally:
            await db.dispose()


def check_databases_now(settings: Settings) -> None:
    """`check_databases` from synchronous code that may run inside an event loop (uvicorn calls
    the app factory from its own): on a loop of its own, in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, check_databases(settings)).result()


def where(url: str) -> str:
    """The database a URL names, for a person: `PostgreSQL at host:port (database d)` or the
    SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite database {sqlite_file(url)}"
    host = parsed.host or "localhost"
    port = parsed.port or 5432
    return f"PostgreSQL at {host}:{port} (database {parsed.database or '?'})"


__all__ = [
    "MIGRATE_OFF_HINT",
    "StartupError",
    "check_databases",
    "check_databases_now",
    "check_reachable",
    "check_sqlite",
    "check_url",
    "describe",
    "sqlite_file",
    "where",
]
