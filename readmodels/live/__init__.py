"""Live lists: the orders a filter selects, pushed as their views change."""

from __future__ import annotations

from readmodels.live.lists import ListRouter, ListWatch, list_router_for, orders_changed_feed

__all__ = ["ListRouter", "ListWatch", "list_router_for", "orders_changed_feed"]
