"""Dataclass messages to and from JSON-safe dicts: Decimal as a string, datetimes as ISO UTC."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")

Decoder = Callable[[Any], Any]


def to_json(value: Any) -> Any:
    """A JSON-safe copy of a message: dataclasses become dicts, Decimals strings, times ISO."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if dataclasses.is_dataclass(kind):
        return {name: to_json(getattr(value, name)) for name in _field_names(kind)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


@cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a message of type `cls` from what `to_json` produced."""
    decoded: T = _decoder(cast(Hashable, cls))(data)
    return decoded


@cache
def _decoder(tp: Any) -> Decoder:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        (only,) = inner
        decode = _decoder(only)
        return lambda value: None if value is None else decode(value)
    if origin is tuple:
        item_type, _ellipsis = typing.get_args(tp)
        decode_item = _decoder(item_type)
        return lambda value: tuple(decode_item(item) for item in value)
    if tp is Decimal:
        return lambda value: Decimal(str(value))
    if tp is datetime:
        return _parse_datetime
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if tp in (str, int, bool):
        return lambda value: value
    raise TypeError(f"no JSON decoder for {tp!r}")


def _dataclass_decoder(cls: type[Any]) -> Decoder:
    hints = typing.get_type_hints(cls)
    decoders = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls)}

    def decode(data: dict[str, Any]) -> Any:
        return cls(
            **{name: decode(data[name]) for name, decode in decoders.items() if name in data}
        )

    return decode


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


__all__ = ["from_json", "to_json"]
