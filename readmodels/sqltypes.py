"""Column types that keep money exact and times in UTC on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, String, Text
from sqlalchemy.types import TypeDecorator

Line = tuple[str, int, Decimal]


class Money(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text (SQLite has no exact decimal type)."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime; SQLite stores it naive and it comes back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LineList(TypeDecorator[tuple[Line, ...]]):
    """Order lines (sku, quantity, unit price) as JSON text, prices as exact strings."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[Line, ...] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps([[sku, qty, str(price)] for sku, qty, price in value])

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[Line, ...] | None:
        if value is None:
            return None
        return tuple((sku, int(qty), Decimal(price)) for sku, qty, price in json.loads(value))


__all__ = ["Line", "LineList", "Money", "UtcDateTime"]
