"""Read replicas: PostgreSQL streaming standbys of the views database.

A standby replays the views database's WAL, so it holds the same view rows and the same
checkpoints, a little later. `Replica.snapshot` opens one REPEATABLE READ, READ ONLY transaction
and reads the checkpoints in it: the rows read in the same transaction are exactly as fresh as
those checkpoints say (a projection commits its rows and its checkpoint together, and a standby
shows whole transactions in commit order). `Replicas` takes turns among the standbys that are up;
one that fails is left alone for a short cool-down, then tried again.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from domain.storage.database import DatabaseUrlError
from readmodels.tables import projection_checkpoint

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("ordergraph.replicas")

# A connection attempt to a standby that does not answer gives up after this long.
CONNECT_TIMEOUT_SECONDS = 2.0
# A standby that failed is not asked again for this long.
COOL_DOWN_SECONDS = 2.0
# What a standby that is down or unreachable raises (the driver's errors, refused and timed-out
# connections); a reader's own bug raises anything else, and is not a replica's fault.
REPLICA_FAILURES = (DBAPIError, OSError, TimeoutError)

_CHECKPOINTS = select(projection_checkpoint.c.name, projection_checkpoint.c.position)

Outcome = Literal["replica", "fallback_lag", "fallback_down"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplicaRead:
    """One read that could have gone to a replica: where it went and why (for metrics).

    `waited` is how long a read with a minimum position waited for a replica after the views
    database had that position (None for a read without one); `behind` how many positions the
    replica's checkpoints trailed the views database's when the read checked them (None when
    it did not check)."""

    outcome: Outcome
    replica: str | None
    waited: float | None = None
    behind: int | None = None


class Snapshot:
    """One transaction on a replica, lent to a reader as its database: every `read()` gets the
    same connection (one block at a time), so everything the reader reads is as of the checked
    checkpoints."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        yield self._conn


class Replica:
    """One standby: a small read pool, and snapshots whose checkpoints are read first."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        parsed = make_url(url)
        if parsed.drivername != "postgresql+asyncpg":
            raise DatabaseUrlError("a replica is a PostgreSQL standby: postgresql+asyncpg://")
        self.name = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
        self.engine = create_async_engine(
            url, pool_size=pool_size, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
        )
        self._snapshots = self.engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        self.down_until = 0.0

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection from this standby's pool (a snapshot per statement, like the views
        database's read pool)."""
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def snapshot(
        self, projections: Sequence[str]
    ) -> AsyncIterator[tuple[Snapshot, dict[str, int]]]:
        """A read-only REPEATABLE READ transaction, and the checkpoints of `projections` in it
        (0 for a projection the standby does not know yet)."""
        async with self._snapshots.connect() as conn, conn.begin():
            found = {name: int(position) for name, position in await conn.execute(_CHECKPOINTS)}
            yield Snapshot(conn), {name: found.get(name, 0) for name in projections}


class Replicas:
    """The standbys reads may go to, taken in turns; a failed one cools down before the next
    try. `observe` hears of every read that could have gone to one (for metrics)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        wait: float,
        pool_size: int = 4,
        observe: Callable[[ReplicaRead], None] | None = None,
    ) -> None:
        if not urls:
            raise ValueError("no replica URLs")
        self.members = [Replica(url, pool_size=pool_size) for url in urls]
        self.wait = wait
        """How long a read waits for a lagging replica once the views database has its
        position, before the views database answers it."""
        self._turns = itertools.cycle(self.members)
        self._observe = observe

    def pick(self) -> Replica | None:
        """The next standby that is not cooling down, or None when all are."""
        now = time.monotonic()
        for _ in self.members:
            replica = next(self._turns)
            if replica.down_until <= now:
                return replica
        return None

    def failed(self, replica: Replica, error: BaseException) -> None:
        """`replica` failed a read: leave it alone for a while."""
        if replica.down_until == 0.0:
            log.warning(
                "replica %s failed (%s: %s); reads go to the views database while it is down",
                replica.name,
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
        replica.down_until = time.monotonic() + COOL_DOWN_SECONDS

    def answered(self, replica: Replica) -> None:
        """`replica` answered a read: it is up."""
        if replica.down_until:
            log.info("replica %s answers again", replica.name)
            replica.down_until = 0.0

    def observe(self, read: ReplicaRead) -> None:
        if self._observe is not None:
            self._observe(read)

    async def dispose(self) -> None:
        for replica in self.members:
            await replica.engine.dispose()


__all__ = [
    "COOL_DOWN_SECONDS",
    "REPLICA_FAILURES",
    "Outcome",
    "Replica",
    "ReplicaRead",
    "Replicas",
    "Snapshot",
]
