"""GraphQL over HTTP as clients expect it: the graphql-http conformance audit, the
graphql-response+json media type, several operations in one document, CORS and the SDL route."""

from __future__ import annotations

from typing import Any

import pytest

from graph.settings import Settings
from tests.support.browser import node_script
from tests.support.graph import app_client, uvicorn_server

GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_ACCEPT = f"{GRAPHQL_RESPONSE},application/json;q=0.9"
TWO_OPERATIONS = (
    "query Names { projections { name } } query Positions { projections { name position } }"
)


async def test_the_graphql_http_audit_passes_every_check(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        async with node_script("graphql_http_audit.cjs", f"http://{address}/graphql") as script:
            audited = await script.expect("audited", timeout=60)
            await script.finish()
    results: list[dict[str, Any]] = audited["results"]
    failed = [r for r in results if r["status"] != "ok"]
    assert failed == [], failed
    assert len(results) == 61


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"query": "{ projections { name"}, "Syntax Error"),
        ({"query": "{ noSuchField }"}, "Cannot query field"),
        ({"query": "query($n: Int!) { orders(first: $n) { totalCount } }"}, "$n"),
        ({"query": TWO_OPERATIONS}, "Must provide operation name"),
    ],
)
async def test_a_request_error_is_400_without_data_only_for_graphql_response_json(
    sqlite_url: str, body: dict[str, Any], reason: str
) -> None:
    async with app_client(sqlite_url) as client:
        modern = await client.http.post("/graphql", json=body, headers={"accept": APOLLO_ACCEPT})
        assert modern.status_code == 400
        assert modern.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in modern.json()
        assert reason in modern.json()["errors"][0]["message"]

        legacy = await client.http.post("/graphql", json=body)
        assert legacy.status_code == 200
        assert legacy.headers["content-type"] == "application/json"
        assert legacy.json()["data"] is None


async def test_a_field_error_stays_200_with_data_in_either_media_type(sqlite_url: str) -> None:
    query = '{ order(id: "x") { id } projections { name } }'
    async with app_client(sqlite_url) as client:
        for accept in (APOLLO_ACCEPT, "application/json", "*/*"):
            response = await client.http.post(
                "/graphql", json={"query": query}, headers={"accept": accept}
            )
            assert response.status_code == 200
            assert response.json()["data"]["projections"]


async def test_operation_name_picks_one_of_several_operations(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        for name, keys in (("Names", {"name"}), ("Positions", {"name", "position"})):
            body = {"query": TWO_OPERATIONS, "operationName": name}
            answer = (await client.http.post("/graphql", json=body)).json()
            assert "errors" not in answer, answer
            assert set(answer["data"]["projections"][0]) == keys
        get = await client.http.get(
            "/graphql", params={"query": TWO_OPERATIONS, "operationName": "Names"}
        )
        assert {"name": "order_views"} in get.json()["data"]["projections"]


async def test_the_limits_count_every_operation_of_the_document(sqlite_url: str) -> None:
    costly = "query Costly { orders(first: 100) { edges { node { items { sku } } } } }"
    async with app_client(sqlite_url, max_cost=1_000) as client:
        body = {
            "query": f"query Cheap {{ projections {{ name }} }} {costly}",
            "operationName": "Cheap",
        }
        answer = (await client.http.post("/graphql", json=body)).json()
        assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_cors_is_off_by_default(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        preflight = await client.http.options(
            "/graphql",
            headers={"origin": "http://app.test", "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 405
        assert "access-control-allow-origin" not in preflight.headers


async def test_cors_lets_the_configured_origins_call_the_api(sqlite_url: str) -> None:
    origins = Settings.from_env({"ORDERGRAPH_CORS_ORIGINS": "http://app.test:3000, https://b.test"})
    async with app_client(sqlite_url, cors_origins=origins.cors_origins) as client:
        preflight = await client.http.options(
            "/graphql",
            headers={
                "origin": "http://app.test:3000",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://app.test:3000"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

        call = await client.http.post(
            "/graphql",
            json={"query": "{ projections { name } }"},
            headers={"origin": "https://b.test"},
        )
        assert call.status_code == 200
        assert call.headers["access-control-allow-origin"] == "https://b.test"
        assert "x-request-id" in call.headers["access-control-expose-headers"].lower()

        stranger = await client.http.options(
            "/graphql",
            headers={"origin": "http://evil.test", "access-control-request-method": "POST"},
        )
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers


def test_a_cors_origin_with_a_path_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="ORDERGRAPH_CORS_ORIGINS"):
        Settings.from_env({"ORDERGRAPH_CORS_ORIGINS": "http://app.test/path"})


async def test_the_sdl_is_served_outside_production(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        response = await client.http.get("/graphql/schema.graphql")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "type Query {" in response.text
        assert "createOrder(" in response.text


@pytest.mark.parametrize(("schema_sdl", "status"), [(None, 404), (True, 200)])
async def test_production_serves_the_sdl_only_when_enabled(
    sqlite_url: str, schema_sdl: bool | None, status: int
) -> None:
    secret = "s" * 40
    async with app_client(
        sqlite_url, production=True, auth_secret=secret, schema_sdl=schema_sdl
    ) as client:
        response = await client.http.get("/graphql/schema.graphql")
        assert response.status_code == status
