"""What `ordergraph status` knows without running anything: each projection's stored
checkpoint, the log's head, a failure recorded by the process that runs it, and whether any
process runs it at all.

On PostgreSQL that is the projection's leadership lock: held means a server runs it. On SQLite
a server holds a shared `flock` on the database file while it runs (`ServingMark`); Linux keeps
`flock` apart from the POSIX locks SQLite itself takes, so the two never interfere. Nobody
running a projection is STOPPED, whatever its checkpoint says.
"""

from __future__ import annotations

import fcntl
import os
from typing import TYPE_CHECKING

from sqlalchemy import text

from graph.ops.preflight import sqlite_file
from readmodels.dto import ProjectionState, ProjectionStatus
from readmodels.runner.checkpoint import read_checkpoint, read_failures
from readmodels.runner.leadership import lock_key

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from domain.ports import EventLog
    from domain.storage.database import Database


class ServingMark:
    """Held by a serving process on a SQLite database: a shared flock on its file. Taken once
    the service has started and given back only after its connections are closed (closing any
    descriptor of a file drops the process's POSIX locks on it, SQLite's included)."""

    def __init__(self, url: str) -> None:
        self._path = sqlite_file(url)
        self._fd: int | None = None

    def __enter__(self) -> ServingMark:
        if self._path is not None and self._path.exists():
            self._fd = os.open(self._path, os.O_RDONLY)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        return self

    def __exit__(
        self,
        _kind: type[BaseException] | None,
        _error: BaseException | None,
        _trace: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def sqlite_served(url: str) -> bool | None:
    """Whether a server holds the SQLite file's mark (None: not SQLite). Call it before this
    process opens any connection to the file."""
    path = sqlite_file(url)
    if path is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


async def _led_on_postgresql(read_db: Database, names: Sequence[str]) -> dict[str, bool]:
    """Which projections some process leads: their advisory lock is held elsewhere."""
    led = {}
    async with read_db.write_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            key = lock_key("projection", name)
            free = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            if free:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            led[name] = not free
    return led


async def stored_status(
    event_log: EventLog, read_db: Database, names: Sequence[str], served: bool | None
) -> list[ProjectionStatus]:
    """Each projection as stored in `read_db`, against the head of `event_log`; `served` is
    `sqlite_served`'s answer, taken beforehand."""
    head = await event_log.head_position()
    async with read_db.read() as conn:
        positions = {name: await read_checkpoint(conn, name) for name in names}
        failures = await read_failures(conn)
    if read_db.dialect == "postgresql":
        running = await _led_on_postgresql(read_db, names)
    else:
        running = dict.fromkeys(names, bool(served))
    statuses = []
    for name in names:
        failing = failures.get(name)
        if failing is not None and failing.position is not None:
            failing = failing if failing.position > positions[name] else None
        if not running[name]:
            state = ProjectionState.STOPPED
        elif failing is not None:
            state = ProjectionState.FAILED
        else:
            state = ProjectionState.RUNNING
        error = None
        if failing is not None:
            at = "" if failing.position is None else f"at {failing.position} "
            kind = f"({failing.event_type}) " if failing.event_type else ""
            error = f"{at}{kind}after {failing.attempts} attempts: {failing.error}"
        statuses.append(
            ProjectionStatus(
                name=name,
                state=state,
                position=positions[name],
                head_position=max(head, positions[name]),
                lag=max(0, head - positions[name]),
                last_error=error,
                failing=failing,
            )
        )
    return statuses


__all__ = ["ServingMark", "sqlite_served", "stored_status"]
