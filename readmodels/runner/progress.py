"""`wait_for`: callers wait for positions, woken whenever a projection moves forward."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol

from readmodels.dto import WaitResult

if TYPE_CHECKING:
    from collections.abc import Sequence


class Positioned(Protocol):
    """A projection's name and the last position it has applied (a slot)."""

    @property
    def name(self) -> str: ...

    @property
    def position(self) -> int: ...


class ProgressWatch:
    """Wakes everyone waiting for a position whenever a slot moves forward."""

    def __init__(self) -> None:
        self._moved = asyncio.Event()

    def moved(self) -> None:
        """A slot has moved forward: wake the waiters, who check again."""
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def wait(self, slots: Sequence[Positioned], position: int, timeout: float) -> WaitResult:
        """Wait until every slot has applied `position`, or `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while any(slot.position < position for slot in slots):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), remaining)
        reached = {slot.name: slot.position for slot in slots}
        stale = any(reached_at < position for reached_at in reached.values())
        return WaitResult(stale=stale, requested=position, reached=reached)


__all__ = ["Positioned", "ProgressWatch"]
