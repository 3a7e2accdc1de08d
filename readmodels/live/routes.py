"""The live routes of one service, built by the composition root (graph/bootstrap.py) and
held by its container: order_views changes routed to the live lists (`ordersChanged`) and to
the followers of each order (`orderUpdated`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from readmodels.live.lists import ListRouter
    from readmodels.live.orders import OrderFollowers


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveRoutes:
    """One list router and one set of followed orders per change hub."""

    lists: ListRouter
    orders: OrderFollowers


__all__ = ["LiveRoutes"]
