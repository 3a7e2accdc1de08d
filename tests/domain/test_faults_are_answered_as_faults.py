"""A full disk is a fault, not a bug: commands are answered SERVICE_UNAVAILABLE with nothing
appended, the log says so once, readiness turns unready, and all comes back once there is room.

SQLite answers SQLITE_FULL past `PRAGMA max_page_count` exactly as it does on a full disk."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from domain.bus import CommandBus
from domain.commands import CommandResult
from domain.errors import ErrorCode, Unavailable
from domain.handlers import build_command_bus
from domain.storage import tables as schema
from domain.storage.faults import MESSAGES, FaultKind
from domain.storage.sql import SqlEventStore
from tests.support.domain import confirm, create, open_store, running, settle


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlEventStore]:
    async with open_store(sqlite_url) as opened:
        yield opened


@pytest.fixture
async def bus(store: SqlEventStore) -> AsyncIterator[CommandBus]:
    async with running(build_command_bus(store, fault_backoff=(0.01, 0.02))) as started:
        yield started


async def limit_pages(store: SqlEventStore, extra: int | None) -> None:
    """Let the writer's connection grow the file by `extra` pages (None: no limit)."""
    async with store.db.write() as conn:
        pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
        limit = 1_073_741_823 if extra is None else pages + extra
        await conn.exec_driver_sql(f"PRAGMA max_page_count = {limit}")


async def fill(bus: CommandBus) -> Unavailable:
    """Create orders until the file is full; the refusal of the first that did not fit."""
    for _ in range(500):
        try:
            await bus.dispatch(create())
        except Unavailable as refusal:
            return refusal
    raise AssertionError("the database never filled up")


async def ready_within(store: SqlEventStore, seconds: float) -> float:
    """How long until readiness has no problem (probed as a load balancer would, 10 a second:
    the probe's answer is cached for a second)."""
    started = time.monotonic()
    while (problem := await store.health.problem()) is not None:
        assert time.monotonic() - started < seconds, problem
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def count_events(store: SqlEventStore) -> int:
    async with store.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(schema.event)) or 0)


async def test_a_full_disk_refuses_commands_as_unavailable_and_changes_nothing(
    store: SqlEventStore, bus: CommandBus
) -> None:
    created = await bus.dispatch(create())
    await limit_pages(store, 0)
    refusal = await fill(bus)
    assert refusal.code is ErrorCode.SERVICE_UNAVAILABLE
    assert refusal.message == MESSAGES[FaultKind.FULL]
    assert refusal.retry_after >= 1
    head = await store.head_position()
    events = await count_events(store)
    outcomes = await settle(bus, create(), confirm(created.order_id), create())
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes
    assert await store.head_position() == head
    assert await count_events(store) == events == head


async def test_readiness_follows_a_full_disk_and_the_room_made(
    store: SqlEventStore, bus: CommandBus
) -> None:
    await bus.dispatch(create())
    assert await store.health.problem() is None
    await limit_pages(store, 0)
    await fill(bus)
    problem = await store.health.problem()
    assert problem == "writes fail: the database is full"
    # The probe is a write: a read would succeed on a full disk.
    assert await store.health.problem() == problem
    await limit_pages(store, None)
    assert await ready_within(store, 3.0) <= 1.5
    assert isinstance(await bus.dispatch(create()), CommandResult)


async def test_an_incident_is_one_log_line_when_it_starts_and_one_when_it_ends(
    store: SqlEventStore, bus: CommandBus, caplog: pytest.LogCaptureFixture
) -> None:
    await bus.dispatch(create())
    await limit_pages(store, 0)
    caplog.set_level(logging.INFO)
    await fill(bus)
    await settle(bus, *(create() for _ in range(5)))
    await limit_pages(store, None)
    await bus.dispatch(create())
    storage = [r for r in caplog.records if r.name == "ordergraph.storage"]
    assert [r.levelno for r in storage] == [logging.ERROR, logging.WARNING], storage
    assert "writes to the database fail: the database is full" in storage[0].getMessage()
    assert "database or disk is full" in storage[0].getMessage()
    assert "succeed again" in storage[1].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a fault"
