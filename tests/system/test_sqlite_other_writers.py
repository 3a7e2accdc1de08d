"""Other processes writing the server's SQLite file: `ordergraph seed` and a second `ordergraph
serve`. What they commit reaches the server's open subscriptions and `minPosition` waits, and the
server reads nothing to follow them while nobody listens."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect

from graph.app import create_app
from graph.settings import Settings
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    post_data,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.applications import Starlette
    from websockets.asyncio.client import ClientConnection

    from readmodels.runner.peers import PeerWatch
    from readmodels.runner.runner import ProjectionRunner

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HEAD = "{ projections { headPosition } }"
ORDERS_CHANGED = """subscription($after: Position) {
  ordersChanged(afterPosition: $after) { id status position } }"""
ORDER_UPDATED = """subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { status position } }"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { position } }"
READ = """query($id: ID!, $p: Position) {
  order(id: $id, minPosition: $p, timeoutMs: 500) { status } }"""
ALL_ORDERS = "{ orders(first: 100) { edges { node { id status position } } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """The app under a real uvicorn in a thread of this process (its runner can be looked at)."""

    def __init__(self, url: str) -> None:
        self.app: Starlette = create_app(replace(Settings(database_url=url)))
        self.port = _free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            loop="asyncio",
            lifespan="on",
            log_level="warning",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.address = f"127.0.0.1:{self.port}"
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def runner(self) -> ProjectionRunner:
        runner: ProjectionRunner = self.app.state.runtime.container.runner
        return runner

    @property
    def peers(self) -> PeerWatch:
        return self.runner.peers

    @contextlib.asynccontextmanager
    async def writer_held(self) -> AsyncIterator[None]:
        """This process's writer held on its loop meanwhile: what it learns of other processes
        on the file is published only afterwards, late, as on a busy machine."""
        db = self.app.state.runtime.container.db
        holding: concurrent.futures.Future[asyncio.Event] = concurrent.futures.Future()

        async def hold() -> None:
            release = asyncio.Event()
            async with db.writer_held():
                holding.set_result(release)
                await release.wait()

        loop = self.loop
        assert loop is not None, "not serving"
        held = asyncio.run_coroutine_threadsafe(hold(), loop)
        release = await asyncio.wrap_future(holding)
        try:
            yield
        finally:
            loop.call_soon_threadsafe(release.set)
            await asyncio.wrap_future(held)

    def _serve(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        asyncio.run(serve())

    @contextlib.contextmanager
    def running(self) -> Iterator[Served]:
        thread = threading.Thread(target=self._serve, name="uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert thread.is_alive(), "uvicorn stopped"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        try:
            yield self
        finally:
            self.server.should_exit = True
            thread.join(10)


class OtherServer:
    """A second `ordergraph serve` process on the same file."""

    def __init__(self, url: str) -> None:
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "serve", "--port", str(self.port)],
            cwd=REPO,
            env={**os.environ, "ORDERGRAPH_DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.address = f"127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=f"http://{self.address}", timeout=2) as http:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).json()["status"] == "ok":
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    pytest.fail(f"the second server did not come up: {self.log.read()[-2000:]!r}")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def served(sqlite_url: str) -> Iterator[Served]:
    with Served(sqlite_url).running() as running:
        yield running


@pytest.fixture
async def other(sqlite_url: str, served: Served) -> Any:
    second = OtherServer(sqlite_url)
    try:
        await second.ready()
        yield second
    finally:
        second.stop()


async def _subscribe(ws: ClientConnection, query: str, variables: dict[str, Any]) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _head(address: str) -> int:
    data = await post_data(address, HEAD, {})
    return max(int(p["headPosition"]) for p in data["projections"])


async def test_a_seed_in_another_process_reaches_an_open_orders_changed_subscription(
    served: Served, sqlite_url: str
) -> None:
    head = await _head(served.address)
    async with connect(f"ws://{served.address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        await _subscribe(ws, ORDERS_CHANGED, {"after": head})
        await asyncio.sleep(0.2)  # subscribed (and caught up: nothing) before the seed starts
        seeding = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "graph.cli", "seed", "--orders", "30", "--customers", "3"),
            cwd=REPO,
            env={**os.environ, "ORDERGRAPH_DATABASE_URL": sqlite_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, errors = await asyncio.wait_for(seeding.communicate(), 120)
        assert seeding.returncode == 0, errors.decode()[-2000:]
        seeded = await post_data(served.address, ALL_ORDERS, {})
        final = {edge["node"]["id"]: edge["node"] for edge in seeded["orders"]["edges"]}
        assert len(final) == 30
        # Every order reaches the subscription in its last state: the list it keeps is the table.
        received: dict[str, dict[str, Any]] = {}
        positions: list[int] = []
        while received != final:
            message = await ws_next(ws, timeout=10)
            assert message["type"] == "next", message
            view = message["payload"]["data"]["ordersChanged"]
            received[view["id"]] = view
            positions.append(view["position"])
        assert positions == sorted(set(positions))


async def test_an_order_changed_by_another_server_reaches_order_updated(
    served: Served, other: OtherServer
) -> None:
    created = (await post_data(served.address, CREATE_ORDER, {"input": order_input()}))[
        "createOrder"
    ]
    async with connect(f"ws://{served.address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await ws_init(ws)
        variables = {"id": created["orderId"], "after": created["position"]}
        await _subscribe(ws, ORDER_UPDATED, variables)
        await asyncio.sleep(0.2)
        confirmed = await post_data(other.address, CONFIRM, {"id": created["orderId"]})
        message = await ws_next(ws, timeout=10)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["orderUpdated"] == {
            "status": "CONFIRMED",
            "position": confirmed["confirmOrder"]["position"],
        }


async def test_a_min_position_wait_is_satisfied_by_another_servers_write(
    served: Served, other: OtherServer
) -> None:
    """Three rounds, each well inside the 500 ms the read may wait: without following the other
    process, only the runner's safety poll (every second) would end the wait."""
    async with httpx.AsyncClient(base_url=f"http://{served.address}") as http:
        for _ in range(3):
            created = (await post_data(other.address, CREATE_ORDER, {"input": order_input()}))[
                "createOrder"
            ]
            confirmed = await post_data(other.address, CONFIRM, {"id": created["orderId"]})
            position = confirmed["confirmOrder"]["position"]
            answer = (
                await http.post(
                    "/graphql",
                    json={"query": READ, "variables": {"id": created["orderId"], "p": position}},
                )
            ).json()
            assert answer["data"] == {"order": {"status": "CONFIRMED"}}
            assert answer["extensions"]["freshness"]["stale"] is False, answer


