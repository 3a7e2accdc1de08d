"""OpenTelemetry traces of a write, from the request to the subscribers it reaches (the `otel`
extra; imported only when traces are asked for: graph/observe/trace_config.py).

One trace shows a createOrder becoming visible: the HTTP server span (traced_requests.py,
continuing an inbound `traceparent`), the GraphQL operation (`graphql.operation.type`, `.name`,
`.document` as the semantic conventions name them), the command, the batch that committed it,
each projection's apply, and each subscription push the commit caused.

- Commands and batches (the bus's `BatchWatch`): group commit puts many commands in one
  transaction, so the batch span is a child of its first command's span and links to every
  command's span; each command's span links back to its batch.
- Projections (the runner's `ApplyWatch`): one span for the views a batch goes to (they are
  read, applied and written together), a child of the batch when they are applied in the
  writer's transaction, else (a views database of its own) a trace of its own.
- Pushes (the pipeline's `Pushed`): the order_views apply that wrote position P is remembered
  (bounded); a push of an order's view at P is that apply's child, linked to the subscriber's
  operation span. A push whose position this process did not apply (another process wrote it)
  gets no span.

A span whose parent in this process is not recorded (its trace sampled out) is not started:
a sampled-out request costs its server span's sampling decision and little more.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, StatusCode

from domain.commands import OrderCommand
from domain.errors import DomainError
from graph.api.freshness import ORDER_VIEWS
from graph.pipeline.watch import OK

if TYPE_CHECKING:
    from domain.commands import Command
    from domain.ports import RecordedEvent
    from graph.pipeline.watch import Operation

TRACER_NAME = "ordergraph"
MAX_DOCUMENT_CHARS = 1_000
"""`graphql.document` is cut to this many characters (variables are never recorded)."""
POSITIONS_KEPT = 10_000
SERVER_FAULTS = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
"""Outcomes that set a span's status to ERROR; the others (the caller's) set `error.type`."""


UNRECORDED = "unrecorded"
"""An operation's mark when its parent is not recorded (sampled out): neither is it."""


def _unrecorded(parent: Span) -> bool:
    """Whether `parent` is a span of this process that is not recorded: its children are not
    started at all (every standard sampler would drop them: the ParentBased ones follow the
    parent, the ratio ones decide by the trace id it shares with them)."""
    context = parent.get_span_context()
    return context.is_valid and not context.is_remote and not parent.is_recording()


