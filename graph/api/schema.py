"""The GraphQL schema: types, scalars, the error mapping and the extensions that guard it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.api.errors import process_errors
from graph.api.freshness import FreshnessExtension
from graph.api.limits import bound_field_merging, document_limits_rule
from graph.api.mutations import Mutation
from graph.api.plans import PlannedExecutionContext, PlanStats
from graph.api.query import Query
from graph.api.scalars import SCALAR_MAP
from graph.api.subscription import Subscription
from graph.settings import Settings

if TYPE_CHECKING:
    from graphql import ValidationRule
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


class OperationNameRequired(SchemaExtension):
    """A document of several operations runs only the one `operationName` names (Strawberry
    alone would run the first): without a name it is a request error, as the spec says."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context, "_provided_operation_name", None)
        if document is not None and named is None and context.result is None:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"Must provide operation name if query contains multiple operations "
                            f"(this document has {operations}): set operationName",
                            extensions={"code": "BAD_USER_INPUT"},
                        )
                    ],
                )
        yield


def build_extensions(settings: Settings) -> list[ExtensionFactory]:
    """Extension factories, in order; each is cheap (the caches live at module level).

    MaxTokensLimiter comes before ParserCache: the cache is keyed on the parse options the
    limiter sets. Validation rules, when added, must be classes built once, never per request.
    """
    extensions: list[ExtensionFactory] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=settings.parser_cache_size),
        partial(AddValidationRules, list(validation_rules(settings))),
        partial(ValidationCache, maxsize=settings.validation_cache_size),
        OperationNameRequired,
        FreshnessExtension,
    ]
    if settings.production:
        extensions.insert(2, DisableIntrospection)
    return extensions


def validation_rules(settings: Settings) -> tuple[type[ValidationRule], ...]:
    """The document limits, each rule class built once so the validation cache keeps hitting.

    A document may hold several operations (`operationName` picks the one to run); the limits
    measure every one of them, and count the aliases of the whole document."""
    return (
        document_limits_rule(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_cost,
        ),
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
        extensions=[*build_extensions(settings), *extra_extensions],
        execution_context_class=PlannedExecutionContext.configured(stats=plan_stats),
    )
    schema.plan_stats = plan_stats
    return schema


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema in SDL, as written to schema.graphql."""
    return (schema or build_schema()).as_str() + "\n"


__all__ = ["OrderGraphSchema", "build_extensions", "build_schema", "export_sdl"]
