"""LISTEN/NOTIFY on PostgreSQL: how one process learns what another committed, without polling.

A `PgListener` holds one dedicated connection, LISTENs on its channels and calls each channel's
callback with the notification's payload. If the connection drops it reconnects with backoff and
calls `on_reconnect`, so that the owner can re-read whatever it may have missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from domain.storage.database import Database
from domain.storage.faults import fault_of

log = logging.getLogger("ordergraph.listen")

Callback = Callable[[str], None]


class PgListener:
    """LISTENs on channels of one PostgreSQL database and dispatches their payloads."""

    def __init__(
        self,
        db: Database,
        *,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        if db.dialect != "postgresql":
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        self._db = db
        self._callbacks: dict[str, Callback] = {}
        self._on_reconnect = on_reconnect
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def on(self, channel: str, callback: Callback) -> None:
        """Call `callback(payload)` for each notification on `channel` (before `start`)."""
        self._callbacks[channel] = callback

    async def start(self) -> None:
        """Connect and LISTEN in the background; returns once listening (10 s at most)."""
        self._task = asyncio.create_task(self._run(), name="ordergraph-pg-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        first = True
        while True:
            try:
                async with self._db.write_engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection
                    lost = asyncio.Event()
                    driver.add_termination_listener(lambda _conn, lost=lost: lost.set())
                    for channel, callback in self._callbacks.items():
                        await driver.add_listener(channel, _adapt(callback))
                    self._listening.set()
                    if not first and self._on_reconnect is not None:
                        await self._on_reconnect()
                    first = False
                    backoff = 0.1
                    await lost.wait()
                    raw.invalidate()
                    log.warning("lost the LISTEN connection; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                fault = fault_of(error)
                if fault is None:
                    log.exception("LISTEN connection failed; retrying in %.1f s", backoff)
                else:  # the database is away: one line, no traceback
                    log.warning(
                        "LISTEN connection failed (%s); retrying in %.1f s", fault.cause, backoff
                    )
                first = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)


def _adapt(callback: Callback) -> Callable[[Any, int, str, str], None]:
    def handle(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            callback(payload)
        except Exception:
            log.exception("a NOTIFY callback failed")

    return handle


__all__ = ["PgListener"]
