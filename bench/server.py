"""The product's ASGI app beside bench-only baseline routes, served the way `ordergraph serve` does.

Run only by the benchmark (`python -m bench.server ...`): production never builds these routes.
The baselines share the product's process, event loop, database file, write lock and read pool,
so each ratio compares like with like; they are dispatched before the product's middleware
(request log, body limit, timeout), so they measure the bare stack, not the product's edge.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from graph.app import create_app
from graph.cli.serve import uvicorn_options
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

    from graph.bootstrap import Container
    from readmodels.dto import Change

bench_metadata = MetaData()
bench_insert = Table(
    "bench_insert",
    bench_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payload", Text, nullable=False),
)
_INSERT = insert(bench_insert)
_GET = text("SELECT * FROM order_view WHERE id = :id")
_LIST = text("SELECT * FROM order_view ORDER BY created_at DESC, seq DESC LIMIT 100")
_FIVE = text(
    "SELECT id, status, total_amount, created_at, customer_id FROM order_view "
    "ORDER BY created_at DESC, seq DESC LIMIT 100"
)
CONSTANT = b'{"data":{"__typename":"Query"}}'


def _json(value: Any) -> Response:
    return Response(json.dumps(value, default=str), media_type="application/json")


class Probes:
    """Commit and view times taken inside the server (time.monotonic, shared by processes)."""

    def __init__(self) -> None:
        self.commits: list[tuple[int, float]] = []
        self.pending: deque[tuple[int, float]] = deque()
        self.lags: list[float] = []

    def install(self, container: Container) -> None:
        """Wrap the commit signal and the change hub of the running container."""
        signal, hub = container.store.committed, container.runner.changes
        notify, publish = signal.notify, hub.publish

        def on_notify(head: int) -> None:
            if head > signal.head:
                now = time.monotonic()
                self.commits.append((head, now))
                self.pending.append((head, now))
                del self.commits[:-100_000]
            notify(head)

        def on_publish(change: Change) -> None:
            if change.projection == "order_views":
                now = time.monotonic()
                while self.pending and self.pending[0][0] <= change.position:
                    self.lags.append(now - self.pending.popleft()[1])
            publish(change)

        signal.notify = on_notify  # type: ignore[method-assign]
        hub.publish = on_publish  # type: ignore[method-assign]

    def commit_time(self, position: int) -> float | None:
        """When the first commit covering `position` was signalled."""
        index = bisect.bisect_left(self.commits, (position, 0.0))
        return self.commits[index][1] if index < len(self.commits) else None


class BenchApp:
    """The product app, with `/bench/` paths answered by a bare router in front of it."""

    def __init__(self, product: Starlette, bench: Router) -> None:
        self.product = product
        self.bench = bench

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/bench/"):
            await self.bench(scope, receive, send)
        else:
            await self.product(scope, receive, send)


def bench_routes(app: Starlette) -> list[Route]:
    """The baseline and control routes; they read the app's container at request time."""
    probes = Probes()

    def container() -> Container:
        found: Container = app.state.runtime.container
        return found

    async def setup(_request: Request) -> Response:
        await container().db.create_all(bench_metadata)
        probes.install(container())
        return _json({"ok": True})

    async def constant(_request: Request) -> Response:
        return Response(CONSTANT, media_type="application/json")

    async def raw_insert(request: Request) -> Response:
        payload = (await request.body()).decode()
        async with container().db.write() as conn:
            result = await conn.execute(_INSERT, {"payload": payload})
        return _json({"id": result.inserted_primary_key[0] if result.inserted_primary_key else 0})

    async def raw_get(request: Request) -> Response:
        order_id = (await request.json())["id"]
        async with container().read_db.read() as conn:
            row = (await conn.execute(_GET, {"id": order_id})).mappings().first()
        return _json({"data": None if row is None else dict(row)})

    async def raw_list(request: Request) -> Response:
        await request.body()
        async with container().read_db.read() as conn:
            rows = (await conn.execute(_LIST)).mappings().all()
        return _json({"data": [dict(row) for row in rows]})

    async def raw_five(request: Request) -> Response:
        await request.body()
        async with container().read_db.read() as conn:
            rows = (await conn.execute(_FIVE)).mappings().all()
        return _json({"data": [dict(row) for row in rows]})

    async def runner_stop(_request: Request) -> Response:
        await container().runner.stop()
        return _json({"ok": True})

    async def runner_start(_request: Request) -> Response:
        await container().runner.start()
        return _json({"ok": True})

    async def drain(request: Request) -> Response:
        """Seconds until every projection reaches the head as of this call (or the timeout)."""
        runner, head = container().runner, container().store.committed.head
        timeout = float(request.query_params.get("timeout", "10"))
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if all(runner.position(name) >= head for name in PROJECTION_NAMES):
                return _json({"seconds": time.monotonic() - started, "head": head})
            await asyncio.sleep(0.002)
        return _json({"seconds": None, "head": head})

    async def freshness(request: Request) -> Response:
        lags, probes.lags = probes.lags, []
        probes.pending.clear()
        return _json({"lags": lags})

    async def commit_time(request: Request) -> Response:
        return _json({"t": probes.commit_time(int(request.query_params["position"]))})

    async def commit_times(_request: Request) -> Response:
        return _json({"commits": probes.commits})

    handlers: dict[str, tuple[str, Callable[[Request], Awaitable[Response]]]] = {
        "/bench/setup": ("POST", setup),
        "/bench/const": ("POST", constant),
        "/bench/insert": ("POST", raw_insert),
        "/bench/get": ("POST", raw_get),
        "/bench/list": ("POST", raw_list),
        "/bench/five": ("POST", raw_five),
        "/bench/runner/stop": ("POST", runner_stop),
        "/bench/runner/start": ("POST", runner_start),
        "/bench/drain": ("GET", drain),
        "/bench/freshness": ("POST", freshness),
        "/bench/commit": ("GET", commit_time),
        "/bench/commits": ("GET", commit_times),
    }
    return [Route(path, handler, methods=[method]) for path, (method, handler) in handlers.items()]


def build_bench_app(settings: Settings) -> BenchApp:
    """The production app of `settings`, and the bench routes outside its middleware."""
    app = create_app(settings, freeze_gc=True)  # as `ordergraph serve` runs it
    return BenchApp(app, Router(routes=bench_routes(app)))


def main() -> None:
    """Serve the bench app with uvicorn, with the options `ordergraph serve` uses."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--replica-url", action="append", default=[])
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url,
        production=True,
        auth_secret=args.secret,
        replica_urls=tuple(args.replica_url),
    )
    options = uvicorn_options(
        "127.0.0.1", args.port, "text", max_body_bytes=settings.max_body_bytes
    )
    uvicorn.run(build_bench_app(settings), **options)


__all__ = ["BenchApp", "Probes", "bench_routes", "build_bench_app", "main"]

if __name__ == "__main__":
    main()
