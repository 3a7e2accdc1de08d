"""Checks before a command touches anything, each failure one line that says what to fix: the
port to listen on, the SQLite file (a folder, unwritable, missing when it must exist), and
whether the database server answers (naming host and port)."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.storage.database import Database

CONNECT_TIMEOUT_SECONDS = 10.0


class StartupError(RuntimeError):
    """What stops a command, in one line."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).absolute()


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


def check_port(host: str, port: int) -> None:
    """Nothing listens on host:port yet, and this process may."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        where = f"{host}:{port}"
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"{where} is already in use (another ordergraph serve?): stop it, or pick "
                "another port with --port"
            ) from None
        if error.errno == errno.EACCES:
            raise StartupError(
                f"not allowed to listen on {where}: pick a port above 1023"
            ) from None
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise StartupError(
                f"cannot listen on {host!r}: not an address of this machine"
            ) from None
        raise StartupError(f"cannot listen on {where}: {error.strerror or error}") from None


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
    "StartupError",
    "check_port",
    "check_reachable",
    "check_sqlite",
    "describe",
    "sqlite_file",
    "where",
]
