"""The event-store contract, written once and run on every backend (memory, SQLite, PostgreSQL):
appending, reading and the metadata of what is recorded. The `backend` and `store` fixtures
(tests/domain/conftest.py) give each test a fresh store on each backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.commands import CommandResult
from domain.errors import ConcurrencyConflict
from domain.events import EVENT_TYPES
from domain.ports import RecordConflict, RecordedEvent
from domain.storage import tables as schema
from domain.storage.sql import SqlEventStore
from tests.support.domain import (
    NOW,
    Backend,
    Boom,
    Store,
    confirmed,
    one_of_each_event,
    placed,
    positions,
    shipped,
    stage_then_fail,
)


async def event_count(store: Store) -> int:
    """How many events the backend holds, counted in its own storage."""
    if not isinstance(store, SqlEventStore):
        return len(store.records.events)
    async with store.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(schema.event)) or 0)


async def stage_fresh_and_taken(store: Store) -> None:
    """Stage a new stream, then version 1 of stream "taken" without loading it: the key clashes."""
    async with store.transaction() as batch:
        batch.stage(
            "fresh",
            [placed("fresh"), confirmed("fresh")],
            expected_version=0,
            command_id="c-1",
            correlation_id=None,
        )
        batch.stage(
            "taken", [placed("taken")], expected_version=0, command_id="c-2", correlation_id=None
        )


# --- appending ----------------------------------------------------------------------------------


async def test_an_empty_store_has_head_zero(store: Store) -> None:
    assert await store.head_position() == 0
    assert store.committed.head == 0
    assert await store.read_all() == []
    assert await store.read_stream("nobody") == []


async def test_append_returns_what_read_stream_reads(store: Store) -> None:
    events = [placed("a"), confirmed("a"), shipped("a")]
    appended = await store.append("a", events, expected_version=0, command_id="c-1")
    assert [(r.position, r.version) for r in appended] == [(1, 1), (2, 2), (3, 3)]
    assert [r.event for r in appended] == events
    assert await store.read_stream("a") == appended
    assert await store.read_all() == appended
    assert await store.head_position() == 3


async def test_every_event_type_survives_the_store(store: Store) -> None:
    events = one_of_each_event("all")
    await store.append("all", events)
    assert [r.event for r in await store.read_stream("all")] == events
    assert {type(r.event) for r in await store.read_all()} == set(EVENT_TYPES.values())


async def test_a_batch_of_several_events_is_all_or_none(store: Store) -> None:
    await store.append("kept", [placed("kept")])
    with pytest.raises(Boom):
        await stage_then_fail(store, {"a": 3, "b": 3})
    assert await event_count(store) == 1
    assert await store.read_stream("a") == []
    assert await store.head_position() == 1
    assert store.committed.head == 1
    later = await store.append("a", [placed("a")])
    assert positions(later) == [2]


async def test_a_batch_the_backend_refuses_leaves_nothing(store: Store) -> None:
    await store.append("taken", [placed("taken")])
    with pytest.raises(RecordConflict):
        await stage_fresh_and_taken(store)
    assert await store.read_stream("fresh") == []
    assert await event_count(store) == 1
    assert store.committed.head == 1


async def test_every_backend_refuses_a_conflicting_batch_with_record_conflict(
    backend: Backend, store: Store
) -> None:
    """One error type for both uniqueness rules on every backend; the SQL store's carries
    the database's IntegrityError as its cause."""
    await store.append("taken", [placed("taken")])
    recorded = CommandResult(command_id="c-taken", order_id="taken", version=1, position=1)
    async with store.transaction() as batch:
        batch.remember("f-1", recorded)
    refusals: list[RecordConflict] = []
    with pytest.raises(RecordConflict) as version_taken:
        await stage_fresh_and_taken(store)
    refusals.append(version_taken.value)
    with pytest.raises(RecordConflict) as command_taken:
        async with store.transaction() as batch:
            batch.remember("f-2", recorded)
    refusals.append(command_taken.value)
    for refusal in refusals:
        assert type(refusal) is RecordConflict
        if backend.url is None:
            assert refusal.__cause__ is None
        else:
            assert isinstance(refusal.__cause__, IntegrityError)
    assert await event_count(store) == 1
    assert store.committed.head == 1


