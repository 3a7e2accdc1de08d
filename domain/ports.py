"""The write side's ports: what the bus needs of an event store, and what the store hands back.

Adapters live in `domain.storage` (`SqlEventStore`, `MemoryEventStore`); the bus, middleware and
handlers know only these protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from domain.commands import CommandResult
from domain.events import Event
from domain.storage.signal import CommitSignal

TxT_contra = TypeVar("TxT_contra", contravariant=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class EventMetadata:
    command_id: str
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedEvent:
    """An event as stored: `position` is global (commit order), `version` is per order stream."""

    position: int
    stream_id: str
    version: int
    event: Event
    metadata: EventMetadata


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


class AppendBatch(Protocol):
    """The events and command records staged in one write transaction."""

    @property
    def head(self) -> int:
        """The log's last position when the transaction began."""
        ...

    @property
    def last_position(self) -> int:
        """The position of the last staged event (the head when nothing is staged)."""
        ...

    @property
    def recorded(self) -> list[RecordedEvent]:
        """What is staged so far, in position order."""
        ...

    async def prefetch(self, command_ids: Iterable[str], stream_ids: Iterable[str]) -> None:
        """Read ahead the handled commands and the streams a batch will ask for."""
        ...

    async def load_stream(self, stream_id: str) -> list[Event]:
        """The stream's events as of this transaction, staged ones included."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's version as of this transaction (0 when it does not exist)."""
        ...

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
        ...

    async def find_command(self, command_id: str) -> HandledCommand | None:
        """A command handled before, in this batch or an earlier commit."""
        ...

    def remember(self, fingerprint: str, result: CommandResult) -> None:
        """Record a successful command's result in this transaction, for idempotent retries."""
        ...

    def mark(self) -> Mark:
        """The batch as it is now, to roll back to."""
        ...

    def rollback(self, mark: Mark) -> None:
        """Drop everything staged since `mark`."""
        ...


class EventLog(Protocol):
    """The read side of the event store: what projections tail."""

    @property
    def committed(self) -> CommitSignal:
        """Fires after each commit with the new head."""
        ...

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above `after`, in position order, at most `limit`."""
        ...

    async def head_position(self) -> int:
        """The last committed position (0 for an empty log)."""
        ...


class EventStore(EventLog, Protocol):
    """An append-only log of order streams with atomic write batches."""

    def transaction(self) -> AbstractAsyncContextManager[AppendBatch]:
        """One write transaction; what is staged in it is appended atomically on exit."""
        ...

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
        ...

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """One stream's events in version order."""
        ...

    async def start(self) -> None:
        """Begin following commits (other processes' too, where the backend can)."""
        ...

    async def stop(self) -> None:
        """Stop following commits."""
        ...


class RecordConflict(Exception):
    """A store refused a whole batch for breaking a uniqueness rule of the log: a (stream,
    version) or a command id already recorded. Nothing of it was written. Every backend raises
    this one (the SQL store chains its database's IntegrityError as the cause)."""


class CommitHook(Protocol[TxT_contra]):
    """Work done in the same transaction as an append (for instance a projection kept current
    in the writer's own transaction); `TxT_contra` is the backend's transaction handle."""

    async def __call__(
        self, tx: TxT_contra, head: int, recorded: list[RecordedEvent], /
    ) -> Callable[[], None] | None:
        """Runs after the events are written, before the commit; `head` is the position the
        log had before this batch. If it raises, the SQL store rolls the transaction back and
        appends the batch again without the hooks (a fault of the database fails the batch).
        What it returns is called once the transaction has committed."""
        ...


__all__ = [
    "AppendBatch",
    "CommitHook",
    "EventLog",
    "EventMetadata",
    "EventStore",
    "HandledCommand",
    "Mark",
    "RecordConflict",
    "RecordedEvent",
]
