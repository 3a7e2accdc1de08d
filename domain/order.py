"""The Order aggregate: pure state rebuilt from events, deciding new events from commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain import rules
from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    ConfirmOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from domain.errors import ConcurrencyConflict, Forbidden, InvalidTransition, ValidationFailed
from domain.events import (
    Event,
    ItemAdded,
    ItemRemoved,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderShipped,
    ShippingAddressChanged,
)
from domain.values import Address, OrderLine, OrderStatus

_EDITABLE = frozenset({OrderStatus.PLACED})
_ADDRESSABLE = frozenset({OrderStatus.PLACED, OrderStatus.CONFIRMED})
_CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.CONFIRMED})


@dataclass(frozen=True, slots=True)
class Order:
    """One order's state at `version` (the number of events in its stream)."""

    id: str
    customer_id: str
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    shipping_address: Address
    version: int

    # --- rebuilding -------------------------------------------------------------------------

    @classmethod
    def replay(cls, events: list[Event]) -> Order:
        """The state after `events`, the first of which must be OrderPlaced."""
        first, *rest = events
        if not isinstance(first, OrderPlaced):
            raise TypeError(f"an order stream starts with OrderPlaced, not {type(first).__name__}")
        order = cls.started(first)
        for event in rest:
            order = order.apply(event)
        return order

    @classmethod
    def started(cls, event: OrderPlaced) -> Order:
        return cls(
            id=event.order_id,
            customer_id=event.customer_id,
            status=OrderStatus.PLACED,
            lines=event.lines,
            shipping_address=event.shipping_address,
            version=1,
        )

    def apply(self, event: Event) -> Order:
        """The state after one more event."""
        version = self.version + 1
        match event:
            case ItemAdded(sku=sku, quantity=quantity, unit_price=unit_price):
                lines = self._with_added(sku, quantity, unit_price)
                return replace(self, lines=lines, version=version)
            case ItemRemoved(sku=sku):
                lines = tuple(line for line in self.lines if line.sku != sku)
                return replace(self, lines=lines, version=version)
            case ShippingAddressChanged(shipping_address=address):
                return replace(self, shipping_address=address, version=version)
            case OrderConfirmed():
                return replace(self, status=OrderStatus.CONFIRMED, version=version)
            case OrderShipped():
                return replace(self, status=OrderStatus.SHIPPED, version=version)
            case OrderCancelled():
                return replace(self, status=OrderStatus.CANCELLED, version=version)
        raise TypeError(f"an order cannot apply {type(event).__name__}")

    # --- deciding ---------------------------------------------------------------------------

    # Each decision takes a command that passed its input rules (`checked()`, which the bus
    # sees to) and checks what depends on the order's state.

    @staticmethod
    def place(command: CreateOrder, order_id: str) -> OrderPlaced:
        if command.on_behalf_of is not None and command.on_behalf_of != command.customer_id:
            raise Forbidden("a customer may only create orders for itself")
        return OrderPlaced(
            order_id=order_id,
            occurred_at=command.issued_at,
            customer_id=command.customer_id,
            lines=command.lines,
            shipping_address=command.shipping_address,
        )

    def add_item(self, command: AddOrderItem) -> ItemAdded:
        item = command.item
        self._require(_EDITABLE, "add an item to")
        existing = self._line(item.sku)
        if existing is None:
            if len(self.lines) >= rules.MAX_LINES:
                raise ValidationFailed(
                    f"an order has at most {rules.MAX_LINES} lines", field="item"
                )
        else:
            if existing.unit_price != item.unit_price:
                raise ValidationFailed(
                    f"sku {item.sku!r} is on the order at unitPrice {existing.unit_price}; "
                    f"adding it at {item.unit_price} is not allowed",
                    field="item.unitPrice",
                )
            rules.check_quantity(existing.quantity + item.quantity, "item.quantity")
        return ItemAdded(
            order_id=self.id,
            occurred_at=command.issued_at,
            sku=item.sku,
            quantity=item.quantity,
            unit_price=item.unit_price,
        )

    def remove_item(self, command: RemoveOrderItem) -> ItemRemoved:
        self._require(_EDITABLE, "remove an item from")
        if self._line(command.sku) is None:
            raise ValidationFailed(f"sku {command.sku!r} is not on the order", field="sku")
        if len(self.lines) == 1:
            raise InvalidTransition(
                "the last line of an order cannot be removed; cancel it instead"
            )
        return ItemRemoved(order_id=self.id, occurred_at=command.issued_at, sku=command.sku)

    def change_shipping_address(self, command: ChangeShippingAddress) -> ShippingAddressChanged:
        self._require(_ADDRESSABLE, "change the shipping address of")
        return ShippingAddressChanged(
            order_id=self.id,
            occurred_at=command.issued_at,
            shipping_address=command.shipping_address,
        )

    def confirm(self, command: ConfirmOrder) -> OrderConfirmed:
        self._require(_EDITABLE, "confirm")
        return OrderConfirmed(order_id=self.id, occurred_at=command.issued_at)

    def ship(self, command: ShipOrder) -> OrderShipped:
        self._require(frozenset({OrderStatus.CONFIRMED}), "ship")
        return OrderShipped(
            order_id=self.id,
            occurred_at=command.issued_at,
            tracking_number=command.tracking_number,
        )

    def cancel(self, command: CancelOrder) -> OrderCancelled:
        self._require(_CANCELLABLE, "cancel")
        return OrderCancelled(
            order_id=self.id, occurred_at=command.issued_at, reason=command.reason
        )

    def decide(self, command: OrderCommand) -> Event:
        """The event `command` decides on this order, by the decision `DECISIONS` names."""
        decision = DECISIONS.get(type(command))
        if decision is None:
            raise TypeError(f"an order cannot decide {type(command).__name__}")
        return decision(self, command)

    def check_version(self, expected: int | None) -> None:
        """Optimistic concurrency: refuse when the client saw another version."""
        if expected is not None and expected != self.version:
            raise ConcurrencyConflict(self.id, expected=expected, actual=self.version)

    # --- helpers ----------------------------------------------------------------------------

    def _require(self, allowed: frozenset[OrderStatus], action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"cannot {action} an order that is {self.status.value}")

    def _line(self, sku: str) -> OrderLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def _with_added(self, sku: str, quantity: int, unit_price: Decimal) -> tuple[OrderLine, ...]:
        if self._line(sku) is None:
            return (*self.lines, OrderLine(sku=sku, quantity=quantity, unit_price=unit_price))
        return tuple(
            replace(line, quantity=line.quantity + quantity) if line.sku == sku else line
            for line in self.lines
        )


DECISIONS: dict[type[OrderCommand], Callable[[Order, Any], Event]] = {
    AddOrderItem: Order.add_item,
    RemoveOrderItem: Order.remove_item,
    ChangeShippingAddress: Order.change_shipping_address,
    ConfirmOrder: Order.confirm,
    ShipOrder: Order.ship,
    CancelOrder: Order.cancel,
}
"""Each command on an existing order and the decision that answers it: the bus routes every
command listed here to `Order.decide` (`domain/handlers.py`)."""

__all__ = ["DECISIONS", "Order"]
