"""PlannedExecutionContext: graphql-core's executor, completing plannable objects by plan.

graphql-core completes every object-typed value by calling `collect_and_execute_subfields`
(from `complete_object_value`, after the type's `is_type_of` check). This class overrides that
one method: when the object's selection has a plan (see compiler.py), the plan builds the
object's whole dict in one call; otherwise, or when the plan gives up (`PlanFallback`, or any
exception), graphql-core's own method runs, unchanged, so every error, path, location and null
propagation is graphql-core's. Root fields and fields with resolvers are never planned: they
are the fields graphql-core executes, and the objects they return are where plans start. In
an object whose other fields are plain, a field with a resolver is run by graphql-core's own
`execute_field`, at its place in the dict, after the plan completed the rest (a plan never
gives up after a resolver ran, so no resolver runs twice).

When a plan gives up on an object, graphql-core executes that object's fields and completes
their values, which reaches this method again for each nested object: the replay narrows down
to the smallest object that really needs graphql-core, and the others are still planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, Undefined
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel

from graph.pipeline.fields import CoroutineSafeExecutor
from graph.pipeline.plans.compiler import ObjectPlan, PlanOrReason, Unplannable
from graph.pipeline.plans.operation import OperationPlans, Outcomes
from graph.pipeline.plans.stats import FallbackReason, PlanFallback, PlanStats, UnplannedReason


def fallback_reason(error: Exception) -> FallbackReason:
    """Why a plan that raised `error` gave up."""
    if isinstance(error, PlanFallback):
        return error.reason
    if isinstance(error, AttributeError):
        return FallbackReason.GETTER_ERROR
    if isinstance(error, GraphQLError | ValueError | TypeError):
        return FallbackReason.SERIALIZER_ERROR
    return FallbackReason.UNEXPECTED_ERROR


class PlannedExecutionContext(CoroutineSafeExecutor):
    """graphql-core's executor, completing objects from the compiled plans of one operation.

    Built by the pipeline's `Execution` (graph/pipeline/execution.py) for whatever its own
    steps leave to graphql-core, with the prepared operation's `OperationPlans` (`plans=`, a
    keyword graphql-core's `Executor.build` passes through) and the outcomes of the request's
    `@include`/`@skip` conditions when they are already known (`outcomes=`).
    """

    def __init__(
        self, *args: Any, plans: OperationPlans, outcomes: Outcomes | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plans = plans
        self.plan_stats: PlanStats = plans.stats
        self._plans_enabled = True
        self._known_outcomes = outcomes
        self._reset_request_state()

    def _reset_request_state(self) -> None:
        # This request's plans by the identity of graphql-core's field lists (each kept alive
        # beside its plan, so that its id cannot be reused during the request).
        self._plan_memo: dict[int, tuple[list[FieldDetails], PlanOrReason]] = {}
        self._outcomes: Outcomes | None = self._known_outcomes
        self._replaying = 0
        self._counted_disabled = False

    def build_per_event_executor(self, payload: Any) -> PlannedExecutionContext:
        """Each subscription event starts with an empty memo (the lists are new per event)."""
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, PlannedExecutionContext)
        executor._reset_request_state()
        return executor

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: list[FieldDetails],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """Complete `result` by plan when its selection has one, else as graphql-core does."""
        if position_context is None:
            plan = self._plan_for(return_type, field_details_list)
            if isinstance(plan, ObjectPlan):
                try:
                    completed = plan.run(result)
                except Exception as error:  # every anomaly: let graphql-core answer
                    return self._replay(error, return_type, field_details_list, path, result)
                self.plan_stats.planned += 1
                if plan.delegated:
                    return self._execute_delegated(plan, return_type, result, path, completed)
                return completed
            if plan is not None:
                self.plan_stats.unplanned[plan.reason] += 1
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def _execute_delegated(
        self,
        plan: ObjectPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path,
        completed: dict[str, Any],
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core executes the plan's fields with resolvers into their places, the way
        its execute_fields does (awaited together; on a raise, the started ones settled)."""
        awaitable_keys: list[str] = []
        try:
            for key, field_details_list in plan.delegated:
                value = self.execute_field(
                    parent_type, source, field_details_list, Path(path, key, parent_type.name), None
                )
                if value is Undefined:
                    del completed[key]
                    continue
                completed[key] = value
                if self.is_awaitable(value):
                    awaitable_keys.append(key)
        except Exception:
            if awaitable_keys:
                self.settle_in_background([completed[key] for key in awaitable_keys])
            raise
        if not awaitable_keys:
            return completed

        async def get_results() -> dict[str, Any]:
            if len(awaitable_keys) == 1:
                key = awaitable_keys[0]
                completed[key] = await completed[key]
            else:
                awaited = await gather_with_cancel(*(completed[key] for key in awaitable_keys))
                completed.update(zip(awaitable_keys, awaited, strict=True))
            return completed

        return get_results()

    def _replay(
        self,
        error: Exception,
        return_type: GraphQLObjectType,
        field_details_list: list[FieldDetails],
        path: Path,
        result: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core completes the object a plan gave up on (counted once per anomaly)."""
        if not self._replaying:
            self.plan_stats.fallbacks[fallback_reason(error)] += 1
        self._replaying += 1
        try:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, None
            )
        finally:
            self._replaying -= 1

    def _plan_for(
        self, return_type: GraphQLObjectType, field_details_list: list[FieldDetails]
    ) -> PlanOrReason | None:
        """The plan for this field list (memoized for the request), or None when planning is
        off for the whole request (resolver middleware, an unreadable condition)."""
        memo = self._plan_memo.get(id(field_details_list))
        if memo is not None:
            return memo[1]
        plan = self._lookup(return_type, field_details_list)
        if plan is not None:
            self._plan_memo[id(field_details_list)] = (field_details_list, plan)
        return plan

    def _lookup(
        self, return_type: GraphQLObjectType, field_details_list: Sequence[FieldDetails]
    ) -> PlanOrReason | None:
        if not self._plans_enabled:
            return None
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return Unplannable(UnplannedReason.INCREMENTAL, return_type.name)
        operation_plans = self.plans
        outcomes = self._outcomes
        if outcomes is None:
            try:
                outcomes = operation_plans.outcomes(self.variable_values)
            except Exception:  # graphql-core reports it while collecting the fields
                self._plans_enabled = False
                self._count_disabled(FallbackReason.DIRECTIVE_ERROR)
                return None
            self._outcomes = outcomes
        nodes = [details.node for details in field_details_list]
        return operation_plans.plan_for(return_type, nodes, outcomes)

    def _count_disabled(self, reason: FallbackReason) -> None:
        if not self._counted_disabled:
            self._counted_disabled = True
            self.plan_stats.fallbacks[reason] += 1


__all__ = ["PlannedExecutionContext", "fallback_reason"]
