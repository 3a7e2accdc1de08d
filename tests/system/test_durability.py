"""Durability on SQLite: a writer killed with SIGKILL mid-load loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from domain.ports import RecordedEvent
from tests.support.domain import command_rows, open_store

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4
READY_TIMEOUT = 20.0

pytestmark = pytest.mark.slow


async def run_and_kill(url: str, delay: float) -> list[dict[str, Any]]:
    """Start the child, let it append for `delay` seconds, SIGKILL it, return its acks."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.durability_child",
        url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    killed = False
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), READY_TIMEOUT)
        assert ready == b"ready\n", ready
        acks: list[dict[str, Any]] = []
        deadline = time.monotonic() + delay
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                text = await asyncio.wait_for(child.stdout.readline(), remaining)
            except TimeoutError:
                break
            assert text, "the child stopped before it was killed"
            acks.append(json.loads(text))
        child.send_signal(signal.SIGKILL)
        killed = True
        # Whatever the child wrote before it died was acknowledged after its commit.
        for text in (await child.stdout.read()).splitlines():
            if text.endswith(b"}"):
                acks.append(json.loads(text))
    finally:
        # Signal only once: a second kill() polls (reaps) the dead child before asyncio's
        # watcher thread does, and the watcher then reports exit status 255.
        if not killed:
            child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    return acks


def check_log(events: list[RecordedEvent], commands: list[dict[str, Any]]) -> None:
    """Gapless positions; each command's one event present exactly when its record is."""
    assert [r.position for r in events] == list(range(1, len(events) + 1))
    per_command = Counter(r.metadata.command_id for r in events)
    assert set(per_command.values()) <= {1}, "a command appended more than its one event"
    by_command = {r.metadata.command_id: r for r in events}
    assert {row["command_id"] for row in commands} == set(by_command)
    for row in commands:
        recorded = by_command[row["command_id"]]
        assert (row["order_id"], row["version"], row["position"]) == (
            recorded.stream_id,
            recorded.version,
            recorded.position,
        )
    streams: dict[str, list[int]] = {}
    for recorded in events:
        streams.setdefault(recorded.stream_id, []).append(recorded.version)
    for versions in streams.values():
        assert versions == list(range(1, len(versions) + 1))


async def test_a_killed_writer_loses_nothing_it_acknowledged(sqlite_url: str) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    acknowledged: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):
        acks = await run_and_kill(sqlite_url, rng.uniform(0.15, 0.8))
        assert acks, f"round {round_}: nothing was acknowledged (seed {seed})"
        acknowledged.extend(acks)
        async with open_store(sqlite_url) as store:
            events = await store.read_all(limit=1_000_000)
            check_log(events, await command_rows(store))
            by_position = {r.position: r for r in events}
            for ack in acknowledged:
                recorded = by_position.get(ack["position"])
                assert recorded is not None, f"acknowledged {ack} is lost (seed {seed})"
                assert (
                    recorded.stream_id,
                    recorded.version,
                    recorded.metadata.command_id,
                ) == (ack["order_id"], ack["version"], ack["command_id"])
            assert store.committed.head == len(events) >= len(acknowledged)
