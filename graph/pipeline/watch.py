"""What watches operations run (the metrics, the traces), told at the three moments every
transport shares: an operation begins (its first byte), it is identified (prepared: its type
and name known), and it ends (its answer, or what refused it, known).

`OperationWatch.end` is the one place an operation is recorded. A transport calls it once per
operation (later calls do nothing): HTTP when the response is ready; a stream
(graphql-transport-ws, graphql-sse, multipart) when a query or mutation is answered, when a
subscription's stream is established or refused, or when the client stops the operation
first. A subscription's events are not operations; the views a live sink sends are told to
`pushed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from graphql import GraphQLError

    from graph.pipeline.prepare import Prepared

OK = "ok"
CANCELLED = "cancelled"
"""Stopped before its answer: the client completed it or left, or the request timed out."""
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

Identified = Callable[["Operation"], None]
"""`operation.prepared` is set: its type and name are known, it is about to run."""
Ended = Callable[["Operation", str], None]
"""The operation is over: "ok", "cancelled", or its first error's code."""
Pushed = Callable[["Operation", int, int], None]
"""A subscription's order view went out: (operation, its position, when it reached the
subscription's sink, in ns)."""


class Operation:
    """One operation as a transport runs it (`id`: the WebSocket operation's id, else "");
    `mark` is what the traces keep of it."""

    __slots__ = ("ended", "id", "mark", "prepared", "started", "transport")

    def __init__(self, transport: str, id: str = "") -> None:
        self.transport = transport
        self.id = id
        self.started = time.perf_counter()
        self.prepared: Prepared | None = None
        self.mark: object = None
        self.ended = False

    @property
    def seconds(self) -> float:
        """Since the operation began."""
        return time.perf_counter() - self.started

    @property
    def started_ns(self) -> int:
        """When the operation began, in ns since the epoch (for traces)."""
        return time.time_ns() - int((time.perf_counter() - self.started) * 1e9)


class Answered(Protocol):
    """An answer (graph/pipeline/run.py's `Answer`), its errors coded."""

    @property
    def errors(self) -> list[GraphQLError]: ...


class OperationWatch:
    """Who is told of one app's operations: when each is identified (the traces), when each
    ends (the metrics, the traces), and each view a live sink sends (the traces; None: off)."""

    def __init__(
        self,
        *,
        ended: Sequence[Ended] = (),
        identified: Sequence[Identified] = (),
        pushed: Pushed | None = None,
    ) -> None:
        self._ended = tuple(ended)
        self._identified = tuple(identified)
        self.pushed = pushed

    def begin(self, transport: str, id: str = "") -> Operation:
        """An operation starts now on `transport` ("http", "ws"; an HTTP stream's transport
        becomes "sse" or "multipart" once it is chosen)."""
        return Operation(transport, id)

    def identify(self, operation: Operation, prepared: Prepared) -> None:
        """The operation is `prepared` and about to run."""
        operation.prepared = prepared
        for identified in self._identified:
            identified(operation)

    def pusher(self, operation: Operation) -> Callable[[int, int], None] | None:
        """What a live sink calls when it hands this subscription a view (its position, and
        when the view reached the sink in ns); None when nothing watches pushes."""
        pushed = self.pushed
        if pushed is None:
            return None
        return lambda position, started_ns: pushed(operation, position, started_ns)

    def end(self, operation: Operation, outcome: str | Answered) -> None:
        """The operation is over (an answer, or the code of what refused it): recorded once."""
        if operation.ended:
            return
        operation.ended = True
        if not isinstance(outcome, str):
            outcome = answer_outcome(outcome) if outcome.errors else OK
        for ended in self._ended:
            ended(operation, outcome)


def answer_outcome(answer: Answered) -> str:
    """ "ok", or the code of the answer's first error (coded by the pipeline's error door)."""
    if not answer.errors:
        return OK
    code = (answer.errors[0].extensions or {}).get("code")
    return code if isinstance(code, str) else INTERNAL_SERVER_ERROR


__all__ = [
    "CANCELLED",
    "INTERNAL_SERVER_ERROR",
    "OK",
    "Answered",
    "Ended",
    "Identified",
    "Operation",
    "OperationWatch",
    "Pushed",
    "answer_outcome",
]
