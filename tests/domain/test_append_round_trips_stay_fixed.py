"""On PostgreSQL a group-commit batch sends the same few statements whatever its size: its
events, its idempotency records, the head check and the NOTIFY go in one statement, with a
text that never changes (so asyncpg keeps one prepared statement for it)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select

from domain.handlers import build_command_bus
from domain.storage import tables as schema
from domain.storage.sql import SqlEventStore
from tests.support.domain import create, open_store, running


async def statements_of_one_batch(store: SqlEventStore, size: int) -> list[str]:
    sent: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()[:2]).lower())

    engine = store.db.write_engine.sync_engine
    bus = build_command_bus(store)
    async with running(bus):
        # Hold the writer's queue until every command is in it, so they share one batch.
        commands = [create() for _ in range(size)]
        event.listen(engine, "before_cursor_execute", listener)
        try:
            await asyncio.gather(*(bus.dispatch(command) for command in commands))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    return sent


async def test_a_batch_costs_the_same_statements_for_1_and_for_40_commands(
    postgres_url: str,
) -> None:
    async with open_store(postgres_url) as store:
        one = await statements_of_one_batch(store, 1)
        many = await statements_of_one_batch(store, 40)
        # No read of the head (this store knows it); the append lock only around the one
        # statement that checks the head, inserts and notifies.
        expected = ["select command.command_id,", "select pg_advisory_xact_lock($1)", "with head"]
        assert one == many == expected
        async with store.db.read() as conn:
            stored = (await conn.execute(select(schema.event.c.position))).scalars().all()
            commands = (await conn.execute(select(schema.command.c.position))).scalars().all()
        assert sorted(stored) == list(range(1, 42)) == sorted(commands)


async def test_the_one_statement_batch_notifies_other_processes_of_the_head(
    postgres_url: str,
) -> None:
    async with open_store(postgres_url) as writer, open_store(postgres_url) as follower:
        await follower.start()
        try:
            await statements_of_one_batch(writer, 5)
            await asyncio.wait_for(follower.committed.wait_beyond(4, timeout=5.0), 6.0)
            assert follower.committed.head == 5
        finally:
            await follower.stop()
