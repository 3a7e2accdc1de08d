"""The event-store contract, written once and run on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.errors import ConcurrencyConflict
from domain.events import EVENT_TYPES, Event
from domain.ports import RecordedEvent
from domain.storage import tables as schema
from domain.storage.registry import EventRegistry, UnknownEventType
from domain.storage.sql import SqlEventStore
from tests.support.domain import (
    NOW,
    cancelled,
    confirmed,
    one_of_each_event,
    open_store,
    placed,
    shipped,
)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    async with open_store(database_url) as opened:
        yield opened


class Boom(Exception):
    """Raised on purpose inside a transaction."""


async def event_count(store: SqlEventStore) -> int:
    async with store.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(schema.event)) or 0)


async def stage_then_fail(store: SqlEventStore, sizes: dict[str, int]) -> None:
    """Stage `sizes[stream]` events on each new stream in one transaction, then raise Boom."""
    async with store.transaction() as batch:
        for stream, size in sizes.items():
            await batch.stream_version(stream)
            batch.stage(
                stream,
                [placed(stream), *[confirmed(stream)] * (size - 1)],
                expected_version=0,
                command_id=f"c-{stream}",
                correlation_id=None,
            )
        raise Boom


async def stage_fresh_and_taken(store: SqlEventStore) -> None:
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


def positions(events: list[RecordedEvent]) -> list[int]:
    return [recorded.position for recorded in events]


# --- appending ----------------------------------------------------------------------------------


async def test_an_empty_store_has_head_zero(store: SqlEventStore) -> None:
    assert await store.head_position() == 0
    assert store.committed.head == 0
    assert await store.read_all() == []
    assert await store.read_stream("nobody") == []


async def test_append_returns_what_read_stream_reads(store: SqlEventStore) -> None:
    events = [placed("a"), confirmed("a"), shipped("a")]
    appended = await store.append("a", events, expected_version=0, command_id="c-1")
    assert [(r.position, r.version) for r in appended] == [(1, 1), (2, 2), (3, 3)]
    assert [r.event for r in appended] == events
    assert await store.read_stream("a") == appended
    assert await store.read_all() == appended
    assert await store.head_position() == 3


async def test_every_event_type_survives_the_store(store: SqlEventStore) -> None:
    events = one_of_each_event("all")
    await store.append("all", events)
    assert [r.event for r in await store.read_stream("all")] == events
    assert {type(r.event) for r in await store.read_all()} == set(EVENT_TYPES.values())


async def test_a_batch_of_several_events_is_all_or_none(store: SqlEventStore) -> None:
    await store.append("kept", [placed("kept")])
    with pytest.raises(Boom):
        await stage_then_fail(store, {"a": 3, "b": 3})
    assert await event_count(store) == 1
    assert await store.read_stream("a") == []
    assert await store.head_position() == 1
    assert store.committed.head == 1
    later = await store.append("a", [placed("a")])
    assert positions(later) == [2]


async def test_a_batch_the_database_refuses_leaves_nothing(store: SqlEventStore) -> None:
    await store.append("taken", [placed("taken")])
    with pytest.raises(IntegrityError):
        await stage_fresh_and_taken(store)
    assert await store.read_stream("fresh") == []
    assert await event_count(store) == 1
    assert store.committed.head == 1


async def test_expected_version_mismatch_is_a_concurrency_conflict(store: SqlEventStore) -> None:
    await store.append("a", [placed("a")], expected_version=0)
    for wrong in (0, 2, 5):
        with pytest.raises(ConcurrencyConflict) as conflict:
            await store.append("a", [confirmed("a")], expected_version=wrong)
        assert (conflict.value.expected, conflict.value.actual) == (wrong, 1)
    assert len(await store.read_stream("a")) == 1
    await store.append("a", [confirmed("a")], expected_version=1)
    assert [r.version for r in await store.read_stream("a")] == [1, 2]


async def test_concurrent_appends_at_one_version_let_exactly_one_win(store: SqlEventStore) -> None:
    await store.append("a", [placed("a")])
    outcomes = await asyncio.gather(
        *(store.append("a", [confirmed("a")], expected_version=1) for _ in range(8)),
        return_exceptions=True,
    )
    wins = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert len(wins) == 1
    assert all(isinstance(o, ConcurrencyConflict) for o in outcomes if o not in wins)
    assert [r.version for r in await store.read_stream("a")] == [1, 2]


async def test_positions_are_gapless_and_grow_in_commit_order(store: SqlEventStore) -> None:
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


async def test_read_all_pages_in_position_order(store: SqlEventStore) -> None:
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


async def test_read_stream_reads_one_stream_in_version_order(store: SqlEventStore) -> None:
    for round_ in range(4):
        for stream in ("a", "b", "c"):
            await store.append(stream, [placed(stream) if round_ == 0 else confirmed(stream)])
    b = await store.read_stream("b")
    assert [r.version for r in b] == [1, 2, 3, 4]
    assert [r.position for r in b] == [2, 5, 8, 11]
    assert {r.stream_id for r in b} == {"b"}
    assert {r.event.order_id for r in b} == {"b"}


# --- metadata -----------------------------------------------------------------------------------


async def test_recorded_metadata(store: SqlEventStore) -> None:
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


# --- upcasting ----------------------------------------------------------------------------------


class V1:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class NoteAdded(Event):
        text: str


class V2:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class NoteAdded(Event):
        SCHEMA_VERSION = 2

        body: str
        author: str


def v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    upcast = {key: value for key, value in payload.items() if key != "text"}
    return {**upcast, "body": payload["text"], "author": "unknown"}


def registry_v1() -> EventRegistry:
    return EventRegistry({**EVENT_TYPES, "NoteAdded": V1.NoteAdded})


def registry_v2(*, upcast: bool = True) -> EventRegistry:
    registry = EventRegistry({**EVENT_TYPES, "NoteAdded": V2.NoteAdded})
    if upcast:
        registry.register_upcaster("NoteAdded", 1, v1_to_v2)
    return registry


async def test_old_schema_versions_are_upcast_when_read(database_url: str) -> None:
    async with open_store(database_url, registry_v1()) as old:
        note = V1.NoteAdded(order_id="n", occurred_at=NOW, text="hello")
        await old.append("n", [note])
        assert [r.event for r in await old.read_stream("n")] == [note]
    async with open_store(database_url, registry_v2()) as new:
        (recorded,) = await new.read_all()
        assert recorded.event == V2.NoteAdded(
            order_id="n", occurred_at=NOW, body="hello", author="unknown"
        )
        fresh = V2.NoteAdded(order_id="n", occurred_at=NOW, body="again", author="me")
        await new.append("n", [fresh])
        assert [r.event for r in await new.read_stream("n")] == [recorded.event, fresh]
        async with new.db.read() as conn:
            stored = await conn.execute(
                select(schema.event.c.schema_version).order_by(schema.event.c.position)
            )
            assert [row.schema_version for row in stored] == [1, 2]


async def test_reading_what_this_code_cannot_decode_is_a_clear_error(database_url: str) -> None:
    async with open_store(database_url, registry_v2()) as new:
        await new.append("n", [V2.NoteAdded(order_id="n", occurred_at=NOW, body="b", author="a")])
    async with open_store(database_url, registry_v1()) as old:
        with pytest.raises(UnknownEventType, match=r"schema version 2 is newer than this code"):
            await old.read_all()
    async with open_store(database_url) as plain:
        with pytest.raises(UnknownEventType, match=r"unknown event type 'NoteAdded'"):
            await plain.read_stream("n")


async def test_a_missing_upcaster_is_a_clear_error(database_url: str) -> None:
    async with open_store(database_url, registry_v1()) as old:
        await old.append("n", [V1.NoteAdded(order_id="n", occurred_at=NOW, text="t")])
    async with open_store(database_url, registry_v2(upcast=False)) as new:
        with pytest.raises(
            UnknownEventType, match=r"no upcaster for NoteAdded from schema version 1"
        ):
            await new.read_all()


def test_an_upcaster_for_an_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        EventRegistry().register_upcaster("NoSuchEvent", 1, v1_to_v2)


# --- the committed signal -----------------------------------------------------------------------


async def test_the_signal_fires_only_after_commit(store: SqlEventStore) -> None:
    seen_on_wake: list[list[RecordedEvent]] = []

    async def reader() -> int:
        head = await store.committed.wait_beyond(0, timeout=10)
        seen_on_wake.append(await store.read_all())
        return head

    waiter = asyncio.create_task(reader())
    await asyncio.sleep(0.01)
    async with store.transaction() as batch:
        await batch.stream_version("a")
        batch.stage("a", [placed("a")], expected_version=0, command_id="c", correlation_id=None)
        await asyncio.sleep(0.05)
        assert not waiter.done()
    assert await asyncio.wait_for(waiter, 5) == 1
    (seen,) = seen_on_wake
    assert positions(seen) == [1]


async def test_a_rolled_back_transaction_wakes_nobody(store: SqlEventStore) -> None:
    await store.append("a", [placed("a")])
    waiter = asyncio.create_task(store.committed.wait_beyond(1, timeout=10))
    with pytest.raises(Boom):
        await stage_then_fail(store, {"b": 1})
    with pytest.raises(ConcurrencyConflict):
        await store.append("a", [confirmed("a")], expected_version=0)
    await asyncio.sleep(0.1)
    assert not waiter.done()
    assert store.committed.head == 1
    await store.append("b", [placed("b")])
    assert await asyncio.wait_for(waiter, 5) == 2


async def test_wait_beyond_times_out_with_the_current_head(store: SqlEventStore) -> None:
    await store.append("a", [placed("a"), confirmed("a")])
    started = time.monotonic()
    assert await store.committed.wait_beyond(2, timeout=0.2) == 2
    waited = time.monotonic() - started
    assert 0.18 <= waited < 2
    started = time.monotonic()
    assert await store.committed.wait_beyond(1, timeout=5) == 2
    assert await store.committed.wait_beyond(2, timeout=0) == 2
    assert time.monotonic() - started < 0.1


async def test_wait_beyond_wakes_on_the_commit_not_the_timeout(store: SqlEventStore) -> None:
    waiter = asyncio.create_task(store.committed.wait_beyond(0, timeout=30))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await store.append("a", [placed("a")])
    assert await asyncio.wait_for(waiter, 5) == 1
    assert time.monotonic() - started < 2


async def test_a_reopened_store_knows_its_head(database_url: str) -> None:
    async with open_store(database_url) as first:
        await first.append("a", [placed("a"), confirmed("a"), cancelled("a")])
    async with open_store(database_url) as second:
        assert second.committed.head == 3
        assert await second.head_position() == 3
        appended = await second.append("b", [placed("b")])
        assert positions(appended) == [4]


async def test_a_store_follows_another_processs_commits_on_postgresql(postgres_url: str) -> None:
    async with open_store(postgres_url) as writer, open_store(postgres_url) as follower:
        await writer.append("a", [placed("a")])
        await follower.start()
        try:
            assert follower.committed.head == 1
            waiter = asyncio.create_task(follower.committed.wait_beyond(1, timeout=10))
            await writer.append("b", [placed("b"), confirmed("b")])
            assert await asyncio.wait_for(waiter, 5) == 3
        finally:
            await follower.stop()
