"""One run of a prepared operation: resolvers called directly, objects completed by plans, and
graphql-core's executor, built only when needed, for whatever the plans do not complete.

The root selection has a plan like any object (`OperationPlans.root`): `{ __typename }` is a
constant, and each field with a resolver is `delegated`, so the run calls its resolver itself
(`execute_field`, graphql-core's steps without its execution context: arguments, a
`GraphQLResolveInfo`, the call, awaiting it) and completes what it returns with the plan of
that object. An object the plan gives up on, a list, a leaf at the root or a selection the
compiler cannot plan is handed to graphql-core's `complete_value` on a `PlannedExecutionContext`
built on first need, which shares this run's errors, so the answer (data, errors, their order,
null propagation) is exactly graphql-core's;
tests/graph/pipeline/test_plans_match_graphql_core.py holds it on generated documents.

No resolver coroutine is ever dropped: an async resolver is called inside its field's own
coroutine, so a field cancelled before it starts has created nothing (graph/pipeline/fields.py);
when a field's error nulls its parent while its siblings' coroutines are pending, those run to
their end in the background (`Background`, as graphql-core settles them); awaited together, a
failure cancels and settles the others (graphql-core's `gather_with_cancel`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Sequence
from types import CoroutineType
from typing import TYPE_CHECKING, Any, TypeGuard

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    Undefined,
    default_field_resolver,
    default_type_resolver,
    located_error,
)
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers

from graph.pipeline.fields import resolves_in_a_coroutine
from graph.pipeline.plans import ObjectPlan, PlannedExecutionContext

if TYPE_CHECKING:
    from graphql import GraphQLOutputType
    from graphql.execution.collect_fields import FieldDetails
    from graphql.execution.values import VariableValues

    from graph.pipeline.plans import Outcomes
    from graph.pipeline.prepare import Prepared


_PLAIN = frozenset({type(None), str, int, float, bool, dict, list, tuple})


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """Whether a resolver's value must be awaited (plain values answered at once)."""
    kind = type(value)
    if kind in _PLAIN:
        return False
    return kind is CoroutineType or inspect.isawaitable(value)


class Background:
    """Coroutines a run will not await (siblings of a field whose error nulled their parent)
    run to their end here, as graphql-core's `settle_in_background` does, so none is dropped
    un-awaited and their errors are observed; a reference is kept until each has settled."""

    def __init__(self) -> None:
        self.futures: set[asyncio.Future[list[Any]]] = set()
        self.helpers = GraphQLResolveInfoHelpers(gather=self._gather, track=self.settle)

    def settle(self, values: Sequence[Any]) -> None:
        awaitables = [value for value in values if is_awaitable(value)]
        if not awaitables:
            return
        future = asyncio.gather(*awaitables, return_exceptions=True)
        self.futures.add(future)
        future.add_done_callback(self.futures.discard)

    @staticmethod
    def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return gather_with_cancel(*values)

    def __len__(self) -> int:
        return len(self.futures)


