"""The event store in this process's memory, behind the same ports as the SQL store.

In the spirit of eventsourcing's POPO recorders: events are kept encoded, as the SQL store keeps
its rows (so what comes back is decoded, and upcast, like a database read), appends hold one
lock (so positions are gapless and in commit order), and a batch that breaks a uniqueness rule
(a stream version or a command id taken) is refused whole with RecordConflict, as the SQL
store's unique keys refuse it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.events import Event
from domain.ports import CommitHook, HandledCommand, Mark, RecordConflict, RecordedEvent
from domain.storage.registry import EventRegistry
from domain.storage.signal import CommitSignal
from domain.storage.staging import StagingBatch, StagingStore, run_commit_hooks

log = logging.getLogger("ordergraph.storage")

MemoryCommitHook = CommitHook[None]
"""A commit hook of the memory store: there is no transaction handle, so it gets None."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredEvent:
    """One event as the memory store keeps it: encoded, like a row of the event table."""

    recorded: RecordedEvent
    type: str
    schema_version: int
    payload: str


class MemoryRecords:
    """What a memory event log holds. Two stores on one `MemoryRecords` see each other's
    commits as two processes on one database do (each store's signal follows its own)."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.streams: dict[str, list[StoredEvent]] = {}
        self.commands: dict[str, HandledCommand] = {}
        self.writer = asyncio.Lock()


class MemoryAppendBatch(StagingBatch):
    """The events and command records staged in one memory transaction."""

    def __init__(
        self, records: MemoryRecords, head: int, registry: EventRegistry, now: datetime
    ) -> None:
        super().__init__(head, now)
        self._records = records
        self._registry = registry
        self._rows: list[StoredEvent] = []

    async def _fetch_streams(self, stream_ids: list[str]) -> dict[str, list[Event]]:
        streams = self._records.streams
        return {
            sid: [decode(self._registry, row).event for row in streams[sid]]
            for sid in stream_ids
            if sid in streams
        }

    async def _fetch_commands(self, command_ids: list[str]) -> dict[str, HandledCommand]:
        commands = self._records.commands
        return {cid: commands[cid] for cid in command_ids if cid in commands}

    async def _fetch_version(self, stream_id: str) -> int:
        return len(self._records.streams.get(stream_id, ()))

    def _staged(self, recorded: list[RecordedEvent]) -> None:
        for event in recorded:
            event_type, schema_version, payload = self._registry.encode(event.event)
            self._rows.append(
                StoredEvent(
                    recorded=event,
                    type=event_type,
                    schema_version=schema_version,
                    payload=json.dumps(payload),
                )
            )

    def rollback(self, mark: Mark) -> None:
        super().rollback(mark)
        del self._rows[mark.events :]

    def check(self) -> None:
        """Refuse the whole batch if a stream version or a command id is already taken."""
        for row in self._rows:
            stream = self._records.streams.get(row.recorded.stream_id, ())
            if row.recorded.version <= len(stream):
                raise RecordConflict(
                    f"stream {row.recorded.stream_id!r} already has version {row.recorded.version}"
                )
        for handled in self.handled:
            if handled.result.command_id in self._records.commands:
                raise RecordConflict(f"command {handled.result.command_id!r} is already recorded")

    def write(self) -> None:
        """Append what is staged to the records (the commit)."""
        for row in self._rows:
            self._records.events.append(row)
            self._records.streams.setdefault(row.recorded.stream_id, []).append(row)
        for handled in self.handled:
            self._records.commands[handled.result.command_id] = handled


class MemoryEventStore(StagingStore[None]):
    """The event store in memory: for tests and for trying the service without a database."""

    def __init__(
        self, records: MemoryRecords | None = None, registry: EventRegistry | None = None
    ) -> None:
        super().__init__()
        self.records = records or MemoryRecords()
        self.registry = registry or EventRegistry()
        self.committed = CommitSignal(len(self.records.events))
        self.appended = 0
        """How many events this store has appended since it was made."""

    async def start(self) -> None:
        """Catch the committed signal up with commits made through other stores."""
        self.committed.notify(await self.head_position())

    async def stop(self) -> None:
        """Nothing to stop: the memory store follows nobody."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryAppendBatch]:
        """One write transaction; what is staged in it is appended atomically on exit."""
        records = self.records
        async with records.writer:
            head = len(records.events)
            batch = MemoryAppendBatch(records, head, self.registry, datetime.now(UTC))
            yield batch
            batch.check()
            try:
                committed = await run_commit_hooks(self._hooks, None, batch)
            except Exception:  # as the SQL store does: the batch goes in without the hooks
                log.warning(
                    "work in the append's transaction failed; appending positions %d-%d without it",
                    batch.head + 1,
                    batch.last_position,
                    exc_info=True,
                )
                committed = []
            batch.write()
        self.appended += batch.last_position - batch.head
        self.committed.notify(batch.last_position)
        for then in committed:
            then()

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """One stream's events in version order."""
        rows = self.records.streams.get(stream_id, [])
        return [decode(self.registry, row) for row in rows]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above `after`, in position order, at most `limit`."""
        rows = self.records.events[max(after, 0) : max(after, 0) + max(limit, 0)]
        return [decode(self.registry, row) for row in rows]

    async def head_position(self) -> int:
        """The last committed position (0 for an empty log)."""
        return len(self.records.events)


def decode(registry: EventRegistry, row: StoredEvent) -> RecordedEvent:
    """A stored event as this code reads it: decoded and upcast by `registry`."""
    event = registry.decode(row.type, row.schema_version, json.loads(row.payload))
    recorded = row.recorded
    return RecordedEvent(
        position=recorded.position,
        stream_id=recorded.stream_id,
        version=recorded.version,
        event=event,
        metadata=recorded.metadata,
    )


__all__ = [
    "MemoryAppendBatch",
    "MemoryCommitHook",
    "MemoryEventStore",
    "MemoryRecords",
    "RecordConflict",  # defined in domain.ports, shared with the SQL store
    "StoredEvent",
]
