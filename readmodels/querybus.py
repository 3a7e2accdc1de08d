"""The query bus: dispatches each query to the handler registered for its type."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from domain.storage.faults import Incident, fault_of
from readmodels.freshness import Answered, FreshReads, MinPosition, Progress
from readmodels.queries import ListProjections, Query

if TYPE_CHECKING:
    from readmodels.dto import ProjectionStatus
    from readmodels.readers.answers import ReadDatabase, Reader
    from readmodels.replicas import Replicas

log = logging.getLogger("ordergraph.queries")

R = TypeVar("R")
Q = TypeVar("Q", bound=Query[Any])


class StatusSource(Progress, Protocol):
    """What the bus needs of the runner: its status (ListProjections), and how far the
    views database's projections are (reads with a minimum position)."""

    def status(self) -> list[ProjectionStatus]: ...


class QueryBus:
    """Answers queries; `ask` is typed by the query's result type. A fault of the database
    (see `domain.storage.faults`) is answered as `Unavailable`, logged once per incident.

    Readers (`register_reader`) run where `reads` places them: the views database, or a
    replica proven fresh enough (`readmodels/freshness.py`). A bus made by `following` reads
    at least what the views database has applied to one projection when it is asked (the
    live feeds' reads: a change they were told of is always in what they read)."""

    def __init__(self, reads: FreshReads | None = None) -> None:
        self._reads = reads
        self._handlers: dict[type[Any], Callable[[Any], Awaitable[Any]]] = {}
        self._readers: dict[type[Any], Callable[[ReadDatabase, Any], Awaitable[Any]]] = {}
        self._follows: tuple[str, float] | None = None
        self.incident = Incident(log, "reads from the database")

    def register(self, query_type: type[Q], handler: Callable[[Q], Awaitable[Any]]) -> None:
        """Make `handler` answer queries of exactly `query_type` (it reads no view table, or
        reads where it chooses)."""
        self._handlers[query_type] = handler

    def register_reader(
        self, query_type: type[Q], reader: Callable[[ReadDatabase, Q], Awaitable[Any]]
    ) -> None:
        """Make `reader` answer queries of exactly `query_type`, reading where the bus places
        it."""
        if self._reads is None:
            raise ValueError("a bus without reads cannot run readers")
        self._readers[query_type] = reader

    def following(self, projection: str, timeout: float) -> QueryBus:
        """This bus, reading at least what the views database has applied to `projection` at
        the time of each question (waiting at most `timeout` s on a replica for it)."""
        bus = QueryBus(self._reads)
        bus._handlers, bus._readers = self._handlers, self._readers
        bus._follows = projection, timeout
        bus.incident = self.incident
        return bus

    def floor(self, projection: str) -> int | None:
        """What a read of `projection` asked now without a minimum position is known to
        reflect (None: nothing is known, e.g. it may run on a replica)."""
        return None if self._reads is None else self._reads.floor(projection)

    async def ask(self, query: Query[R], at: MinPosition | None = None) -> R:
        """The answer of the handler registered for `type(query)`, reflecting at least `at`."""
        return (await self.answer(query, at)).answer

    async def answer(self, query: Query[R], at: MinPosition | None = None) -> Answered[R]:
        """`ask`'s answer, with what it reflects when `at` (or `following`) asked for a
        position."""
        try:
            answered = await self._answer(query, at)
        except Exception as error:
            fault = fault_of(error)
            if fault is None:
                raise
            self.incident.failed(fault)
            raise fault.refusal() from error
        if self.incident.open:
            self.incident.succeeded()
        return answered

    async def _answer(self, query: Query[R], at: MinPosition | None) -> Answered[R]:
        reader = self._readers.get(type(query))
        if reader is not None:
            assert self._reads is not None
            if at is None and self._follows is not None:
                at = self._reads.latest(*self._follows)
            return cast("Answered[R]", await self._reads.run(reader, query, at))
        handler = self._handlers.get(type(query))
        if handler is None:
            raise LookupError(f"no handler registered for query {type(query).__name__}")
        return Answered(answer=cast("R", await handler(query)), freshness=None)


def build_query_bus(
    db: ReadDatabase,
    runner: StatusSource,
    answers: Mapping[type[Query[Any]], Reader],
    replicas: Replicas | None = None,
) -> QueryBus:
    """A bus answering each query of `answers` with its reader, from the view tables of `db` or
    its `replicas`, and `runner`'s status (ListProjections)."""

    async def list_projections(_query: ListProjections) -> list[ProjectionStatus]:
        return runner.status()

    bus = QueryBus(FreshReads(db, runner, replicas))
    for query_type, reader in answers.items():
        bus.register_reader(query_type, reader)
    bus.register(ListProjections, list_projections)
    return bus


__all__ = ["QueryBus", "StatusSource", "build_query_bus"]
