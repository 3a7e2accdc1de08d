"""Apollo's automatic persisted queries: a client sends `extensions.persistedQuery.sha256Hash`
instead of the document; an unknown hash is answered `PERSISTED_QUERY_NOT_FOUND`, and the client
sends the document with its hash once, which is then remembered (over POST and GET alike).

The store is per process and bounded twice: by the number of documents and by their total size.
It remembers a document only once it has parsed and validated, so a client cannot fill it with
junk, and the least recently used go first.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
# The most text the store keeps, all documents together.
MAX_STORED_CHARACTERS = 8_000_000
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
    """Documents by SHA-256 hash, at most `capacity` of them (0: persisted queries are off)."""

    def __init__(self, capacity: int, max_characters: int = MAX_STORED_CHARACTERS) -> None:
        self._capacity = capacity
        self._max_characters = max_characters
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._characters = 0

    def __len__(self) -> int:
        return len(self._documents)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Resolved:
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
            known = self._documents.get(digest)
            if known is None:
                raise PersistedQueryError("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            self._documents.move_to_end(digest)
            return Resolved(known)
        if hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query", "BAD_USER_INPUT")
        return Resolved(query, remember=digest)

    def remember(self, digest: str, query: str) -> None:
        """Keep `query` under `digest`, dropping the least recently used beyond the bounds."""
        if digest in self._documents or len(query) > self._max_characters:
            return
        self._documents[digest] = query
        self._characters += len(query)
        while len(self._documents) > self._capacity or self._characters > self._max_characters:
            _, dropped = self._documents.popitem(last=False)
            self._characters -= len(dropped)


__all__ = [
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "PersistedQueries",
    "PersistedQueryError",
    "Resolved",
]
