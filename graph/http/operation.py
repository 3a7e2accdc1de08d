"""One operation as a streaming transport runs it (a WebSocket's operation, an HTTP event
stream, a multipart response): what graphql-transport-ws, graphql-sse and the multipart
subscriptions share.

A query or a mutation emits its one answer. A subscription emits an answer per event of its
source stream, or the answer that ends it (its resolver refused at once, or once its stream
started). A shareable subscription (graph/pipeline/live.py) runs with an `OperationSink` as its
root value: its views are executed once for every subscriber sharing them, and the sink puts
the shared payload in the transport's own frame; leaving (the stream ended, the client went
away) leaves its execution group and closes the resolver's generator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import OperationType

from graph.http.outbox import OperationSink
from graph.pipeline.live import shareable
from graph.pipeline.run import Answer
from graph.pipeline.watch import OK

if TYPE_CHECKING:
    from graphql.execution.values import VariableValues

    from graph.api.context import Context
    from graph.http.outbox import Outbox
    from graph.pipeline.live import SharedExecutions
    from graph.pipeline.prepare import Prepared
    from graph.pipeline.run import Runner
    from graph.pipeline.watch import Operation

Emit = Callable[[Answer], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StreamedOperation:
    """A prepared operation with its coerced variables (`raw_variables` as sent: they key the
    shared execution), ready to run on a streaming transport; `watched` is the pipeline's
    record of it (graph/pipeline/watch.py), ended here once it is answered or its stream is
    established, and told of each view its live sink sends."""

    runner: Runner
    shared: SharedExecutions
    prepared: Prepared
    variables: VariableValues
    raw_variables: dict[str, Any] | None
    context: Context
    watched: Operation

    async def run(
        self, outbox: Outbox, operation_id: str, frame: tuple[str, str], emit: Emit
    ) -> None:
        """Emit the operation's answers until it ends; `frame` is the transport's text around
        one encoded answer (what a live sink writes through `outbox`)."""
        prepared = self.prepared
        if prepared.kind is not OperationType.SUBSCRIPTION:
            answer = await self.runner.execute(prepared, self.variables, self.context)
            await emit(answer)
            self.runner.watch.end(self.watched, answer)
            return
        if not shareable(prepared):
            await self._stream(emit)
            return
        sink = OperationSink(
            outbox,
            operation_id,
            lambda: self.shared.join(prepared, self.variables, self.raw_variables, self.context),
            frame,
            self.runner.watch.pusher(self.watched),
        )
        try:
            await self._stream(emit, sink)
        finally:
            sink.leave(self.shared.leave)

    async def _stream(self, emit: Emit, root_value: object = None) -> None:
        """An answer per event of the subscription's stream (a live one hands its views to its
        sink, its root value, instead), or the answer that ends it."""
        runner, prepared, context = self.runner, self.prepared, self.context
        source = await runner.subscribe(prepared, self.variables, context, root_value)
        if isinstance(source, Answer):
            await emit(source)
            runner.watch.end(self.watched, source)
            return
        runner.watch.end(self.watched, OK)  # established: the events that follow are pushes
        iterator = aiter(source)
        try:
            async for event in iterator:
                await emit(await runner.execute(prepared, self.variables, context, event))
        except Exception as error:  # the resolver refused once its stream started
            await emit(runner.stream_error(prepared, error, context))
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()


__all__ = ["Emit", "StreamedOperation"]
