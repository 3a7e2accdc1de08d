"""/livez and /readyz over HTTP: live while the process answers, ready while the database takes
writes and the projections run; a full disk answers commands SERVICE_UNAVAILABLE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from graph.app import create_app
from graph.bootstrap import Container
from graph.settings import Settings
from tests.support.graph import CREATE_ORDER, order_input, uvicorn_server


async def test_a_healthy_server_is_live_and_ready_over_http(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            live = await http.get("/livez")
            ready = await http.get("/readyz")
            health = await http.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "live"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


@asynccontextmanager
async def served(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The app in-process (so the test can reach its container) with its lifespan running."""
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield http, app.state.runtime.container


async def create_order(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": CREATE_ORDER, "variables": {"input": order_input()}}
    )
    answer: dict[str, Any] = response.json()
    if "errors" in answer:  # one operation refused for a fault: 503, retry after a while
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
    else:
        assert response.status_code == 200
    return answer


async def limit_pages(container: Container, extra: int | None) -> None:
    async with container.db.write() as conn:
        pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
        limit = 1_073_741_823 if extra is None else pages + extra
        await conn.exec_driver_sql(f"PRAGMA max_page_count = {limit}")


async def test_a_full_disk_is_unavailable_and_unready_until_there_is_room(sqlite_url: str) -> None:
    async with served(sqlite_url) as (http, container):
        assert "errors" not in await create_order(http)
        await limit_pages(container, 0)
        for _ in range(500):
            answer = await create_order(http)
            if "errors" in answer:
                break
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "out of space" in error["message"]
        assert "nothing was changed" in error["message"]
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unready", "reason": "writes fail: the database is full"}
        assert (await http.get("/livez")).status_code == 200

        await limit_pages(container, None)
        deadline = time.monotonic() + 5
        while (ready := await http.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.json()
            await asyncio.sleep(0.1)
        assert ready.json() == {"status": "ready"}
        assert "errors" not in await create_order(http)


async def test_stopped_projections_make_the_server_unready(sqlite_url: str) -> None:
    async with served(sqlite_url) as (http, container):
        assert (await http.get("/readyz")).status_code == 200
        await container.runner.stop()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unready", "reason": "the projections are not running"}
        assert (await http.get("/livez")).status_code == 200
