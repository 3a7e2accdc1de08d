"""A worker frozen while it holds the append lock does not stall the cluster: `ordergraph serve
--workers 2` on PostgreSQL under write load, the worker whose session holds the lock is stopped
(SIGSTOP), and the other worker's writes resume within 3 s (the server ends the stalled
session after idle_in_transaction_session_timeout). Continued (SIGCONT), the stopped worker
answers what it was holding, ok or SERVICE_UNAVAILABLE, and nothing acknowledged is lost.

The freeze is repeated until the lock holder was caught holding it at least twice (a batch holds
the lock for milliseconds); each freeze stays under uvicorn's 5 s worker health check."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import pytest

from domain.storage.sql import APPEND_LOCK_KEY
from tests.support.graph import order_input
from tests.support.pgserver import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
CLIENTS = 8
FROZEN_SECONDS = 3.2
RESUME_WITHIN = 3.0
CAUGHT_AT_LEAST = 2
TRIES = 12

# The write alone: `order { ... }` would also wait for the views, which the stopped worker may
# be the one to apply (it leads them) until its leadership session ends too (3 s later).
CREATE = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { orderId position } }"
VIEWS_AT = (
    "query($p: Position) { orders(first: 1, minPosition: $p, timeoutMs: 10000) { totalCount } }"
)
_HOLDER = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid"""
_WORKERS = """
SELECT DISTINCT application_name FROM pg_stat_activity
WHERE datname = current_database() AND application_name LIKE 'ordergraph:%'"""


@dataclass
class Answer:
    sent: float
    done: float
    outcome: str  # "ok" or the error code
    result: dict[str, Any] | None  # orderId and position when acknowledged


class Load:
    """Clients creating orders, each request on a new connection (so the kernel hands it to a
    worker that accepts: never to a stopped one)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: list[Answer] = []
        self.running = True

    async def client(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as http:
            while self.running:
                await self.write(http)

    async def write(self, http: httpx.AsyncClient) -> Answer:
        sent = time.monotonic()
        response = await http.post(
            "/graphql", json={"query": CREATE, "variables": {"input": order_input()}}
        )
        body = response.json()
        if body.get("errors"):
            answer = Answer(sent, time.monotonic(), body["errors"][0]["extensions"]["code"], None)
        else:
            answer = Answer(sent, time.monotonic(), "ok", body["data"]["createOrder"])
        self.answers.append(answer)
        return answer

    async def first_write(self) -> float:
        """When a write sent now is first acknowledged. Its own connections: the load's clients
        may all be waiting on the stopped worker, and a new connection never reaches it."""
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as http:
            while (answer := await self.write(http)).outcome != "ok":
                pass
            return answer.done

    @property
    def acknowledged(self) -> list[dict[str, Any]]:
        """The acknowledged writes' orderId and position."""
        return [answer.result for answer in self.answers if answer.result is not None]


async def lock_holder(monitor: asyncpg.Connection, timeout: float = 10) -> int | None:
    """The pid of the worker whose session holds the append lock now (polled until one does)."""
    key = (APPEND_LOCK_KEY >> 32, APPEND_LOCK_KEY & 0xFFFFFFFF)
    deadline = time.monotonic() + timeout
    while (name := await monitor.fetchval(_HOLDER, *key)) is None:
        if time.monotonic() >= deadline:
            return None
    return int(str(name).removeprefix("ordergraph:"))


def serve(url: str, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=REPO,
        env={**os.environ, "ORDERGRAPH_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def workers_of(monitor: asyncpg.Connection, server: subprocess.Popen[bytes]) -> set[int]:
    """The pids of both workers, once each has a session on the database."""
    deadline = time.monotonic() + 60
    while len(names := await monitor.fetch(_WORKERS)) < 2:
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the workers did not start"
        await asyncio.sleep(0.2)
    return {int(row[0].removeprefix("ordergraph:")) for row in names}


async def freeze_the_lock_holder(
    monitor: asyncpg.Connection, load: Load, workers: set[int]
) -> bool:
    """Stop the worker holding the append lock for FROZEN_SECONDS, then continue it; whether
    it still held the lock once stopped. The other worker's writes must resume meanwhile."""
    pid = await lock_holder(monitor)
    assert pid in workers, (pid, workers)
    os.kill(pid, signal.SIGSTOP)
    frozen_at = time.monotonic()
    probe = asyncio.create_task(load.first_write())
    try:
        caught = await lock_holder(monitor, timeout=0) == pid
        await asyncio.sleep(FROZEN_SECONDS)
    finally:
        os.kill(pid, signal.SIGCONT)
    if not probe.done():
        probe.cancel()
        pytest.fail("no write was acknowledged while a worker was stopped")
    assert await probe - frozen_at <= RESUME_WITHIN
    return caught


async def test_a_worker_stopped_while_holding_the_append_lock_does_not_stop_the_others(
    postgres_url: str,
) -> None:
    port = free_port()
    load = Load(f"http://127.0.0.1:{port}")
    clients: list[asyncio.Task[None]] = []
    monitor = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    with tempfile.TemporaryFile() as log:
        server = serve(postgres_url, port, log)
        try:
            workers = await workers_of(monitor, server)
            await wait_until_served(load.base)
            clients = [asyncio.create_task(load.client()) for _ in range(CLIENTS)]
            caught = 0
            for _ in range(TRIES):
                await asyncio.sleep(0.5)
                caught += await freeze_the_lock_holder(monitor, load, workers)
                if caught == CAUGHT_AT_LEAST:
                    break
            assert caught == CAUGHT_AT_LEAST, f"the lock holder was caught holding {caught} times"
            await asyncio.sleep(1.0)  # the stopped worker answers what it held, then serves again
            load.running = False
            await asyncio.gather(*clients)
            assert server.poll() is None
            for pid in workers:
                os.kill(pid, 0)  # neither worker was replaced by uvicorn's supervisor
            await views_reach(load.base, max(r["position"] for r in load.acknowledged))
        finally:
            load.running = False
            await asyncio.gather(*clients, return_exceptions=True)
            server.send_signal(signal.SIGTERM)
            server.wait(30)
            stored = set(await monitor.fetch("SELECT position, stream_id FROM event"))
            await monitor.close()
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert {answer.outcome for answer in load.answers} <= {"ok", "SERVICE_UNAVAILABLE"}
    acked = [(r["position"], r["orderId"]) for r in load.acknowledged]
    assert [pair for pair in acked if pair not in {tuple(row) for row in stored}] == []
    assert "Traceback" not in output, output[-3000:]


async def wait_until_served(base: str) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        while True:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            await asyncio.sleep(0.2)


async def views_reach(base: str, position: int) -> None:
    """The views answer at `position` (whoever leads them now), not stale."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        response = await http.post(
            "/graphql", json={"query": VIEWS_AT, "variables": {"p": position}}
        )
    body = response.json()
    assert "errors" not in body, body
    assert not body.get("extensions", {}).get("freshness", {}).get("stale"), body
