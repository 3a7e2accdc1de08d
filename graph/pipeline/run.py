"""`run(prepared, variables, context)`: the one executor of every transport (HTTP, WebSocket,
the live pushes), and the one place an answer is finished: its errors coded
(graph/pipeline/errors.py), its freshness report added, its bytes encoded with orjson.

A run coerces the request's variables (graphql-core's coercion, plus one rule of ours: a JSON
number with a fraction part is never an `Int`, even `1.0`), works out its `@include`/`@skip`
outcomes, and executes the root selection by its plan (graph/pipeline/execution.py). A root
selection the compiler cannot plan (introspection, say) runs on graphql-core's executor, with
the plans below it, and answers the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationType,
    default_field_resolver,
    default_type_resolver,
    located_error,
)
from graphql.execution import create_source_event_stream
from graphql.execution.values import get_variable_values

from graph.api.freshness import FreshnessLog
from graph.pipeline.encoding import encode_json_bytes
from graph.pipeline.errors import code_errors
from graph.pipeline.execution import Background, Execution, is_awaitable
from graph.pipeline.plans import ObjectPlan, PlannedExecutionContext
from graph.pipeline.prepare import Refused
from graph.pipeline.variables import integral_floats
from graph.pipeline.watch import OperationWatch

if TYPE_CHECKING:
    from graphql import GraphQLSchema
    from graphql.execution.values import VariableValues

    from graph.pipeline.plans import Outcomes
    from graph.pipeline.prepare import Prepared

MAX_COERCION_ERRORS = 50


@dataclass(slots=True)
class Answer:
    """What a run produced, its errors coded: `ran` is False for a request error (the
    operation never started; graphql-response+json then has no `data`)."""

    data: dict[str, Any] | None
    errors: list[GraphQLError]
    extensions: dict[str, Any] | None = None
    ran: bool = True

    def formatted(self, *, with_data: bool = True) -> dict[str, Any]:
        """The answer as the GraphQL response format has it (`data` first)."""
        answer: dict[str, Any] = {"data": self.data} if with_data else {}
        if self.errors:
            answer["errors"] = [error.formatted for error in self.errors]
        if self.extensions:
            answer["extensions"] = self.extensions
        return answer

    def encode(self, *, with_data: bool = True) -> bytes:
        """The formatted answer as JSON bytes (orjson)."""
        return encode_json_bytes(self.formatted(with_data=with_data))


class Runner:
    """Runs prepared operations on one schema; `watch` is told of every operation's begin,
    identity and end (graph/pipeline/watch.py: the metrics and traces)."""

    def __init__(
        self, schema: GraphQLSchema, *, production: bool, watch: OperationWatch | None = None
    ) -> None:
        self.schema = schema
        self.production = production
        self.background = Background()
        self.watch = watch or OperationWatch()

    # -- variables -------------------------------------------------------------------------

    def variables(self, prepared: Prepared, raw: dict[str, Any] | None) -> VariableValues:
        """The request's variables coerced for `prepared`; `Refused` when they do not fit."""
        definitions = prepared.operation.variable_definitions or ()
        floats = integral_floats(self.schema, definitions, raw) if raw else []
        if floats:
            raise Refused(floats)
        coerced = get_variable_values(
            self.schema,
            definitions,
            raw or {},
            max_errors=MAX_COERCION_ERRORS,
            hide_suggestions=self.production,
        )
        if isinstance(coerced, list):
            raise Refused(coerced)
        return coerced

    # -- running ---------------------------------------------------------------------------

    async def run(
        self,
        prepared: Prepared,
        raw_variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
    ) -> Answer:
        """Coerce the variables, run the operation (never a subscription's stream: that is
        `subscribe`), and finish the answer."""
        try:
            variables = self.variables(prepared, raw_variables)
        except Refused as refusal:
            return self.refusal(refusal.errors, context)
        return await self.execute(prepared, variables, context, root_value)

    async def execute(
        self, prepared: Prepared, variables: VariableValues, context: Any, root_value: Any = None
    ) -> Answer:
        """Run `prepared` with coerced variables (a subscription's event: `root_value` is the
        event's payload) and finish the answer."""
        try:
            outcomes: Outcomes | None = prepared.plans.outcomes(variables)
        except Exception:  # graphql-core reports it while collecting the fields
            outcomes = None
        plan = None if outcomes is None else prepared.plans.root(prepared.root_type, outcomes)
        if outcomes is None or not isinstance(plan, ObjectPlan):
            return await self._execute_unplanned(prepared, variables, context, root_value)
        execution = Execution(prepared, variables, context, root_value, outcomes, self.background)
        data: dict[str, Any] | None
        try:
            data = execution.execute_root(plan, serially=prepared.kind is OperationType.MUTATION)
            if is_awaitable(data):
                data = await data
        except GraphQLError as error:
            execution.located(error)
            data = None
        return self.finish(data, execution.errors.errors, context)

    async def _execute_unplanned(
        self, prepared: Prepared, variables: VariableValues, context: Any, root_value: Any
    ) -> Answer:
        """graphql-core's executor for the whole operation (with the plans below the root)."""
        result = self._executor(prepared, variables, context, root_value).execute_operation()
        if is_awaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return self.finish(result.data, list(result.errors or ()), context)

    async def subscribe(
        self, prepared: Prepared, variables: VariableValues, context: Any, root_value: Any = None
    ) -> AsyncIterable[Any] | Answer:
        """The source stream of a subscription's events, or the answer that ends it at once
        (its resolver refused)."""
        executor = self._executor(prepared, variables, context, root_value)
        stream = create_source_event_stream(executor)
        if is_awaitable(stream):
            stream = await stream
        if isinstance(stream, ExecutionResult):
            return self.finish(None, list(stream.errors or ()), context)
        assert isinstance(stream, AsyncIterable)
        return stream

    def stream_error(self, prepared: Prepared, error: Exception, context: Any) -> Answer:
        """The answer for an error the subscription's stream raised (its resolver refusing
        once it started): located at the subscription's field."""
        nodes = [s for s in prepared.operation.selection_set.selections if hasattr(s, "name")]
        key = _response_key(nodes[0]) if nodes else None
        located = located_error(error, nodes[:1], [key] if key is not None else None)
        return self.finish(None, [located], context)

    def _executor(
        self, prepared: Prepared, variables: VariableValues, context: Any, root_value: Any
    ) -> PlannedExecutionContext:
        executor = PlannedExecutionContext(
            self.schema,
            prepared.fragment_definitions,
            prepared.fragments,
            root_value,
            context,
            prepared.operation,
            variables,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            is_awaitable=is_awaitable,
            hide_suggestions=self.production,
            plans=prepared.plans,
        )
        executor.background_futures = self.background.futures
        return executor

    # -- finishing -------------------------------------------------------------------------

    def finish(
        self, data: dict[str, Any] | None, errors: list[GraphQLError], context: Any
    ) -> Answer:
        """The answer of an operation that ran: errors coded, the freshness report added."""
        if errors:
            code_errors(errors, context)
        return Answer(data, errors, freshness_report(context))

    def refusal(self, errors: list[GraphQLError], context: Any) -> Answer:
        """The answer of an operation that never ran (a request error)."""
        code_errors(errors, context)
        return Answer(None, errors, None, ran=False)


def freshness_report(context: object) -> dict[str, Any] | None:
    """The `extensions` of an answer: the request's freshness report when it waited."""
    log = getattr(context, "freshness", None)
    if isinstance(log, FreshnessLog) and (report := log.report()) is not None:
        return {"freshness": report}
    return None


def _response_key(node: Any) -> str:
    return str((node.alias or node.name).value)


__all__ = ["Answer", "Runner", "freshness_report"]
