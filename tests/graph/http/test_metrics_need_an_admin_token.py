"""With a signing secret /metrics answers only an admin's bearer token (Prometheus sends one
from its scrape config): nobody else learns command counts or projection positions."""

from __future__ import annotations

import pytest

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import app_client

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)


def _bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint('scraper', role)}"}


@pytest.mark.parametrize("production", [True, False])
async def test_metrics_answer_only_an_admin_token(sqlite_url: str, production: bool) -> None:
    async with app_client(sqlite_url, auth_secret=SECRET, production=production) as client:
        anonymous = await client.http.get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "ordergraph_" not in anonymous.text

        forged = await client.http.get("/metrics", headers={"Authorization": "Bearer nonsense"})
        assert forged.status_code == 401
        other = TokenAuthority("another-secret-of-at-least-32-bytes!!").mint("x", Role.ADMIN)
        wrong_key = await client.http.get("/metrics", headers={"Authorization": f"Bearer {other}"})
        assert wrong_key.status_code == 401

        for role in (Role.CUSTOMER, Role.STAFF):
            refused = await client.http.get("/metrics", headers=_bearer(role))
            assert refused.status_code == 403, role
            assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        admin = await client.http.get("/metrics", headers=_bearer(Role.ADMIN))
        assert admin.status_code == 200
        assert "ordergraph_head_position" in admin.text


async def test_development_mode_serves_metrics_to_loopback_callers(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        response = await client.http.get("/metrics")
        assert response.status_code == 200
        assert "ordergraph_head_position" in response.text
