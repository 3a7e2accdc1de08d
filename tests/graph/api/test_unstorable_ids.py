"""An id the database cannot store (a lone surrogate, a NUL on PostgreSQL) reads as a client
error or as absent, never as an internal error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.graph import app_client

UNSTORABLE_ID_READS = (
    "query($id: ID!) { order(id: $id) { id } }",
    "query($id: ID!) { customer(id: $id) { orderCount } }",
    "query($id: ID!) { orders(customerId: $id) { totalCount } }",
)


async def _read_with_id(url: str, document: str, order_id: str) -> list[dict[str, Any]]:
    async with app_client(url) as client:
        await client.create_order()
        # ensure_ascii keeps a lone surrogate as a JSON escape, which is how a client sends one.
        response = await client.http.post(
            "/graphql",
            content=json.dumps({"query": document, "variables": {"id": order_id}}),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        errors: list[dict[str, Any]] = response.json().get("errors", [])
        return errors


@pytest.mark.parametrize("document", UNSTORABLE_ID_READS)
async def test_a_read_by_an_id_with_a_lone_surrogate_is_not_an_internal_error(
    sqlite_url: str, document: str
) -> None:
    errors = await _read_with_id(sqlite_url, document, "order-\ud800")
    assert all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors), errors


@pytest.mark.parametrize("document", UNSTORABLE_ID_READS)
async def test_a_read_by_an_id_with_a_nul_is_not_an_internal_error_on_postgres(
    postgres_url: str, document: str
) -> None:
    errors = await _read_with_id(postgres_url, document, "order-\x00")
    assert all(error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for error in errors), errors
