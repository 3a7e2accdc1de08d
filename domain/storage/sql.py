"""The append-only event store on SQLAlchemy: gapless positions in commit order, atomic batches.

Every append runs inside `transaction()`, which holds the database's single writer (SQLite's
`BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock), reads the head position,
and hands out positions head + 1, head + 2, ... So positions are gapless and become visible in
commit order: a reader that tails "everything after my checkpoint" can never skip a transaction
that commits late with a lower position. The committed signal fires only after the commit.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ports import CommitHook, RecordedEvent
from domain.storage import tables as schema
from domain.storage.batch import (
    PLAIN_EVENT_COLUMNS,
    SqlAppendBatch,
    decode_plain,
)
from domain.storage.database import Database
from domain.storage.faults import LOCK_TIMEOUT, StoreUnavailable, fault_of
from domain.storage.health import StoreHealth
from domain.storage.pglisten import PgListener
from domain.storage.registry import EventRegistry
from domain.storage.signal import CommitSignal
from domain.storage.staging import BatchRaced, StagingStore, run_commit_hooks
from domain.storage.stalls import end_stalled_sessions

log = logging.getLogger("ordergraph.storage")

# Any 64-bit constant: the key of the advisory lock that serialises appends on PostgreSQL.
APPEND_LOCK_KEY = 0x6F72646572677261
NOTIFY_CHANNEL = "ordergraph_events"
# Full pages of `read_all` kept decoded, for readers that follow each other along the log.
PAGES_KEPT = 8
# After a batch raced another process's append, take the lock first for this long.
LOCK_FIRST_SECONDS = 1.0

_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_HEAD = select(func.coalesce(func.max(schema.event.c.position), 0))

SqlCommitHook = CommitHook[AsyncConnection]
"""A commit hook of the SQL store: it gets the append transaction's connection."""


class _HooksFailed(Exception):
    """A commit hook raised (its cause): the append is made again without the hooks."""


@dataclass(slots=True)
class _Attempt:
    """One append transaction's progress: whether its COMMIT was sent, and what to call once
    it has committed."""

    committing: bool = False
    committed: list[Callable[[], None]] = field(default_factory=list)


