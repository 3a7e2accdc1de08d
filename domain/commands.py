"""Commands: what a client asks the write model to do, one per mutation, imperative names.

Each command checks its own input (`checked`): the rules of contract.md that need no state,
run by the bus before the command is queued, so bad input is BAD_USER_INPUT whatever state
the order is in. The rules themselves are in `domain/rules.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Self

from domain import rules
from domain.errors import ValidationFailed
from domain.values import Address, OrderLine

CUSTOMER_KEY_PREFIX = "c:"


def idempotency_key(command_id: str, customer: str | None) -> str:
    """`command_id` in its sender's namespace, at most 128 characters (the stored column).

    A customer's key is "c:" + 24 hex digits of SHA-256 of the customer id + ":" + the id; an
    id too long for that is replaced by its own SHA-256 ("#" + 64 hex digits). Staff ids are
    kept as they are (the namespace every command id lived in before).
    """
    if customer is None:
        return command_id
    scope = hashlib.sha256(customer.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    key = f"{CUSTOMER_KEY_PREFIX}{scope}:{command_id}"
    if len(key) <= rules.MAX_ID_LENGTH:
        return key
    digest = hashlib.sha256(command_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{CUSTOMER_KEY_PREFIX}{scope}:#{digest}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    """A request to change one order. `issued_at` is UTC; it becomes the events' `occurred_at`.

    `on_behalf_of` is set when a customer (not staff) sends the command: that customer may only
    create orders for itself and touch its own orders; other customers' orders do not exist for it.
    """

    command_id: str
    issued_at: datetime
    correlation_id: str | None = None
    on_behalf_of: str | None = None

    @property
    def idempotency_key(self) -> str:
        """The key its `command_id` is remembered under: the id itself for staff and admins
        (one namespace), the id scoped to the customer for a customer (`on_behalf_of`)."""
        return idempotency_key(self.command_id, self.on_behalf_of)

    def checked(self) -> Self:
        """This command once its input rules hold (ValidationFailed otherwise), its money held
        to the cent and its time in UTC. A command with fields of its own overrides this,
        calling its base class's `checked` first."""
        rules.check_id(self.command_id, "commandId")
        if self.issued_at.tzinfo is None:
            raise ValidationFailed("issuedAt must carry a time zone", field="issuedAt")
        if self.correlation_id is not None:
            rules.check_id(self.correlation_id, "correlationId")
        if self.on_behalf_of is not None:
            rules.check_id(self.on_behalf_of, "onBehalfOf")
        if self.issued_at.utcoffset() != timedelta(0):
            return replace(self, issued_at=self.issued_at.astimezone(UTC))
        return self


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCommand(Command):
    """A command on an existing order, optionally guarded by the version the client last saw."""

    order_id: str
    expected_version: int | None = None

    def checked(self) -> Self:
        command = Command.checked(self)
        rules.check_id(command.order_id, "orderId")
        return command


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateOrder(Command):
    customer_id: str
    lines: tuple[OrderLine, ...]
    shipping_address: Address

    def checked(self) -> Self:
        command = Command.checked(self)
        rules.check_id(command.customer_id, "customerId")
        lines = rules.check_lines(command.lines, "items")
        rules.check_address(command.shipping_address, "shippingAddress")
        return replace(command, lines=lines)


@dataclass(frozen=True, kw_only=True, slots=True)
class AddOrderItem(OrderCommand):
    item: OrderLine

    def checked(self) -> Self:
        command = OrderCommand.checked(self)
        return replace(command, item=rules.check_line(command.item, "item"))


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoveOrderItem(OrderCommand):
    sku: str

    def checked(self) -> Self:
        command = OrderCommand.checked(self)
        rules.check_sku(command.sku, "sku")
        return command


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeShippingAddress(OrderCommand):
    shipping_address: Address

    def checked(self) -> Self:
        command = OrderCommand.checked(self)
        rules.check_address(command.shipping_address, "shippingAddress")
        return command


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmOrder(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ShipOrder(OrderCommand):
    tracking_number: str

    def checked(self) -> Self:
        command = OrderCommand.checked(self)
        rules.check_text(command.tracking_number, "trackingNumber")
        return command


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelOrder(OrderCommand):
    reason: str

    def checked(self) -> Self:
        command = OrderCommand.checked(self)
        rules.check_text(command.reason, "reason")
        return command


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandResult:
    """What a command did: the order's version after it and the position of its last event."""

    command_id: str
    order_id: str
    version: int
    position: int


__all__ = [
    "AddOrderItem",
    "CancelOrder",
    "ChangeShippingAddress",
    "Command",
    "CommandResult",
    "ConfirmOrder",
    "CreateOrder",
    "OrderCommand",
    "RemoveOrderItem",
    "ShipOrder",
]
