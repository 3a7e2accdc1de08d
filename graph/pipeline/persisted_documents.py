"""The documents of Apollo's persisted queries, kept in the database (`persisted_query`), so a
hash registered through one process is found by every process on that database.

The table is bounded like the in-process registry before it: by the number of documents and
by their total size, the least recently used dropped first. "Used" is each row's `used_at`:
the time it was registered, moved forward by the processes that serve it (in batches, at most
once a minute per process: graph/http/persisted.py), so the rows a trim keeps are the ones
some process has served lately. A trim is one statement any process may run, after it
registered a document: it keeps the most recently used rows within both bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.storage.tables import NAMING_CONVENTION
from readmodels.sqltypes import UtcDateTime

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from domain.storage.database import Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)

persisted_query = Table(
    "persisted_query",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("characters", Integer, nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
)
Index(None, persisted_query.c.used_at)

_FIND = select(persisted_query.c.document).where(persisted_query.c.sha256 == bindparam("sha256"))
_TOUCH = (
    update(persisted_query)
    .where(persisted_query.c.sha256 == bindparam("digest"))
    .where(persisted_query.c.used_at < bindparam("now"))
    .values(used_at=bindparam("now"))
)
_NEWEST_FIRST = (persisted_query.c.used_at.desc(), persisted_query.c.sha256)
_RANKED = select(
    persisted_query.c.sha256,
    func.row_number().over(order_by=_NEWEST_FIRST).label("rank"),
    func.sum(persisted_query.c.characters).over(order_by=_NEWEST_FIRST).label("total"),
).subquery()
_BEYOND = select(_RANKED.c.sha256).where(
    (_RANKED.c.rank > bindparam("documents")) | (_RANKED.c.total > bindparam("characters"))
)
_TRIM = delete(persisted_query).where(persisted_query.c.sha256.in_(_BEYOND.scalar_subquery()))


class PersistedDocuments:
    """The persisted-query documents of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        insert = postgresql_insert if db.dialect == "postgresql" else sqlite_insert
        self._add = insert(persisted_query).on_conflict_do_nothing(index_elements=["sha256"])

    async def find(self, digest: str) -> str | None:
        """The document registered under `digest`, or None."""
        async with self.db.read() as conn:
            found: str | None = (await conn.execute(_FIND, {"sha256": digest})).scalar()
        return found

    async def add(self, digest: str, document: str, now: datetime) -> bool:
        """Register `document` under `digest` (used now); False when it already was."""
        row = {"sha256": digest, "document": document, "characters": len(document)}
        async with self.db.write() as conn:
            added = await conn.execute(self._add, {**row, "used_at": now})
        return bool(added.rowcount)

    async def touch(self, digests: Collection[str], now: datetime) -> None:
        """Record that these documents were used (at `now`, unless a later use is recorded)."""
        if not digests:
            return
        async with self.db.write() as conn:
            await conn.execute(_TOUCH, [{"digest": digest, "now": now} for digest in digests])

    async def trim(self, documents: int, characters: int) -> int:
        """Drop the least recently used beyond `documents` rows or `characters` in all;
        returns how many were dropped."""
        async with self.db.write() as conn:
            trimmed = await conn.execute(_TRIM, {"documents": documents, "characters": characters})
        return trimmed.rowcount

    async def count(self) -> tuple[int, int]:
        """How many documents there are, and their characters in all."""
        query = select(func.count(), func.coalesce(func.sum(persisted_query.c.characters), 0))
        async with self.db.read() as conn:
            documents, characters = (await conn.execute(query)).one()
        return int(documents), int(characters)


__all__ = ["PersistedDocuments", "metadata", "persisted_query"]
