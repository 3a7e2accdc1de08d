"""On PostgreSQL the append lock is taken only around the insert: a batch is staged on the head
as this process last saw it, and when another process appended meanwhile nothing is written
(BatchRaced) and the batch runs again, locking first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.handlers import build_command_bus
from domain.storage import tables as schema
from domain.storage.sql import SqlEventStore
from domain.storage.staging import BatchRaced
from tests.support.domain import create, open_store, placed, running


async def positions(store: SqlEventStore) -> list[int]:
    async with store.db.read() as conn:
        return list((await conn.scalars(select(schema.event.c.position))).all())


async def stage_while_another_appends(slow: SqlEventStore, other: SqlEventStore) -> None:
    async with slow.transaction() as batch:
        await batch.stream_version("a")
        batch.stage("a", [placed("a")], expected_version=0, command_id="a", correlation_id=None)
        # Not blocked: the slow batch holds no lock while it is being staged.
        await other.append("b", [placed("b")])


async def test_another_process_appends_while_a_batch_is_open_and_the_batch_writes_nothing(
    postgres_url: str,
) -> None:
    async with open_store(postgres_url) as slow, open_store(postgres_url) as other:
        with pytest.raises(BatchRaced):
            await stage_while_another_appends(slow, other)
        assert await positions(other) == [1]
        # The slow store learnt the head, and locks first for a while: the retry succeeds.
        assert slow.committed.head == 1
        recorded = await slow.append("a", [placed("a")])
        assert [e.position for e in recorded] == [2]
        assert sorted(await positions(other)) == [1, 2]


async def test_a_bus_batch_that_raced_runs_again_and_answers_the_stored_positions(
    postgres_url: str,
) -> None:
    async with open_store(postgres_url) as store, open_store(postgres_url) as other:
        await other.append("x", [placed("x")])  # `store` does not follow it: its head is stale
        async with running(build_command_bus(store)) as bus:
            results = [await bus.dispatch(create()) for _ in range(3)]
        assert [r.position for r in results] == [2, 3, 4]
        assert sorted(await positions(store)) == [1, 2, 3, 4]
        async with store.db.read() as conn:
            stored = (await conn.scalars(select(schema.command.c.position))).all()
        assert sorted(stored) == [2, 3, 4]
