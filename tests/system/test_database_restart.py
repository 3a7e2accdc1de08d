"""PostgreSQL restarted under a stream of commands (`pg_ctl restart -m fast`, then `-m
immediate`): every command either succeeds or is SERVICE_UNAVAILABLE, nothing acknowledged is
lost, and readiness, the projections and the writes all come back by themselves.

The server is one of the test's own (a restart would disturb the session's shared one), with
synchronous_commit on: the suite's servers turn it off for speed, and then a crash loses the
last commits PostgreSQL acknowledged."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator

import pytest

from domain.commands import Command, CommandResult
from domain.errors import ErrorCode, Unavailable
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES
from tests.support.domain import confirm, create
from tests.support.pgserver import SERVER_SETTINGS, PostgresServer, PostgresUnavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 6


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    try:
        # Every acknowledged commit must survive an immediate shutdown (a crash).
        server = PostgresServer.start(settings=[*SERVER_SETTINGS, "synchronous_commit=on"])
    except PostgresUnavailable as error:
        if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
            pytest.fail(f"PostgreSQL not available: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {error}")
    try:
        yield server
    finally:
        server.stop()


class Stream:
    """Writers that create and confirm orders until told to stop, keeping every outcome."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.acknowledged: list[CommandResult] = []
        self.refused: list[Unavailable] = []
        self.unexpected: list[BaseException] = []
        self.running = True

    async def writer(self) -> None:
        while self.running:
            created = await self.send(create())
            if created is not None:
                await self.send(confirm(created.order_id))

    async def send(self, command: Command) -> CommandResult | None:
        try:
            result = await self.container.bus.dispatch(command)
        except Unavailable as refusal:
            self.refused.append(refusal)
            await asyncio.sleep(0.05)
        except Exception as error:
            self.unexpected.append(error)
        else:
            self.acknowledged.append(result)
            return result
        return None

    def since(self, moment: int) -> int:
        return len(self.acknowledged) - moment


async def ready_within(container: Container, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (problem := await container.unready()) is not None:
        assert time.monotonic() < deadline, problem
        await asyncio.sleep(0.1)


async def test_commands_across_restarts_succeed_or_are_unavailable_and_none_is_lost(
    own_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = own_server.url(own_server.create_database())
    container = bootstrap(Settings(database_url=url))
    await container.start()
    stream = Stream(container)
    writers = [asyncio.create_task(stream.writer()) for _ in range(WRITERS)]
    try:
        for mode in ("fast", "immediate"):
            await asyncio.sleep(0.5)
            before = len(stream.acknowledged)
            await asyncio.to_thread(own_server.restart, mode)
            await ready_within(container, 10.0)
            await asyncio.sleep(0.5)
            assert stream.since(before) > 0, f"no write succeeded after the {mode} restart"
    finally:
        stream.running = False
        await asyncio.gather(*writers)
    try:
        assert stream.unexpected == []
        assert all(r.code is ErrorCode.SERVICE_UNAVAILABLE for r in stream.refused)
        head = container.store.committed.head
        waited = await container.runner.wait_for(PROJECTION_NAMES, head, timeout=15)
        assert not waited.stale, container.runner.status()
    finally:
        await container.stop()

    db = Database(url)
    try:
        log = SqlEventStore(db)
        events = {(e.position, e.stream_id) for e in await log.read_all(0, 1_000_000)}
    finally:
        await db.dispose()
    lost = [r for r in stream.acknowledged if (r.position, r.order_id) not in events]
    assert lost == []
    assert len(events) >= len(stream.acknowledged)
    assert not [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("ordergraph.commands") and r.exc_info
    ]
