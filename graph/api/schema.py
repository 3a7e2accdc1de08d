"""The GraphQL schema: types, scalars, the error mapping and the extension that guards it
(graph/api/gate.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.api.errors import process_errors
from graph.api.gate import gate_factory
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
    """The Strawberry schema with the service's error mapping as its `process_errors`, and the
    counters of its operation plans (`plan_stats`, for /metrics)."""

    plan_stats: PlanStats

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
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )


def build_schema(
    settings: Settings | None = None, extra_extensions: Sequence[ExtensionFactory] = ()
) -> OrderGraphSchema:
    """The service's schema; `extra_extensions` (auth, cost limits) run after the built-in ones."""
    settings = settings or Settings()
    bound_field_merging()
    plan_stats = PlanStats()
    schema = OrderGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=settings.production
        ),
        extensions=[gate_factory(settings), *extra_extensions],
        execution_context_class=PlannedExecutionContext.configured(stats=plan_stats),
    )
    schema.plan_stats = plan_stats
    return schema


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema in SDL, as written to schema.graphql."""
    return (schema or build_schema()).as_str() + "\n"


__all__ = ["OrderGraphSchema", "build_schema", "export_sdl"]
