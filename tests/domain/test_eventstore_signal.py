"""The event-store contract on every backend: the committed signal wakes readers after a commit,
never before, and a store opened again knows its head."""

from __future__ import annotations

import asyncio
import time

import pytest

from domain.errors import ConcurrencyConflict
from domain.ports import RecordedEvent
from tests.support.domain import (
    Backend,
    Boom,
    Store,
    cancelled,
    confirmed,
    open_store,
    placed,
    positions,
    stage_then_fail,
)


async def test_the_signal_fires_only_after_commit(store: Store) -> None:
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


async def test_a_rolled_back_transaction_wakes_nobody(store: Store) -> None:
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


async def test_wait_beyond_times_out_with_the_current_head(store: Store) -> None:
    await store.append("a", [placed("a"), confirmed("a")])
    started = time.monotonic()
    assert await store.committed.wait_beyond(2, timeout=0.2) == 2
    waited = time.monotonic() - started
    assert 0.18 <= waited < 20
    # A head already beyond returns at once: long before the timeout it would otherwise wait
    # (a bound on the wait, not on the speed).
    started = time.monotonic()
    assert await store.committed.wait_beyond(1, timeout=60) == 2
    assert await store.committed.wait_beyond(2, timeout=0) == 2
    assert time.monotonic() - started < 30


async def test_wait_beyond_wakes_on_the_commit_not_the_timeout(store: Store) -> None:
    waiter = asyncio.create_task(store.committed.wait_beyond(0, timeout=30))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await store.append("a", [placed("a")])
    assert await asyncio.wait_for(waiter, 20) == 1
    assert time.monotonic() - started < 20  # well before its 30 s timeout


async def test_a_reopened_store_knows_its_head(backend: Backend) -> None:
    async with backend.open() as first:
        await first.append("a", [placed("a"), confirmed("a"), cancelled("a")])
    async with backend.open() as second:
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
