"""order_views carries each order's version and position, and order_history an entry per event,
so both must see every event type."""

from __future__ import annotations

from domain.events import EVENT_TYPES
from readmodels.projections.order_history import OrderHistoryProjection
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.registry import PROJECTION_NAMES, default_projections


def test_order_views_and_order_history_handle_every_event_type() -> None:
    assert OrderViewsProjection.handles == frozenset(EVENT_TYPES.values())
    assert OrderHistoryProjection.handles == frozenset(EVENT_TYPES.values())


def test_every_view_module_is_run_in_the_order_of_the_module_names() -> None:
    assert PROJECTION_NAMES == ("customer_summaries", "daily_sales", "order_history", "order_views")
    assert [projection.name for projection in default_projections()] == list(PROJECTION_NAMES)
