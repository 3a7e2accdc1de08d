"""What a reader is: `async def reader(db, query)`, and `ANSWERS`, the queries a reader module
answers and the reader of each (`readmodels/registry.py` lists the modules' `ANSWERS`).

A reader takes its connection from `db.read()` and nothing else: the query bus decides where
that is (the views database's read pool, a replica, or one snapshot on a replica whose
freshness it has checked: `readmodels/freshness.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from sqlalchemy.ext.asyncio import AsyncConnection

    from readmodels.queries import Query


class ReadDatabase(Protocol):
    """Where a reader reads: `read()` lends it a connection for the block."""

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


Reader = Callable[[ReadDatabase, Any], Awaitable[Any]]
Answers = Mapping[type["Query[Any]"], Reader]


__all__ = ["Answers", "ReadDatabase", "Reader"]
