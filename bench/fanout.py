"""The fan-out row: many `orderUpdated` subscribers on one order, commit to last delivery."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench import workloads as w
from bench.harness import Server, call, graphql
from bench.report import Row

PROTOCOL = "graphql-transport-ws"


class Deliveries:
    """Arrival times of the current update's messages, and an event once all have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.times: list[float] = []
        self.complete = asyncio.Event()

    def reset(self) -> None:
        self.times = []
        self.complete = asyncio.Event()

    def arrived(self) -> None:
        self.times.append(time.monotonic())
        if len(self.times) >= self.expected:
            self.complete.set()


async def _subscriber(
    ws_url: str, token: str, order_id: str, after: int, deliveries: Deliveries
) -> ClientConnection:
    ws = await connect(ws_url, subprotocols=[PROTOCOL], max_queue=None, open_timeout=30)  # type: ignore[list-item]
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"the server refused the subscriber: {ack}")
    # With afterPosition nothing is missed, however long the subscription takes to start.
    query = {"query": w.ORDER_UPDATED, "variables": {"id": order_id, "after": after}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))

    async def receive() -> None:
        async for message in ws:
            if isinstance(message, str) and message.startswith('{"type":"next"'):
                deliveries.arrived()
            elif isinstance(message, str) and '"type":"ping"' in message:
                await ws.send('{"type":"pong"}')
            else:
                deliveries.arrived()

    asyncio.get_running_loop().create_task(receive())
    return ws


async def _measure(
    server: Server, token: str, subscribers: int, updates: int
) -> tuple[list[float], list[float], dict[str, float]]:
    base = server.base_url
    created = graphql(base, w.create_body(), token)["createOrder"]
    order_id, after = created["orderId"], created["position"]
    ws_url = base.replace("http://", "ws://") + "/graphql"
    deliveries = Deliveries(subscribers)
    sockets: list[ClientConnection] = []
    for start in range(0, subscribers, 50):
        batch = range(start, min(start + 50, subscribers))
        sockets += await asyncio.gather(
            *(_subscriber(ws_url, token, order_id, after, deliveries) for _ in batch)
        )
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
        memory = server.memory_mb()
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
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
    firsts, lasts, memory = asyncio.run(_measure(server, token, subscribers, updates))
    if len(lasts) < 2:
        row.notes.append("too few updates were measured")
        row.judge(None, False)
        return row
    last_cuts = statistics.quantiles(lasts, n=100)
    p50, p99 = statistics.median(lasts) * 1000, last_cuts[98] * 1000
    first_p50 = statistics.median(firsts) * 1000
    rss = memory.get("VmRSS", 0.0)
    details: dict[str, Any] = {
        "last_delivery_p50_ms": p50,
        "last_delivery_p99_ms": p99,
        "first_delivery_p50_ms": first_p50,
        "updates": len(lasts),
        "rss_mb": rss,
        "peak_rss_mb": memory.get("VmHWM", 0.0),
    }
    row.extra.update(details)
    row.notes.append(
        f"last delivery p50 {p50:.1f} ms, p99 {p99:.1f} ms (first delivery p50 "
        f"{first_p50:.1f} ms) over {len(lasts)} updates; server RSS {rss:.0f} MB, "
        f"peak {details['peak_rss_mb']:.0f} MB; the client (one Python process on the "
        "load core) timestamps every message, so its own cost is included"
    )
    row.judge(p99, p99 <= 100.0 and rss <= 200.0)
    return row


__all__ = ["fanout_row"]
