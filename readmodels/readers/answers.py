"""How the query bus finds the readers: each reader module declares `ANSWERS`, the queries it
answers and the reader of each (`async def reader(db, query)`), and `reader_answers()` collects
them from every module of this package. A new reader is one new module, and nothing else to
register.

A reader takes its connection from `db.read()` and nothing else: the query bus decides where
that is (the views database's read pool, a replica, or one snapshot on a replica whose
freshness it has checked: `readmodels/freshness.py`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
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


def reader_answers() -> dict[type[Query[Any]], Reader]:
    """Every reader module's `ANSWERS` merged; a query answered twice is an error."""
    found: dict[type[Query[Any]], Reader] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        module = importlib.import_module(f"{__package__}.{info.name}")
        answers: Answers = getattr(module, "ANSWERS", {})
        for query_type, reader in answers.items():
            if query_type in found:
                raise ValueError(f"{query_type.__name__} is answered twice ({module.__name__})")
            found[query_type] = reader
    return found


__all__ = ["Answers", "ReadDatabase", "Reader", "reader_answers"]
