"""Validation rules that refuse expensive documents before anything runs.

One rule measures every operation in a single walk: its depth, its aliases, its worst-case cost
(counting list sizes) and, for mutations, its root fields. A fragment is measured once and its
measure reused wherever it is spread, so the walk is linear in the document's size however the
fragments nest (Strawberry's own depth and alias validators expand every spread, which doubles the
time per level of a fragment that spreads another twice). A document may hold several
operations (the request's `operationName` picks one): each is measured, whichever runs, and the
aliases are counted over the whole document. Each factory is called once at start-up, so the rule
classes are stable and the validation cache keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
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
from graphql.validation.rules import overlapping_fields_can_be_merged

# graphql-core's field-merging rule compares every pair of fields that share a response name, so
# `{ order { items { sku } items { sku } ... } }` costs the square of its length. The rule meters
# that work and aborts past a budget (500,000 by default: 0.75 s of one core for a document under
# our token limit); at 20,000 the worst document takes ~30 ms and real documents use a few hundred.
FIELD_MERGE_BUDGET = 20_000
ABORTED_MESSAGE = (
    "the document repeats the same fields too often to be checked: merge the repeated selections"
)

# The largest list a field without a `first` argument can return.
DEFAULT_LIST_SIZES = {
    "edges": 1,  # a connection's `first` already multiplied its whole selection
    "items": 100,  # an order has at most 100 lines
    "salesReport": 367,  # at most 366 days apart, both ends included
    "projections": 8,
}
UNKNOWN_LIST_SIZE = 100
MAX_FIRST = 100
# Costs and counts saturate here: a hostile document cannot build numbers too long to print.
CEILING = 10**15


@dataclass(frozen=True, slots=True)
class Measure:
    """What one selection set costs: nesting below it, aliases and cost under it, root fields."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    fields: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, CEILING),
            cost=min(self.cost + other.cost, CEILING),
            fields=min(self.fields + other.fields, CEILING),
        )


class _Walk:
    """Measures selection sets of one document, each fragment at most once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self._schema = schema
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[str, Measure] = {}
        self._open: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> Measure:
        total = Measure()
        if node is None:
            return total
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total + self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._schema.get_type(condition.name.value) if condition else parent
                total = total + self.selection_set(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> Measure:
        known = self._measured.get(name)
        if known is not None:
            return known
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return Measure()  # unknown or cyclic: the standard rules report it
        self._open.add(name)
        target = self._schema.get_type(fragment.type_condition.name.value)
        measure = self.selection_set(fragment.selection_set, target)
        self._open.discard(name)
        self._measured[name] = measure
        return measure

    def _field(self, node: FieldNode, parent: Any) -> Measure:
        fields = parent.fields if isinstance(parent, GraphQLObjectType) else None
        field: GraphQLField | None = fields.get(node.name.value) if fields else None
        child_type: GraphQLNamedType | None = get_named_type(field.type) if field else None
        child = self.selection_set(node.selection_set, child_type)
        introspection = node.name.value.startswith("__")
        return Measure(
            depth=0 if introspection or node.selection_set is None else 1 + child.depth,
            aliases=min((node.alias is not None) + child.aliases, CEILING),
            cost=min(_multiplier(node, field) * (1 + child.cost), CEILING) if field else 1,
            fields=node.name.value != "__typename",
        )


def document_limits_rule(
    *, max_depth: int, max_aliases: int, max_cost: int
) -> type[ValidationRule]:
    """A rule refusing operations nested deeper than `max_depth`, documents with more than
    `max_aliases` aliases, operations whose worst-case cost exceeds `max_cost`, and mutations
    that run more than one command.

    Every field costs 1 and a list field multiplies the cost of what it selects by the most items
    it can return: its `first` argument (100 when `first` is a variable, the argument's default
    when omitted) or its known largest size.

    A mutation runs one command: root mutation fields run one after another and their results are
    non-null, so in a document of several, a refused one would null the whole answer while the
    commands before it stay applied: the client would be told nothing happened.
    """

    class DocumentLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            schema = self.context.schema
            walk = _Walk(schema, node)
            aliases = 0
            for operation in node.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                root = schema.get_root_type(operation.operation)
                measure = walk.selection_set(operation.selection_set, root)
                aliases = min(aliases + measure.aliases, CEILING)
                self._check(operation, measure)
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{aliases} aliases found. Allowed: {max_aliases}",
                        extensions={"code": "QUERY_TOO_COMPLEX", "limit": max_aliases},
                    )
                )

        def _check(self, operation: OperationDefinitionNode, measure: Measure) -> None:
            name = operation.name.value if operation.name else "anonymous"
            if measure.depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {max_depth}",
                        operation,
                        extensions={"code": "QUERY_TOO_COMPLEX", "limit": max_depth},
                    )
                )
            if measure.cost > max_cost:
                shown = f"{measure.cost:,}" if measure.cost < CEILING else f"over {CEILING:,}"
                self.report_error(
                    GraphQLError(
                        f"the operation's cost is {shown}, over the limit of {max_cost:,}: "
                        "ask for fewer items (smaller `first`) or fewer fields",
                        operation,
                        extensions={
                            "code": "QUERY_TOO_COMPLEX",
                            "cost": measure.cost,
                            "limit": max_cost,
                        },
                    )
                )
            if operation.operation == OperationType.MUTATION and measure.fields > 1:
                self.report_error(
                    GraphQLError(
                        f"a mutation request may run one command, not {measure.fields}: send "
                        "them one by one (with a commandId each, so that retries are safe)",
                        operation,
                        extensions={"code": "BAD_USER_INPUT"},
                    )
                )

    return DocumentLimitsRule


def bound_field_merging() -> None:
    """Lower graphql-core's field-merging budget (a module setting it reads per validation)."""
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = FIELD_MERGE_BUDGET


def _multiplier(node: FieldNode, field: GraphQLField) -> int:
    if "first" in field.args:
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is None:
            return _default_int(field.args["first"])
        if isinstance(argument.value, IntValueNode):
            digits = argument.value.value.lstrip("-")
            if len(digits) > 6:  # refused by the Int scalar anyway; never parse thousands of digits
                return MAX_FIRST
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


__all__ = ["ABORTED_MESSAGE", "bound_field_merging", "document_limits_rule"]
