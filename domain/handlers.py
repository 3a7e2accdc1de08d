"""The handlers: one for a new order, one for every command on an existing order (the order
decides, by `domain.order.DECISIONS`), and the function that registers them on a bus."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from domain.bus import FAULT_BACKOFF, CommandBus, UnitOfWork
from domain.commands import CommandResult, CreateOrder, OrderCommand
from domain.ids import new_order_id
from domain.middleware import idempotency, logging_middleware
from domain.order import DECISIONS, Order
from domain.ports import EventStore


async def create_order(
    command: CreateOrder, uow: UnitOfWork, *, new_id: Callable[[], str]
) -> CommandResult:
    return uow.record(command, None, Order.place(command, new_id()))


async def on_order(command: OrderCommand, uow: UnitOfWork) -> CommandResult:
    """Load the order as of this batch (NOT_FOUND, other customers' orders, expectedVersion),
    let it decide, record what it decided."""
    order = await uow.get(command)
    return uow.record(command, order, order.decide(command))


def build_command_bus(
    store: EventStore,
    *,
    new_id: Callable[[], str] = new_order_id,
    max_batch: int = 256,
    fault_backoff: Sequence[float] = FAULT_BACKOFF,
) -> CommandBus:
    """A bus with every order handler registered behind logging and idempotency."""
    bus = CommandBus(
        store,
        middlewares=(logging_middleware, idempotency),
        max_batch=max_batch,
        fault_backoff=fault_backoff,
    )
    bus.register(CreateOrder, partial(create_order, new_id=new_id))
    for command_type in DECISIONS:
        bus.register(command_type, on_order)
    return bus


__all__ = ["build_command_bus", "create_order", "on_order"]
