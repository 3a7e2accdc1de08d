"""The fan-out row: many `orderUpdated` subscribers on one order, commit to last delivery.

The subscribers are bench/wsclient.py sockets (a raw protocol, a few µs per message, no
permessage-deflate), all in this process on the load core; the server runs on its own core.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench import workloads as w
from bench.harness import Server, call, client_gc_paused, graphql
from bench.report import Row
from bench.wsclient import Subscriber, subscribe, subscribe_many


class Deliveries:
    """Arrival times of the current update's messages, and an event once all have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.times: list[float] = []
        self.complete = asyncio.Event()

    def reset(self) -> None:
        self.times = []
        self.complete = asyncio.Event()

    def arrived(self, at: float, _payload: bytes = b"") -> None:
        self.times.append(at)
        if len(self.times) >= self.expected:
            self.complete.set()


def quantile(values: list[float], q: int) -> float:
    """The q-th percentile (statistics' exclusive method; the max for tiny samples)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


async def _measure(
    server: Server, token: str, subscribers: int, updates: int
) -> tuple[list[float], list[float], dict[str, float]]:
    base = server.base_url
    created = graphql(base, w.create_body(), token)["createOrder"]
    order_id, after = created["orderId"], created["position"]
    deliveries = Deliveries(subscribers)
    variables = {"id": order_id, "after": after}  # race-free however long subscribing takes

    async def open_one(_index: int) -> Subscriber:
        return await subscribe(base, token, w.ORDER_UPDATED, variables, deliveries.arrived)

    sockets = await subscribe_many(subscribers, open_one)
    lasts: list[float] = []
    firsts: list[float] = []
    try:
        for update in range(updates + 1):
            deliveries.reset()
            body = w.add_item_body(order_id, f"FAN-{update}")
            result = await asyncio.to_thread(graphql, base, body, token)
            await asyncio.wait_for(deliveries.complete.wait(), 30)
            position = result["addOrderItem"]["position"]
            committed = (await asyncio.to_thread(call, f"{base}/bench/commit?position={position}"))[
                "t"
            ]
            if update == 0 or committed is None:
                continue  # the first update only proves every subscription is live
            firsts.append(min(deliveries.times) - committed)
            lasts.append(max(deliveries.times) - committed)
            await asyncio.sleep(0.05)
        memory = server.memory_mb()
    finally:
        for socket in sockets:
            socket.close()
    return firsts, lasts, memory


def fanout_row(server: Server, token: str, subscribers: int, updates: int) -> Row:
    """`subscribers` WebSocket connections, one subscription each, on one order."""
    row = Row(
        name="fan-out",
        product=f"{subscribers:,} orderUpdated subscribers on one order, commit to last delivery",
        baseline="-",
        target="p99 <= 100 ms; RSS <= 200 MB",
        unit="ms",
    )
    started = time.monotonic()
    with client_gc_paused():
        firsts, lasts, memory = asyncio.run(_measure(server, token, subscribers, updates))
    if len(lasts) < 2:
        row.notes.append("too few updates were measured")
        row.judge(None, False)
        return row
    p50, p99 = statistics.median(lasts) * 1000, quantile(lasts, 99) * 1000
    first_p50 = statistics.median(firsts) * 1000
    rss = memory.get("VmRSS", 0.0)
    details: dict[str, Any] = {
        "last_delivery_p50_ms": p50,
        "last_delivery_p99_ms": p99,
        "first_delivery_p50_ms": first_p50,
        "updates": len(lasts),
        "rss_mb": rss,
        "peak_rss_mb": memory.get("VmHWM", 0.0),
        "seconds": time.monotonic() - started,
    }
    row.extra.update(details)
    row.notes.append(
        f"last delivery p50 {p50:.1f} ms, p99 {p99:.1f} ms (first delivery p50 "
        f"{first_p50:.1f} ms) over {len(lasts)} updates; server RSS {rss:.0f} MB, "
        f"peak {details['peak_rss_mb']:.0f} MB; the client (bench/wsclient.py, one process on "
        "the load core, a few µs per message) timestamps every message on arrival"
    )
    row.judge(p99, p99 <= 100.0 and rss <= 200.0)
    return row


__all__ = ["Deliveries", "fanout_row", "quantile"]
