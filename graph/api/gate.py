"""OperationGate: the one schema extension every operation passes through.

It does what seven extensions did (Strawberry's MaxTokensLimiter, ParserCache,
DisableIntrospection, AddValidationRules and ValidationCache, and our operation-name rule and
freshness report), in the same order. Strawberry builds every extension's hooks again for every
request (a lookup per hook per extension and a context manager per defined hook): one extension
instead of seven took an in-process `{ __typename }` from ~430 to ~270 us.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult

from graph.api.freshness import FreshnessLog
from graph.api.limits import document_limits_rule

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from graphql import ASTValidationRule, DocumentNode, GraphQLSchema, ValidationRule
    from strawberry.types.graphql import OperationType

    from graph.settings import Settings


class OperationGate(SchemaExtension):
    """Per operation: the token limit and the document limits, parse and validation through
    bounded caches (shared by every request of the schema that built them), a document of
    several operations refused without `operationName`, and the freshness report.

    The parser cache hands back the same DocumentNode for the same query text, which the plan
    cache keys on (graph/api/plans/cache.py); it is keyed on the token limit too.
    """

    def __init__(
        self,
        *,
        max_tokens: int,
        rules: tuple[type[ValidationRule], ...],
        parse: Callable[..., Any],
        validate: Callable[..., Any],
        prepared: PreparedOperations,
    ) -> None:
        self.max_tokens = max_tokens
        self.rules = rules
        self.parse = parse
        self.validate = validate
        self.prepared = prepared

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = self.parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = self.validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield

    def on_execute(self) -> Iterator[None]:
        """A document of several operations runs only the one `operationName` names (Strawberry
        alone would run the first): without a name it is a request error, as the spec says."""
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
        if document is not None and context.result is None and context.query is not None:
            # It parsed, validated and may run as this operation type: the next request with
            # this text and operationName may skip the gate (OrderGraphSchema.execute).
            self.prepared.remember(
                context.query, named, Prepared(document=document, kind=context.operation_type)
            )
        yield

    def get_results(self) -> dict[str, Any]:
        """The request's freshness report, when it waited for a projection."""
        return freshness_results(self.execution_context.context)


def freshness_results(context: object) -> dict[str, Any]:
    """The response's extensions for the resolvers' `context`: its freshness report, if any."""
    log = getattr(context, "freshness", None)
    if isinstance(log, FreshnessLog) and (report := log.report()) is not None:
        return {"freshness": report}
    return {}


@dataclass(frozen=True, slots=True)
class Prepared:
    """An operation the gate let through: its parsed document and its operation type."""

    document: DocumentNode
    kind: OperationType


class PreparedOperations:
    """The operations that passed the gate, by (query text, operationName), bounded (least
    recently used goes first). Everything the gate checks depends only on those two (and the
    gate's own fixed limits and rules), so a request that finds its operation here needs no
    parse, no validation and no extension hooks: it only has to be allowed its type."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def find(
        self, query: str, operation_name: str | None, *, count: bool = True
    ) -> Prepared | None:
        """The operation if the gate let it through before; counted as a hit or a miss unless
        `count` is False (a look that another `find` will follow)."""
        key = (query, operation_name)
        found = self._entries.get(key)
        if found is None:
            self.misses += count
        else:
            self.hits += count
            self._entries.move_to_end(key)
        return found

    def remember(self, query: str, operation_name: str | None, prepared: Prepared) -> None:
        self._entries[(query, operation_name)] = prepared
        self._entries.move_to_end((query, operation_name))
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def gate_factory(settings: Settings, prepared: PreparedOperations) -> Callable[[], OperationGate]:
    """A factory of gates for one schema: its caches and rule classes are built here, once, so
    the validation cache keeps hitting (it is keyed on the rule classes); what the gates let
    through is remembered in `prepared`."""
    rules = validation_rules(settings)
    if settings.production:
        rules = (NoSchemaIntrospectionCustomRule, *rules)
    cached_parse = lru_cache(maxsize=settings.parser_cache_size)(parse)
    cached_validate = ValidationCache(settings.validation_cache_size)

    def gate() -> OperationGate:
        return OperationGate(
            max_tokens=settings.max_tokens,
            rules=rules,
            parse=cached_parse,
            validate=cached_validate,
            prepared=prepared,
        )

    return gate


class ValidationCache:
    """Validation errors by document identity, bounded (least recently used goes first).

    The parser cache hands back one DocumentNode per query text, so identity finds it again;
    an entry holds its document, so the id cannot be reused while the entry lives. Strawberry's
    ValidationCache hashes the whole document on every lookup instead (6 us for a small
    mutation, 16 us for a page of orders).
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[int, tuple[Any, DocumentNode, Any, list[GraphQLError]]] = (
            OrderedDict()
        )

    def __call__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        key = id(document)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is document and entry[2] == rules:
            self._entries.move_to_end(key)
            return entry[3]
        errors = validate_document(schema, document, rules)
        self._entries[key] = (schema, document, rules, errors)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return errors


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


__all__ = [
    "OperationGate",
    "Prepared",
    "PreparedOperations",
    "ValidationCache",
    "freshness_results",
    "gate_factory",
    "validation_rules",
]
