"""A minimal graphql-transport-ws client for the live rows: raw asyncio protocol, no
permessage-deflate, frames parsed by hand, each `next` timestamped on arrival.

The websockets library opens each socket (handshake, connection_init); then this protocol
takes the transport over. The library costs the client about 50-100 µs per message (parsing,
queueing, a task per socket); with 1,000 sockets on one core that is the whole latency budget.
This protocol costs a few µs per message, so the rows measure the server. Client frames use the
all-zero mask (valid: the server unmasks with it), so sending costs no XOR.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

_NEXT = b'"type":"next"'


def _frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


class Subscriber(asyncio.Protocol):
    """One socket: `on_next(arrival, payload)` for each `next` message."""

    def __init__(self, on_next: Callable[[float, bytes], None]) -> None:
        self._on_next = on_next
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.errors: list[bytes] = []

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(1006)

    def send_json(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(1, json.dumps(message).encode()))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 2:
            opcode, size, head = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, head = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, head = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < head + size:
                return
            payload = bytes(buffer[head : head + size])
            del buffer[: head + size]
            self._frame(now, opcode, payload)

    def _frame(self, now: float, opcode: int, payload: bytes) -> None:
        if opcode == 1:
            if _NEXT in payload[:64]:
                self._on_next(now, payload)
            elif b'"type":"ping"' in payload:
                self.send_json({"type": "pong"})
            elif b'"type":"error"' in payload:
                self.errors.append(payload)
        elif opcode == 9 and self.transport is not None:  # ping: pong with the same payload
            self.transport.write(_frame(10, payload))
        elif opcode == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self.closed.done():
                self.closed.set_result(code)
            if self.transport is not None:
                self.transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.write(_frame(8, (1000).to_bytes(2, "big")))
            self.transport.close()


async def subscribe(
    base_url: str,
    token: str,
    query: str,
    variables: dict[str, Any],
    on_next: Callable[[float, bytes], None],
    operations: int = 1,
    *,
    deflate: bool = False,
) -> Subscriber:
    """A socket, initialised with `token`, running `operations` subscriptions of `query`.

    The websockets library does the opening handshake and connection_init; then this
    protocol takes the transport over (before any `next` can arrive when the subscription
    starts after a known position). With `deflate` the socket negotiates permessage-deflate
    (as browsers do): only for the memory row, which reads no message."""
    ws = await connect(
        base_url.replace("http://", "ws://") + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        compression="deflate" if deflate else None,
        max_queue=None,
        open_timeout=30,
        ping_interval=None,
    )
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if ack.get("type") != "connection_ack":
        raise ConnectionError(f"the server refused the subscriber: {ack}")
    transport = ws.transport
    subscriber = Subscriber(on_next)
    subscriber.transport = transport
    transport.set_protocol(subscriber)
    for op in range(operations):
        payload = {"query": query, "variables": variables}
        subscriber.send_json({"id": str(op + 1), "type": "subscribe", "payload": payload})
    return subscriber


async def subscribe_many(
    count: int,
    open_one: Callable[[int], Any],
    batch: int = 100,
) -> list[Subscriber]:
    """`count` subscribers opened `batch` at a time (`open_one(index)` makes one)."""
    opened: list[Subscriber] = []
    for start in range(0, count, batch):
        opened += await asyncio.gather(
            *(open_one(i) for i in range(start, min(count, start + batch)))
        )
    return opened


__all__ = ["Subscriber", "subscribe", "subscribe_many"]
