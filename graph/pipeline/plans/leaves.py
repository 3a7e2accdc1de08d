"""Leaf serializers: graphql-core's `coerce_output_value` of a scalar or enum, with a shortcut
only where its answer is known without calling it.

graphql-core completes a leaf with `return_type.coerce_output_value(value)` and refuses a None
or Undefined result (`Executor.complete_leaf_value`). `leaf_serializer` returns that call, and
for the specified scalars an exact Python type whose values serialize to themselves: String
and ID return an exact `str` unchanged, Boolean an exact `bool`, Int an exact `int` in the
32-bit range. Enums remember the name each member serialized to (the serializer is a pure
function of the member). Anything the serializer would not be called on by graphql-core (an
exception instance, Undefined) is a fallback, never serialized here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
    Undefined,
)

from graph.pipeline.plans.stats import FallbackReason, PlanFallback

Serializer = Callable[[Any], Any]

GRAPHQL_MIN_INT = -(2**31)
GRAPHQL_MAX_INT = 2**31 - 1


def _checked(coerce: Serializer) -> Serializer:
    """`coerce` as graphql-core calls it: never on an exception or Undefined (graphql-core
    raises or nulls those before), and a None or Undefined result is an error."""

    def serialize(value: Any) -> Any:
        if value is Undefined or isinstance(value, Exception):
            raise PlanFallback(FallbackReason.UNEXPECTED_VALUE)
        result = coerce(value)
        if result is None or result is Undefined:
            raise PlanFallback(FallbackReason.SERIALIZER_ERROR)
        return result

    return serialize


def _int_serializer(coerce: Serializer) -> Serializer:
    checked = _checked(coerce)

    def serialize(value: Any) -> Any:
        if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
            return value
        return checked(value)

    return serialize


def _enum_serializer(coerce: Serializer) -> Serializer:
    checked = _checked(coerce)
    names: dict[Any, tuple[type, Any]] = {}

    def serialize(value: Any) -> Any:
        if isinstance(value, Enum):
            known = names.get(value)
            if known is not None and known[0] is type(value):
                return known[1]
            name = checked(value)
            names[value] = (type(value), name)
            return name
        return checked(value)

    return serialize


def leaf_serializer(type_: GraphQLLeafType) -> tuple[type | None, Serializer]:
    """The serializer of a scalar or enum, and the exact type (or None) of the values it
    returns unchanged, which a plan may pass through without calling it."""
    coerce: Serializer = type_.coerce_output_value
    if isinstance(type_, GraphQLEnumType):
        return None, _enum_serializer(coerce)
    if type_ is GraphQLInt:
        return None, _int_serializer(coerce)
    if type_ is GraphQLString or type_ is GraphQLID:
        return str, _checked(coerce)
    if type_ is GraphQLBoolean:
        return bool, _checked(coerce)
    return None, _checked(coerce)


__all__ = ["GRAPHQL_MAX_INT", "GRAPHQL_MIN_INT", "Serializer", "leaf_serializer"]
