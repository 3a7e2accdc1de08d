"""Rows fetched by key in padded chunks, with one prepared statement per key column."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, select

from domain.storage.database import padded_chunks

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

    from readmodels.readers.answers import ReadDatabase


@cache
def _by_key(key: Any) -> Select[*tuple[Any, ...]]:
    """`key.table`'s rows whose `key` is in the expanding parameter `keys` (built once per key)."""
    return select(key.table).where(key.in_(bindparam("keys", expanding=True)))


async def rows_by_key(db: ReadDatabase, key: Any, keys: Sequence[str]) -> dict[str, RowMapping]:
    """The rows of `key`'s table whose `key` column is one of `keys`, by key."""
    statement = _by_key(key)
    found: dict[str, RowMapping] = {}
    if not keys:
        return found
    async with db.read() as conn:
        for chunk in padded_chunks(list(dict.fromkeys(keys))):
            for row in (await conn.execute(statement, {"keys": chunk})).mappings():
                found[row[key.name]] = row
    return found


__all__ = ["rows_by_key"]
