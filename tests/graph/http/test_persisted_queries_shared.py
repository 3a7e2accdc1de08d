"""Persisted queries kept in the database: a hash registered through one process is found by
every other (two app instances on one SQLite file here; two `serve` workers on PostgreSQL in
tests/system/test_persisted_queries_workers.py), the table bounded by count and by size with
the least recently used dropped first, and a database that cannot answer costing the client
one resend, never an error."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from domain.storage.database import Database
from graph.http.persisted import PersistedQueries, PersistedQueryError
from graph.ops.migrate import migrate
from graph.pipeline.persisted_documents import PersistedDocuments
from tests.support.graph import app_client

QUERY = "query Names { projections { name } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
BY_HASH = {"persistedQuery": {"version": 1, "sha256Hash": DIGEST}}
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _by_hash(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_hash_registered_through_one_app_is_found_by_another(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as first, app_client(sqlite_url) as second:
        unknown = await second.http.post("/graphql", json={"extensions": BY_HASH})
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        sent = await first.http.post("/graphql", json={"query": QUERY, "extensions": BY_HASH})
        assert sent.json()["data"]["projections"]
        found = await second.http.post("/graphql", json={"extensions": BY_HASH})
        assert found.json() == sent.json()


async def test_the_table_keeps_the_most_recently_used_within_both_bounds(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        table = PersistedDocuments(db)
        documents = [f"{{ a{i}: projections {{ name }} }}" for i in range(4)]
        for minutes, document in enumerate(documents[:3]):
            assert await table.add(_digest(document), document, T0 + timedelta(minutes=minutes))
        assert not await table.add(_digest(documents[0]), documents[0], T0)  # already there
        await table.touch([_digest(documents[0])], T0 + timedelta(minutes=5))  # served lately
        await table.touch([_digest(documents[0])], T0)  # an older use never moves it back
        assert await table.trim(documents=2, characters=10_000) == 1
        assert await table.find(_digest(documents[1])) is None  # the least recently used
        assert await table.find(_digest(documents[0])) == documents[0]
        size = len(documents[0])
        await table.add(_digest(documents[3]), documents[3], T0 + timedelta(minutes=9))
        assert await table.trim(documents=10, characters=2 * size) == 1
        assert await table.count() == (2, 2 * size)
        assert await table.find(_digest(documents[2])) is None
    finally:
        await db.dispose()


async def test_registering_through_one_registry_trims_what_others_left(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await migrate(db)
        first, second, third = (PersistedQueries(capacity=2) for _ in range(3))
        for registry in (first, second, third):
            registry.bind(PersistedDocuments(db))
        documents = [f"{{ b{i}: projections {{ name }} }}" for i in range(3)]
        digests = [_digest(document) for document in documents]
        await first.remember(digests[0], documents[0])
        await second.remember(digests[1], documents[1])
        await second.remember(digests[2], documents[2])
        assert await PersistedDocuments(db).count() == (2, 2 * len(documents[0]))
        assert await PersistedDocuments(db).find(digests[0]) is None  # the least recently used
        # The first registry still serves it from memory; the others no longer know it.
        assert (await first.resolve(None, _by_hash(digests[0]))).query == documents[0]
        with pytest.raises(PersistedQueryError, match="PersistedQueryNotFound"):
            await third.resolve(None, _by_hash(digests[0]))
        assert (await third.resolve(None, _by_hash(digests[2]))).query == documents[2]
    finally:
        await db.dispose()


async def test_a_table_that_cannot_answer_costs_one_resend_never_an_error(
    sqlite_url: str,
) -> None:
    unmigrated = Database(sqlite_url)  # no persisted_query table: every statement fails
    try:
        registry = PersistedQueries(capacity=10)
        registry.bind(PersistedDocuments(unmigrated))
        resolved = await registry.resolve(QUERY, BY_HASH)
        await registry.remember(DIGEST, QUERY)  # logged, kept in memory
        assert resolved.remember == DIGEST
        assert (await registry.resolve(None, BY_HASH)).query == QUERY
        other = PersistedQueries(capacity=10)
        other.bind(PersistedDocuments(unmigrated))
        with pytest.raises(PersistedQueryError, match="PersistedQueryNotFound"):
            await other.resolve(None, BY_HASH)  # the client sends its document again
        await registry.unbind()  # the uses cannot be written: logged, not raised
    finally:
        await unmigrated.dispose()


async def test_a_hash_served_from_memory_costs_no_round_trip(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    statements: list[str] = []

    def count(*args: Any) -> None:
        if "persisted_query" in args[2]:
            statements.append(args[2])

    try:
        await migrate(db)
        event.listen(db.read_engine.sync_engine, "before_cursor_execute", count)
        first, second = PersistedQueries(capacity=10), PersistedQueries(capacity=10)
        first.bind(PersistedDocuments(db))
        second.bind(PersistedDocuments(db))
        await first.remember(DIGEST, QUERY)
        for _ in range(3):
            assert (await first.resolve(None, BY_HASH)).query == QUERY
        assert statements == []  # the process that registered it never asks the table
        for _ in range(3):
            assert (await second.resolve(None, BY_HASH)).query == QUERY
        assert len(statements) == 1  # the other asks once, then answers from memory
    finally:
        await db.dispose()
