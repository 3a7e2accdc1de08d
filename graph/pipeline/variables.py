"""The one rule variables get beyond graphql-core's coercion: an `Int` is never a float.

graphql-core's `Int` accepts a JSON number with a zero fraction (`1000.0`) as the integer 1000.
A client that sends `"quantity": 1000.0` computed it in floating point, where `0.1 * 3 * 10000`
is 3000.0000000000005 one day and 3000.0 the next; like the `Decimal` scalar, ordergraph asks
for exact numbers and refuses a float wherever an `Int` is declared, at any depth of an input.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    VariableDefinitionNode,
    type_from_ast,
)

_MAX_REPORTED = 10


def integral_floats(
    schema: GraphQLSchema,
    definitions: Collection[VariableDefinitionNode],
    raw: Mapping[str, Any],
) -> list[GraphQLError]:
    """One BAD_USER_INPUT error per float given where an `Int` is declared (at most 10)."""
    errors: list[GraphQLError] = []
    for definition in definitions:
        name = definition.variable.name.value
        if name not in raw:
            continue
        type_ = type_from_ast(schema, definition.type)
        if type_ is None:  # validation refuses unknown types
            continue
        for path, value in _floats_for_ints(type_, raw[name], name):  # type: ignore[arg-type]
            errors.append(
                GraphQLError(
                    f"Variable '${name}' got invalid value {value!r} at '{path}'; Int cannot "
                    "represent a number with a fraction part: send an integer",
                    definition,
                    extensions={"code": "BAD_USER_INPUT", "field": _field(name, path)},
                )
            )
            if len(errors) >= _MAX_REPORTED:
                return errors
    return errors


def _field(variable: str, path: str) -> str:
    """The input the error names, as the input rules name theirs (`items[0].quantity`, without
    the variable); the variable's own name when the float is the variable itself."""
    return path[len(variable) + 1 :] if path != variable else variable


def _floats_for_ints(type_: GraphQLInputType, value: Any, path: str) -> list[tuple[str, float]]:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if type_ is GraphQLInt:
        return [(path, value)] if isinstance(value, float) else []
    if isinstance(type_, GraphQLList):
        if isinstance(value, list):
            found = []
            for index, item in enumerate(value):
                found += _floats_for_ints(type_.of_type, item, f"{path}[{index}]")
            return found
        return _floats_for_ints(type_.of_type, value, path)  # a single item coerces to a list
    if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        found = []
        for field_name, field in type_.fields.items():
            if field_name in value:
                found += _floats_for_ints(field.type, value[field_name], f"{path}.{field_name}")
        return found
    return []


__all__ = ["integral_floats"]
