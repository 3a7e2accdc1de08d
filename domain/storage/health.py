"""Whether the event store's database can take writes now: what readiness reports.

The store tells its `StoreHealth` how each append ended (`Incident`: one log line when writes
start failing on faults, one when they work again). `problem()` answers from that and from a
probe, cached for `cache_seconds` so that a load balancer polling often costs nothing: while
the last append failed on a fault, the probe is a write (it takes the writer and allocates a
page, which a full disk refuses), so readiness comes back without waiting for client traffic;
otherwise it is a read of the log's head. A probe gets `timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from domain.storage.faults import Incident, fault_of

log = logging.getLogger("ordergraph.storage")


class Probed(Protocol):
    """What the health probes of a store: a write that commits nothing of ours, and a read."""

    async def probe_write(self) -> None: ...

    async def head_position(self) -> int: ...


class StoreHealth:
    """The write side's half of readiness."""

    def __init__(self, store: Probed, *, cache_seconds: float = 1.0, timeout: float = 2.0) -> None:
        self._store = store
        self.writes = Incident(log, "writes to the database")
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._checked_at = float("-inf")
        self._checked_failing = False
        self._problem: str | None = None
        self._lock = asyncio.Lock()

    async def problem(self) -> str | None:
        """Why the store cannot take writes now (None when it can), probed at most once per
        `cache_seconds` whoever asks (and at once when an append failed since)."""
        async with self._lock:
            stale = time.monotonic() - self._checked_at >= self._cache_seconds
            if stale or self._checked_failing != self.writes.open:
                self._problem = await self._probe(self._store)
                self._checked_at = time.monotonic()
                self._checked_failing = self.writes.open
            return self._problem

    async def _probe(self, store: Probed) -> str | None:
        writing = self.writes.open
        try:
            if writing:
                await asyncio.wait_for(store.probe_write(), self._timeout)
            else:
                await asyncio.wait_for(store.head_position(), self._timeout)
        except TimeoutError:
            return f"the database did not answer within {self._timeout:g} s"
        except Exception as error:
            fault = fault_of(error)
            if fault is None:
                log.warning("the readiness probe failed", exc_info=True)
                return f"the probe failed: {type(error).__name__}"
            if writing:
                self.writes.failed(fault)
                return f"writes fail: the database is {fault.kind}"
            return f"the database does not answer: it is {fault.kind}"
        if writing:
            self.writes.succeeded()
        return None


__all__ = ["Probed", "StoreHealth"]
