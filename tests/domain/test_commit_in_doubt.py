"""A connection lost while the COMMIT is on its way leaves the outcome unknown: the bus does not
run the batch again by itself, it answers SERVICE_UNAVAILABLE telling the caller to retry with
the same commandId, and that retry appends the command exactly once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from domain.bus import CommandBus
from domain.errors import ErrorCode, Unavailable
from domain.handlers import build_command_bus
from domain.storage import tables as schema
from domain.storage.faults import IN_DOUBT_MESSAGE
from domain.storage.sql import SqlEventStore
from tests.support.domain import create, open_store, running


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[SqlEventStore]:
    async with open_store(postgres_url) as opened:
        await opened.start()
        try:
            yield opened
        finally:
            await opened.stop()


@pytest.fixture
async def bus(store: SqlEventStore) -> AsyncIterator[CommandBus]:
    async with running(build_command_bus(store, fault_backoff=(0.01, 0.02))) as started:
        yield started


def kill_the_backend_at_the_next_commit(store: SqlEventStore) -> list[int]:
    """Before the next COMMIT leaves, terminate the server process of its connection."""
    killed: list[int] = []

    def before_commit(conn: Any) -> None:
        if killed:
            return
        pid = conn.connection.dbapi_connection.driver_connection.get_server_pid()
        os.kill(pid, signal.SIGTERM)  # what pg_terminate_backend does
        killed.append(pid)
        time.sleep(0.3)  # the backend is gone before the COMMIT is written to its socket

    event.listen(store.db.write_engine.sync_engine, "commit", before_commit)
    return killed


async def test_a_commit_that_lost_its_connection_is_in_doubt_and_safe_to_retry(
    store: SqlEventStore, bus: CommandBus
) -> None:
    await bus.dispatch(create())
    command = create()
    killed = kill_the_backend_at_the_next_commit(store)
    with pytest.raises(Unavailable) as refused:
        await bus.dispatch(command)
    assert killed
    assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE
    assert refused.value.message == IN_DOUBT_MESSAGE
    again = await bus.dispatch(command)
    assert again.command_id == command.command_id
    async with store.db.read() as conn:
        appended = await conn.scalar(
            select(func.count())
            .select_from(schema.event)
            .where(schema.event.c.command_id == command.command_id)
        )
    assert appended == 1
