"""The read views, one module each, and the registry the runner and the migrations use."""

from __future__ import annotations

from readmodels.projections.base import Projection
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_views import OrderViewsProjection

DEFAULT_PROJECTION_TYPES: tuple[type[Projection], ...] = (
    OrderViewsProjection,
    CustomerSummariesProjection,
    DailySalesProjection,
)
"""The views the service runs, in the order they are started and reported."""

PROJECTION_NAMES: tuple[str, ...] = tuple(kind.name for kind in DEFAULT_PROJECTION_TYPES)


def default_projections() -> list[Projection]:
    """A fresh instance of each of the service's views."""
    return [kind() for kind in DEFAULT_PROJECTION_TYPES]


__all__ = [
    "DEFAULT_PROJECTION_TYPES",
    "PROJECTION_NAMES",
    "CustomerSummariesProjection",
    "DailySalesProjection",
    "OrderViewsProjection",
    "Projection",
    "default_projections",
]
