"""What the event store hands back: an event with its place in the log and its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import Event
from domain.storage.signal import CommitSignal


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


class EventLog(Protocol):
    """The read side of the event store: what projections tail."""

    committed: CommitSignal

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with a position above `after`, in position order, at most `limit`."""
        ...

    async def head_position(self) -> int:
        """The last committed position (0 for an empty log)."""
        ...


__all__ = ["EventLog", "EventMetadata", "RecordedEvent"]
