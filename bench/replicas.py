"""The replica rows: reads with `minPosition` on a server with one streaming standby against the
same reads on a server with the primary alone, under the same write load; and how far the
standby trails the primary (commit on the primary to the standby's checkpoint showing it).

Everything shares the machine: both PostgreSQL servers, both ordergraph servers (on the server
core), wrk, the writer and the lag sampler (on the load core). So the read row measures what
routing and proving freshness on a replica cost and save here, not what a second machine adds.
"""

from __future__ import annotations

import asyncio
import bisect
import multiprocessing
import re
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx

from bench import workloads as w
from bench.harness import Server, admin_token, call, graphql
from bench.load import LegResult, Request, run_leg
from bench.pairs import HttpRows, Plan
from bench.report import Row, Side

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.synchronize import Event as EventType

    from tests.support.pgserver import PostgresServer

WRITES_PER_SECOND = 100
# Writes are sent at the rate whatever their latency, up to this many at a time.
MAX_OUTSTANDING_WRITES = 20
POLL_SECONDS = 0.001
GET_AT = (
    "query GetAt($id: ID!, $p: Position) "
    f"{{ order(id: $id, minPosition: $p) {{ {w.ORDER_FIELDS} }} }}"
)


class WriteLoad:
    """createOrder at a steady rate against one server, and the standby's order_views
    checkpoint sampled every millisecond, in a process of their own (not to share the load
    generator's interpreter)."""

    def __init__(self, base_url: str, token: str, standby_dsn: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_write_and_sample,
            args=(base_url, token, standby_dsn, self._stop, sender),
            daemon=True,
        )
        self.written: list[int] = []
        self.seen: list[tuple[int, float]] = []
        self.seconds = 0.0

    def __enter__(self) -> WriteLoad:
        self._process.start()
        self.seconds = time.monotonic()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.monotonic() - self.seconds
        self._stop.set()
        if self._results.poll(60):
            self.written, self.seen = self._results.recv()
        self._process.join(30)

    def lags(self, commits: list[tuple[int, float]]) -> list[float]:
        """For each position written: when the standby showed it, less when it committed."""
        commits = sorted(commits)
        seen_positions = [position for position, _ in self.seen]
        lags = []
        for position in self.written:
            committed = bisect.bisect_left(commits, (position, 0.0))
            shown = bisect.bisect_left(seen_positions, position)
            if committed < len(commits) and shown < len(self.seen):
                lags.append(self.seen[shown][1] - commits[committed][1])
        return lags


def _write_and_sample(
    base_url: str, token: str, standby_dsn: str, stop: EventType, results: Connection
) -> None:
    """The child process of `WriteLoad`: both loops until `stop`, then the results sent."""
    written: list[int] = []
    seen: list[tuple[int, float]] = []

    async def write() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = w.create_body()
        limits = httpx.Limits(max_connections=MAX_OUTSTANDING_WRITES)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as http:

            async def create() -> None:
                answer = (await http.post("/graphql", content=body, timeout=30)).json()
                written.append(int(answer["data"]["createOrder"]["position"]))

            pending: set[asyncio.Task[None]] = set()
            next_at = time.monotonic()
            while not stop.is_set():
                if len(pending) < MAX_OUTSTANDING_WRITES:
                    task = asyncio.create_task(create())
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                next_at += 1 / WRITES_PER_SECOND
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*pending)

    async def sample() -> None:
        connection = await asyncpg.connect(standby_dsn)
        try:
            last = -1
            while not stop.is_set():
                position = await connection.fetchval(
                    "SELECT position FROM projection_checkpoint WHERE name = 'order_views'"
                )
                if position is not None and position != last:
                    last = int(position)
                    seen.append((last, time.monotonic()))
                await asyncio.sleep(POLL_SECONDS)
        finally:
            await connection.close()

    async def both() -> None:
        await asyncio.gather(write(), sample())

    asyncio.run(both())
    results.send((written, seen))


def replica_rows(folder: Path, plan: Plan) -> list[Row]:
    """Both rows, or two skipped rows when PostgreSQL or its standby cannot be started."""
    read, lag = _rows()
    try:
        from tests.support.pgserver import SERVER_SETTINGS, PostgresServer, PostgresUnavailable
    except ImportError as error:
        return _skipped([read, lag], f"tests.support.pgserver cannot be imported: {error}")
    # Commits reach the standby when they happen (the suite's servers defer WAL writes).
    settings = [s for s in SERVER_SETTINGS if not s.startswith("synchronous_commit")]
    try:
        primary = PostgresServer.start(settings=[*settings, "synchronous_commit=on"])
    except PostgresUnavailable as error:
        return _skipped([read, lag], str(error))
    try:
        standby = primary.start_standby()
        try:
            name = primary.create_database()
            _measure(folder, plan, primary.url(name), standby, name, read, lag)
        finally:
            standby.stop()
    except PostgresUnavailable as error:
        return _skipped([read, lag], str(error))
    finally:
        primary.stop()
    return [read, lag]


