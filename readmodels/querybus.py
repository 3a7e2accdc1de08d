"""The query bus: dispatches each query to the handler registered for its type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from readmodels import readers
from readmodels.queries import ListProjections, OrdersChangedSince, Query
from readmodels.readers.answers import reader_answers

if TYPE_CHECKING:
    from domain.storage.database import Database
    from readmodels.dto import ProjectionStatus

R = TypeVar("R")
Q = TypeVar("Q", bound=Query[Any])


class StatusSource(Protocol):
    """What ListProjections reads: the runner, which the bus does not otherwise know."""

    def status(self) -> list[ProjectionStatus]: ...


class QueryBus:
    """Answers queries; `ask` is typed by the query's result type."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], Callable[[Any], Awaitable[Any]]] = {}

    def register(self, query_type: type[Q], handler: Callable[[Q], Awaitable[Any]]) -> None:
        """Make `handler` answer queries of exactly `query_type`."""
        self._handlers[query_type] = handler

    async def ask(self, query: Query[R]) -> R:
        """The answer of the handler registered for `type(query)`."""
        handler = self._handlers.get(type(query))
        if handler is None:
            raise LookupError(f"no handler registered for query {type(query).__name__}")
        return cast("R", await handler(query))


def build_query_bus(db: Database, runner: StatusSource) -> QueryBus:
    """A bus answering every read-side query: each reader module's `ANSWERS` from `db`'s view
    tables (`readmodels/readers/answers.py`), and `runner`'s status."""

    async def list_projections(_query: ListProjections) -> list[ProjectionStatus]:
        return runner.status()

    bus = QueryBus()
    for query_type, reader in reader_answers().items():
        bus.register(query_type, partial(reader, db))
    bus.register(OrdersChangedSince, partial(readers.orders_changed_since, db))
    bus.register(ListProjections, list_projections)
    return bus


__all__ = ["QueryBus", "StatusSource", "build_query_bus"]
