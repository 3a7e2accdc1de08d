"""The append-only event store on SQLAlchemy: gapless positions in commit order, atomic batches.

Every append runs inside `transaction()`, which holds the database's single writer (SQLite's
`BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock), reads the head position,
and hands out positions head + 1, head + 2, ... So positions are gapless and become visible in
commit order: a reader that tails "everything after my checkpoint" can never skip a transaction
that commits late with a lower position. The committed signal fires only after the commit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.commands import CommandResult
from domain.errors import ConcurrencyConflict
from domain.events import Event
from domain.ports import EventMetadata, RecordedEvent
from domain.storage import tables as schema
from domain.storage.database import Database, padded_chunks
from domain.storage.pglisten import PgListener
from domain.storage.registry import EventRegistry
from domain.storage.signal import CommitSignal

# Any 64-bit constant: the key of the advisory lock that serialises appends on PostgreSQL.
APPEND_LOCK_KEY = 0x6F72646572677261
NOTIFY_CHANNEL = "ordergraph_events"

_EVENT_COLUMNS = (
    schema.event.c.position,
    schema.event.c.stream_id,
    schema.event.c.version,
    schema.event.c.type,
    schema.event.c.schema_version,
    schema.event.c.payload,
    schema.event.c.command_id,
    schema.event.c.correlation_id,
    schema.event.c.causation_id,
    schema.event.c.recorded_at,
)


class CommitHook(Protocol):
    """Work done in the same transaction as an append (for instance a projection kept current
    in the writer's own transaction)."""

    async def __call__(
        self, conn: AsyncConnection, head: int, recorded: list[RecordedEvent]
    ) -> Callable[[], None] | None:
        """Runs after the events are written, before the commit; `head` is the position the
        log had before this batch. It must not raise (that would fail the whole batch). What it
        returns is called once the transaction has committed."""
        ...


_SELECT_COMMANDS = select(schema.command).where(
    schema.command.c.command_id.in_(bindparam("ids", expanding=True))
)
_SELECT_STREAMS = (
    select(*_EVENT_COLUMNS)
    .where(schema.event.c.stream_id.in_(bindparam("ids", expanding=True)))
    .order_by(schema.event.c.stream_id, schema.event.c.version)
)
_INSERT_EVENT = insert(schema.event)
_INSERT_COMMAND = insert(schema.command)


@dataclass(frozen=True, kw_only=True, slots=True)
class HandledCommand:
    """A command that succeeded earlier: its payload's fingerprint and its result."""

    fingerprint: str
    result: CommandResult


@dataclass(frozen=True, slots=True)
class Mark:
    """A point in a batch to roll back to when one command of it fails."""

    events: int
    commands: int
    versions: dict[str, int]


class AppendBatch:
    """The events and command records staged in one write transaction."""

    def __init__(
        self, conn: AsyncConnection, head: int, registry: EventRegistry, now: datetime
    ) -> None:
        self._conn = conn
        self._registry = registry
        self._now = now
        self.head = head
        self._event_rows: list[dict[str, Any]] = []
        self._recorded: list[RecordedEvent] = []
        self._command_rows: list[dict[str, Any]] = []
        self._handled: dict[str, HandledCommand] = {}
        self._versions: dict[str, int] = {}
        # What `prefetch` read: committed events by stream, stored commands, ids looked up.
        self._committed: dict[str, list[Event]] = {}
        self._stored: dict[str, HandledCommand] = {}
        self._looked_up: set[str] = set()

    @property
    def last_position(self) -> int:
        """The position of the last staged event (the head when nothing is staged)."""
        return self.head + len(self._event_rows)

    @property
    def recorded(self) -> list[RecordedEvent]:
        return list(self._recorded)

    async def prefetch(self, command_ids: Iterable[str], stream_ids: Iterable[str]) -> None:
        """Read, in one query each, the handled commands and the streams a batch will ask for."""
        ids = list(dict.fromkeys(command_ids))
        for chunk in padded_chunks(ids):
            for row in await self._conn.execute(_SELECT_COMMANDS, {"ids": chunk}):
                self._stored[row.command_id] = _handled(row)
        self._looked_up.update(ids)
        streams = [sid for sid in dict.fromkeys(stream_ids) if sid not in self._committed]
        for sid in streams:
            self._committed[sid] = []
        for chunk in padded_chunks(streams):
            for row in await self._conn.execute(_SELECT_STREAMS, {"ids": chunk}):
                self._committed[row.stream_id].append(decode_row(self._registry, row).event)

    async def load_stream(self, stream_id: str) -> list[Event]:
        """The stream's events as of this transaction, staged ones included."""
        if stream_id not in self._committed:
            rows = await self._conn.execute(
                select(*_EVENT_COLUMNS)
                .where(schema.event.c.stream_id == stream_id)
                .order_by(schema.event.c.version)
            )
            self._committed[stream_id] = [decode_row(self._registry, row).event for row in rows]
        events = list(self._committed[stream_id])
        events.extend(r.event for r in self._recorded if r.stream_id == stream_id)
        self._versions[stream_id] = len(events)
        return events

    async def stream_version(self, stream_id: str) -> int:
        """The stream's version as of this transaction (0 when it does not exist)."""
        if stream_id not in self._versions:
            version = await self._conn.scalar(
                select(func.coalesce(func.max(schema.event.c.version), 0)).where(
                    schema.event.c.stream_id == stream_id
                )
            )
            self._versions[stream_id] = int(version or 0)
        return self._versions[stream_id]

    def stage(
        self,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        command_id: str,
        correlation_id: str | None,
    ) -> list[RecordedEvent]:
        """Stage events at the end of a stream that must be at `expected_version`."""
        actual = self._versions.get(stream_id, 0)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected=expected_version, actual=actual)
        staged: list[RecordedEvent] = []
        for offset, event in enumerate(events, start=1):
            event_type, schema_version, payload = self._registry.encode(event)
            recorded = RecordedEvent(
                position=self.last_position + 1,
                stream_id=stream_id,
                version=expected_version + offset,
                event=event,
                metadata=EventMetadata(
                    command_id=command_id,
                    correlation_id=correlation_id,
                    causation_id=command_id,
                    recorded_at=self._now,
                ),
            )
            self._event_rows.append(
                {
                    "position": recorded.position,
                    "stream_id": stream_id,
                    "version": recorded.version,
                    "type": event_type,
                    "schema_version": schema_version,
                    "payload": payload,
                    "command_id": command_id,
                    "correlation_id": correlation_id,
                    "causation_id": command_id,
                    "recorded_at": self._now,
                }
            )
            self._recorded.append(recorded)
            staged.append(recorded)
        self._versions[stream_id] = expected_version + len(events)
        return staged

    async def find_command(self, command_id: str) -> HandledCommand | None:
        """A command handled before, in this batch or an earlier commit."""
        if command_id in self._handled:
            return self._handled[command_id]
        if command_id in self._looked_up:
            return self._stored.get(command_id)
        row = (
            await self._conn.execute(
                select(schema.command).where(schema.command.c.command_id == command_id)
            )
        ).first()
        return None if row is None else _handled(row)

    def remember(self, fingerprint: str, result: CommandResult) -> None:
        """Record a successful command's result in this transaction, for idempotent retries."""
        self._handled[result.command_id] = HandledCommand(fingerprint=fingerprint, result=result)
        self._command_rows.append(
            {
                "command_id": result.command_id,
                "fingerprint": fingerprint,
                "order_id": result.order_id,
                "version": result.version,
                "position": result.position,
                "recorded_at": self._now,
            }
        )

    def mark(self) -> Mark:
        return Mark(len(self._event_rows), len(self._command_rows), dict(self._versions))

    def rollback(self, mark: Mark) -> None:
        """Drop everything staged since `mark`."""
        del self._event_rows[mark.events :]
        del self._recorded[mark.events :]
        for row in self._command_rows[mark.commands :]:
            self._handled.pop(row["command_id"], None)
        del self._command_rows[mark.commands :]
        self._versions = mark.versions

    async def flush(self) -> None:
        if self._event_rows:
            await self._conn.execute(_INSERT_EVENT, self._event_rows)
        if self._command_rows:
            await self._conn.execute(_INSERT_COMMAND, self._command_rows)


