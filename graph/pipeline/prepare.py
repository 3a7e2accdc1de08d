"""`prepare(text, operationName)`: everything that depends only on the document and the name
of the operation to run, done once and kept in one bounded cache.

In order: the document's size (the body limit applies to every transport: an HTTP body, a
WebSocket frame, a persisted query) and its tokens, comments included (document.py); the parse;
the validation rules (graphql-core's, the document limits, no introspection in production);
the choice of the operation (several without `operationName` is refused, so is a name the
document does not define). A document that fails any step is `Refused` with request errors,
and the refusal is cached like a success, so a client repeating a bad document costs a lookup.

A document over `INLINE_PARSE_CHARS` is parsed and validated on one worker thread, one at a
time, so a large document does not hold the event loop (the thread gives the loop its turn at
least every few milliseconds); a small one is not worth the hop.

The cache is bounded by entries and by an estimate of the bytes an entry holds (its text, its
syntax tree, about `AST_BYTES_PER_TOKEN` a token as measured with tracemalloc, and its compiled
plans); the least recently used entry goes first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.validation import NoSchemaIntrospectionCustomRule

from graph.pipeline.document import measure
from graph.pipeline.limits import bound_field_merging, document_limits_rule
from graph.pipeline.plans import OperationPlans
from graph.pipeline.plans.operation import DEFAULT_MAX_PLANS_PER_OPERATION

if TYPE_CHECKING:
    from graphql import ASTValidationRule

    from graph.pipeline.plans import PlanStats
    from graph.settings import Settings

INLINE_PARSE_CHARS = 2048
AST_BYTES_PER_TOKEN = 600
ENTRY_OVERHEAD_BYTES = 4096
_MAX_ECHO_CHARS = 200


class Refused(Exception):
    """The document cannot run; `errors` are request errors (the answer has no data)."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message if errors else "refused")
        self.errors = errors


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """An operation ready to run: its document, the operation chosen, and its plans."""

    text: str
    name: str | None
    document: DocumentNode
    operation: OperationDefinitionNode
    root_type: GraphQLObjectType
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    plans: OperationPlans

    @property
    def kind(self) -> OperationType:
        return self.operation.operation


class PreparedCache:
    """Prepared operations and refusals by (text, operationName), bounded by entries and by
    estimated bytes (least recently used first); an entry over a quarter of the byte bound is
    not kept at all."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str | None], tuple[Prepared | Refused, int]] = (
            OrderedDict()
        )
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str | None]) -> Prepared | Refused | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: tuple[str, str | None], value: Prepared | Refused, cost: int) -> None:
        if cost > self.max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = (value, cost)
        self.bytes += cost
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)


class Preparer:
    """Turns (text, operationName) into a `Prepared` operation, through the one cache."""

    def __init__(
        self,
        schema: GraphQLSchema,
        settings: Settings,
        plan_stats: PlanStats,
        *,
        max_plans_per_operation: int = DEFAULT_MAX_PLANS_PER_OPERATION,
    ) -> None:
        bound_field_merging()
        self.schema = schema
        self.plan_stats = plan_stats
        self.max_plans_per_operation = max_plans_per_operation
        self.max_bytes = min(settings.max_document_bytes, settings.max_body_bytes)
        self.max_tokens = settings.max_tokens
        limits = document_limits_rule(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_cost,
        )
        extra: tuple[type[ASTValidationRule], ...] = (limits,)
        if settings.production:
            extra = (NoSchemaIntrospectionCustomRule, *extra)
        self.rules: tuple[type[ASTValidationRule], ...] = (*specified_rules, *extra)
        self.cache = PreparedCache(settings.prepared_cache_size, settings.prepared_cache_bytes)
        self._worker: ThreadPoolExecutor | None = None

    def find(self, text: str, name: str | None) -> Prepared | None:
        """The prepared operation when the cache has it (a cached refusal is raised)."""
        found = self.cache.get((text, name))
        if isinstance(found, Refused):
            raise found
        return found

    async def prepare(self, text: str, name: str | None) -> Prepared:
        """The prepared operation for `text` and `name`; `Refused` when it cannot run."""
        found = self.find(text, name)
        if found is not None:
            return found
        try:
            size = measure(text, max_bytes=self.max_bytes, max_tokens=self.max_tokens)
        except GraphQLError as error:
            raise Refused([error]) from None  # not cached: the text may be huge
        cost = size.size + size.tokens * AST_BYTES_PER_TOKEN + ENTRY_OVERHEAD_BYTES
        try:
            if len(text) <= INLINE_PARSE_CHARS:
                document = self._parse_and_validate(text)
            else:
                loop = asyncio.get_running_loop()
                document = await loop.run_in_executor(self._pool(), self._parse_and_validate, text)
            prepared = self._choose(text, name, document)
        except Refused as refusal:
            self.cache.put((text, name), refusal, size.size + ENTRY_OVERHEAD_BYTES)
            raise
        self.cache.put((text, name), prepared, cost)
        return prepared

    def close(self) -> None:
        """Stop the parsing thread (at shutdown)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=False, cancel_futures=True)

    def _pool(self) -> ThreadPoolExecutor:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ordergraph-parse")
        return self._worker

    def _parse_and_validate(self, text: str) -> DocumentNode:
        try:
            document = parse(text, max_tokens=self.max_tokens)
        except GraphQLError as error:
            raise Refused([error]) from None
        errors = validate(self.schema, document, self.rules)
        if errors:
            raise Refused(errors)
        return document

    def _choose(self, text: str, name: str | None, document: DocumentNode) -> Prepared:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            if len(operations) > 1:
                raise Refused(
                    [
                        GraphQLError(
                            "Must provide operation name if query contains multiple operations "
                            f"(this document has {len(operations)}): set operationName",
                            extensions={"code": "BAD_USER_INPUT"},
                        )
                    ]
                )
            chosen = operations[0] if operations else None
        else:
            chosen = next((o for o in operations if o.name and o.name.value == name), None)
        if chosen is None:
            raise Refused(
                [GraphQLError(_unknown_operation(name), extensions={"code": "BAD_USER_INPUT"})]
            )
        root_type = self.schema.get_root_type(chosen.operation)
        if root_type is None:  # validation refuses an operation type the schema lacks
            raise Refused([GraphQLError(f"The schema has no {chosen.operation.value} root")])
        definitions = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return Prepared(
            text=text,
            name=name,
            document=document,
            operation=chosen,
            root_type=root_type,
            fragment_definitions=definitions,
            fragments={key: FragmentDetails(value) for key, value in definitions.items()},
            plans=OperationPlans(
                self.schema, chosen, definitions, self.plan_stats, self.max_plans_per_operation
            ),
        )


def _unknown_operation(name: str | None) -> str:
    if name is None:
        return "The document has no operation to run"
    shown = name[:_MAX_ECHO_CHARS].encode("utf-8", "backslashreplace").decode()
    return f"The document defines no operation named {shown!r} (operationName)"


__all__ = [
    "AST_BYTES_PER_TOKEN",
    "INLINE_PARSE_CHARS",
    "Prepared",
    "PreparedCache",
    "Preparer",
    "Refused",
]
