"""`wait_for`: callers wait for positions, woken whenever a projection moves forward."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from readmodels.dto import WaitResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class Positioned(Protocol):
    """A projection's name and the last position it has applied (a slot)."""

    @property
    def name(self) -> str: ...

    @property
    def position(self) -> int: ...


class ProgressWatch:
    """Wakes everyone waiting for a position whenever a slot moves forward."""

    def __init__(self, on_wait: Callable[[], None] | None = None) -> None:
        self._moved = asyncio.Event()
        self._on_wait = on_wait
        self.waiting = 0
        """Callers waiting now; `on_wait` is called when one starts to wait (the SQLite peer
        watch follows other processes while anyone does)."""

    def moved(self) -> None:
        """A slot has moved forward: wake the waiters, who check again."""
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def wait(self, slots: Sequence[Positioned], position: int, timeout: float) -> WaitResult:
        """Wait until every slot has applied `position`, or `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        self.waiting += 1
        try:
            if self._on_wait is not None and any(slot.position < position for slot in slots):
                self._on_wait()
            while any(slot.position < position for slot in slots):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._moved.wait(), remaining)
        finally:
            self.waiting -= 1
        reached = {slot.name: slot.position for slot in slots}
        stale = any(reached_at < position for reached_at in reached.values())
        return WaitResult(stale=stale, requested=position, reached=reached)


__all__ = ["Positioned", "ProgressWatch"]
