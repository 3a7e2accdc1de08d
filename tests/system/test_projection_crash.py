"""Exactly-once under crash: a child process running the projections is killed at random.

This holds the runner's own catch-up path on purpose: the child is the runner alone, catching
up from its checkpoints on a log written beforehand, as a restarted process does.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

import pytest

from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from readmodels.registry import PROJECTION_NAMES
from tests.support.readmodels import Replay, append_histories, checkpoints

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
ORDERS = 4000  # five events each: a 20,000-event log


async def _run_child(url: str, *, kill_after: float | None) -> str:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.readmodels",
        url,
        "200",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), 30) == b"started\n"
    if kill_after is None:
        last = await asyncio.wait_for(child.stdout.readline(), 60)
        assert await child.wait() == 0
        return last.decode().strip()
    await asyncio.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    await child.wait()
    return "killed"


@pytest.mark.slow
async def test_views_equal_a_fresh_replay_after_every_sigkill(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    store = SqlEventStore(db)
    await store.create_schema()
    head = await append_histories(store, ORDERS)
    replay = Replay(store, db)
    await replay.create()
    rng = random.Random(20240301)
    interrupted = 0
    try:
        for _ in range(KILLS):
            assert await _run_child(sqlite_url, kill_after=rng.uniform(0.0, 0.2)) == "killed"
            stored = await checkpoints(db)
            interrupted += any(0 < stored[name] < head for name in PROJECTION_NAMES)
            for name in PROJECTION_NAMES:
                await replay.advance(name, stored[name])
                await replay.assert_matches(name)
        assert await _run_child(sqlite_url, kill_after=None) == "done"
        stored = await checkpoints(db)
        assert stored == dict.fromkeys(PROJECTION_NAMES, head)
        for name in PROJECTION_NAMES:
            await replay.advance(name, head)
            await replay.assert_matches(name)
    finally:
        await db.dispose()
    assert interrupted >= KILLS // 2, "most kills should land in the middle of the catch-up"
