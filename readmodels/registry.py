"""What the read side runs, listed by hand: the views' projections (in the order they start and
are reported) and the readers the query bus answers with (each reader module's `ANSWERS`).

The composition root (`graph/bootstrap.py`) builds the runner and the query bus from these
lists, the migrations take the views' tables from them, and the projection names (the CLI's
`rebuild` choices, what `rebuildProjection` accepts) follow from the classes. A new view is one
line in each list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readmodels.projections.customer_summaries import CustomerSummariesProjection
from readmodels.projections.daily_sales import DailySalesProjection
from readmodels.projections.order_history import OrderHistoryProjection
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.readers import changed, customers, order_history, order_pages, orders, sales

if TYPE_CHECKING:
    from collections.abc import Iterable

    from readmodels.projections.base import Projection
    from readmodels.queries import Query
    from readmodels.readers.answers import Answers, Reader

PROJECTION_TYPES: tuple[type[Projection], ...] = (
    CustomerSummariesProjection,
    DailySalesProjection,
    OrderHistoryProjection,
    OrderViewsProjection,
)

PROJECTION_NAMES: tuple[str, ...] = tuple(kind.name for kind in PROJECTION_TYPES)

READERS: tuple[Answers, ...] = (
    changed.ANSWERS,
    customers.ANSWERS,
    order_history.ANSWERS,
    order_pages.ANSWERS,
    orders.ANSWERS,
    sales.ANSWERS,
)


def default_projections() -> list[Projection]:
    """A fresh instance of each of the service's views."""
    return [kind() for kind in PROJECTION_TYPES]


def reader_answers(readers: Iterable[Answers] = READERS) -> dict[type[Query[Any]], Reader]:
    """The readers' `ANSWERS` merged; a query answered twice is an error."""
    found: dict[type[Query[Any]], Reader] = {}
    for answers in readers:
        for query_type, reader in answers.items():
            if query_type in found:
                raise ValueError(f"{query_type.__name__} is answered twice")
            found[query_type] = reader
    return found


__all__ = [
    "PROJECTION_NAMES",
    "PROJECTION_TYPES",
    "READERS",
    "default_projections",
    "reader_answers",
]