def _measure(
    folder: Path, plan: Plan, url: str, standby: PostgresServer, name: str, read: Row, lag: Row
) -> None:
    token = admin_token()
    replica_url = standby.url(name)
    alone = Server(url, folder / "server-primary-alone.log")
    replicated = Server(url, folder / "server-with-replica.log", (replica_url,))
    with alone, replicated:
        order_id = HttpRows(alone.base_url, token, plan).seed(120)
        body = w.body(GET_AT, {"id": order_id, "p": _head(alone, token)})
        request = Request(path="/graphql", body=body, token=token)
        standby.wait_for_replay()
        before = _replica_reads(replicated.base_url, token)
        dsn = replica_url.replace("postgresql+asyncpg://", "postgresql://")
        with WriteLoad(alone.base_url, token, dsn) as load:
            product, baseline = _interleaved(plan, replicated.base_url, alone.base_url, request)
        recorded = call(alone.base_url + "/bench/commits")["commits"]
        commits = [(int(position), float(at)) for position, at in recorded]
        after = _replica_reads(replicated.base_url, token)
    read.product_side, read.baseline_side = product, baseline
    value = product.rate / baseline.rate if baseline.rate else 0.0
    read.judge(value, None)
    counted = {outcome: after.get(outcome, 0) - before.get(outcome, 0) for outcome in after}
    read.extra.update(outcomes=counted, writes=len(load.written))
    read.notes.append(
        f"under {len(load.written):,} creates in {load.seconds:.1f} s (aimed at "
        f"{WRITES_PER_SECOND}/s) on the primary-alone server; the replica server's reads: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(counted.items()))
    )
    if product.bad or baseline.bad:
        read.notes.append(f"bad responses: product {product.bad}, baseline {baseline.bad}")
    _lag_row(lag, load.lags(commits))


def _lag_row(row: Row, lags: list[float]) -> None:
    if not lags:
        row.notes.append("no write was seen on the standby")
        row.judge(None, None)
        return
    cuts = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    row.extra.update(p50_ms=p50, p99_ms=p99, max_ms=max(lags) * 1000, writes=len(lags))
    row.notes.append(
        f"commit on the primary to the standby's order_views checkpoint: p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {max(lags) * 1000:.1f} ms over {len(lags):,} writes "
        f"(sampled every {POLL_SECONDS * 1000:.0f} ms)"
    )
    row.judge(p99, None)


def _interleaved(
    plan: Plan, product_url: str, baseline_url: str, request: Request
) -> tuple[Side, Side]:
    """Warm both up, then legs A B A B: the median of each side."""
    product: list[LegResult] = []
    baseline: list[LegResult] = []
    run_leg(product_url, request, plan.warmup_seconds, plan.connections)
    run_leg(baseline_url, request, plan.warmup_seconds, plan.connections)
    for _ in range(plan.rounds):
        product.append(run_leg(product_url, request, plan.leg_seconds, plan.connections))
        baseline.append(run_leg(baseline_url, request, plan.leg_seconds, plan.connections))
    return Side.of(product), Side.of(baseline)


def _head(server: Server, token: str) -> int:
    data = graphql(server.base_url, w.body("{ projections { headPosition } }"), token)
    return max(int(p["headPosition"]) for p in data["projections"])


def _replica_reads(base_url: str, token: str) -> dict[str, float]:
    """ordergraph_replica_reads_total by outcome, from /metrics."""
    response = httpx.get(base_url + "/metrics", headers={"Authorization": f"Bearer {token}"})
    pattern = r'^ordergraph_replica_reads_total\{outcome="(\w+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, response.text, re.MULTILINE)}


def _rows() -> tuple[Row, Row]:
    read = Row(
        name="replica-read",
        product="order(id, minPosition) on a server with one replica",
        baseline="the same on a server with the primary alone",
        target="report",
    )
    lag = Row(
        name="replica-lag",
        product="commit to visible on the standby, under the write load",
        baseline="-",
        target="report",
        unit="ms",
    )
    return read, lag


def _skipped(rows: list[Row], reason: str) -> list[Row]:
    for row in rows:
        row.notes.append(f"skipped: {reason}")
    return rows


__all__ = ["replica_rows"]
