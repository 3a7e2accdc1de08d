"""The PostgreSQL NOTIFY protocol between the processes that share the views.

Out: in the transaction of each batch a process applies (its leader's task, a writer applying
the views in its own transaction, or a rebuild's swap), a message with the projection's new
position and the order ids it touched, in chunks under PostgreSQL's 8,000-byte payload cap; and
an operator's skip or retry, so that it reaches whichever process runs the projection. PostgreSQL
delivers them at commit. In: one LISTEN connection hands the other processes' messages on. Each
message carries its sender's origin token, so a process ignores its own. On SQLite nothing is
sent or listened for: other processes on the file are followed by their checkpoints (peers.py).
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import text

from domain.storage.pglisten import PgListener

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.storage.database import Database

NOTIFY_CHANNEL = "ordergraph_projection"
# PostgreSQL caps a NOTIFY payload at 8,000 bytes: order ids go out in chunks that fit.
IDS_PER_NOTIFICATION = 100

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class Cluster:
    """This process's side of the projection messages (a no-op unless on PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.active = db.dialect == "postgresql"
        self._db = db
        self._origin = secrets.token_hex(8)
        self._listener: PgListener | None = None

    async def listen(
        self,
        *,
        on_batch: Callable[[str, int, frozenset[str]], None],
        on_skip: Callable[[str, int], None],
        on_reconnect: Callable[[], Awaitable[None]],
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        """Hand other processes' batches (name, position, order ids), skips (name, position)
        and retries (name) to the callbacks; `on_reconnect` runs after a lost LISTEN
        connection."""
        if not self.active:
            return

        def received(payload: str) -> None:
            message = json.loads(payload)
            if message.get("origin") == self._origin:
                return
            if "skip" in message:
                on_skip(message["name"], int(message["skip"]))
            elif "retry" in message:
                if on_retry is not None:
                    on_retry(message["name"])
            else:
                on_batch(message["name"], int(message["position"]), frozenset(message["ids"]))

        self._listener = PgListener(self._db, on_reconnect=on_reconnect)
        self._listener.on(NOTIFY_CHANNEL, received)
        await self._listener.start()

    async def close(self) -> None:
        """Stop listening."""
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()

    async def announce_batch(
        self, conn: AsyncConnection, name: str, position: int, touched: frozenset[str]
    ) -> None:
        """Tell the other processes, at `conn`'s commit, what this batch changed."""
        if not self.active:
            return
        payloads = self.batch_messages(name, position, touched)
        await conn.execute(_NOTIFY, [{"channel": NOTIFY_CHANNEL, "payload": p} for p in payloads])

    def batch_messages(self, name: str, position: int, touched: frozenset[str]) -> list[str]:
        """The payloads that tell the other processes what a batch changed (the batch's own
        statement sends them, see `readmodels/runner/viewsql.py`)."""
        ids = sorted(touched)
        chunks = [
            ids[i : i + IDS_PER_NOTIFICATION] for i in range(0, len(ids), IDS_PER_NOTIFICATION)
        ]
        return [
            self._params({"name": name, "position": position, "ids": chunk})["payload"]
            for chunk in chunks or [[]]
        ]

    async def announce_skip(self, conn: AsyncConnection, name: str, position: int) -> None:
        """Tell the process that runs `name`, at `conn`'s commit, to skip `position`."""
        if self.active:
            await conn.execute(_NOTIFY, self._params({"name": name, "skip": position}))

    async def announce_retry(self, conn: AsyncConnection, name: str) -> None:
        """Tell the process that runs `name`, at `conn`'s commit, to retry it now."""
        if self.active:
            await conn.execute(_NOTIFY, self._params({"name": name, "retry": True}))

    def _params(self, message: dict[str, object]) -> dict[str, str]:
        return {
            "channel": NOTIFY_CHANNEL,
            "payload": json.dumps({**message, "origin": self._origin}),
        }


__all__ = ["IDS_PER_NOTIFICATION", "NOTIFY_CHANNEL", "Cluster"]
