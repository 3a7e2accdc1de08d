"""Persisted queries with `ordergraph serve --workers 2` on PostgreSQL: a hash registered
through one worker is found by the other, over POST and GET, in both directions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.support.workers import pin_workers, serve_workers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _by_hash(document: str) -> dict[str, Any]:
    digest = hashlib.sha256(document.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_hash_registered_through_one_worker_is_found_by_the_other(
    postgres_url: str,
) -> None:
    with serve_workers(postgres_url) as base:
        workers = await pin_workers(base)
        try:
            for index, (registers, finds) in enumerate((workers, workers[::-1])):
                document = f"query W{index} {{ projections {{ name position }} }}"
                extensions = _by_hash(document)
                unknown = await finds.request("POST", "/graphql", json={"extensions": extensions})
                code = unknown.json()["errors"][0]["extensions"]["code"]
                assert code == "PERSISTED_QUERY_NOT_FOUND"
                body = {"query": document, "extensions": extensions}
                sent = (await registers.request("POST", "/graphql", json=body)).json()
                assert [p["name"] for p in sent["data"]["projections"]]
                by_post = await finds.request("POST", "/graphql", json={"extensions": extensions})
                assert by_post.json()["data"]["projections"]
                params = {"extensions": json.dumps(extensions)}
                by_get = await finds.request("GET", "/graphql", params=params)
                assert by_get.json()["data"]["projections"]
            assert workers[0].leading != workers[1].leading
        finally:
            for worker in workers:
                await worker.close()
