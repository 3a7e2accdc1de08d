"""The live rows beside fan-out: fan-out-wide (one update among thousands of idle watchers),
live-list (ordersChanged while orders are placed) and memory per connection.

The sockets are bench/wsclient.py's (a few µs per message); they and the HTTP client run in
this process on the load core, the server on its own core, as for fan-out.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import workloads as w
from bench.fanout import Deliveries, quantile
from bench.harness import Server, admin_token, call, client_gc_paused, graphql
from bench.report import Row
from bench.wsclient import Subscriber, subscribe, subscribe_many

ORDERS_CHANGED = (
    "subscription Orders($after: Position) "
    f"{{ ordersChanged(afterPosition: $after) {{ {w.ORDER_FIELDS} }} }}"
)
POSITION = b'"position":'


def _create_many(base: str, token: str, count: int) -> list[dict[str, object]]:
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: graphql(base, w.create_body(), token), range(count)))
    return [c["createOrder"] for c in created]


async def _commit(base: str, position: int) -> float | None:
    answer = await asyncio.to_thread(call, f"{base}/bench/commit?position={position}")
    t: float | None = answer["t"]
    return t


async def _update_latencies(base: str, token: str, order_id: str, updates: int) -> list[float]:
    """Commit to delivery of `updates` addOrderItem on the one watched order."""
    deliveries = Deliveries(1)
    variables = {"id": order_id, "after": 0}
    watcher = await subscribe(base, token, w.ORDER_UPDATED, variables, deliveries.arrived)
    await asyncio.wait_for(deliveries.complete.wait(), 30)  # the catch-up view: it is live
    latencies: list[float] = []
    try:
        for update in range(updates):
            deliveries.reset()
            body = w.add_item_body(order_id, f"WIDE-{update}")
            result = await asyncio.to_thread(graphql, base, body, token)
            await asyncio.wait_for(deliveries.complete.wait(), 30)
            committed = await _commit(base, result["addOrderItem"]["position"])
            if committed is not None:
                latencies.append(deliveries.times[0] - committed)
            await asyncio.sleep(0.02)
    finally:
        watcher.close()
    return latencies


async def _wide(
    base: str, token: str, orders: list[str], small: int, updates: int
) -> dict[str, list[float]]:
    def ignore(_at: float, _payload: bytes) -> None:
        return None

    async def idle(index: int) -> Subscriber:
        variables = {"id": orders[index], "after": None}
        return await subscribe(base, token, w.ORDER_UPDATED, variables, ignore)

    target = orders[-1]
    sockets = await subscribe_many(small, idle)
    try:
        results = {"small": await _update_latencies(base, token, target, updates)}
        sockets += await subscribe_many(len(orders) - 1 - small, lambda i: idle(small + i))
        await asyncio.sleep(1.0)  # every idle subscription started
        results["large"] = await _update_latencies(base, token, target, updates)
    finally:
        for socket in sockets:
            socket.close()
    return results


def fanout_wide_row(server: Server, token: str, watchers: int, updates: int) -> Row:
    """`watchers` subscribers on as many orders; updates to one: the others cost nothing."""
    row = Row(
        name="fan-out-wide",
        product=f"{watchers:,} orderUpdated subscribers on {watchers:,} orders; updates to one",
        baseline="the same with 100 idle subscribers",
        target="p99 <= 20 ms; ratio >= 0.8",
        unit="x",
    )
    orders = [str(c["orderId"]) for c in _create_many(server.base_url, token, watchers)]
    results = asyncio.run(_wide(server.base_url, token, orders, 100, updates))
    small, large = results["small"], results["large"]
    if len(small) < 2 or len(large) < 2:
        row.notes.append("too few updates were measured")
        row.judge(None, False)
        return row
    ratio = statistics.median(small) / statistics.median(large)
    p99 = quantile(large, 99) * 1000
    rss = server.memory_mb().get("VmRSS", 0.0)
    row.extra.update(
        {
            "p50_100_idle_ms": statistics.median(small) * 1000,
            "p50_all_idle_ms": statistics.median(large) * 1000,
            "p99_all_idle_ms": p99,
            "ratio": ratio,
            "rss_mb": rss,
        }
    )
    row.notes.append(
        f"commit to delivery p50 {statistics.median(small) * 1000:.2f} ms with 100 idle "
        f"subscribers, {statistics.median(large) * 1000:.2f} ms (p99 {p99:.2f} ms) with "
        f"{watchers - 1:,} on other orders, over {len(large)} updates; server RSS {rss:.0f} MB"
    )
    row.judge(ratio, ratio >= 0.8 and p99 <= 20.0)
    return row


async def _live_list(
    base: str, token: str, subscribers: int, rate: float, seconds: float
) -> tuple[list[int], list[list[tuple[float, bytes]]]]:
    start = int(graphql(base, w.create_body(), token)["createOrder"]["position"])
    received: list[list[tuple[float, bytes]]] = [[] for _ in range(subscribers)]

    async def open_one(index: int) -> Subscriber:
        def arrived(at: float, payload: bytes) -> None:
            received[index].append((at, payload))

        return await subscribe(base, token, ORDERS_CHANGED, {"after": start}, arrived)

    sockets = await subscribe_many(subscribers, open_one)
    placed: list[int] = []
    try:
        loop = asyncio.get_running_loop()
        began = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            pending = []
            for n in range(int(rate * seconds)):
                delay = began + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                pending.append(loop.run_in_executor(pool, graphql, base, w.create_body(), token))
            placed = sorted(
                int(r["createOrder"]["position"]) for r in await asyncio.gather(*pending)
            )
        for _ in range(300):
            if all(len(r) >= len(placed) for r in received):
                break
            await asyncio.sleep(0.1)
    finally:
        for socket in sockets:
            socket.close()
    return placed, received


def live_list_row(server: Server, token: str, subscribers: int, rate: float, seconds: float) -> Row:
    """`subscribers` ordersChanged subscribers while createOrder runs at `rate` per second."""
    row = Row(
        name="live-list",
        product=f"{subscribers} ordersChanged subscribers, createOrder at {rate:.0f}/s",
        baseline="-",
        target="every order exactly once, in order; p99 <= 50 ms",
        unit="ms",
    )
    placed, received = asyncio.run(_live_list(server.base_url, token, subscribers, rate, seconds))
    commits = {
        p: asyncio.run(_commit(server.base_url, p)) for p in placed[:: max(1, len(placed) // 50)]
    }
    exact = True
    latencies: list[float] = []
    for messages in received:
        positions = [
            int(json.loads(m)["payload"]["data"]["ordersChanged"]["position"]) for _, m in messages
        ]
        exact = exact and positions == placed
        for (at, _), position in zip(messages, positions, strict=False):
            committed = commits.get(position)
            if committed is not None:
                latencies.append(at - committed)
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = quantile(latencies, 99) * 1000
    row.extra.update(
        {"exactly_once_in_order": exact, "p50_ms": p50, "p99_ms": p99, "orders": len(placed)}
    )
    row.notes.append(
        f"{len(placed)} orders, each to {subscribers} subscribers: exactly once and in order "
        f"{'yes' if exact else 'NO'}; commit to delivery p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(sampled on {len(commits)} orders)"
    )
    row.judge(p99, exact and p99 <= 50.0)
    return row


async def _connections(
    base: str, token: str, order_id: str, count: int, deflate: bool = False
) -> list[Subscriber]:
    def ignore(_at: float, _payload: bytes) -> None:
        return None

    async def open_one(_index: int) -> Subscriber:
        return await subscribe(
            base, token, w.ORDER_UPDATED, {"id": order_id, "after": None}, ignore
        )

    return await subscribe_many(count, open_one)


def memory_row(server: Server, token: str, connections: int, deflate: bool = False) -> Row:
    """Server RSS per open connection with one orderUpdated subscription, after one update
    was delivered to all (a frame sent is what makes a deflate socket allocate its zlib state)."""
    row = Row(
        name="memory-deflate" if deflate else "memory",
        product=f"RSS per connection, {connections:,} connections with one subscription each"
        + (", permessage-deflate negotiated" if deflate else ""),
        baseline="-",
        target="<= 100 KB",
        unit="KB",
    )
    order_id = str(graphql(server.base_url, w.create_body(), token)["createOrder"]["orderId"])

    async def measure() -> tuple[float, float]:
        warm = await _connections(server.base_url, token, order_id, 50)
        await asyncio.sleep(0.5)
        before = server.memory_mb()["VmRSS"]
        sockets = await _connections(server.base_url, token, order_id, connections, deflate)
        await asyncio.sleep(1.0)
        body = w.add_item_body(order_id, "MEMORY")  # one frame to every socket
        await asyncio.to_thread(graphql, server.base_url, body, token)
        await asyncio.sleep(1.0)
        after = server.memory_mb()["VmRSS"]
        for socket in [*warm, *sockets]:
            socket.close()
        return before, after

    before, after = asyncio.run(measure())
    per = (after - before) * 1024 / connections
    row.extra.update({"rss_before_mb": before, "rss_after_mb": after, "kb_per_connection": per})
    row.notes.append(
        f"server RSS {before:.0f} MB -> {after:.0f} MB for {connections:,} connections: "
        f"{per:.0f} KB each"
        + (" (the server keeps zlib state per socket)" if deflate else " (no permessage-deflate)")
    )
    row.judge(per, per <= 100.0)
    return row


def live_rows(folder: Path, quick: bool) -> list[Row]:
    """The live rows, each on a server of its own (a fresh process: RSS is its own)."""
    token = admin_token()
    rows = []
    plans: list[tuple[str, Callable[[Server], Row]]] = [
        ("wide", lambda s: fanout_wide_row(s, token, 2000 if quick else 5000, 10 if quick else 30)),
        ("list", lambda s: live_list_row(s, token, 200, 100.0, 3.0 if quick else 5.0)),
        ("memory", lambda s: memory_row(s, token, 2000)),
        ("memory-deflate", lambda s: memory_row(s, token, 2000, deflate=True)),
    ]
    for name, build in plans:
        url = f"sqlite+aiosqlite:///{folder / f'live-{name}.db'}"
        with Server(url, folder / f"live-{name}.log") as server, client_gc_paused():
            rows.append(build(server))
    return rows


__all__ = ["fanout_wide_row", "live_list_row", "live_rows", "memory_row"]
