"""The per-request context handed to every resolver, and its DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from graph.api.freshness import FreshnessLog
from graph.api.identity import Principal
from graph.api.session import Session
from readmodels.dto import CustomerView, OrderPage
from readmodels.queries import GetCustomers, ListOrders, ListOrdersBatch
from readmodels.readers.order_history import GetOrderHistories, History

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.bus import CommandBus
    from graph.settings import Settings
    from readmodels.feed import SharedOrderReads
    from readmodels.live.routes import LiveRoutes
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


@dataclass(frozen=True, kw_only=True, slots=True)
class Services:
    """What every request's resolvers share: the buses, the runner, the live routes and settings
    (built once, by the app, from the running container), and where a freshness wait is
    reported (the metrics: `on_wait(stale)`)."""

    command_bus: CommandBus
    query_bus: QueryBus
    runner: ProjectionRunner
    settings: Settings
    order_reads: SharedOrderReads
    live: LiveRoutes
    on_wait: Callable[[bool], None]


@dataclass(kw_only=True, slots=True)
class Context:
    """What a resolver may use: the shared services, the caller, and this request's facts
    (a WebSocket operation's are its own, its socket's caller and session minimum)."""

    services: Services
    correlation_id: str
    # The authenticated caller, or None with the reason in `auth_error`.
    principal: Principal | None = None
    auth_error: str | None = None
    freshness: FreshnessLog = field(default_factory=FreshnessLog)
    # The position every read must reflect (OrderGraph-Min-Position), and what it wrote and read.
    session: Session = field(default_factory=Session)
    _loaders: Loaders | None = None

    @property
    def command_bus(self) -> CommandBus:
        return self.services.command_bus

    @property
    def query_bus(self) -> QueryBus:
        return self.services.query_bus

    @property
    def runner(self) -> ProjectionRunner:
        return self.services.runner

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def order_reads(self) -> SharedOrderReads:
        return self.services.order_reads

    @property
    def live(self) -> LiveRoutes:
        return self.services.live

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders, made on first use (most requests use none)."""
        loaders = self._loaders
        if loaders is None:
            loaders = self._loaders = Loaders.build(self.services.query_bus)
        return loaders


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
    "Services",
    "correlation_id_from",
    "given",
]
