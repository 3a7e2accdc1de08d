"""One plain async handler per command, and the function that registers them on a bus."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from domain.bus import CommandBus, UnitOfWork
from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
    RemoveOrderItem,
    ShipOrder,
)
from domain.ids import new_order_id
from domain.middleware import idempotency, logging_middleware
from domain.order import Order
from domain.ports import EventStore


async def create_order(
    command: CreateOrder, uow: UnitOfWork, *, new_id: Callable[[], str]
) -> CommandResult:
    return uow.record(command, None, Order.place(command, new_id()))


async def add_order_item(command: AddOrderItem, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.add_item(command))


async def remove_order_item(command: RemoveOrderItem, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.remove_item(command))


async def change_shipping_address(command: ChangeShippingAddress, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.change_shipping_address(command))


async def confirm_order(command: ConfirmOrder, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.confirm(command))


async def ship_order(command: ShipOrder, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.ship(command))


async def cancel_order(command: CancelOrder, uow: UnitOfWork) -> CommandResult:
    order = await uow.get(command)
    return uow.record(command, order, order.cancel(command))


def build_command_bus(
    store: EventStore, *, new_id: Callable[[], str] = new_order_id, max_batch: int = 256
) -> CommandBus:
    """A bus with every order handler registered behind logging and idempotency."""
    bus = CommandBus(store, middlewares=(logging_middleware, idempotency), max_batch=max_batch)
    bus.register(CreateOrder, partial(create_order, new_id=new_id))
    bus.register(AddOrderItem, add_order_item)
    bus.register(RemoveOrderItem, remove_order_item)
    bus.register(ChangeShippingAddress, change_shipping_address)
    bus.register(ConfirmOrder, confirm_order)
    bus.register(ShipOrder, ship_order)
    bus.register(CancelOrder, cancel_order)
    return bus


__all__ = ["build_command_bus"]