async def test_expected_version_mismatch_is_a_concurrency_conflict(store: Store) -> None:
    await store.append("a", [placed("a")], expected_version=0)
    for wrong in (0, 2, 5):
        with pytest.raises(ConcurrencyConflict) as conflict:
            await store.append("a", [confirmed("a")], expected_version=wrong)
        assert (conflict.value.expected, conflict.value.actual) == (wrong, 1)
    assert len(await store.read_stream("a")) == 1
    await store.append("a", [confirmed("a")], expected_version=1)
    assert [r.version for r in await store.read_stream("a")] == [1, 2]


async def test_concurrent_appends_at_one_version_let_exactly_one_win(store: Store) -> None:
    await store.append("a", [placed("a")])
    outcomes = await asyncio.gather(
        *(store.append("a", [confirmed("a")], expected_version=1) for _ in range(8)),
        return_exceptions=True,
    )
    wins = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert len(wins) == 1
    assert all(isinstance(o, ConcurrencyConflict) for o in outcomes if o not in wins)
    assert [r.version for r in await store.read_stream("a")] == [1, 2]


async def test_positions_are_gapless_and_grow_in_commit_order(store: Store) -> None:
    committed: list[list[int]] = []

    async def writer(stream: str) -> None:
        for version in range(5):
            event = placed(stream) if version == 0 else confirmed(stream)
            size = 1 + version % 3
            appended = await store.append(stream, [event] * size)
            committed.append(positions(appended))

    await asyncio.gather(*(writer(f"s{index}") for index in range(12)))
    flat = [position for batch in committed for position in batch]
    total = len(flat)
    assert sorted(flat) == list(range(1, total + 1))
    for batch in committed:
        assert batch == list(range(batch[0], batch[0] + len(batch)))
    logged = await store.read_all(limit=10_000)
    assert positions(logged) == list(range(1, total + 1))
    assert await store.head_position() == total == store.committed.head
    for stream in {r.stream_id for r in logged}:
        versions = [r.version for r in logged if r.stream_id == stream]
        assert versions == list(range(1, len(versions) + 1))


async def test_read_all_pages_in_position_order(store: Store) -> None:
    for index in range(7):
        await store.append(f"s{index % 3}", [placed(f"s{index % 3}")] * 2)
    everything = await store.read_all()
    assert positions(everything) == list(range(1, 15))
    pages: list[RecordedEvent] = []
    after = 0
    while page := await store.read_all(after=after, limit=4):
        assert len(page) <= 4
        pages.extend(page)
        after = page[-1].position
    assert pages == everything
    assert positions(await store.read_all(after=10, limit=2)) == [11, 12]
    assert positions(await store.read_all(after=13, limit=100)) == [14]
    assert await store.read_all(after=14) == []
    assert await store.read_all(after=0, limit=0) == []


async def test_read_stream_reads_one_stream_in_version_order(store: Store) -> None:
    for round_ in range(4):
        for stream in ("a", "b", "c"):
            await store.append(stream, [placed(stream) if round_ == 0 else confirmed(stream)])
    b = await store.read_stream("b")
    assert [r.version for r in b] == [1, 2, 3, 4]
    assert [r.position for r in b] == [2, 5, 8, 11]
    assert {r.stream_id for r in b} == {"b"}
    assert {r.event.order_id for r in b} == {"b"}


# --- metadata -----------------------------------------------------------------------------------


async def test_events_record_their_command_correlation_and_commit_time(store: Store) -> None:
    before = datetime.now(UTC)
    await store.append(
        "a", [placed("a"), confirmed("a")], command_id="cmd-7", correlation_id="corr-3"
    )
    after = datetime.now(UTC)
    await store.append("b", [placed("b")])
    first, second, third = await store.read_all()
    for recorded in (first, second):
        meta = recorded.metadata
        assert (meta.command_id, meta.correlation_id, meta.causation_id) == (
            "cmd-7",
            "corr-3",
            "cmd-7",
        )
        assert meta.recorded_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= meta.recorded_at <= after + timedelta(seconds=1)
    assert first.metadata.recorded_at == second.metadata.recorded_at
    assert third.metadata.correlation_id is None
    assert third.metadata.command_id
    assert first.event.occurred_at == NOW
