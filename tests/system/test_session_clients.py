"""clients/js against `ordergraph serve --workers 2` on PostgreSQL, with its views in a separate
database (so a view lags its command until the projections' leader applies it): the Apollo Link
and the urql exchange read their own writes on the other worker, every time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import node_script
from tests.support.workers import serve_workers

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROUNDS = 20
CLIENT_SECONDS = 180.0


async def test_apollo_and_urql_read_their_writes_through_the_other_worker(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    views = postgres_server.create_database()
    try:
        with serve_workers(postgres_url, views_url=postgres_server.url(views)) as base:
            async with node_script("session_clients.cjs", base, str(ROUNDS)) as js:
                clients = {
                    name: (await js.expect(name, timeout=CLIENT_SECONDS))["rounds"]
                    for name in ("apollo", "urql", "control")
                }
                await js.finish()
    finally:
        postgres_server.drop_database(views)
    for name in ("apollo", "urql"):
        rounds: list[dict[str, Any]] = clients[name]
        assert len(rounds) == ROUNDS
        # Written through each worker and read through the other.
        assert len({(r["writer"], r["reader"]) for r in rounds}) == 2
        assert all(r["writer"] != r["reader"] for r in rounds)
        for done in rounds:
            assert done["status"] == "CONFIRMED", (name, done)
            assert done["stale"] is False, (name, done)
            assert int(done["sent"]) >= done["wrote"], (name, done)
            assert done["position"] == done["wrote"]
    # Without the link nothing is sent and nothing waits: the same reads do see the past (20
    # of 20 in the runs this test was written with), so the rounds above could fail.
    control = clients["control"]
    assert all(done["sent"] is None and done["stale"] is None for done in control)
    assert any(done["status"] != "CONFIRMED" for done in control)
