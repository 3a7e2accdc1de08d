"""The projection runner: poison events, skips, freshness waits and change notifications."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from readmodels.dto import Change, ProjectionState
from readmodels.feed import ChangeHub
from readmodels.registry import PROJECTION_NAMES, default_projections
from readmodels.runner.runner import ProjectionRunner
from tests.support.readmodels import (
    T0,
    PoisonedOrderViews,
    append_histories,
    assert_views_equal_replay,
    order_history,
    running_service,
)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    db = Database(database_url)
    store = SqlEventStore(db)
    await store.create_schema()
    yield store
    await db.dispose()


async def _wait_until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_poison_event_fails_one_projection_and_a_fix_resumes_it(
    store: SqlEventStore,
) -> None:
    """The runner's own catch-up and retry path: a runner built alone (no in-writer hook) on a
    log appended beforehand."""
    head = await append_histories(store, 40)
    poisoned = PoisonedOrderViews(poison=73)
    others = [p for p in default_projections() if p.name != "order_views"]
    runner = ProjectionRunner(
        store, store.db, [poisoned, *others], batch_size=50, retry_base=0.01, retry_cap=0.05
    )
    await runner.start()
    try:
        others_done = await runner.wait_for([p.name for p in others], head, 5)
        assert not others_done.stale
        await _wait_until(lambda: runner.position("order_views") == 72)
        result = await runner.wait_for(PROJECTION_NAMES, head, 0.1)
        assert result.stale
        assert result.reached == {**{p.name: head for p in others}, "order_views": 72}
        (status,) = [s for s in runner.status() if s.name == "order_views"]
        assert status.state is ProjectionState.FAILED
        assert status.last_error is not None
        assert "poison" in status.last_error
        assert status.lag == head - 72
        poisoned.poison = None
        assert not (await runner.wait_for(["order_views"], head, 5)).stale
        assert {s.state for s in runner.status()} == {ProjectionState.RUNNING}
        await assert_views_equal_replay(runner, store, store.db)
    finally:
        await runner.stop()


async def test_an_operator_can_skip_a_poison_event(store: SqlEventStore) -> None:
    """The runner's own catch-up and retry path, and a rebuild: runners built alone (no
    in-writer hook) on a log appended beforehand."""
    head = await append_histories(store, 10)
    poisoned = PoisonedOrderViews(poison=12)  # an ItemAdded of the third order
    runner = ProjectionRunner(store, store.db, [poisoned], retry_base=5, retry_cap=5)
    await runner.start()
    try:
        await _wait_until(lambda: runner.position("order_views") == 11)
        assert runner.status()[0].state is ProjectionState.FAILED
        with pytest.raises(ValueError, match="already applied"):
            await runner.skip_event("order_views", 11)
        await runner.skip_event("order_views", 12)
        assert not (await runner.wait_for(["order_views"], head, 2)).stale
        assert runner.status()[0].state is ProjectionState.RUNNING
    finally:
        await runner.stop()
    # the skip is durable: a rebuild in a new runner skips it too, and never applies it
    poisoned.poison = 12
    again = ProjectionRunner(store, store.db, [poisoned])
    await again.start()
    try:
        assert (await again.rebuild("order_views")).position == head
    finally:
        await again.stop()


async def test_wait_for_returns_soon_after_the_commit_and_says_when_stale(
    database_url: str,
) -> None:
    async with running_service(database_url) as service:
        runner, store = service.runner, service.store
        waiting = asyncio.create_task(runner.wait_for(PROJECTION_NAMES, 5, 5))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        started = time.monotonic()
        await store.append("o-1", order_history("o-1", "c", T0, 1))
        result = await waiting
        assert time.monotonic() - started < 4  # woken by the commit, not by the 5 s timeout
        assert not result.stale
        assert result.reached == dict.fromkeys(PROJECTION_NAMES, 5)
        stale = await runner.wait_for(["daily_sales"], 6, 0.05)
        assert stale.stale
        assert stale.requested == 6
        assert stale.reached == {"daily_sales": 5}
        with pytest.raises(ValueError, match="unknown projection"):
            await runner.wait_for(["nope"], 1, 0)
    assert not runner.alive
    assert {s.state for s in runner.status()} == {ProjectionState.STOPPED}


async def test_changes_name_the_orders_each_committed_batch_touched(database_url: str) -> None:
    async with running_service(database_url) as service:
        runner, store = service.runner, service.store
        assert runner.alive
        async with runner.changes.subscribe() as changes:
            await store.append("o-1", order_history("o-1", "c", T0, 1)[:1])
            seen: dict[str, Change] = {}
            while len(seen) < len(PROJECTION_NAMES):
                change = await asyncio.wait_for(changes.get(), 2)
                seen[change.projection] = change
            assert {c.order_ids for c in seen.values()} == {frozenset({"o-1"})}
            assert {c.position for c in seen.values()} == {1}
        assert len(runner.changes) == 0


async def test_a_full_subscription_drops_its_oldest_change() -> None:
    hub = ChangeHub()
    subscription = hub.subscribe(maxsize=2)
    for position in (1, 2, 3):
        hub.publish(Change(projection="order_views", position=position, order_ids=frozenset()))
    assert subscription.dropped == 1
    assert [(await subscription.get()).position for _ in range(2)] == [2, 3]
    subscription.close()
    hub.publish(Change(projection="order_views", position=4, order_ids=frozenset()))
    assert subscription.dropped == 1


async def test_views_can_live_in_a_separate_database(database_url: str, tmp_path: object) -> None:
    """Production wiring with a views database of its own: no in-writer hook there, so the
    runner's tasks keep the views (this is the path such a deployment runs)."""
    views_url = f"sqlite+aiosqlite:///{tmp_path}/views.db"
    async with running_service(database_url, read_url=views_url) as service:
        runner, store, views = service.runner, service.store, service.read_db
        assert views is not service.db
        head = await append_histories(store, 20)
        assert not (await runner.wait_for(PROJECTION_NAMES, head, 5)).stale
        await store.append("late", order_history("late", "c", T0, 2))
        assert not (await runner.wait_for(PROJECTION_NAMES, head + 5, 5)).stale
        await assert_views_equal_replay(runner, store, views)
        assert (await runner.rebuild("customer_summaries")).position == head + 5
        await assert_views_equal_replay(runner, store, views)


async def test_a_restarted_runner_resumes_from_its_checkpoints(store: SqlEventStore) -> None:
    """The runner's own catch-up path: runners built alone (no in-writer hook), restarted over
    a log that grew while none ran."""
    head = await append_histories(store, 10)
    first = ProjectionRunner(store, store.db, default_projections(), batch_size=7)
    await first.start()
    assert not (await first.wait_for(PROJECTION_NAMES, head, 5)).stale
    await first.stop()
    await store.append("more", order_history("more", "c", T0, 3))
    second = ProjectionRunner(store, store.db, default_projections(), batch_size=7)
    await second.start()
    try:
        assert second.position("order_views") >= head
        assert not (await second.wait_for(PROJECTION_NAMES, head + 5, 5)).stale
        await assert_views_equal_replay(second, store, store.db)
    finally:
        await second.stop()
