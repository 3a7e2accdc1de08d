"""Validation rules that refuse expensive documents before anything runs.

Strawberry has depth, alias and token limits; these add what it lacks: a cost limit that counts
list sizes, at most one operation per document, and one command per mutation. Each factory is
called once at start-up, so the rule classes are stable and the validation cache keeps working.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    is_list_type,
    is_non_null_type,
)
from graphql.type import GraphQLObjectType, GraphQLSchema

# The largest list a field without a `first` argument can return.
DEFAULT_LIST_SIZES = {
    "edges": 1,  # a connection's `first` already multiplied its whole selection
    "items": 100,  # an order has at most 100 lines
    "salesReport": 367,  # at most 366 days apart, both ends included
    "projections": 8,
}
UNKNOWN_LIST_SIZE = 100
MAX_FIRST = 100


def cost_limit_rule(max_cost: int) -> type[ValidationRule]:
    """A rule refusing operations whose worst-case cost exceeds `max_cost`.

    Every field costs 1 and a list field multiplies the cost of what it selects by the most items
    it can return: its `first` argument (100 when `first` is a variable, the argument's default
    when omitted) or its known largest size.
    """

    class CostLimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            if root is None:
                return
            cost = _selection_cost(self, schema, node.selection_set, root, depth=0)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the operation's cost is {cost:,}, over the limit of {max_cost:,}: "
                        "ask for fewer items (smaller `first`) or fewer fields",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": max_cost},
                    )
                )

    return CostLimitRule


class SingleOperationRule(ValidationRule):
    """A document may hold at most one operation."""

    def enter_document(self, node: Any, *_: Any) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            self.report_error(
                GraphQLError(
                    f"a request may contain one operation, not {len(operations)}",
                    operations[1],
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )


class SingleMutationFieldRule(ValidationRule):
    """A mutation runs one command. Root mutation fields run one after another and their results
    are non-null, so in a document of several, a refused one would null the whole answer while
    the commands before it stay applied: the client would be told nothing happened."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation != OperationType.MUTATION:
            return
        fields = _root_fields(self, node.selection_set, depth=0)
        if fields > 1:
            self.report_error(
                GraphQLError(
                    f"a mutation request may run one command, not {fields}: send them one by "
                    "one (with a commandId each, so that retries are safe)",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )


def _root_fields(rule: ValidationRule, selection_set: SelectionSetNode, *, depth: int) -> int:
    if depth > 16:
        return 0
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += selection.name.value != "__typename"
        elif isinstance(selection, InlineFragmentNode):
            count += _root_fields(rule, selection.selection_set, depth=depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = rule.context.get_fragment(selection.name.value)
            if fragment is not None:
                count += _root_fields(rule, fragment.selection_set, depth=depth + 1)
    return count


def _selection_cost(
    rule: ValidationRule,
    schema: GraphQLSchema,
    selection_set: SelectionSetNode | None,
    parent: Any,
    *,
    depth: int,
) -> int:
    if selection_set is None or depth > 64:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(rule, schema, selection, parent, depth)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            total += _selection_cost(rule, schema, selection.selection_set, target, depth=depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = rule.context.get_fragment(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value)
                total += _selection_cost(
                    rule, schema, fragment.selection_set, target, depth=depth + 1
                )
    return total


def _field_cost(
    rule: ValidationRule, schema: GraphQLSchema, node: FieldNode, parent: Any, depth: int
) -> int:
    fields = getattr(parent, "fields", None) if isinstance(parent, GraphQLObjectType) else None
    field: GraphQLField | None = fields.get(node.name.value) if fields else None
    if field is None:
        return 1
    child = _selection_cost(
        rule, schema, node.selection_set, get_named_type(field.type), depth=depth + 1
    )
    return _multiplier(node, field) * (1 + child)


def _multiplier(node: FieldNode, field: GraphQLField) -> int:
    if "first" in field.args:
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is None:
            return _default_int(field.args["first"])
        if isinstance(argument.value, IntValueNode):
            return max(1, min(int(argument.value.value), MAX_FIRST))
        return MAX_FIRST
    field_type = field.type.of_type if is_non_null_type(field.type) else field.type
    if is_list_type(field_type):
        return DEFAULT_LIST_SIZES.get(node.name.value, UNKNOWN_LIST_SIZE)
    return 1


def _default_int(argument: GraphQLArgument) -> int:
    """An Int argument's default, whichever way the schema holds it (graphql-core 3.2 or 3.3)."""
    default = getattr(argument, "default", None)
    if default is not None:
        if isinstance(default.value, int):
            return default.value
        if isinstance(default.literal, IntValueNode):
            return int(default.literal.value)
    if isinstance(argument.default_value, int):
        return argument.default_value
    return MAX_FIRST


__all__ = ["SingleMutationFieldRule", "SingleOperationRule", "cost_limit_rule"]
