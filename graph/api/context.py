"""The per-request context handed to every resolver, and its DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from graph.api.freshness import FreshnessLog
from graph.http.auth import Principal
from readmodels.dto import CustomerView, OrderPage
from readmodels.queries import GetCustomers, ListOrders, ListOrdersBatch
from readmodels.readers.order_history import GetOrderHistories, History

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from domain.bus import CommandBus
    from graph.http.metrics import Metrics
    from graph.settings import Settings
    from readmodels.feed import SharedOrderReads
    from readmodels.querybus import QueryBus
    from readmodels.runner.runner import ProjectionRunner

T = TypeVar("T")

REQUEST_ID_HEADER = "x-request-id"
_MAX_REQUEST_ID_CHARS = 128


@dataclass(frozen=True, kw_only=True, slots=True)
class Loaders:
    """Batching loaders (no cache: a later read in the same request sees newer views)."""

    customers: DataLoader[str, CustomerView]
    customer_orders: DataLoader[ListOrders, OrderPage]
    order_history: DataLoader[str, History]

    @classmethod
    def build(cls, query_bus: QueryBus) -> Loaders:
        async def load_customers(ids: list[str]) -> list[CustomerView]:
            views = await query_bus.ask(GetCustomers(customer_ids=tuple(ids)))
            return [
                view if view is not None else _no_orders_yet(customer_id)
                for customer_id, view in zip(ids, views, strict=True)
            ]

        async def load_customer_orders(queries: list[ListOrders]) -> list[OrderPage]:
            return await query_bus.ask(ListOrdersBatch(requests=tuple(queries)))

        async def load_histories(order_ids: list[str]) -> list[History]:
            return await query_bus.ask(GetOrderHistories(order_ids=tuple(order_ids)))

        return cls(
            customers=DataLoader(load_fn=load_customers, cache=False),
            customer_orders=DataLoader(load_fn=load_customer_orders, cache=False),
            order_history=DataLoader(load_fn=load_histories, cache=False),
        )


def _no_orders_yet(customer_id: str) -> CustomerView:
    """A customer whose summary the projection has not written yet: nothing ordered so far."""
    return CustomerView(id=customer_id, order_count=0, total_spent=Decimal(0), last_order_at=None)


@dataclass(kw_only=True, slots=True)
class Context:
    """What a resolver may use: the buses, the runner, settings, loaders and request facts."""

    command_bus: CommandBus
    query_bus: QueryBus
    runner: ProjectionRunner
    settings: Settings
    metrics: Metrics
    order_reads: SharedOrderReads
    correlation_id: str
    loaders: Loaders
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    freshness: FreshnessLog = field(default_factory=FreshnessLog)
    connection_params: dict[str, Any] | None = None
    # The authenticated caller, or None with the reason in `auth_error`.
    principal: Principal | None = None
    auth_error: str | None = None


def correlation_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is usable, else a fresh one."""
    if header and len(header) <= _MAX_REQUEST_ID_CHARS and header.isprintable():
        return header
    return uuid.uuid4().hex


def given(value: T | None) -> T | None:
    """An optional argument's value: None when the client left it out (Strawberry's UNSET)."""
    return None if value is strawberry.UNSET else value


Info: TypeAlias = strawberry.Info[Context, None]

__all__ = [
    "REQUEST_ID_HEADER",
    "Context",
    "Info",
    "Loaders",
    "correlation_id_from",
    "given",
]
