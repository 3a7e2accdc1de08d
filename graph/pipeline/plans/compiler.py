"""Compiling one object's selection into a plan: straight-line Python over the DTO.

A plan completes an object the way graphql-core's `collect_and_execute_subfields` would, for a
selection made only of plain fields: it groups the selections by response key exactly as
`collect_fields` does (`collect`, below: aliases, named and inline fragments, `@include` and
`@skip` decided from this request's outcomes), then describes each key in a `FieldSpec`: the
attribute Strawberry's default resolver reads (`getattr(source, python_name)`), nullability, and
the completion of the field's type (the leaf serializer from leaves.py, or a completer for a
list or a nested object's plan). codegen.py writes the specs of one selection as one function.

A plan never reports an error. When it meets anything graphql-core would report or treat
specially (None in a non-null field, a serializer refusing, a value that is not a list) it
raises `PlanFallback`, and the executor hands the whole object to graphql-core.

A field with its own resolver (a DataLoader, a freshness wait, a count) is `delegated`: the
executor has graphql-core's `execute_field` run it, at its place in the dict, once the plan has
completed the rest. A nested object with such a field makes its parent's selection unplannable
(the parent goes to graphql-core, and the object gets its own plan when graphql-core completes
it), as does an abstract type or a directive other than `@include`/`@skip` (`Unplannable`).
"""

from __future__ import annotations

from builtins import getattr as builtin_getattr
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
    type_from_ast,
)
from graphql.execution.collect_fields import FieldDetails
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graph.pipeline.plans.codegen import FieldSpec, object_runner
from graph.pipeline.plans.leaves import leaf_serializer
from graph.pipeline.plans.stats import FallbackReason, PlanFallback, UnplannedReason

Completer: TypeAlias = Callable[[Any], Any]
"""A type's completion: the value a getter returned in, its completed value out."""

SKIP, INCLUDE = "skip", "include"
NULL = FallbackReason.NULL_IN_NON_NULL
UNEXPECTED = FallbackReason.UNEXPECTED_VALUE


@dataclass(frozen=True, slots=True)
class Unplannable:
    """Why a selection stays on graphql-core's path, and where (`Type.field`)."""

    reason: UnplannedReason
    where: str


class NotPlannable(Exception):
    def __init__(self, reason: UnplannedReason, where: str) -> None:
        super().__init__(f"{reason.value} at {where}")
        self.unplannable = Unplannable(reason, where)


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    """The plan of one object type's selection: `run(source)` is its completed dict."""

    type_name: str
    keys: tuple[str, ...]
    run: Callable[[Any], dict[str, Any]]
    source: str
    """The Python source of `run` (codegen.py), for reading what a selection compiled to."""
    delegated: tuple[tuple[str, list[FieldDetails]], ...] = ()
    """The keys graphql-core executes (fields with their own resolvers), with the field lists
    it is given for them; `run` leaves a placeholder at their place in the dict."""


PlanOrReason: TypeAlias = ObjectPlan | Unplannable
NestedPlans: TypeAlias = Callable[[GraphQLObjectType, Sequence[FieldNode]], PlanOrReason]
"""Where the compiler gets the plan of a nested object (memoized by the operation's plans)."""


