"""Live subscriptions delivered by the WebSocket layer: the sink a resolver hands its views to
when the transport shares one execution per (document, variables, visibility, change)."""

from __future__ import annotations

from graph.api.live.sink import LiveSink, live_sink

__all__ = ["LiveSink", "live_sink"]