async def test_the_server_reads_nothing_for_other_processes_while_nobody_listens(
    served: Served, other: OtherServer
) -> None:
    """What the other server committed while nobody listened is not sent to a subscription
    opened without `afterPosition` later, even when this server learns of it only then."""
    async with served.writer_held():
        for _ in range(3):
            await post_data(other.address, CREATE_ORDER, {"input": order_input()})
        await asyncio.sleep(0.3)
        assert served.peers.checks == 0
        ws = await connect(f"ws://{served.address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS])
        await ws_init(ws)
        await _subscribe(ws, ORDERS_CHANGED, {})
        for _ in range(500):
            if served.runner.changes.listened:
                break
            await asyncio.sleep(0.01)
        assert served.runner.position("order_views") < await _head(other.address)
        await asyncio.sleep(0.2)  # started (where order_views has committed), not yet told here

    async with ws:
        created = await post_data(other.address, CREATE_ORDER, {"input": order_input()})
        message = await ws_next(ws, timeout=10)
        placed = created["createOrder"]["orderId"]
        assert message["payload"]["data"]["ordersChanged"]["id"] == placed
        assert served.peers.checks > 0
    await asyncio.sleep(0.3)  # the server has seen the socket close
    idle = served.peers.checks
    await post_data(other.address, CREATE_ORDER, {"input": order_input()})
    await asyncio.sleep(0.3)
    assert served.peers.checks == idle
