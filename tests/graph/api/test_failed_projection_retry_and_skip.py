"""A FAILED projection operated from GraphQL: its failing event (position, type, attempts) on
`Projection`, `retryProjection` once the cause is fixed, `skipProjectionEvent` past a poison
event (recorded as a skipped position with its error); on PostgreSQL the process that runs the
projection acts, whichever process the mutation reaches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.cli import main
from graph.settings import Settings
from readmodels.registry import default_projections
from tests.support.graph import Client, error_codes, order_input
from tests.support.readmodels import PoisonedOrderViews

PLACE = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { orderId position } }"
STATUS = """
{ projections { name state position lastError
    failingEvent { position eventType attempts error failedAt }
    skippedEvents { position eventType error skippedAt } } }
"""
FIELDS = "name state position failingEvent { position } skippedEvents { position eventType error }"
RETRY = f'mutation {{ retryProjection(name: "order_views") {{ {FIELDS} }} }}'
SKIP = f'mutation {{ skipProjectionEvent(name: "order_views") {{ {FIELDS} }} }}'


@asynccontextmanager
async def poisoned_app(url: str, poisoned: PoisonedOrderViews) -> AsyncIterator[Client]:
    settings = replace(Settings(database_url=url), default_wait_ms=100)
    others = [p for p in default_projections() if p.name != poisoned.name]
    app = create_app(settings, projections=[poisoned, *others])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield Client(http)


async def place(client: Client) -> dict[str, Any]:
    placed: dict[str, Any] = (await client.data(PLACE, {"input": order_input()}))["createOrder"]
    return placed


async def order_views(client: Client) -> dict[str, Any]:
    data = await client.data(STATUS)
    (status,) = [p for p in data["projections"] if p["name"] == "order_views"]
    found: dict[str, Any] = status
    return found


async def until(client: Client, check: Any, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = await order_views(client)
        if check(status):
            return status
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.02)


def stuck_at(position: int, attempts: int = 1) -> Any:
    def check(status: dict[str, Any]) -> bool:
        failing = status["failingEvent"]
        return (
            status["state"] == "FAILED"
            and failing is not None
            and failing["position"] == position
            and failing["attempts"] >= attempts
        )

    return check


async def test_a_failed_projection_shows_its_failing_event_and_retries_now_when_asked(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned = PoisonedOrderViews(poison=None)
    async with poisoned_app(sqlite_url, poisoned) as client:
        await place(client)
        poisoned.poison = 2
        await place(client)
        failing = (await until(client, stuck_at(2)))["failingEvent"]
        assert failing["eventType"] == "OrderPlaced"
        assert "poison" in failing["error"]
        assert failing["failedAt"].endswith("Z")

        # `ordergraph status`, another process's view of the same database, says it too.
        argv = ["status", "--database-url", sqlite_url]
        assert await asyncio.get_running_loop().run_in_executor(None, main, argv) == 0
        (row,) = [line for line in capsys.readouterr().out.splitlines() if "order_views" in line]
        assert row.split()[1] == "FAILED"
        assert "at 2 (OrderPlaced) after" in row

        # Seven failed attempts: the next one is 6.4 s away (backoff from 0.1 s, doubling), so an
        # answer within 5 s is the retry the mutation asked for, not the backoff's.
        await until(client, stuck_at(2, attempts=7))
        poisoned.poison = None
        started = time.monotonic()
        retried = (await client.data(RETRY))["retryProjection"]
        assert time.monotonic() - started < 5
        assert retried["state"] == "RUNNING"
        assert retried["position"] == 2
        assert retried["failingEvent"] is None
        assert retried["skippedEvents"] == []


async def test_skipping_the_event_a_projection_is_stuck_on_records_it_with_its_error(
    database_url: str,
) -> None:
    poisoned = PoisonedOrderViews(poison=None)
    async with poisoned_app(database_url, poisoned) as client:
        refused = await client.post(SKIP)
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert "not failing" in refused["errors"][0]["message"]

        await place(client)
        poisoned.poison = 2
        skipped_order = await place(client)
        await until(client, stuck_at(2))
        later = await place(client)

        answer = (await client.data(SKIP))["skipProjectionEvent"]
        assert answer["state"] == "RUNNING"
        assert answer["position"] == later["position"]
        assert answer["failingEvent"] is None
        (skip,) = answer["skippedEvents"]
        assert skip["position"] == 2
        assert skip["eventType"] == "OrderPlaced"
        assert "poison" in skip["error"]

        order = '{ order(id: "%s") { id } }'
        assert (await client.data(order % skipped_order["orderId"]))["order"] is None
        assert (await client.data(order % later["orderId"]))["order"] is not None


async def test_the_process_that_runs_the_projection_acts_on_a_mutation_sent_to_another(
    postgres_url: str,
) -> None:
    leader_poison = PoisonedOrderViews(poison=None)
    follower_poison = PoisonedOrderViews(poison=None)
    async with (
        poisoned_app(postgres_url, leader_poison) as leader,
        poisoned_app(postgres_url, follower_poison) as follower,
    ):
        await place(leader)
        leader_poison.poison = follower_poison.poison = 2
        await place(follower)
        # The follower reads the leader's record of the failure.
        await until(follower, stuck_at(2, attempts=7))  # the next attempt is 6.4 s away
        leader_poison.poison = follower_poison.poison = None
        started = time.monotonic()
        await follower.data(RETRY)
        await until(follower, lambda s: s["position"] == 2 and s["failingEvent"] is None, 5)
        assert time.monotonic() - started < 5

        leader_poison.poison = follower_poison.poison = 3
        await place(follower)
        await until(follower, stuck_at(3))
        answer = (await follower.data(SKIP))["skipProjectionEvent"]
        assert answer["position"] == 3
        assert [s["position"] for s in answer["skippedEvents"]] == [3]
        assert (await order_views(leader))["position"] == 3
