"""The committed-events signal: wakes awaiting readers after a commit, never before."""

from __future__ import annotations

import asyncio


class CommitSignal:
    """Tracks the highest committed position and wakes whoever waits beyond a position."""

    def __init__(self, head: int = 0) -> None:
        self._head = head
        self._changed = asyncio.Event()

    @property
    def head(self) -> int:
        """The highest position known to be committed."""
        return self._head

    def notify(self, head: int) -> None:
        """Record that everything up to `head` is committed and wake all waiters."""
        if head <= self._head:
            return
        self._head = head
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_beyond(self, position: int, timeout: float | None = None) -> int:
        """Wait until the head passes `position` (or `timeout` seconds); return the head."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._head <= position:
            changed = self._changed
            if deadline is None:
                await changed.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                break
        return self._head


__all__ = ["CommitSignal"]
