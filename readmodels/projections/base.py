"""What a projection is: the events it handles and how a batch of them changes its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from readmodels.projections.rowset import RowSet
from readmodels.projections.rowsql import RowSetRead, read_all, write_rows

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.events import Event
    from domain.ports import RecordedEvent
    from readmodels.projections.rowset import Rows

Tables = Mapping[str, "Table"]


class EventFailed(Exception):
    """Applying the event at `position` raised; the batch's transaction is rolled back."""

    def __init__(self, position: int, cause: BaseException) -> None:
        super().__init__(f"event {position}: {type(cause).__name__}: {cause}")
        self.position = position
        self.cause = cause


class Batch(ABC):
    """One transaction's worth of work on a projection's rows: the batch names the rows its
    events touch, the runner reads them (every projection's at once), `apply` changes them in
    memory, and the runner writes back what changed (see `readmodels/projections/rowsql.py`)."""

    @abstractmethod
    def rowsets(self) -> Sequence[Rows]:
        """The tables this batch reads and writes (a RowSet read through another after it)."""

    @abstractmethod
    def want(self, events: Sequence[RecordedEvent]) -> None:
        """Name every row the events will touch (`RowSet.want`, `RowSet.want_via`)."""

    @abstractmethod
    def apply(self, recorded: RecordedEvent) -> None:
        """Change the rows held in memory for one event (no I/O)."""

    def committed(self) -> None:
        """The transaction that wrote this batch has committed (by default nothing to do; a
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
        """Apply handled events in order in `conn`'s transaction, with no checkpoint (a
        rebuild's shadow tables; the runner reads and writes the live ones itself)."""
        batch = self.batch(tables)
        batch.want(events)
        await read_all(conn, reads_of(batch))
        apply_each(batch, events)
        await write_rows(conn, batch.rowsets())
        return Written(frozenset(recorded.stream_id for recorded in events), batch)


def reads_of(batch: Batch) -> list[RowSetRead]:
    """What loading `batch`'s rows reads (AddedRows load nothing)."""
    return [RowSetRead(rows) for rows in batch.rowsets() if isinstance(rows, RowSet)]


def apply_each(batch: Batch, events: Sequence[RecordedEvent]) -> None:
    """Apply `events` to `batch` in order; EventFailed names the event that raised."""
    for recorded in events:
        try:
            batch.apply(recorded)
        except Exception as error:
            raise EventFailed(recorded.position, error) from error


__all__ = ["Batch", "EventFailed", "Projection", "Tables", "Written", "apply_each", "reads_of"]