class Tracing:
    """The service's spans, from one tracer provider (the SDK's, configured by `OTEL_*`)."""

    def __init__(self, provider: trace.TracerProvider, *, owned: bool = False) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(TRACER_NAME)
        self._owned = owned
        self._applied: OrderedDict[int, SpanContext] = OrderedDict()

    def shutdown(self) -> None:
        """Export what is buffered and stop the provider, when this app built it."""
        shutdown = getattr(self.provider, "shutdown", None)
        if self._owned and shutdown is not None:
            shutdown()

    # -- operations (told by the pipeline's OperationWatch) ----------------------------------

    def identified(self, operation: Operation) -> None:
        """The operation's span starts (when the operation began) and is current while it
        runs, so the commands its resolvers dispatch are its children."""
        if _unrecorded(trace.get_current_span()):
            operation.mark = UNRECORDED
            return
        span = self._operation_span(operation)
        token = otel_context.attach(trace.set_span_in_context(span))
        operation.mark = span, token, asyncio.current_task()

    def ended(self, operation: Operation, outcome: str) -> None:
        mark = operation.mark
        if isinstance(mark, tuple):
            span, token, task = mark
            if task is not asyncio.current_task():  # an HTTP stream's task ends it: the
                token = None  # context it was made current in ends with its request
        elif mark is UNRECORDED or _unrecorded(trace.get_current_span()):
            return
        else:  # refused before it was prepared
            span, token = self._operation_span(operation), None
        span.set_attribute("ordergraph.transport", operation.transport)  # http: maybe a stream
        if outcome != OK:
            span.set_attribute("error.type", outcome)
            if outcome in SERVER_FAULTS:
                span.set_status(StatusCode.ERROR, outcome)
        span.end()
        if token is not None:
            otel_context.detach(token)
        operation.mark = span, None, None

    def _operation_span(self, operation: Operation) -> Span:
        prepared = operation.prepared
        attributes: dict[str, str] = {"ordergraph.transport": operation.transport}
        if operation.id:
            attributes["ordergraph.operation.id"] = operation.id
        if prepared is None:
            name = "GraphQL Operation"
        else:
            kind = prepared.kind.value
            named = prepared.operation.name
            attributes["graphql.operation.type"] = kind
            attributes["graphql.document"] = prepared.text[:MAX_DOCUMENT_CHARS]
            name = kind
            if named is not None:
                attributes["graphql.operation.name"] = named.value
                name = f"{kind} {named.value}"
        return self.tracer.start_span(
            name,
            kind=SpanKind.SERVER if operation.transport == "ws" else SpanKind.INTERNAL,
            attributes=attributes,
            start_time=operation.started_ns,
        )

    # -- commands and batches (the bus's BatchWatch) ----------------------------------------

    @contextmanager
    def dispatching(self, command: Command) -> Iterator[Span]:
        """A command's span, from its dispatch to its answer (after its batch commits)."""
        attributes = {
            "ordergraph.command.type": type(command).__name__,
            "ordergraph.command.id": command.command_id,
        }
        if isinstance(command, OrderCommand):
            attributes["ordergraph.order.id"] = command.order_id
        parent = trace.get_current_span()
        if _unrecorded(parent):  # so is this command, and its batch unless another is recorded
            yield parent
            return
        span = self.tracer.start_span(f"command {type(command).__name__}", attributes=attributes)
        try:
            yield span
        except DomainError as error:
            span.set_attribute("error.type", error.code.value)
            raise
        except BaseException as error:
            span.record_exception(error)
            span.set_status(StatusCode.ERROR, type(error).__name__)
            raise
        finally:
            span.end()

    @contextmanager
    def committing(self, marks: Sequence[object]) -> Iterator[Span]:
        """A batch's span around its transaction: a child of its first command's span, linked
        to all of them (and they to it); current while the views are applied in it."""
        commands = [mark for mark in marks if isinstance(mark, Span) and mark.is_recording()]
        if not commands:  # the projections' applies see an unrecorded batch, and record nothing
            unrecorded = next((mark for mark in marks if isinstance(mark, Span)), None)
            with trace.use_span(unrecorded or trace.INVALID_SPAN):
                yield unrecorded or trace.INVALID_SPAN
            return
        parent = trace.set_span_in_context(commands[0])
        span = self.tracer.start_span(
            "commit",
            context=parent,
            links=[Link(command.get_span_context()) for command in commands],
            attributes={"ordergraph.batch.commands": len(marks)},
        )
        for command in commands:
            command.add_link(span.get_span_context())
        with trace.use_span(span, end_on_exit=True):
            yield span

    # -- projections (the runner's ApplyWatch) ----------------------------------------------

    @contextmanager
    def applying(self, batch: Mapping[str, Sequence[RecordedEvent]]) -> Iterator[Span]:
        """The projections' apply of one batch (read, applied in memory and written together,
        readmodels/runner/projector.py); the positions order_views applied are remembered."""
        current = trace.get_current_span()
        if _unrecorded(current):
            yield current
            return
        events = [event for offered in batch.values() for event in offered]
        span = self.tracer.start_span(
            "project",
            attributes={
                "ordergraph.projections": sorted(batch),
                "ordergraph.position.first": min(event.position for event in events),
                "ordergraph.position.last": max(event.position for event in events),
            },
        )
        views = batch.get(ORDER_VIEWS)
        if views:
            self._remember(views, span.get_span_context())
        with trace.use_span(span, end_on_exit=True):
            yield span

    def _remember(self, events: Sequence[RecordedEvent], applied: SpanContext) -> None:
        kept = self._applied
        for event in events:
            kept[event.position] = applied
        while len(kept) > POSITIONS_KEPT:
            kept.popitem(last=False)

    # -- pushes (the pipeline's Pushed) -----------------------------------------------------

    def pushed(self, operation: Operation, position: int, started_ns: int) -> None:
        """A subscriber's frame for the view at `position` went out: a child of the apply
        that wrote it, linked to the subscription's operation."""
        applied = self._applied.get(position)
        if applied is None:
            return
        mark = operation.mark
        links = [Link(mark[0].get_span_context())] if isinstance(mark, tuple) else []
        prepared = operation.prepared
        named = None if prepared is None else prepared.operation.name
        span = self.tracer.start_span(
            f"push {named.value}" if named is not None else "push",
            context=trace.set_span_in_context(NonRecordingSpan(applied)),
            kind=SpanKind.PRODUCER,
            links=links,
            attributes={
                "ordergraph.position": position,
                "ordergraph.operation.id": operation.id,
                "ordergraph.transport": operation.transport,
            },
            start_time=started_ns,
        )
        span.end()


__all__ = ["MAX_DOCUMENT_CHARS", "TRACER_NAME", "Tracing"]
