"""Several `ordergraph serve` processes on one PostgreSQL database: one projection leader,
takeover when it dies, reads and subscriptions answered by every process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import CREATE_ORDER, GRAPHQL_TRANSPORT_WS, order_input, ws_init, ws_next

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
VIEWS = """query($p: Position) {
  orders(first: 100, minPosition: $p, timeoutMs: 10000) {
    totalCount edges { node { id customerId status version position totalAmount itemCount
                              items { sku quantity unitPrice } } } }
  customer(id: "cust-1") { orderCount totalSpent lastOrderAt }
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One `ordergraph serve` process."""

    def __init__(self, url: str, *extra: str) -> None:
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "serve", "--port", str(self.port), *extra],
            cwd=REPO,
            env={**os.environ, "ORDERGRAPH_DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as http:
            answer: dict[str, Any] = (await http.get("/healthz")).json()
            return answer

    async def ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await self.health())["status"] == "ok":
                    return
            assert self.process.poll() is None, self.output()[-2000:]
            assert time.monotonic() < deadline, "the server did not come up"
            await asyncio.sleep(0.1)

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base, timeout=20) as http:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@contextlib.contextmanager
def servers(url: str, count: int) -> Iterator[list[Server]]:
    started = [Server(url) for _ in range(count)]
    try:
        yield started
    finally:
        for server in started:
            server.stop()


async def _leader(candidates: list[Server], timeout: float = 15) -> Server:
    """The process that runs every projection (once leadership has settled)."""
    deadline = time.monotonic() + timeout
    while True:
        for server in candidates:
            with contextlib.suppress(httpx.HTTPError):
                if sorted((await server.health())["leading"]) == sorted(PROJECTION_NAMES):
                    return server
        assert time.monotonic() < deadline, "no process leads every projection"
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def write_load(server: Server, acked: list[dict[str, Any]]) -> AsyncIterator[None]:
    """Clients creating orders through `server` until the block ends, recording every answer."""
    stop = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=20) as http:
            while not stop.is_set():
                response = await http.post(
                    "/graphql",
                    json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
                )
                data = response.json().get("data") or {}
                if data.get("createOrder"):
                    acked.append(data["createOrder"])

    tasks = [asyncio.create_task(client()) for _ in range(4)]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_another_process_takes_over_when_the_leader_dies(postgres_url: str) -> None:
    with servers(postgres_url, 2) as (first, second):
        await first.ready()
        await second.ready()
        leader = await _leader([first, second])
        survivor = second if leader is first else first
        acked: list[dict[str, Any]] = []
        async with write_load(survivor, acked):
            await asyncio.sleep(1.0)
            leader.process.send_signal(signal.SIGKILL)
            leader.process.wait()
            killed_at = time.monotonic()
            assert await _leader([survivor], timeout=10) is survivor
            takeover = time.monotonic() - killed_at
            await asyncio.sleep(1.0)
        assert takeover < 10
        assert len(acked) > 20

        head = max(result["position"] for result in acked)
        live = await survivor.post(VIEWS, {"p": head})
        assert live["orders"]["totalCount"] == len(acked)
        assert live["customer"]["orderCount"] == len(acked)
        for name in PROJECTION_NAMES:
            await survivor.post(f'mutation {{ rebuildProjection(name: "{name}") {{ position }} }}')
        assert await survivor.post(VIEWS, {"p": head}) == live


@pytest.mark.parametrize("subscriber", ["leader", "follower"])
async def test_a_subscription_on_one_process_sees_writes_through_another(
    postgres_url: str, subscriber: str
) -> None:
    with servers(postgres_url, 2) as (one, other):
        await one.ready()
        await other.ready()
        leader = await _leader([one, other])
        follower = other if leader is one else one
        # Every writer applies the views in its own transaction, so the process that runs the
        # projections must still hear of changes that another process's writer applied.
        first, second = (leader, follower) if subscriber == "leader" else (follower, leader)
        created = (await second.post(CREATE_ORDER, {"input": order_input()}))["createOrder"]
        host = first.base.removeprefix("http://")
        async with connect(f"ws://{host}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws)
            query = """subscription($id: ID!, $after: Position) {
              orderUpdated(id: $id, afterPosition: $after) { status position } }"""
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": query,
                            "variables": {"id": created["orderId"], "after": created["position"]},
                        },
                    }
                )
            )
            confirmed = await second.post(
                "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }",
                {"id": created["orderId"]},
            )
            message = await ws_next(ws, timeout=10)
            assert message["type"] == "next", message
            view = message["payload"]["data"]["orderUpdated"]
            assert view == {
                "status": "CONFIRMED",
                "position": confirmed["confirmOrder"]["position"],
            }
        # A read with minPosition on the process that did not write waits for it and answers.
        read = await first.post(
            "query($id: ID!, $p: Position) { order(id: $id, minPosition: $p) { status } }",
            {"id": created["orderId"], "p": confirmed["confirmOrder"]["position"]},
        )
        assert read == {"order": {"status": "CONFIRMED"}}


async def test_serve_with_workers_runs_several_processes(postgres_url: str) -> None:
    server = Server(postgres_url, "--workers", "2")
    try:
        await server.ready()
        created = (await server.post(CREATE_ORDER, {"input": order_input()}))["createOrder"]
        read = await server.post(
            "query($id: ID!, $p: Position) { order(id: $id, minPosition: $p) { id } }",
            {"id": created["orderId"], "p": created["position"]},
        )
        assert read == {"order": {"id": created["orderId"]}}
    finally:
        server.stop()
    assert server.process.returncode in (0, -signal.SIGTERM)


def test_workers_need_postgresql(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve", "--workers", "2"],
        cwd=REPO,
        env={**os.environ, "ORDERGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "--workers needs PostgreSQL" in result.stderr
