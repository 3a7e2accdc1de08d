"""Where a live resolver sends its views when the transport delivers them itself.

The graphql-transport-ws handler (graph/http/live_ws.py) runs a shareable subscription with a
`LiveSink` as its root value. The resolver keeps every per-subscriber duty (authorization, the
race-free feed, afterPosition, strictly increasing positions) and hands each view to the sink
instead of yielding it (for `orderUpdated`, the order's one follower task offers it
synchronously: no task per subscriber wakes for a change). The sink executes the selection once
per (document, variables, visibility, view) for every subscriber that shares them, encodes the
`next` payload once, and writes the frame to the socket. Without a sink (any other transport, a
direct `schema.subscribe`), the resolver yields its views and Strawberry executes them the
generic way.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.api.context import Info
    from readmodels.dto import OrderView


class LiveSink(ABC):
    """One operation's delivery of views, executed and encoded once for all who share them."""

    behind: asyncio.Event
    """Set when views were dropped (an in-order sink whose socket is full)."""

    @abstractmethod
    async def send(self, view: OrderView) -> None:
        """Deliver `view` to this operation's socket (waits while its send buffer is full)."""

    @abstractmethod
    def in_order(self) -> None:
        """Keep every view from now on (a list), instead of only the newest (one order)."""

    @abstractmethod
    async def resumed(self) -> int:
        """Once the socket has room again: the position of the last view it kept."""

    @abstractmethod
    def deliver(self, view: OrderView) -> None:
        """Queue `view` for this operation's socket without waiting: it is executed with the
        other members' once, and the socket's writer sends the newest queued frame."""


def live_sink(info: Info) -> LiveSink | None:
    """The sink of this operation, or None when views must be yielded."""
    root = info.root_value
    return root if isinstance(root, LiveSink) else None


__all__ = ["LiveSink", "live_sink"]
