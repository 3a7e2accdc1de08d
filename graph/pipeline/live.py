"""One execution, and one encoded payload, per (document, variables, visibility, view).

Subscribers whose operations share a prepared document, its variables and what they may see
(each customer apart; staff and admins together) join one `ExecutionGroup`. The group coerces
the variables once and, for each view it is asked for, runs the subscription's selection over
it once (the pipeline's `execute`, plans included) and encodes the payload once; every member
awaits that same future and frames the same text in its own transport's frame.

A group keeps the payloads of its recent views (up to `PAYLOADS_KEPT`), so however many orders
one projection batch changes, each is executed once for every member: a member that asks for a
view a moment after another finds it there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, OperationType

from graph.pipeline.encoding import encode_json_text

if TYPE_CHECKING:
    from graphql.execution.values import VariableValues

    from graph.api.context import Context
    from graph.pipeline.prepare import Prepared
    from graph.pipeline.run import Runner
    from readmodels.dto import OrderView

log = logging.getLogger("ordergraph.live")

SHAREABLE_FIELDS = frozenset({"orderUpdated", "ordersChanged"})
PAYLOADS_KEPT = 4096
GroupKey = tuple[str, str | None, bytes, str]


@dataclass(slots=True)
class LiveStats:
    """Counters of the live delivery, read by /metrics (graph/observe/live_metrics.py)."""

    executions: int = 0
    """Selection sets executed over a view (once per group and view)."""
    frames: int = 0
    """`next` frames written by the shared path."""
    skipped: int = 0
    """Views not sent because a newer one replaced them while the connection was full."""
    slow_closed: int = 0
    """Connections closed because their send buffer stayed full too long."""
    list_catch_ups: int = 0
    """Live lists that fell behind a full connection and re-read the view table."""
    groups: int = 0
    members: int = 0
    streams: int = 0
    """Open HTTP streams (graphql-sse, multipart): graph/http/stream.py."""


def shareable(prepared: Prepared) -> bool:
    """Whether a subscription selects one shareable field and nothing else at its root (no
    fragments or directives there): its events can be executed once for every member."""
    operation = prepared.operation
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return False
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return False
    root = selections[0]
    return not root.directives and root.name.value in SHAREABLE_FIELDS


def visibility(context: Context) -> str:
    """What the caller may see: a customer's own orders, or (staff and admins) everything."""
    principal = context.principal
    if principal is None:
        return "anonymous"
    acting = principal.acting_customer
    return "staff" if acting is None else f"customer:{acting}"


def group_key(prepared: Prepared, variables: dict[str, Any] | None, context: Context) -> GroupKey:
    canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS, default=str)
    return (prepared.text, prepared.name, canonical, visibility(context))


@dataclass(eq=False, slots=True)
class ExecutionGroup:
    key: GroupKey
    prepared: Prepared
    variables: VariableValues
    context: Context
    runner: Runner
    stats: LiveStats
    members: int = 0
    payloads: OrderedDict[tuple[str, int], asyncio.Future[str]] = field(default_factory=OrderedDict)

    def future(self, view: OrderView) -> asyncio.Future[str]:
        """The encoded payload for `view`, executed once for every member (never cancel it:
        members share it)."""
        key = (view.id, view.position)
        future = self.payloads.get(key)
        if future is None:
            future = asyncio.ensure_future(self._execute(view))
            future.add_done_callback(lambda done: self._forget_failed(key, done))
            self.payloads[key] = future
            while len(self.payloads) > PAYLOADS_KEPT:
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
        answer = await self.runner.execute(self.prepared, self.variables, self.context, view)
        return encode_json_text(answer.formatted())


class SharedExecutions:
    """The execution groups of one app, by key; a group lives while it has members."""

    def __init__(self, runner: Runner, stats: LiveStats | None = None) -> None:
        self.runner = runner
        self._groups: dict[GroupKey, ExecutionGroup] = {}
        self.stats = stats or LiveStats()

    def join(
        self,
        prepared: Prepared,
        variables: VariableValues,
        raw_variables: dict[str, Any] | None,
        context: Context,
    ) -> ExecutionGroup:
        """The group of this subscriber (made by its first member)."""
        key = group_key(prepared, raw_variables, context)
        group = self._groups.get(key)
        if group is None:
            group = ExecutionGroup(key, prepared, variables, context, self.runner, self.stats)
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
    "PAYLOADS_KEPT",
    "SHAREABLE_FIELDS",
    "ExecutionGroup",
    "LiveStats",
    "SharedExecutions",
    "group_key",
    "shareable",
    "visibility",
]
