"""Which storage errors are faults: not the caller's doing, and likely to pass.

A fault is answered as SERVICE_UNAVAILABLE (retry later), never as a bug. `fault_of` looks
through an exception and its causes (SQLAlchemy wraps the driver's error, which may wrap the
socket's) and returns a `Fault` naming what kind it is, or None when the error is not one:

- full: SQLite's SQLITE_FULL ("database or disk is full", also past `PRAGMA max_page_count`),
  PostgreSQL's class 53 (disk_full, out_of_memory, too_many_connections);
- unreachable: a refused, reset or closed connection (OSError, SQLAlchemy's invalidated
  connection, PostgreSQL's class 08), a server shutting down or starting up (57P01-57P03,
  57P05), SQLite's I/O errors (SQLITE_IOERR and its extended codes);
- busy: a lock or statement timeout (55P03, 57014), serialization failure (40001), deadlock
  (40P01), a transaction ended by idle_in_transaction_session_timeout (25P03), SQLite's
  "database is locked" once its busy timeout ran out, a connection pool with none to spare.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import exc as sa_exc

from domain.errors import Unavailable


class FaultKind(StrEnum):
    FULL = "full"
    UNREACHABLE = "unreachable"
    BUSY = "busy"


# PostgreSQL SQLSTATE codes (and classes: the first two characters) that are faults.
_PG_CLASSES = {"08": FaultKind.UNREACHABLE, "53": FaultKind.FULL}
_PG_CODES = {
    "57P01": FaultKind.UNREACHABLE,  # admin_shutdown
    "57P02": FaultKind.UNREACHABLE,  # crash_shutdown
    "57P03": FaultKind.UNREACHABLE,  # cannot_connect_now
    "57P05": FaultKind.UNREACHABLE,  # idle_session_timeout
    "58030": FaultKind.UNREACHABLE,  # io_error
    "55P03": FaultKind.BUSY,  # lock_not_available (lock_timeout)
    "57014": FaultKind.BUSY,  # query_canceled (statement_timeout)
    "40001": FaultKind.BUSY,  # serialization_failure
    "40P01": FaultKind.BUSY,  # deadlock_detected
    "25P03": FaultKind.BUSY,  # idle_in_transaction_session_timeout
}
# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CODES = {
    5: FaultKind.BUSY,  # SQLITE_BUSY: "database is locked" after the busy timeout
    6: FaultKind.BUSY,  # SQLITE_LOCKED
    10: FaultKind.UNREACHABLE,  # SQLITE_IOERR
    13: FaultKind.FULL,  # SQLITE_FULL
}

MESSAGES = {
    FaultKind.FULL: "the database is out of space; nothing was changed: retry later",
    FaultKind.UNREACHABLE: (
        "the database is unavailable (restarting or unreachable); nothing was changed: retry"
    ),
    FaultKind.BUSY: "the database is busy (a lock or statement timed out); nothing was changed: "
    "retry",
}
IN_DOUBT_MESSAGE = (
    "the connection to the database was lost while committing, so the command may or may not "
    "have been applied: retry with the same commandId"
)
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault: its kind, and its cause in one line (for the log, never for the client)."""

    kind: FaultKind
    cause: str
    code: str | None = None
    """PostgreSQL's SQLSTATE, when the fault is one of its errors."""

    @property
    def answer_lost(self) -> bool:
        """Whether the database's answer may have been lost (what was sent may have run)."""
        return self.kind is FaultKind.UNREACHABLE

    def refusal(self) -> Unavailable:
        """The error a caller is answered with (nothing was changed)."""
        return Unavailable(MESSAGES[self.kind], retry_after=RETRY_AFTER_SECONDS)


class StoreUnavailable(Exception):
    """The event store met a fault; `in_doubt` when it struck while the COMMIT was on its
    way (the batch may have been committed), otherwise nothing was written."""

    def __init__(self, fault: Fault, *, in_doubt: bool = False) -> None:
        super().__init__(fault.cause)
        self.fault = fault
        self.in_doubt = in_doubt

    def refusal(self) -> Unavailable:
        """The error a caller is answered with."""
        if self.in_doubt:
            return Unavailable(IN_DOUBT_MESSAGE, retry_after=RETRY_AFTER_SECONDS)
        return self.fault.refusal()


def fault_of(error: BaseException) -> Fault | None:
    """The fault behind `error` (looking through the errors it was raised from: SQLAlchemy's
    error from the driver's, the driver's from the socket's), or None when it is not one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnavailable):
            return current.fault
        kind = _kind(current)
        if kind is not None:
            sqlstate: Any = getattr(current, "sqlstate", None)
            code = sqlstate if isinstance(sqlstate, str) else None
            return Fault(kind, _one_line(current), code)
        current = current.__cause__
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Raise a fault met in the block as StoreUnavailable (nothing was committed by it)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        fault = fault_of(error)
        if fault is None:
            raise
        raise StoreUnavailable(fault) from error


def _kind(error: BaseException) -> FaultKind | None:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return FaultKind.UNREACHABLE
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection freed in time
        return FaultKind.BUSY
    sqlstate: Any = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _PG_CODES.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2])
    sqlite_code: Any = getattr(error, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return _SQLITE_CODES.get(sqlite_code & 0xFF)
    if isinstance(error, OSError | TimeoutError):
        return FaultKind.UNREACHABLE
    return None


def _one_line(error: BaseException) -> str:
    """The message of the innermost error `error` was raised from, on one line."""
    innermost, seen = error, {id(error)}
    while (inner := innermost.__cause__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        innermost = inner
    text = " ".join(str(innermost).split()) or type(innermost).__name__
    return f"{type(innermost).__name__}: {text[:300]}"


class Incident:
    """One log line when a kind of work starts failing on faults, and one when it works again
    (with how long and how often it failed), instead of a traceback per request."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log = logger
        self._what = what
        self.since: float | None = None
        self.cause: str | None = None
        self.failures = 0

    @property
    def open(self) -> bool:
        """Whether the last attempt failed on a fault."""
        return self.since is not None

    def failed(self, fault: Fault) -> None:
        self.failures += 1
        self.cause = fault.cause
        if self.since is None:
            self.since = time.monotonic()
            self._log.error("%s fail: the database is %s (%s)", self._what, fault.kind, fault.cause)

    def succeeded(self) -> None:
        if self.since is None:
            return
        self._log.warning(
            "%s succeed again after %.1f s (%d failed on faults)",
            self._what,
            time.monotonic() - self.since,
            self.failures,
        )
        self.since, self.cause, self.failures = None, None, 0


LOCK_TIMEOUT = "55P03"

__all__ = [
    "IN_DOUBT_MESSAGE",
    "LOCK_TIMEOUT",
    "MESSAGES",
    "Fault",
    "FaultKind",
    "Incident",
    "StoreUnavailable",
    "fault_of",
    "translated",
]
