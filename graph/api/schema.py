"""The GraphQL schema: types, scalars, the error mapping and the extension that guards it
(graph/api/gate.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from graph.api.errors import code_errors, process_errors
from graph.api.gate import Prepared, PreparedOperations, freshness_results, gate_factory
from graph.api.limits import bound_field_merging
from graph.api.mutations import Mutation
from graph.api.plans import PlannedExecutionContext, PlanStats
from graph.api.query import Query
from graph.api.scalars import SCALAR_MAP
from graph.api.subscription import Subscription
from graph.settings import Settings

if TYPE_CHECKING:
    from strawberry.types import ExecutionContext

ExtensionFactory = Callable[[], SchemaExtension]


class OrderGraphSchema(strawberry.Schema):
    """The Strawberry schema with the service's error mapping as its `process_errors`, the
    counters of its operation plans (`plan_stats`, for /metrics), and the operations its gate
    has let through (`prepared`), which run without Strawberry's per-request machinery."""

    plan_stats: PlanStats
    prepared: PreparedOperations
    gate_only: bool = False
    """Whether the gate is the schema's only extension (`build_schema` without
    `extra_extensions`): only then may a prepared operation skip the extension hooks."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        process_errors(errors, execution_context)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result for one request (HTTP): never a subscription, which only a WebSocket
        serves (run as a query, its resolver's stream would be an internal error)."""
        allowed = set(
            DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types
        )
        allowed.discard(OperationType.SUBSCRIPTION)
        if self.gate_only and query is not None:
            prepared = self.prepared.find(query, operation_name)
            if prepared is not None and prepared.kind in allowed:
                return await self._execute_prepared(
                    prepared,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    operation_extensions,
                )
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    async def _execute_prepared(
        self,
        prepared: Prepared,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        """What Strawberry's `execute` does once the gate has passed an operation (execute it
        with graphql-core and this schema's executor, code its errors, add the freshness
        report), without building the gate's hooks, an execution context and an extensions
        runner again: ~110 of a ~260 us `{ __typename }` in process."""
        try:
            result = await await_maybe(
                execute(
                    self._schema,
                    prepared.document,
                    root_value=root_value,
                    context_value=context_value,
                    variable_values=variable_values,
                    operation_name=operation_name,
                    executor_class=self.execution_context_class,
                    is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                    operation_extensions=operation_extensions,
                )
            )
        except Exception as error:  # as Strawberry's execute does: an error result, no raise
            coerced = error if isinstance(error, GraphQLError) else None
            errors = [coerced or GraphQLError(str(error), original_error=error)]
            code_errors(errors, context_value)
            return ExecutionResult(
                data=None, errors=errors, extensions=freshness_results(context_value)
            )
        if result.errors:
            code_errors(result.errors, context_value)
        return ExecutionResult(
            data=result.data, errors=result.errors, extensions=freshness_results(context_value)
        )


def build_schema(
    settings: Settings | None = None, extra_extensions: Sequence[ExtensionFactory] = ()
) -> OrderGraphSchema:
    """The service's schema; `extra_extensions` (auth, cost limits) run after the built-in ones."""
    settings = settings or Settings()
    bound_field_merging()
    plan_stats = PlanStats()
    prepared = PreparedOperations(settings.parser_cache_size)
    schema = OrderGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=settings.production
        ),
        extensions=[gate_factory(settings, prepared), *extra_extensions],
        execution_context_class=PlannedExecutionContext.configured(stats=plan_stats),
    )
    schema.plan_stats = plan_stats
    schema.prepared = prepared
    schema.gate_only = not extra_extensions
    return schema


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema in SDL, as written to schema.graphql."""
    return (schema or build_schema()).as_str() + "\n"


__all__ = ["OrderGraphSchema", "build_schema", "export_sdl"]
