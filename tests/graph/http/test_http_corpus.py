"""The endpoint's answers to the corpus of tests/graph/http/http_corpus.py, byte for byte (status,
media type, body), as recorded in http_corpus.json.

The first recording was Strawberry's view, before the pipeline replaced it (issue 20); the
endpoint matched it except where the issue changed the answer on purpose (what the view
answered as text/plain is a coded GraphQL error in JSON). Since then the file is recorded from
the endpoint, and re-recorded only when an answer changes on purpose (a new field, a new code):
`python -m tests.graph.http.http_corpus --write tests/graph/http/http_corpus.json`, then read
the diff."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx

from tests.graph.http.http_corpus import RECORDED, record
from tests.support.graph import app_client

if TYPE_CHECKING:
    from pathlib import Path


async def test_the_endpoint_answers_as_recorded(tmp_path: Path) -> None:
    recorded: dict[str, list[Any]] = json.loads(RECORDED.read_text())
    answers = await record(f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}")
    assert answers.keys() == recorded.keys()
    for key, answer in recorded.items():
        assert answers[key] == answer, key
    assert not [a for a in answers.values() if a[1] is None or a[1].startswith("text/plain")]


async def _prepared(http: httpx.AsyncClient, outcome: str) -> int:
    text = (await http.get("/metrics")).text
    pattern = rf'^ordergraph_prepared_operations_total\{{outcome="{outcome}"\}} (\S+)$'
    found = re.search(pattern, text, re.M)
    assert found is not None, text
    return int(float(found.group(1)))


async def test_a_repeated_request_is_prepared_once_and_answered_alike(sqlite_url: str) -> None:
    body = {"query": "query Get($id: ID!) { order(id: $id) { id } }", "variables": {"id": "x"}}
    async with app_client(sqlite_url) as client:
        first = await client.http.post("/graphql", json=body)
        hits, misses = await _prepared(client.http, "hit"), await _prepared(client.http, "miss")
        again = await client.http.post("/graphql", json=body)
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert await _prepared(client.http, "hit") == hits + 1
        assert await _prepared(client.http, "miss") == misses
        # A mutation prepared over POST is still refused over GET.
        mutation = 'mutation { retryProjection(name: "order_views") { name } }'
        assert (await client.http.post("/graphql", json={"query": mutation})).status_code == 200
        refused = await client.http.get("/graphql", params={"query": mutation})
        assert refused.status_code == 405
        assert refused.headers["allow"] == "POST"
