"""Change notifications: each subscriber gets a bounded queue that drops its oldest entry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

    from readmodels.dto import Change


class ChangeSubscription:
    """One subscriber's queue of changes; an async iterator and an async context manager.

    It is registered when created, so a subscriber that reads the current view after subscribing
    misses nothing. When the queue is full the oldest change is dropped (and counted in
    `dropped`): a slow subscriber never blocks the runner.
    """

    def __init__(self, hub: ChangeHub, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._queue: asyncio.Queue[Change] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, change: Change) -> None:
        """Queue `change`, dropping the oldest queued change if the queue is full."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(change)

    async def get(self) -> Change:
        """The next change, waiting for one."""
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving changes."""
        self._hub.discard(self)

    def __aiter__(self) -> ChangeSubscription:
        return self

    async def __anext__(self) -> Change:
        return await self.get()

    async def __aenter__(self) -> ChangeSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ChangeHub:
    """Fans each published change out to every subscription."""

    def __init__(self) -> None:
        self._subscriptions: set[ChangeSubscription] = set()

    def subscribe(self, maxsize: int = 256) -> ChangeSubscription:
        """A new subscription, registered at once."""
        subscription = ChangeSubscription(self, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def discard(self, subscription: ChangeSubscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, change: Change) -> None:
        """Hand `change` to every subscriber without waiting."""
        for subscription in self._subscriptions:
            subscription.offer(change)

    def __len__(self) -> int:
        return len(self._subscriptions)


__all__ = ["ChangeHub", "ChangeSubscription"]
