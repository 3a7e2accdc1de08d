"""What a projection is: the events it handles and how a batch of them changes its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.events import Event
    from domain.ports import RecordedEvent

Tables = Mapping[str, "Table"]


class EventFailed(Exception):
    """Applying the event at `position` raised; the batch's transaction is rolled back."""

    def __init__(self, position: int, cause: BaseException) -> None:
        super().__init__(f"event {position}: {type(cause).__name__}: {cause}")
        self.position = position
        self.cause = cause


class Batch(ABC):
    """One transaction's worth of work: load rows, apply events in memory, write rows back."""

    @abstractmethod
    async def load(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        """Fetch every row the events will touch."""

    @abstractmethod
    def apply(self, recorded: RecordedEvent) -> None:
        """Change the rows held in memory for one event."""

    @abstractmethod
    async def flush(self, conn: AsyncConnection) -> None:
        """Write the changed rows back."""

    def committed(self) -> None:
        """The transaction that flushed this batch has committed (by default nothing to do; a
        projection may hand the rows it wrote to readers from here)."""
        return None


@dataclass(frozen=True, slots=True)
class Written:
    """What `Projection.apply` did: the orders it touched, and its batch, to be told when (and
    only if) the transaction commits."""

    touched: frozenset[str]
    batch: Batch


class Projection(ABC):
    """A read view: its tables (by base name), the events it handles and its batch logic."""

    name: ClassVar[str]
    handles: ClassVar[frozenset[type[Event]]]

    @abstractmethod
    def define(self, metadata: MetaData, suffix: str) -> Tables:
        """Build this projection's tables in `metadata`, each named base name + `suffix`."""

    @abstractmethod
    def batch(self, tables: Tables) -> Batch:
        """A fresh batch writing to `tables` (as returned by `define`)."""

    def wanted(
        self, events: Sequence[RecordedEvent], skipped: Container[int]
    ) -> list[RecordedEvent]:
        """The events this projection handles, less those an operator skipped."""
        handles = self.handles
        return [e for e in events if type(e.event) in handles and e.position not in skipped]

    async def apply(
        self, conn: AsyncConnection, tables: Tables, events: Sequence[RecordedEvent]
    ) -> Written:
        """Apply handled events in order in `conn`'s transaction."""
        batch = self.batch(tables)
        await batch.load(conn, events)
        for recorded in events:
            try:
                batch.apply(recorded)
            except Exception as error:
                raise EventFailed(recorded.position, error) from error
        await batch.flush(conn)
        return Written(frozenset(recorded.stream_id for recorded in events), batch)


__all__ = ["Batch", "EventFailed", "Projection", "Tables", "Written"]
