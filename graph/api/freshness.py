"""The projections a read can wait for, and the `extensions.freshness` report of those waits
(put into the answer by graph/pipeline/run.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.errors import ValidationFailed
from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.registry import PROJECTION_NAMES

if TYPE_CHECKING:
    from graph.settings import Settings
    from readmodels.dto import WaitResult

ORDER_VIEWS = OrderViewsProjection.name
CUSTOMER_SUMMARIES = CustomerSummariesProjection.name
DAILY_SALES = DailySalesProjection.name


class FreshnessLog:
    """What the waits of one request asked for and reached, merged per projection."""

    __slots__ = ("_projections", "_stale")

    def __init__(self) -> None:
        self._stale = False
        self._projections: dict[str, tuple[int, int]] = {}

    def record(self, result: WaitResult) -> None:
        self._stale = self._stale or result.stale
        for name, reached in result.reached.items():
            requested, seen = self._projections.get(name, (0, 0))
            self._projections[name] = (max(requested, result.requested), max(seen, reached))

    def report(self) -> dict[str, Any] | None:
        """The `freshness` extension, or None when nothing waited."""
        if not self._projections:
            return None
        return {
            "stale": self._stale,
            "projections": {  # by name: waits that run together end in any order
                name: {"requested": requested, "reached": reached}
                for name, (requested, reached) in sorted(self._projections.items())
            },
        }


def require_projection_name(name: str) -> str:
    """`name` when it names a projection, else BAD_USER_INPUT."""
    if name not in PROJECTION_NAMES:
        raise ValidationFailed(
            f"unknown projection {name!r}: expected one of {', '.join(PROJECTION_NAMES)}",
            field="name",
        )
    return name


def timeout_seconds(settings: Settings, timeout_ms: int | None) -> float:
    """`timeoutMs` checked against the server's cap, in seconds (the default when omitted)."""
    if timeout_ms is None:
        return settings.default_wait_ms / 1000
    if not 0 <= timeout_ms <= settings.max_wait_ms:
        raise ValidationFailed(
            f"timeoutMs must be between 0 and {settings.max_wait_ms}", field="timeoutMs"
        )
    return timeout_ms / 1000


__all__ = [
    "CUSTOMER_SUMMARIES",
    "DAILY_SALES",
    "ORDER_VIEWS",
    "FreshnessLog",
    "require_projection_name",
    "timeout_seconds",
]
