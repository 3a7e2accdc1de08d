"""Live delivery routed by key: live lists (the orders a filter selects) and followed orders,
pushed as their views change."""

from __future__ import annotations

from readmodels.live.lists import ListRouter, ListWatch, orders_changed_feed
from readmodels.live.orders import OrderFollowers
from readmodels.live.routes import LiveRoutes

__all__ = ["ListRouter", "ListWatch", "LiveRoutes", "OrderFollowers", "orders_changed_feed"]
