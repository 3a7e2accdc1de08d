"""The plans of one operation: compiled the first time each selection is completed, and kept
with the prepared operation (graph/pipeline/prepare.py), whose cache bounds them.

The operation's nodes are the same objects for every request that runs it, so inside the
operation a plan is keyed by the object type, the identity of the field nodes whose
sub-selections it completes, and the outcomes of the `@include`/`@skip` conditions that use
variables (one plan per combination, up to `max_plans` per operation). The root selection has
its plan too (`root`): its fields with resolvers are the ones the pipeline calls itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

from graph.pipeline.plans.compiler import Compiler, PlanOrReason, Unplannable, literal_condition
from graph.pipeline.plans.stats import PlanStats, UnplannedReason

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
        self.stats = stats
        self.conditions = variable_conditions(operation, tuple(self.fragments.values()))
        self._max_plans = max_plans
        self._plans: dict[tuple[str, tuple[int, ...], Outcomes], PlanOrReason] = {}

    def outcomes(self, variable_values: VariableValues) -> Outcomes:
        """This request's `if` value of each variable condition (raises as graphql-core would
        when one cannot be read; graphql-core then reports it on its own path)."""
        if not self.conditions:
            return ()
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

    def root(self, type_: GraphQLObjectType, outcomes: Outcomes) -> PlanOrReason:
        """The plan of the operation's own selection set on its root type."""
        return self._plan(type_, (), outcomes)

    def plan_for(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], outcomes: Outcomes
    ) -> PlanOrReason:
        """The plan completing `nodes`' sub-selections on `type_` under `outcomes`."""
        return self._plan(type_, nodes, outcomes)

    def _plan(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], outcomes: Outcomes
    ) -> PlanOrReason:
        key = (type_.name, tuple(map(id, nodes)), outcomes)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if len(self._plans) >= self._max_plans:
            return Unplannable(UnplannedReason.PLAN_BUDGET, type_.name)
        by_node = dict(zip(map(id, self.conditions), outcomes, strict=True))

        def nested(inner: GraphQLObjectType, inner_nodes: Sequence[FieldNode]) -> PlanOrReason:
            return self.plan_for(inner, inner_nodes, outcomes)

        compiler = Compiler(self.schema, self.fragments, by_node, nested)
        if nodes:
            plan = compiler.compile_object(type_, nodes)
        else:
            plan = compiler.compile_selection(type_, self.operation.selection_set)
        self._plans[key] = plan
        self.stats.compiled += 1
        return plan

    def __len__(self) -> int:
        return len(self._plans)


__all__ = ["DEFAULT_MAX_PLANS_PER_OPERATION", "OperationPlans", "Outcomes", "variable_conditions"]
