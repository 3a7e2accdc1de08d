"""One execution, and one encoded `next` payload, per (document, variables, visibility, view).

Subscribers whose operations share a document, its variables and what they may see (each
customer apart; staff and admins together) join one `ExecutionGroup`. The group builds
graphql-core's executor once (the variables coerced once) and, for each view it is asked for,
runs the subscription's selection set over it once and JSON-encodes the payload once; every
member awaits that same future and frames the same text with its own operation id.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.execution import Executor, execute_subscription_event

if TYPE_CHECKING:
    from graph.api.context import Context
    from graph.api.schema import OrderGraphSchema
    from readmodels.dto import OrderView

SHAREABLE_FIELDS = frozenset({"orderUpdated", "ordersChanged"})
GroupKey = tuple[str, str | None, str, str]


@dataclass(slots=True)
class LiveStats:
    """Counters of the live delivery, read by /metrics (graph/http/live_metrics.py)."""

    executions: int = 0
    """Selection sets executed over a view (once per group and view)."""
    frames: int = 0
    """`next` frames written to sockets by the shared path."""
    skipped: int = 0
    """Views not sent because a newer one replaced them while the socket was full."""
    slow_closed: int = 0
    """Sockets closed because their send buffer stayed full too long."""
    list_catch_ups: int = 0
    """Live lists that fell behind a full socket and re-read the view table."""
    groups: int = 0
    members: int = 0


@lru_cache(maxsize=256)
def shareable_document(query: str, max_tokens: int) -> DocumentNode | None:
    """The parsed document when it is one subscription selecting one shareable field (no
    fragments or directives at the root), else None (it then runs the generic way)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    if len(document.definitions) != 1:
        return None
    (operation,) = document.definitions
    if not isinstance(operation, OperationDefinitionNode):
        return None
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    if root.directives or root.name.value not in SHAREABLE_FIELDS:
        return None
    return document


def visibility(context: Context) -> str:
    """What the caller may see: a customer's own orders, or (staff and admins) everything."""
    principal = context.principal
    if principal is None:
        return "anonymous"
    acting = principal.acting_customer
    return "staff" if acting is None else f"customer:{acting}"


def group_key(
    query: str, operation_name: str | None, variables: dict[str, Any] | None, context: Context
) -> GroupKey:
    canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"), default=str)
    return (query, operation_name, canonical, visibility(context))


class _ErrorsContext:
    """What `process_errors` reads from an execution context: the request's context."""

    def __init__(self, context: Context) -> None:
        self.context = context


@dataclass(eq=False, slots=True)
class ExecutionGroup:
    key: GroupKey
    executor: Executor[Any]
    schema: OrderGraphSchema
    context: Context
    stats: LiveStats
    size: int = 16
    members: int = 0
    payloads: OrderedDict[tuple[str, int], asyncio.Future[str]] = field(default_factory=OrderedDict)

    def future(self, view: OrderView) -> asyncio.Future[str]:
        """The encoded `next` payload for `view`, executed once for every member (never
        cancel it: members share it)."""
        key = (view.id, view.position)
        future = self.payloads.get(key)
        if future is None:
            future = asyncio.ensure_future(self._execute(view))
            future.add_done_callback(lambda done: self._forget_failed(key, done))
            self.payloads[key] = future
            while len(self.payloads) > self.size:
                self.payloads.popitem(last=False)
        return future

    async def payload(self, view: OrderView) -> str:
        """The shared payload, awaited without letting one member cancel it for the others."""
        return await asyncio.shield(self.future(view))

    def _forget_failed(self, key: tuple[str, int], future: asyncio.Future[str]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.payloads.pop(key, None)

    async def _execute(self, view: OrderView) -> str:
        self.stats.executions += 1
        result = execute_subscription_event(self.executor.build_per_event_executor(view))
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        payload: dict[str, Any] = {"data": result.data}  # type: ignore[union-attr]
        errors = result.errors  # type: ignore[union-attr]
        if errors:
            self.schema.process_errors(list(errors), _ErrorsContext(self.context))  # type: ignore[arg-type]
            payload["errors"] = [error.formatted for error in errors]
        return json.dumps(payload, separators=(",", ":"))


class SharedExecutions:
    """The execution groups of one schema, by key; a group lives while it has members."""

    def __init__(self, schema: OrderGraphSchema, stats: LiveStats | None = None) -> None:
        self._schema = schema
        self._groups: dict[GroupKey, ExecutionGroup] = {}
        self.stats = stats or LiveStats()

    def join(
        self,
        key: GroupKey,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> ExecutionGroup | None:
        """The group for `key` (made, with its executor, by its first member), or None when
        the executor cannot be built (the operation then runs the generic way)."""
        group = self._groups.get(key)
        if group is None:
            executor = Executor.build(
                self._schema._schema,
                document,
                context_value=context,
                raw_variable_values=variables,
                operation_name=operation_name,
            )
            if not isinstance(executor, Executor):
                return None
            group = ExecutionGroup(key, executor, self._schema, context, self.stats)
            self._groups[key] = group
            self.stats.groups += 1
        group.members += 1
        self.stats.members += 1
        return group

    def leave(self, group: ExecutionGroup) -> None:
        group.members -= 1
        self.stats.members -= 1
        if group.members <= 0 and self._groups.get(group.key) is group:
            del self._groups[group.key]
            self.stats.groups -= 1

    def __len__(self) -> int:
        return len(self._groups)


__all__ = [
    "SHAREABLE_FIELDS",
    "ExecutionGroup",
    "LiveStats",
    "SharedExecutions",
    "group_key",
    "shareable_document",
    "visibility",
]
