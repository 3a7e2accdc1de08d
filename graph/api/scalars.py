"""The contract's custom scalars: Decimal, DateTime and Position, each checking what it accepts.

Decimal accepts a string of plain decimal notation ("19.99", "-3", "0.5"; no exponent, no NaN,
no infinity, no surrounding spaces) or a JSON/GraphQL integer; a fractional JSON number is
refused because it has already been through a float. It serializes as a string.
DateTime is ISO-8601 in UTC ("Z" or "+00:00"). Position is an integer in 0..2^63-1,
serialized as a JSON number. Every refusal is a GraphQLError, which the error mapping
reports as BAD_USER_INPUT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NewType, TypeVar

import strawberry
from graphql import GraphQLError, IntValueNode, StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

Position = NewType("Position", int)
T = TypeVar("T")

POSITION_MAX = 2**63 - 1
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_MAX_DECIMAL_CHARS = 64
_MAX_POSITION_CHARS = len(str(POSITION_MAX)) + 1  # a sign, or one leading digit too many


def parse_decimal(value: object) -> Decimal:
    """A Decimal from a plain decimal string or an integer; anything else is refused."""
    if isinstance(value, bool):
        raise GraphQLError(f"Decimal cannot represent {value!r}: give a string such as '19.99'")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if len(value) > _MAX_DECIMAL_CHARS or _DECIMAL_TEXT.fullmatch(value) is None:
            raise GraphQLError(
                f"Decimal cannot represent {value[:_MAX_DECIMAL_CHARS]!r}: use plain decimal "
                "notation such as '19.99' (no exponent, no NaN or infinity)"
            )
        try:
            return Decimal(value)
        except InvalidOperation as error:  # pragma: no cover - the pattern already excludes it
            raise GraphQLError(f"Decimal cannot represent {value!r}") from error
    raise GraphQLError(
        f"Decimal cannot represent a {type(value).__name__}: send a string such as '19.99' "
        "(JSON numbers are accepted only when they are integers)"
    )


def _at(node: ValueNode, parse: Callable[[Any], T], value: object) -> T:
    """`parse(value)`, its refusal pointing at the literal `node` (so it has a location)."""
    try:
        return parse(value)
    except GraphQLError as error:
        raise GraphQLError(error.message, node) from None


def parse_decimal_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Decimal:
    if isinstance(node, StringValueNode):
        return _at(node, parse_decimal, node.value)
    if isinstance(node, IntValueNode):
        if len(node.value) > _MAX_DECIMAL_CHARS:
            raise GraphQLError(
                f"Decimal cannot represent an integer of {len(node.value)} digits", node
            )
        return _at(node, parse_decimal, int(node.value))
    raise GraphQLError('Decimal must be a string such as "19.99" or an integer', node)


def serialize_decimal(value: object) -> str:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise GraphQLError(f"Decimal cannot serialize {value!r}")
    return format(value, "f")


def parse_datetime(value: object) -> datetime:
    """An aware UTC datetime from ISO-8601 text ending in 'Z' or '+00:00'."""
    if not isinstance(value, str) or not value.endswith(("Z", "+00:00")):
        raise GraphQLError(f"DateTime must be an ISO-8601 UTC string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise GraphQLError(f"DateTime cannot represent {value!r}") from error
    if parsed.utcoffset() != timedelta(0):
        raise GraphQLError(f"DateTime must be in UTC, got {value!r}")
    return parsed.astimezone(UTC)


def parse_datetime_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> datetime:
    if isinstance(node, StringValueNode):
        return _at(node, parse_datetime, node.value)
    raise GraphQLError("DateTime must be a string", node)


def serialize_datetime(value: object) -> str:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise GraphQLError(f"DateTime cannot serialize {value!r}: not timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_position(value: object) -> Position:
    """A log position: an integer (not a string, not a float) in 0..2^63-1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Position must be an integer, got {value!r}")
    if not 0 <= value <= POSITION_MAX:
        raise GraphQLError(f"Position must be between 0 and {POSITION_MAX}, got {value}")
    return Position(value)


def parse_position_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Position:
    if isinstance(node, IntValueNode):
        if len(node.value) > _MAX_POSITION_CHARS:  # never int() thousands of digits
            raise GraphQLError(f"Position must be between 0 and {POSITION_MAX}", node)
        return _at(node, parse_position, int(node.value))
    raise GraphQLError("Position must be an integer", node)


def serialize_position(value: object) -> int:
    return parse_position(value)


DecimalScalar: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='An exact decimal amount, serialized as a string such as "19.99". Never a float.',
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
)

DateTimeScalar: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 timestamp in UTC.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=parse_datetime_literal,
)

PositionScalar: ScalarDefinition = strawberry.scalar(
    name="Position",
    description=(
        "A position in the global event log: a 64-bit integer serialized as a JSON number. "
        "Positions grow in commit order; a later committed event never has a smaller one."
    ),
    serialize=serialize_position,
    parse_value=parse_position,
    parse_literal=parse_position_literal,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    datetime: DateTimeScalar,
    Position: PositionScalar,
}

__all__ = [
    "POSITION_MAX",
    "SCALAR_MAP",
    "Position",
    "parse_datetime",
    "parse_decimal",
    "parse_position",
    "serialize_datetime",
    "serialize_decimal",
]
