"""The per-request context handed to every resolver, and its DataLoaders."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from graph.api.freshness import FreshnessLog
from graph.http.auth import Principal
from readmodels.dto import CustomerView, OrderPage, OrderView
from readmodels.queries import GetCustomers, GetOrder, ListOrders, ListOrdersBatch

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from domain.bus import CommandBus
    from graph.http.metrics import Metrics
    from graph.settings import Settings
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

        return cls(
            customers=DataLoader(load_fn=load_customers, cache=False),
            customer_orders=DataLoader(load_fn=load_customer_orders, cache=False),
        )


class SharedOrderReads:
    """One read of an order's view per committed change, shared by every subscriber to it:
    a change seen by 1,000 `orderUpdated` subscribers costs one query, not 1,000."""

    def __init__(self, query_bus: QueryBus, size: int = 1024) -> None:
        self._query_bus = query_bus
        self._size = size
        self._reads: OrderedDict[tuple[str, int], asyncio.Future[OrderView | None]] = OrderedDict()

    async def view(self, order_id: str, position: int) -> OrderView | None:
        """The order's view as read once the change at `position` was committed."""
        key = (order_id, position)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self._query_bus.ask(GetOrder(order_id=order_id)))
            read.add_done_callback(lambda done: self._forget_failed(key, done))
            self._reads[key] = read
            while len(self._reads) > self._size:
                self._reads.popitem(last=False)
        # Shielded: one subscriber going away must not cancel the read the others wait for.
        return await asyncio.shield(read)

    def _forget_failed(self, key: tuple[str, int], read: asyncio.Future[OrderView | None]) -> None:
        if read.cancelled() or read.exception() is not None:
            self._reads.pop(key, None)


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
    "SharedOrderReads",
    "correlation_id_from",
    "given",
]