class SqlEventStore:
    """The event store on one SQLAlchemy database (SQLite or PostgreSQL)."""

    def __init__(
        self, db: Database, registry: EventRegistry | None = None, *, tail_size: int = 4096
    ) -> None:
        self.db = db
        self.registry = registry or EventRegistry()
        # The events this process committed last, contiguous: projections that follow the head
        # read them from here instead of the database.
        self._tail: deque[RecordedEvent] = deque(maxlen=tail_size)
        self.committed = CommitSignal()
        self.appended = 0
        """How many events this process has appended since it started."""
        self._listener: PgListener | None = None
        self._hooks: list[CommitHook] = []

    async def create_schema(self) -> None:
        """Create the tables if missing and set the committed signal to the current head."""
        await self.db.create_all(schema.metadata)
        await self._sync_head()

    async def start(self) -> None:
        """Follow commits made by other processes too (PostgreSQL LISTEN/NOTIFY)."""
        await self._sync_head()
        if self.db.dialect == "postgresql" and self._listener is None:
            self._listener = PgListener(self.db, on_reconnect=self._sync_head)
            self._listener.on(NOTIFY_CHANNEL, lambda payload: self.committed.notify(int(payload)))
            await self._listener.start()
            await self._sync_head()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    async def _sync_head(self) -> None:
        self.committed.notify(await self.head_position())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AppendBatch]:
        """One write transaction; what is staged in it is appended atomically on exit."""
        async with self.db.write() as conn:
            if self.db.dialect == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY}
                )
            head = await conn.scalar(select(func.coalesce(func.max(schema.event.c.position), 0)))
            batch = AppendBatch(conn, int(head or 0), self.registry, datetime.now(UTC))
            yield batch
            await batch.flush()
            recorded = batch.recorded
            committed: list[Callable[[], None]] = []
            if recorded:
                for hook in self._hooks:
                    if (then := await hook(conn, batch.head, recorded)) is not None:
                        committed.append(then)
            if self.db.dialect == "postgresql" and batch.last_position > batch.head:
                await conn.execute(
                    text("SELECT pg_notify(:channel, :head)"),
                    {"channel": NOTIFY_CHANNEL, "head": str(batch.last_position)},
                )
        self.appended += batch.last_position - batch.head
        self._remember(recorded)
        self.committed.notify(batch.last_position)
        for then in committed:
            then()

    def add_commit_hook(self, hook: CommitHook) -> None:
        """Run `hook` in every append transaction of this process (see CommitHook)."""
        self._hooks.append(hook)

    async def append(
        self,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int | None = None,
        command_id: str | None = None,
        correlation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one stream atomically; a version mismatch raises ConcurrencyConflict."""
        async with self.transaction() as batch:
            current = await batch.stream_version(stream_id)
            if expected_version is not None and expected_version != current:
                raise ConcurrencyConflict(stream_id, expected=expected_version, actual=current)
            return batch.stage(
                stream_id,
                events,
                expected_version=current,
                command_id=command_id or f"append-{stream_id}-{current}",
                correlation_id=correlation_id,
            )

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """One stream's events in version order."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(*_EVENT_COLUMNS)
                .where(schema.event.c.stream_id == stream_id)
                .order_by(schema.event.c.version)
            )
            return [decode_row(self.registry, row) for row in rows]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above `after`, in position order, at most `limit`."""
        tail = self._tail
        if tail and tail[0].position <= after + 1 <= tail[-1].position:
            start = after + 1 - tail[0].position
            return list(islice(tail, start, start + limit))
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(*_EVENT_COLUMNS)
                .where(schema.event.c.position > after)
                .order_by(schema.event.c.position)
                .limit(limit)
            )
            return [decode_row(self.registry, row) for row in rows]

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


def _handled(row: Row[*tuple[Any, ...]]) -> HandledCommand:
    return HandledCommand(
        fingerprint=row.fingerprint,
        result=CommandResult(
            command_id=row.command_id,
            order_id=row.order_id,
            version=row.version,
            position=row.position,
        ),
    )


def decode_row(registry: EventRegistry, row: Row[*tuple[Any, ...]]) -> RecordedEvent:
    recorded_at: datetime = row.recorded_at
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return RecordedEvent(
        position=row.position,
        stream_id=row.stream_id,
        version=row.version,
        event=registry.decode(row.type, row.schema_version, row.payload),
        metadata=EventMetadata(
            command_id=row.command_id,
            correlation_id=row.correlation_id,
            causation_id=row.causation_id,
            recorded_at=recorded_at,
        ),
    )


__all__ = [
    "APPEND_LOCK_KEY",
    "NOTIFY_CHANNEL",
    "AppendBatch",
    "CommitHook",
    "HandledCommand",
    "SqlEventStore",
]