class Execution:
    """The state of one run: the operation, its variables and context, and its errors."""

    __slots__ = (
        "_fallback",
        "background",
        "context",
        "errors",
        "outcomes",
        "prepared",
        "root_value",
        "variables",
    )

    def __init__(
        self,
        prepared: Prepared,
        variables: VariableValues,
        context: Any,
        root_value: Any,
        outcomes: Outcomes,
        background: Background,
    ) -> None:
        self.prepared = prepared
        self.background = background
        self.variables = variables
        self.context = context
        self.root_value = root_value
        self.outcomes = outcomes
        self.errors = CollectedErrors()
        self._fallback: PlannedExecutionContext | None = None

    # -- the root ---------------------------------------------------------------------------

    def execute_root(self, plan: ObjectPlan, *, serially: bool) -> Any:
        """The root's data (or an awaitable of it); a non-null root field's error escapes as a
        GraphQLError, which nulls the whole answer."""
        root_type = self.prepared.root_type
        completed = plan.run(self.root_value)
        self.prepared.plans.stats.planned += 1
        if not plan.delegated:
            return completed
        if serially:
            return self._execute_serially(plan, root_type, completed)
        return self.execute_delegated(plan, root_type, self.root_value, None, completed)

    async def _execute_serially(
        self, plan: ObjectPlan, parent_type: GraphQLObjectType, completed: dict[str, Any]
    ) -> dict[str, Any]:
        """A mutation's root fields, one after the other."""
        for key, field_details_list in plan.delegated:
            path = Path(None, key, parent_type.name)
            value = self.execute_field(parent_type, self.root_value, field_details_list, path)
            if value is Undefined:
                del completed[key]
                continue
            completed[key] = await value if is_awaitable(value) else value
        return completed

    # -- fields with resolvers --------------------------------------------------------------

    def execute_delegated(
        self,
        plan: ObjectPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        completed: dict[str, Any],
    ) -> Any:
        """Run the plan's fields with resolvers into their places in `completed`, together."""
        pending: list[str] = []
        try:
            for key, field_details_list in plan.delegated:
                field_path = Path(path, key, parent_type.name)
                value = self.execute_field(parent_type, source, field_details_list, field_path)
                if value is Undefined:
                    del completed[key]
                    continue
                completed[key] = value
                if is_awaitable(value):
                    pending.append(key)
        except Exception:
            self.background.settle([completed[key] for key in pending])
            raise
        if not pending:
            return completed
        return self._await_fields(completed, pending)

    async def _await_fields(self, completed: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        if len(pending) == 1:
            key = pending[0]
            completed[key] = await completed[key]
            return completed
        values = await gather_with_cancel(*(completed[key] for key in pending))
        completed.update(zip(pending, values, strict=True))
        return completed

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
    ) -> Any:
        """graphql-core's `execute_field`: the resolver's value completed, or the field's
        error handled (null here, or raised on to the nearest nullable parent)."""
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        if field_def is None:
            return Undefined
        return_type = field_def.type
        nodes = [details.node for details in field_details_list]
        info = GraphQLResolveInfo(
            node.name.value,
            nodes,
            return_type,
            parent_type,
            path,
            self.prepared.plans.schema,
            self.prepared.fragment_definitions,
            self.root_value,
            self.prepared.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            self.background.helpers,
        )
        if resolves_in_a_coroutine(field_def):
            return self._execute_async_field(field_def, field_details_list, info, path, source)
        try:
            args = (
                get_argument_values(field_def, node, self.variables)
                if field_def.args or node.arguments
                else {}
            )
            resolve = field_def.resolve or default_field_resolver
            result = resolve(source, info, **args)
            if is_awaitable(result):
                return self._complete_awaitable(return_type, field_details_list, info, path, result)
            completed = self.complete_value(return_type, field_details_list, info, path, result)
            if is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _execute_async_field(
        self,
        field_def: GraphQLField,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        source: Any,
    ) -> Any:
        """A field whose resolver is a coroutine function, called inside this coroutine: if it
        is cancelled before it starts, no resolver coroutine is left un-awaited
        (graph/pipeline/fields.py)."""
        node = field_details_list[0].node
        try:
            args = (
                get_argument_values(field_def, node, self.variables)
                if field_def.args or node.arguments
                else {}
            )
            assert field_def.resolve is not None
            resolved = await field_def.resolve(source, info, **args)
            completed = self.complete_value(
                field_def.type, field_details_list, info, path, resolved
            )
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None
        return completed

    async def _complete_awaitable(
        self,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Awaitable[Any],
    ) -> Any:
        try:
            resolved = await result
            completed = self.complete_value(return_type, field_details_list, info, path, resolved)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def handle_field_error(
        self,
        raw_error: Exception,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        path: Path,
    ) -> None:
        """graphql-core's: a located error, raised on when the field is non-null, else kept."""
        nodes = [details.node for details in field_details_list]
        error = located_error(raw_error, nodes, path.as_list())
        if isinstance(return_type, GraphQLNonNull):
            raise error
        self.errors.add(error, path)

    # -- completing values ------------------------------------------------------------------

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
    ) -> Any:
        """An object by its plan; anything else (and an object the plan gives up on) by
        graphql-core's `complete_value`."""
        non_null = isinstance(return_type, GraphQLNonNull)
        named = return_type.of_type if non_null else return_type  # type: ignore[union-attr]
        if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                if non_null:
                    raise TypeError(
                        "Cannot return null for non-nullable field"
                        f" {info.parent_type}.{info.field_name}."
                    )
                return None
            nodes = [details.node for details in field_details_list]
            plan = self.prepared.plans.plan_for(named, nodes, self.outcomes)
            if isinstance(plan, ObjectPlan):
                try:
                    completed = plan.run(result)
                except Exception:  # graphql-core completes it (and counts the fallback)
                    return self.fallback().complete_value(
                        return_type, field_details_list, info, path, result, None
                    )
                self.prepared.plans.stats.planned += 1
                if plan.delegated:
                    return self.execute_delegated(plan, named, result, path, completed)
                return completed
        return self.fallback().complete_value(
            return_type, field_details_list, info, path, result, None
        )

    def fallback(self) -> PlannedExecutionContext:
        """graphql-core's executor for this run, sharing its errors (built on first need)."""
        executor = self._fallback
        if executor is None:
            prepared = self.prepared
            executor = self._fallback = PlannedExecutionContext(
                prepared.plans.schema,
                prepared.fragment_definitions,
                prepared.fragments,
                self.root_value,
                self.context,
                prepared.operation,
                self.variables,
                default_field_resolver,
                default_type_resolver,
                default_field_resolver,
                is_awaitable=is_awaitable,
                plans=prepared.plans,
                outcomes=self.outcomes,
            )
            executor.collected_errors = self.errors
            executor.background_futures = self.background.futures
        return executor

    def located(self, error: GraphQLError) -> None:
        """Keep an error that nulled the whole answer."""
        self.errors.add(error, None)


__all__ = ["Background", "Execution", "is_awaitable"]