class SqlEventStore(StagingStore[AsyncConnection]):
    """The event store on one SQLAlchemy database (SQLite or PostgreSQL)."""

    def __init__(
        self, db: Database, registry: EventRegistry | None = None, *, tail_size: int = 4096
    ) -> None:
        super().__init__()
        self.db = db
        self.registry = registry or EventRegistry()
        # The events this process committed last, contiguous: projections that follow the head
        # read them from here instead of the database.
        self._tail: deque[RecordedEvent] = deque(maxlen=tail_size)
        self.committed = CommitSignal()
        self.appended = 0
        """How many events this process has appended since it started."""
        self._listener: PgListener | None = None
        self._head_known = False
        self._pages: dict[tuple[int, int], list[RecordedEvent]] = {}
        self._lock_first_until = 0.0
        # The head this process's own COMMIT is making: its NOTIFY, which may arrive before the
        # COMMIT's answer, is not news (the store notifies once its batch is remembered).
        self._committing_head: int | None = None
        self.health = StoreHealth(self)
        """How the appends have been going, and the probe readiness runs."""

    async def create_schema(self) -> None:
        """Create the tables if missing and set the committed signal to the current head."""
        await self.db.create_all(schema.metadata)
        await self._sync_head()

    async def start(self) -> None:
        """Follow commits made by other processes too (PostgreSQL LISTEN/NOTIFY)."""
        await self._sync_head()
        if self.db.dialect == "postgresql" and self._listener is None:
            self._listener = PgListener(self.db, on_reconnect=self._sync_head)
            self._listener.on(NOTIFY_CHANNEL, self._heard)
            await self._listener.start()
            await self._sync_head()

    async def stop(self) -> None:
        """Stop following other processes' commits."""
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    def _heard(self, payload: str) -> None:
        """A NOTIFY of a commit (another process's, unless it is our own COMMIT's)."""
        head = int(payload)
        if head != self._committing_head:
            self.committed.notify(head)

    async def _sync_head(self) -> None:
        self.committed.notify(await self.head_position())
        self._head_known = True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlAppendBatch]:
        """One write transaction; what is staged in it is appended atomically on exit.

        On PostgreSQL, once this store knows the head (after `create_schema` or `start`), the
        batch is staged on the head as last committed and the append lock is taken only around
        the insert, whose statement checks the head (BatchRaced if another process appended in
        between: nothing is written). After a race the lock is taken first for a while. A
        batch that breaks a uniqueness rule raises RecordConflict (see SqlAppendBatch.flush).
        A fault (see `domain.storage.faults`) raises StoreUnavailable, `in_doubt` when the
        connection was lost during the COMMIT."""
        attempt = _Attempt()
        try:
            try:
                async with self._appending(attempt) as batch:
                    yield batch
            except _HooksFailed as failed:
                log.warning(
                    "work in the append's transaction failed (%s); appending positions %d-%d "
                    "without it",
                    failed.__cause__,
                    batch.head + 1,
                    batch.last_position,
                    exc_info=failed.__cause__,
                )
                attempt = _Attempt()
                await self._append_alone(batch, attempt)
        except StoreUnavailable as error:
            self.health.writes.failed(error.fault)
            raise
        except Exception as error:
            fault = fault_of(error)
            if fault is None:
                raise
            self.health.writes.failed(fault)
            if fault.code == LOCK_TIMEOUT:  # the holder may be a stalled process: end it
                await end_stalled_sessions(self.db)
            in_doubt = attempt.committing and fault.answer_lost
            raise StoreUnavailable(fault, in_doubt=in_doubt) from error
        finally:
            self._committing_head = None
        self.health.writes.succeeded()
        recorded = batch.recorded
        self.appended += batch.last_position - batch.head
        self._remember(recorded)
        self.committed.notify(batch.last_position)
        for then in attempt.committed:
            then()

    @asynccontextmanager
    async def _appending(self, attempt: _Attempt) -> AsyncIterator[SqlAppendBatch]:
        """The append transaction itself; `attempt` learns when the COMMIT is under way and
        what the commit hooks want called once it has committed."""
        postgres = self.db.dialect == "postgresql"
        late_lock = postgres and self._head_known and time.monotonic() >= self._lock_first_until
        async with self.db.write() as conn:
            if late_lock:
                head = self.committed.head
            else:
                if postgres:
                    await conn.execute(_APPEND_LOCK, {"key": APPEND_LOCK_KEY})
                head = int(await conn.scalar(_HEAD) or 0)
            batch = SqlAppendBatch(conn, head, self.registry, datetime.now(UTC))
            yield batch
            if late_lock and batch.writes:
                await conn.execute(_APPEND_LOCK, {"key": APPEND_LOCK_KEY})
            try:
                # On PostgreSQL the flush also NOTIFYs the new head (delivered at commit).
                await batch.flush(NOTIFY_CHANNEL)
            except BatchRaced as raced:
                self._lock_first_until = time.monotonic() + LOCK_FIRST_SECONDS
                self.committed.notify(raced.head)
                raise
            try:
                attempt.committed = await run_commit_hooks(self._hooks, conn, batch)
            except Exception as error:
                if fault_of(error) is not None:
                    raise
                raise _HooksFailed from error  # the transaction is spoiled: roll it back
            attempt.committing = True  # leaving this block sends the COMMIT
            self._committing_head = batch.last_position

    async def _append_alone(self, batch: SqlAppendBatch, attempt: _Attempt) -> None:
        """Append a batch already staged, in a transaction of its own, without commit hooks
        (they failed in the batch's first transaction)."""
        async with self.db.write() as conn:
            batch.write_through(conn)
            if self.db.dialect == "postgresql":
                await conn.execute(_APPEND_LOCK, {"key": APPEND_LOCK_KEY})
            await batch.flush(NOTIFY_CHANNEL)
            attempt.committing = True
            self._committing_head = batch.last_position

    async def probe_write(self) -> None:
        """A write that leaves nothing behind, for readiness: take the writer (on PostgreSQL
        the append lock too), create and drop a table (which allocates a page: a full disk
        refuses it), commit."""
        name = f"ordergraph_probe_{secrets.token_hex(6)}"
        async with self.db.write() as conn:
            if self.db.dialect == "postgresql":
                await conn.execute(_APPEND_LOCK, {"key": APPEND_LOCK_KEY})
            await conn.execute(text(f"CREATE TABLE {name} (x INTEGER)"))
            await conn.execute(text(f"DROP TABLE {name}"))

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """One stream's events in version order."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(*PLAIN_EVENT_COLUMNS)
                .where(schema.event.c.stream_id == stream_id)
                .order_by(schema.event.c.version)
            )
            return [decode_plain(self.registry, row) for row in rows]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above `after`, in position order, at most `limit`."""
        tail = self._tail
        if tail and tail[0].position <= after + 1 <= tail[-1].position:
            start = after + 1 - tail[0].position
            return list(islice(tail, start, start + limit))
        key = (after, limit)
        page = self._pages.get(key)
        if page is None:
            async with self.db.read() as conn:
                rows = await conn.execute(
                    select(*PLAIN_EVENT_COLUMNS)
                    .where(schema.event.c.position > after)
                    .order_by(schema.event.c.position)
                    .limit(limit)
                )
                registry = self.registry
                page = [decode_plain(registry, row) for row in rows]
            if len(page) == limit:
                # A full page never changes (the log is append-only): projections catching up
                # side by side read the same pages, and each is decoded once.
                self._pages[key] = page
                while len(self._pages) > PAGES_KEPT:
                    self._pages.pop(next(iter(self._pages)))
        return list(page)

    async def read_page(
        self, after: int, limit: int, types: Collection[str] | None = None
    ) -> tuple[int, list[RecordedEvent]]:
        """Up to `limit` events above `after`, decoding only those whose type name is in
        `types` (all when None): the last position read (`after` when none was) and the
        decoded events, in position order. For a replay that needs only some types."""
        tail = self._tail
        if tail and tail[0].position <= after + 1 <= tail[-1].position:
            start = after + 1 - tail[0].position
            page = list(islice(tail, start, start + limit))
            chosen = [e for e in page if types is None or type(e.event).__name__ in types]
            return page[-1].position, chosen
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(*PLAIN_EVENT_COLUMNS)
                    .where(schema.event.c.position > after)
                    .order_by(schema.event.c.position)
                    .limit(limit)
                )
            ).all()
        if not rows:
            return after, []
        registry = self.registry
        return rows[-1][0], [
            decode_plain(registry, row) for row in rows if types is None or row[3] in types
        ]

    def _remember(self, recorded: list[RecordedEvent]) -> None:
        """Keep a committed batch in the tail, which stays contiguous: another process's commit
        in between (PostgreSQL) starts it afresh."""
        if not recorded:
            return
        if self._tail and recorded[0].position != self._tail[-1].position + 1:
            self._tail.clear()
        self._tail.extend(recorded)

    async def head_position(self) -> int:
        """The last committed position (0 for an empty log)."""
        async with self.db.read() as conn:
            head = await conn.scalar(select(func.coalesce(func.max(schema.event.c.position), 0)))
            return int(head or 0)


__all__ = ["APPEND_LOCK_KEY", "NOTIFY_CHANNEL", "SqlCommitHook", "SqlEventStore"]
