"""The endpoint answers the corpus of tests/graph/http_corpus.py as Strawberry's view did,
byte for byte (status, media type, body), except where issue 20 changed the answer on purpose:
what the view answered as text/plain (a body that is not a GraphQL request, a subscription or
a mutation over the wrong method, an unknown operationName) is now a coded GraphQL error in
the JSON media type the client accepts; and issue 22 added `extensions.field` to every input
error (the recorded answers predate it)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx

from tests.graph.http_corpus import RECORDED, record
from tests.support.graph import app_client

if TYPE_CHECKING:
    from pathlib import Path

JSON_TYPES = ("application/json", "application/graphql-response+json")
FIELD = re.compile(r',"field":"[^"]*"')


def _is_coded_error(answer: list[Any]) -> bool:
    status, media, body = answer
    errors = json.loads(body).get("errors") or []
    return (
        media in JSON_TYPES
        and (400 <= status < 500 or (status == 200 and json.loads(body).get("data") is None))
        and bool(errors)
        and all(error.get("extensions", {}).get("code") for error in errors)
    )


async def test_the_endpoint_answers_as_the_old_view_did(tmp_path: Path) -> None:
    recorded: dict[str, list[Any]] = json.loads(RECORDED.read_text())
    answers = await record(f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}")
    assert answers.keys() == recorded.keys()
    changed = {key for key, old in recorded.items() if old[1].startswith("text/plain")}
    assert len(changed) == 21  # the view's text/plain answers, every one now a GraphQL error
    for key, old in recorded.items():
        if key in changed:
            assert _is_coded_error(answers[key]), (key, answers[key])
            assert answers[key][0] == old[0] or answers[key][0] in (200, 405, 415), key
        else:
            status, media, body = answers[key]
            assert [status, media] == old[:2], key
            assert old[2] in (body, FIELD.sub("", body)), key


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