class Compiler:
    """Compiles selections of one operation under one set of `@include`/`@skip` outcomes.

    `outcomes` maps `id(directive node)` to the `if` value of every `@include`/`@skip` with a
    variable, as coerced for the request; literal conditions are read from the document.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        outcomes: Mapping[int, bool],
        nested: NestedPlans,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.outcomes = outcomes
        self.nested = nested

    def compile_object(self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]) -> PlanOrReason:
        """The plan of `nodes`' merged sub-selections on `type_`, or why there is none."""
        return self._compile(type_, [node.selection_set for node in nodes if node.selection_set])

    def compile_selection(
        self, type_: GraphQLObjectType, selection_set: SelectionSetNode
    ) -> PlanOrReason:
        """The plan of one selection set on `type_` (an operation's, on its root type)."""
        return self._compile(type_, [selection_set])

    def _compile(
        self, type_: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> PlanOrReason:
        try:
            grouped = self.collect(type_, selection_sets)
            specs = tuple(
                self.field_spec(type_, key, field_nodes) for key, field_nodes in grouped.items()
            )
        except NotPlannable as refusal:
            return refusal.unplannable
        run, source = object_runner(type_.name, specs)
        delegated = tuple(
            (spec.key, [FieldDetails(node, None) for node in grouped[spec.key]])
            for spec in specs
            if spec.delegated
        )
        return ObjectPlan(type_.name, tuple(grouped), run, source, delegated)

    # -- grouping, as graphql-core's collect_fields.visit_selection_sets does it ---------------

    def collect(
        self, runtime_type: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The selections of `selection_sets` grouped by response key, in first-seen order."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._visit(runtime_type, selection_set, grouped, visited)
        return grouped

    def _visit(
        self,
        runtime_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if self._included(selection.directives, runtime_type):
                    key = (selection.alias or selection.name).value
                    grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._included(selection.directives, runtime_type) and self._applies(
                    selection, runtime_type
                ):
                    self._visit(runtime_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if not self._included(selection.directives, runtime_type):
                    continue
                fragment = self.fragments.get(name)
                if fragment is None or not self._applies(fragment, runtime_type):
                    continue
                if name in visited:
                    continue
                visited.add(name)
                if fragment.variable_definitions:
                    raise NotPlannable(UnplannedReason.INCREMENTAL, f"...{name}")
                self._visit(runtime_type, fragment.selection_set, grouped, visited)

    def _included(
        self, directives: Sequence[DirectiveNode] | None, runtime_type: GraphQLObjectType
    ) -> bool:
        """False when `@skip(if: true)` or `@include(if: false)`; other directives refuse."""
        for directive in directives or ():
            name = directive.name.value
            if name not in (SKIP, INCLUDE):
                raise NotPlannable(UnplannedReason.DIRECTIVE, f"{runtime_type.name} @{name}")
            if self._condition(directive) is (name == SKIP):
                return False
        return True

    def _condition(self, directive: DirectiveNode) -> bool:
        outcome = self.outcomes.get(id(directive))
        if outcome is not None:
            return outcome
        literal = literal_condition(directive)
        if literal is not None:
            return literal
        raise NotPlannable(UnplannedReason.DIRECTIVE, f"@{directive.name.value}")

    def _applies(
        self, fragment: InlineFragmentNode | FragmentDefinitionNode, type_: GraphQLObjectType
    ) -> bool:
        """graphql-core's does_fragment_condition_match."""
        if fragment.type_condition is None:
            return True
        condition = type_from_ast(self.schema, fragment.type_condition)
        if condition is type_:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, type_)

    # -- one field: its getter and the completion of its type ---------------------------------

    def field_spec(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldSpec:
        """How one response key's field is read from the source and completed."""
        name = nodes[0].name.value
        where = f"{parent.name}.{name}"
        if name == "__typename":
            return FieldSpec(key, constant=parent.name)
        field = parent.fields.get(name)
        if field is None:
            raise NotPlannable(UnplannedReason.UNKNOWN_FIELD, where)
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if (
            not isinstance(definition, StrawberryField)
            or not definition.is_basic_field
            or getattr(field.resolve, "_is_default", False) is not True
        ):
            return FieldSpec(key, delegated=True)  # graphql-core's execute_field runs it
        if field.args or any(node.arguments for node in nodes):
            raise NotPlannable(UnplannedReason.ARGUMENTS, where)
        # Strawberry's default resolver for a field without one: getattr, unless configured.
        resolver, attribute = definition.default_resolver, definition.python_name
        getter = None if resolver is builtin_getattr else partial(_resolve, resolver, attribute)
        nullable = not isinstance(field.type, GraphQLNonNull)
        named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if is_leaf_type(named):
            exact, serialize = leaf_serializer(named)
            return FieldSpec(key, attribute, getter, nullable, exact, serialize)
        complete = self.completer(field.type, nodes, where)
        return FieldSpec(key, attribute, getter, nullable, complete=complete)

    def completer(self, type_: GraphQLOutputType, nodes: list[FieldNode], where: str) -> Completer:
        """The completion of a value of `type_` (graphql-core's complete_value, sans errors)."""
        nullable = not isinstance(type_, GraphQLNonNull)
        inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if is_list_type(inner):
            return _list_completer(self.completer(inner.of_type, nodes, where), nullable)
        if is_leaf_type(inner):
            return _leaf_completer(inner, nullable)
        if is_abstract_type(inner):
            raise NotPlannable(UnplannedReason.ABSTRACT_TYPE, where)
        assert is_object_type(inner)
        if inner.is_type_of is not None:
            raise NotPlannable(UnplannedReason.IS_TYPE_OF, where)
        plan = self.nested(inner, nodes)
        if isinstance(plan, Unplannable):
            raise NotPlannable(plan.reason, plan.where)
        if plan.delegated:  # only the executor can run those: this object is completed there
            raise NotPlannable(UnplannedReason.RESOLVER, f"{inner.name}.{plan.delegated[0][0]}")
        return _object_completer(plan.run, nullable)


def literal_condition(directive: DirectiveNode) -> bool | None:
    """The `if` of an `@include`/`@skip` written as a literal `true`/`false`, else None."""
    arguments = directive.arguments or ()
    if len(arguments) == 1 and isinstance(arguments[0].value, BooleanValueNode):
        return arguments[0].value.value
    return None


def _resolve(resolver: Callable[[Any, str], Any], attribute: str, source: Any) -> Any:
    return resolver(source, attribute)


def _leaf_completer(type_: Any, nullable: bool) -> Completer:
    exact, serialize = leaf_serializer(type_)

    def complete(value: Any) -> Any:
        if type(value) is exact:
            return value
        if value is None:
            if nullable:
                return None
            raise PlanFallback(NULL)
        return serialize(value)

    return complete


def _list_completer(item: Completer, nullable: bool) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise PlanFallback(NULL)
        kind = type(value)
        if kind is not list and kind is not tuple:
            raise PlanFallback(UNEXPECTED)
        return [item(element) for element in value]

    return complete


def _object_completer(run: Callable[[Any], dict[str, Any]], nullable: bool) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise PlanFallback(NULL)
        if value is Undefined or isinstance(value, Exception):
            raise PlanFallback(UNEXPECTED)
        return run(value)

    return complete


__all__ = [
    "Compiler",
    "Completer",
    "ObjectPlan",
    "PlanOrReason",
    "Unplannable",
    "literal_condition",
]
