"""Which process runs each projection: one at a time, chosen by a PostgreSQL advisory lock.

On PostgreSQL every server process competes for a session-level advisory lock per projection;
the holder applies events, the others follow its notifications. When the holder dies its
session ends, the lock is released, and another process takes over on its next attempt (every
`retry_interval` seconds) and resumes from the checkpoint. Correctness never rests on the lock:
every batch re-reads and locks its checkpoint inside its own transaction, so even two leaders
for a moment would apply each event once. The lock only saves the work.

A leader that stops (SIGSTOP, an event loop held by other work, a lost network) must not keep
the lead: the leadership connection is pinged by every slot once a `lead_interval`, and
on PostgreSQL 14 and later its `idle_session_timeout` (LEADER_IDLE_SECONDS) has the server end
it, and free its locks, once no ping came for that long.

On SQLite there is one process, and it leads everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text

from domain.storage.faults import fault_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.storage.database import Database

log = logging.getLogger("ordergraph.leadership")

# A leadership connection idle this long (no slot asked for a while: the process is stalled)
# is ended by the server, freeing the projections for another process.
LEADER_IDLE_SECONDS = 3


def lock_key(kind: str, name: str) -> int:
    """A stable signed 64-bit advisory lock key for (kind, name)."""
    digest = hashlib.blake2b(f"ordergraph:{kind}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership(Protocol):
    """Decides whether this process may run a projection, or rebuild one."""

    async def try_lead(self, name: str) -> bool:
        """Become (or stay) the leader of `name`; True when this process leads it."""
        ...

    async def try_rebuild(self, name: str) -> bool:
        """Take the right to rebuild `name` (cluster-wide); True when taken."""
        ...

    async def end_rebuild(self, name: str) -> None:
        """Give back the right to rebuild `name`."""
        ...

    async def close(self) -> None:
        """Give up everything held."""
        ...


class SoleProcess:
    """One process on the database (SQLite): it leads every projection."""

    def __init__(self) -> None:
        self._rebuilding: set[str] = set()

    async def try_lead(self, name: str) -> bool:
        return True

    async def try_rebuild(self, name: str) -> bool:
        if name in self._rebuilding:
            return False
        self._rebuilding.add(name)
        return True

    async def end_rebuild(self, name: str) -> None:
        self._rebuilding.discard(name)

    async def close(self) -> None:
        self._rebuilding.clear()


class AdvisoryLocks:
    """Leadership through PostgreSQL session-level advisory locks on one dedicated connection."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None
        self._held: set[int] = set()
        self._guard = asyncio.Lock()

    async def try_lead(self, name: str) -> bool:
        return await self._try(lock_key("projection", name))

    async def try_rebuild(self, name: str) -> bool:
        return await self._try(lock_key("rebuild", name))

    async def end_rebuild(self, name: str) -> None:
        key = lock_key("rebuild", name)
        async with self._guard:
            if key in self._held and self._conn is not None:
                self._held.discard(key)
                with contextlib.suppress(Exception):
                    await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})

    async def close(self) -> None:
        async with self._guard:
            await self._drop_connection()

    async def _try(self, key: int) -> bool:
        async with self._guard:
            try:
                conn = await self._connection()
                if key in self._held:
                    await conn.execute(text("SELECT 1"))  # still alive: still holding
                    return True
                taken = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            except Exception as error:
                fault = fault_of(error)
                cause = "" if fault is None else f" ({fault.cause})"
                log.warning(
                    "lost the leadership connection%s; every lock is given up",
                    cause,
                    exc_info=fault is None,
                )
                await self._drop_connection()
                return False
            if taken:
                self._held.add(key)
            return bool(taken)

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = await self._db.write_engine.connect()
            # Autocommit: the locks are session-level and must not wait for a transaction end.
            await self._conn.execution_options(isolation_level="AUTOCOMMIT")
            if self._conn.dialect.server_version_info >= (14,):  # type: ignore[operator]
                seconds = f"{LEADER_IDLE_SECONDS}s"
                await self._conn.execute(text(f"SET idle_session_timeout = '{seconds}'"))
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._held.clear()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()


def leadership_for(db: Database) -> Leadership:
    """Advisory locks on PostgreSQL; the sole process on SQLite."""
    return AdvisoryLocks(db) if db.dialect == "postgresql" else SoleProcess()


__all__ = ["AdvisoryLocks", "Leadership", "SoleProcess", "leadership_for", "lock_key"]
