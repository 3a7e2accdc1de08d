"""skipProjectionEvent checks the position against the projection's checkpoint, under its lock,
in the transaction that records the skip: a position already applied is refused with
BAD_USER_INPUT on `position`, also when the writer applied it in its own transaction a moment
ago; so skips taken while commands stream in never name an applied event, and a rebuild
afterwards changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES, default_projections
from tests.support.domain import confirm, create
from tests.support.readmodels import Service, dump, live_tables, running_service

SKIP = """mutation($p: Position!) {
  skipProjectionEvent(name: "order_views", position: $p) { position }
}"""


async def test_a_skip_of_an_applied_position_is_refused_and_recorded_nowhere(
    database_url: str,
) -> None:
    async with running_service(database_url) as service:
        for _ in range(3):
            await service.bus.dispatch(create())
        runner = service.runner
        for name in PROJECTION_NAMES:
            for position in (1, 3):
                with pytest.raises(ValueError, match="already applied"):
                    await runner.skip_event(name, position)
            assert await runner.skipped_events(name) == []


async def test_over_graphql_an_applied_position_is_bad_user_input_on_position(
    database_url: str,
) -> None:
    app = create_app(replace(Settings(database_url=database_url)))
    async with app.router.lifespan_context(app):
        service: Service = app.state.runtime.container
        created = await service.bus.dispatch(create())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            response = await http.post(
                "/graphql", json={"query": SKIP, "variables": {"p": created.position}}
            )
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "position"}
    assert "already applied" in error["message"]


async def test_skips_taken_while_commands_stream_in_never_name_an_applied_event(
    database_url: str,
) -> None:
    async with running_service(database_url) as service:
        bus, runner, store = service.bus, service.runner, service.store
        writing = True
        outcomes: dict[str, int] = {"refused": 0, "skipped": 0}

        async def writer() -> None:
            while writing:
                created = await bus.dispatch(create())
                await bus.dispatch(confirm(created.order_id))

        async def skipper() -> None:
            # The newest committed position, as the database tells it: the writer applied it
            # in its own transaction, and may not have moved the slot's position in memory yet.
            while writing:
                position = await store.head_position()
                for name in PROJECTION_NAMES:
                    try:
                        await runner.skip_event(name, position)
                    except ValueError:
                        outcomes["refused"] += 1
                    else:
                        outcomes["skipped"] += 1
                await asyncio.sleep(0)

        tasks = [asyncio.create_task(writer()) for _ in range(4)]
        tasks.append(asyncio.create_task(skipper()))
        await asyncio.sleep(2.0)
        writing = False
        await asyncio.gather(*tasks)
        head = await store.head_position()
        assert not (await runner.wait_for(PROJECTION_NAMES, head, 10)).stale
        assert outcomes["refused"] > 0, outcomes

        before = await views(service)
        await runner.rebuild_many(PROJECTION_NAMES)
        assert await views(service) == before, "a rebuild changed the views: a skip was applied"


async def views(service: Service) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for projection in default_projections():
        found[projection.name] = await dump(service.read_db, live_tables(projection))
    return found
