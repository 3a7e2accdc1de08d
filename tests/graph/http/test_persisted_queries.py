"""Apollo's automatic persisted queries: a hash instead of the document, over POST and GET,
with the real Apollo Client 4 PersistedQueryLink, and a bounded store of documents."""

from __future__ import annotations

import hashlib
import json

import pytest

from graph.http.persisted import PersistedQueries, PersistedQueryError
from tests.support.browser import node_script
from tests.support.graph import app_client, uvicorn_server

QUERY = "{ projections { name } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
HASH_ONLY = {"persistedQuery": {"version": 1, "sha256Hash": DIGEST}}


async def test_apollo_client_places_and_reads_an_order_through_hashes_over_post(
    sqlite_url: str,
) -> None:
    with uvicorn_server(sqlite_url) as address:
        async with node_script("apollo_persisted.cjs", f"http://{address}/graphql", "post") as js:
            created = await js.expect("created")
            read = await js.expect("read")
            again = await js.expect("read again")
            await js.finish()
    assert created["order"]["status"] == "PLACED"
    # Unknown hash first, then the document with its hash; the second read sends the hash only.
    assert [r["hashOnly"] for r in created["requests"]] == [True, False]
    assert [r["hashOnly"] for r in read["requests"]] == [True, False]
    assert again["requests"] == [{"method": "POST", "hashOnly": True, "status": 200}]
    assert again["order"] == read["order"] == created["order"]


async def test_apollo_client_reads_through_hashes_over_get(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        async with node_script("apollo_persisted.cjs", f"http://{address}/graphql", "get") as js:
            await js.expect("created")
            read = await js.expect("read")
            again = await js.expect("read again")
            await js.finish()
    # A GET with an unknown hash, then the document by POST (Apollo's own fallback).
    assert [(r["method"], r["hashOnly"]) for r in read["requests"]] == [
        ("GET", True),
        ("POST", False),
    ]
    assert again["requests"] == [{"method": "GET", "hashOnly": True, "status": 200}]


async def test_an_unknown_hash_is_persisted_query_not_found_and_cached_by_nobody(
    sqlite_url: str,
) -> None:
    async with app_client(sqlite_url) as client:
        params = {"extensions": json.dumps(HASH_ONLY)}
        response = await client.http.get("/graphql", params=params, headers={"accept": "*/*"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        sent = await client.http.post("/graphql", json={"query": QUERY, "extensions": HASH_ONLY})
        assert sent.json()["data"]["projections"]
        by_get = await client.http.get("/graphql", params=params)
        assert by_get.json()["data"] == sent.json()["data"]
        by_post = await client.http.post("/graphql", json={"extensions": HASH_ONLY})
        assert by_post.json()["data"] == sent.json()["data"]


async def test_a_hash_that_does_not_match_the_document_is_refused(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
        answer = await client.http.post("/graphql", json={"query": QUERY, "extensions": wrong})
        assert answer.json()["errors"][0]["message"] == "provided sha does not match query"
        later = await client.http.post("/graphql", json={"extensions": wrong})
        assert later.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_document_that_does_not_validate_is_not_remembered(sqlite_url: str) -> None:
    bad = "{ noSuchField }"
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(bad.encode()).hexdigest()}
    }
    async with app_client(sqlite_url) as client:
        await client.http.post("/graphql", json={"query": bad, "extensions": extensions})
        answer = (await client.http.post("/graphql", json={"extensions": extensions})).json()
        assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_persisted_queries_can_be_turned_off(sqlite_url: str) -> None:
    async with app_client(sqlite_url, persisted_queries=0) as client:
        answer = (await client.http.post("/graphql", json={"extensions": HASH_ONLY})).json()
        assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_the_memory_in_front_keeps_the_most_recently_used_within_its_bounds() -> None:
    store = PersistedQueries(capacity=2, max_characters=100)  # not bound to a database
    documents = [f"{{ a{i}: projections {{ name }} }}" for i in range(3)]
    digests = [hashlib.sha256(d.encode()).hexdigest() for d in documents]

    await store.remember(digests[0], documents[0])
    await store.remember(digests[1], documents[1])
    assert (await store.resolve(None, by_hash(digests[0]))).query == documents[0]  # used: kept
    await store.remember(digests[2], documents[2])
    assert len(store) == 2
    with pytest.raises(PersistedQueryError):
        await store.resolve(None, by_hash(digests[1]))
    await store.remember("f" * 64, "x" * 101)  # larger than the whole budget: never kept
    assert len(store) == 2


def by_hash(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}
