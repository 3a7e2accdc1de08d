"""Apollo's automatic persisted queries: a client sends `extensions.persistedQuery.sha256Hash`
instead of the document; an unknown hash is answered `PERSISTED_QUERY_NOT_FOUND`, and the client
sends the document with its hash once, which is then remembered (over POST and GET alike).

The registry lives in the database (graph/pipeline/persisted_documents.py), so a hash one
process registered is found by every other; this process keeps its most recently used
documents in memory in front of it, so a hit costs no round trip. Both are bounded twice: by
the number of documents and by their total size, the least recently used dropped first (the
table by a trim after each new document; the uses each process serves from memory reach the
table at most once a minute). A document is remembered only once it has parsed and
validated, so a client cannot fill either with junk. The registry is a shortcut, never a
dependency: when the database cannot be reached for it, a hash is answered as unknown and
the client's document runs all the same.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from graph.pipeline.persisted_documents import PersistedDocuments

log = logging.getLogger("ordergraph.http")

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
# The most text the registry keeps, all documents together.
MAX_STORED_CHARACTERS = 8_000_000
# How often this process tells the table which documents it served (their `used_at`).
TOUCH_SECONDS = 60.0
STORE_FAILURES = (SQLAlchemyError, OSError)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    """The request's persisted query cannot be used; `error` is what the client gets."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run, and the hash to remember it under once it validated (if any)."""

    query: str | None
    remember: str | None = None


class PersistedQueries:
    """Documents by SHA-256 hash, at most `capacity` of them (0: persisted queries are off):
    in the database once `bind` gave it, this process's most recently used in memory."""

    def __init__(self, capacity: int, max_characters: int = MAX_STORED_CHARACTERS) -> None:
        self._capacity = capacity
        self._max_characters = max_characters
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._characters = 0
        self._documents: PersistedDocuments | None = None
        self._used: set[str] = set()
        self._touched_at = time.monotonic()

    def __len__(self) -> int:
        return len(self._cache)

    def bind(self, documents: PersistedDocuments) -> None:
        """Keep and look up documents in this database from now on."""
        self._documents = documents
        self._touched_at = time.monotonic()

    async def unbind(self) -> None:
        """Tell the database what was used since the last time, and stop using it."""
        await self._touch()
        self._documents = None

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Resolved:
        """The document a request runs: its own `query`, or the one its hash names."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return Resolved(query)
        if self._capacity == 0:
            raise PersistedQueryError("PersistedQueryNotSupported", PERSISTED_QUERY_NOT_SUPPORTED)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(
                "persistedQuery must be {version: 1, sha256Hash: ...}: only version 1 is supported",
                "BAD_USER_INPUT",
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise PersistedQueryError(
                "persistedQuery.sha256Hash must be 64 lowercase hexadecimal digits",
                "BAD_USER_INPUT",
            )
        if query is None:
            known = self._cache.get(digest)
            if known is None:
                known = await self._find(digest)
                if known is None:
                    raise PersistedQueryError("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
                self._keep(digest, known)
            else:
                self._cache.move_to_end(digest)
            await self._used_now(digest)
            return Resolved(known)
        if hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query", "BAD_USER_INPUT")
        return Resolved(query, remember=digest)

    async def remember(self, digest: str, query: str) -> None:
        """Keep `query` under `digest`, here and in the database (trimmed to the bounds when it
        was new there)."""
        if len(query) > self._max_characters:
            return
        if digest in self._cache:
            await self._used_now(digest)
            return
        self._keep(digest, query)
        documents = self._documents
        if documents is None:
            return
        try:
            if await documents.add(digest, query, datetime.now(UTC)):
                await self._touch()  # first, so that the trim keeps what this process serves
                await documents.trim(self._capacity, self._max_characters)
        except STORE_FAILURES:
            log.warning("persisted queries: the database did not keep a document", exc_info=True)

    def _keep(self, digest: str, query: str) -> None:
        """Keep `query` in memory, dropping the least recently used beyond the bounds."""
        self._cache[digest] = query
        self._characters += len(query)
        while len(self._cache) > self._capacity or self._characters > self._max_characters:
            _, dropped = self._cache.popitem(last=False)
            self._characters -= len(dropped)

    async def _find(self, digest: str) -> str | None:
        documents = self._documents
        if documents is None:
            return None
        try:
            return await documents.find(digest)
        except STORE_FAILURES:
            log.warning("persisted queries: the database did not answer a lookup", exc_info=True)
            return None

    async def _used_now(self, digest: str) -> None:
        """Note a use; once a minute, tell the database about the uses noted."""
        self._used.add(digest)
        if time.monotonic() - self._touched_at >= TOUCH_SECONDS:
            await self._touch()

    async def _touch(self) -> None:
        self._touched_at = time.monotonic()
        used, self._used = self._used, set()
        documents = self._documents
        if documents is None or not used:
            return
        try:
            await documents.touch(used, datetime.now(UTC))
        except STORE_FAILURES:
            log.warning("persisted queries: the database did not take the uses", exc_info=True)


__all__ = [
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "STORE_FAILURES",
    "TOUCH_SECONDS",
    "PersistedQueries",
    "PersistedQueryError",
    "Resolved",
]
