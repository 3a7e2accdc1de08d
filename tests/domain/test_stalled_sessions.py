"""A process stopped in the middle of a statement's messages (asyncpg's Parse, Describe, Flush,
then nothing) holds its locks where no PostgreSQL timeout reaches: the next writer that times
out on the append lock ends that session, and its own batch then goes through."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import cast

import asyncpg
import pytest

from domain.bus import CommandBus
from domain.handlers import build_command_bus
from domain.storage.sql import APPEND_LOCK_KEY, SqlEventStore
from tests.support.domain import create, open_store, running


@pytest.fixture
async def bus(postgres_url: str) -> AsyncIterator[tuple[CommandBus, SqlEventStore]]:
    async with open_store(postgres_url) as store, running(build_command_bus(store)) as started:
        yield started, store


async def test_a_session_stalled_mid_statement_with_the_append_lock_is_ended(
    bus: tuple[CommandBus, SqlEventStore], postgres_url: str
) -> None:
    commands, store = bus
    await commands.dispatch(create())
    stalled = await asyncpg.connect(
        postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
        server_settings={"application_name": "ordergraph:stalled"},
    )
    try:
        await stalled.execute("BEGIN")
        await stalled.execute(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")
        await stalled.prepare("SELECT 1")  # Parse, Describe, Flush: the server waits for more
        state = await store_state(store, "ordergraph:stalled")
        assert state == ("active", "ClientRead")

        started = time.monotonic()
        result = await commands.dispatch(create())
        waited = time.monotonic() - started
        assert result.position == 2
        assert 1.5 <= waited <= 6.0  # one lock timeout (2 s), then the batch went through
        assert await store_state(store, "ordergraph:stalled") is None
    finally:
        stalled.terminate()


async def store_state(store: SqlEventStore, name: str) -> tuple[str, str] | None:
    async with store.db.read() as conn:
        result = await conn.exec_driver_sql(
            "SELECT state, wait_event FROM pg_stat_activity WHERE application_name = $1", (name,)
        )
        rows = cast("list[tuple[str, str]]", result.all())
    return (rows[0][0], rows[0][1]) if rows else None
