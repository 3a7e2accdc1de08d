"""The bounded cache of plans: one `OperationPlans` per (schema, operation of a document).

Strawberry's ParserCache hands back the same DocumentNode for the same query text (and the
validation cache skips re-validating it), so the operation's nodes are the same objects from
one request to the next and plans are keyed by their identity. An entry keeps its schema,
operation and fragment nodes alive, so an id cannot be reused while the entry exists. Without a
parser cache every request brings new nodes and the planner compiles every time (correct,
only slower); the LRU bound keeps that from growing.

Inside an operation a plan is keyed by the object type, the field nodes whose sub-selections
it completes, and the outcomes of the `@include`/`@skip` conditions that use variables (one
plan per combination, up to `max_plans` per operation).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values

from graph.api.plans.compiler import Compiler, PlanOrReason, Unplannable, literal_condition
from graph.api.plans.stats import PlanStats, UnplannedReason

DEFAULT_MAX_OPERATIONS = 256
DEFAULT_MAX_PLANS_PER_OPERATION = 256

Outcomes = tuple[bool, ...]


def variable_conditions(
    operation: OperationDefinitionNode, fragments: Sequence[FragmentDefinitionNode]
) -> tuple[DirectiveNode, ...]:
    """Every `@include`/`@skip` of the operation and its document's fragments whose `if` is
    not a literal, in document order."""
    found: list[DirectiveNode] = []

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("include", "skip") and (
                    literal_condition(directive) is None
                ):
                    found.append(directive)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                visit(selection.selection_set)
            else:
                assert isinstance(selection, FragmentSpreadNode)

    visit(operation.selection_set)
    for fragment in fragments:
        visit(fragment.selection_set)
    return tuple(found)


class OperationPlans:
    """The plans of one operation, compiled the first time each selection is completed."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        stats: PlanStats,
        max_plans: int = DEFAULT_MAX_PLANS_PER_OPERATION,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = dict(fragments)
        self.conditions = variable_conditions(operation, tuple(self.fragments.values()))
        self._stats = stats
        self._max_plans = max_plans
        self._plans: dict[tuple[str, tuple[int, ...], Outcomes], PlanOrReason] = {}
        self._lock = threading.Lock()

    def outcomes(self, variable_values: VariableValues) -> Outcomes:
        """This request's `if` value of each variable condition (raises as graphql-core would
        when one cannot be read; graphql-core then reports it on its own path)."""
        return tuple(
            bool(
                get_argument_values(
                    GraphQLSkipDirective if node.name.value == "skip" else GraphQLIncludeDirective,
                    node,
                    variable_values,
                )["if"]
            )
            for node in self.conditions
        )

    def plan_for(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], outcomes: Outcomes
    ) -> PlanOrReason:
        """The plan completing `nodes`' sub-selections on `type_` under `outcomes`."""
        key = (type_.name, tuple(map(id, nodes)), outcomes)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        by_node = dict(zip(map(id, self.conditions), outcomes, strict=True))

        def nested(inner: GraphQLObjectType, inner_nodes: Sequence[FieldNode]) -> PlanOrReason:
            return self.plan_for(inner, inner_nodes, outcomes)

        with self._lock:
            if len(self._plans) >= self._max_plans:
                return Unplannable(UnplannedReason.PLAN_BUDGET, type_.name)
        plan = Compiler(self.schema, self.fragments, by_node, nested).compile_object(type_, nodes)
        with self._lock:
            self._plans.setdefault(key, plan)
            self._stats.compiled += 1
        return plan

    def __len__(self) -> int:
        return len(self._plans)


class PlanCache:
    """A bounded LRU of `OperationPlans`, keyed by the identity of the schema, the operation
    node and the document's fragment nodes."""

    def __init__(
        self,
        stats: PlanStats,
        max_operations: int = DEFAULT_MAX_OPERATIONS,
        max_plans_per_operation: int = DEFAULT_MAX_PLANS_PER_OPERATION,
    ) -> None:
        self.stats = stats
        self.max_operations = max_operations
        self.max_plans_per_operation = max_plans_per_operation
        self._entries: OrderedDict[tuple[Any, ...], OperationPlans] = OrderedDict()
        self._lock = threading.Lock()

    def operation(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> OperationPlans:
        """The plans of `operation` on `schema`, created (and the oldest evicted) on a miss."""
        key = (id(schema), id(operation), *map(id, fragments.values()))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        entry = OperationPlans(
            schema, operation, fragments, self.stats, self.max_plans_per_operation
        )
        with self._lock:
            entry = self._entries.setdefault(key, entry)
            while len(self._entries) > self.max_operations:
                self._entries.popitem(last=False)
                self.stats.evicted += 1
        return entry

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every operation's plans."""
        with self._lock:
            self._entries.clear()


__all__ = [
    "DEFAULT_MAX_OPERATIONS",
    "DEFAULT_MAX_PLANS_PER_OPERATION",
    "OperationPlans",
    "Outcomes",
    "PlanCache",
    "variable_conditions",
]
