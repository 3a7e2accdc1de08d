"""Other processes on the same SQLite file: what they commit reaches this process.

SQLite has no NOTIFY. Another process (a second server, `ordergraph seed`) applies the views in
its own writer transaction, so they are current, but nothing tells this process: its
subscriptions would never hear of those changes, and its waits only at the runner's next safety
poll. Two paths publish them as PostgreSQL's notifications do (`ProjectionRunner._followed`: the
slot moves forward, waiters wake, the change and the order ids it touched go to the change hub):

- `PeerWatch` runs only while something in this process listens (a change-hub subscription, a
  caller waiting for a position). Every `interval` seconds it reads `PRAGMA data_version` on a
  connection of its own (the value changes when another connection commits; it costs
  microseconds). When it changed and a projection's checkpoint is beyond the position this
  process knows, the events in between are read, a page at a time, and published. With nobody
  listening the task sleeps on an event and reads nothing.
- A slot's own task that finds, in its transaction, the checkpoint beyond its position hands
  those events to `follow` too (the projector's `elsewhere` hook) before applying the rest.

Race-free with this process's own commits: a slot's position is what this process has
published. Both paths compare it with the checkpoint while holding this process's writer
(`Database.writer_held`), and each commit of this process moves its slots and publishes in the
same step of the event loop that gives the writer back. So under the writer, a position beyond
the slot's is another process's work: each is published once, in position order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from readmodels.tables import projection_checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from domain.ports import EventLog, RecordedEvent
    from domain.storage.database import Database
    from readmodels.runner.slot import Slot

log = logging.getLogger("ordergraph.peers")

CHECK_INTERVAL = 0.025
"""Seconds between two reads of `PRAGMA data_version` while anyone listens."""

BUSY_SECONDS = 0.05
"""How long a check may wait for a lock before leaving it to the next one."""

_DATA_VERSION = "PRAGMA data_version"
_CHECKPOINTS = f"SELECT name, position FROM {projection_checkpoint.name}"


class PeerWatch:
    """Publishes what other processes on the same SQLite file applied to the views (see the
    module docstring); inactive on PostgreSQL, whose notifications do it."""

    def __init__(
        self,
        db: Database,
        log: EventLog,
        *,
        slots: Callable[[], Iterable[Slot]],
        followed: Callable[[str, int, frozenset[str]], None],
        listened: Callable[[], bool],
        interval: float = CHECK_INTERVAL,
        page: int = 500,
    ) -> None:
        self.active = db.is_sqlite
        self._db = db
        self._log = log
        self._slots = slots
        self._followed = followed
        self._listened = listened
        self._interval = interval
        self._page = page
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None
        self._version: object = None
        self.checks = 0
        """Reads of `PRAGMA data_version` so far (none while nobody listens)."""
        self.published = 0
        """Runs of other processes' events published so far."""

    def start(self) -> None:
        """Start the watch; it reads nothing until someone listens."""
        if self.active and self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="ordergraph-sqlite-peers")

    async def stop(self) -> None:
        """Stop the watch and close its connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._disconnect()

    def wake(self) -> None:
        """Someone started listening: follow the other processes now."""
        self._wake.set()

    def follow(self, slot: Slot, events: list[RecordedEvent]) -> None:
        """Publish `events`, which another process applied to `slot`'s projection, as its
        notification would. The caller holds this process's writer."""
        touched = frozenset(e.stream_id for e in slot.projection.wanted(events, slot.skipped))
        self.published += 1
        self._followed(slot.name, events[-1].position, touched)

    async def _run(self) -> None:
        failing = False
        while True:
            self._wake.clear()
            if not self._listened():
                await self._wake.wait()
                continue
            try:
                await self._check()
                failing = False
            except Exception:
                if not failing:
                    log.warning(
                        "following other processes on the SQLite file failed; retrying",
                        exc_info=True,
                    )
                failing = True
                self._disconnect()
            await asyncio.sleep(self._interval)

    async def _check(self) -> None:
        conn = self._connection()
        try:
            version = conn.execute(_DATA_VERSION).fetchone()
            self.checks += 1
            if version == self._version:
                return
            checkpoints = dict(conn.execute(_CHECKPOINTS).fetchall())
        except sqlite3.OperationalError:
            return  # busy for a moment (a checkpoint of the WAL, a recovery): the next check
        done = [await self._catch_up(slot, checkpoints.get(slot.name, 0)) for slot in self._slots()]
        if all(done):
            self._version = version

    async def _catch_up(self, slot: Slot, checkpoint: int) -> bool:
        """Publish the events up to `checkpoint` that `slot` has not published, a page at a
        time (the log does not change, so the page is read without holding the writer); False
        when a rebuild moved the slot back meanwhile (the next check starts from there)."""
        while not slot.rebuilding and slot.position < checkpoint:
            after = slot.position
            events = await self._log.read_all(after, self._page)
            page = [e for e in events if e.position <= checkpoint]
            if not page:
                return False
            async with self._db.writer_held():
                if slot.rebuilding or slot.position < after:
                    return False
                theirs = [e for e in page if e.position > slot.position]
                if theirs:
                    self.follow(slot, theirs)
        return True

    def _connection(self) -> sqlite3.Connection:
        """Its own connection (PRAGMA data_version compares with this connection's last read),
        in the standard library's driver, read on the event loop: a read costs ~3 us there
        against ~150-200 us through a driver thread, and it never waits for a lock long."""
        if self._conn is None:
            path = make_url(self._db.url).database
            self._conn = sqlite3.connect(str(path), timeout=BUSY_SECONDS, isolation_level=None)
        return self._conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._version = None
        if conn is not None:
            conn.close()


__all__ = ["CHECK_INTERVAL", "PeerWatch"]
