"""The steps every mutation shares: the command's envelope, its dispatch, and its result.

Domain errors raised by the bus reach the client through the one mapping in
`graph/pipeline/errors.py`; the bus's observer counts each command's outcome for the metrics.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypedDict

import strawberry

from graph.api.access import EVERYONE, require
from graph.api.mutations.inputs import OrderCommandFields
from graph.api.scalars import Position
from graph.api.types import CommandResult

if TYPE_CHECKING:
    from domain.commands import Command
    from graph.api.context import Info
    from graph.api.identity import Role


class Envelope(TypedDict):
    """The fields every command carries, whatever it asks for."""

    command_id: str
    issued_at: datetime
    correlation_id: str
    on_behalf_of: str | None


def envelope(info: Info, command_id: str | None, roles: frozenset[Role] = EVERYONE) -> Envelope:
    """The command's id (a fresh one when the client sent none), when it was issued, the
    request's id, and the customer it acts for (a customer may only act for itself); FORBIDDEN
    unless the caller's role is one of `roles`."""
    caller = require(info, roles, "send this command")
    return {
        "command_id": uuid.uuid4().hex if command_id is None else command_id,
        "issued_at": datetime.now(UTC),
        "correlation_id": info.context.correlation_id,
        "on_behalf_of": caller.acting_customer,
    }


class OrderEnvelope(Envelope):
    """The envelope of a command on an existing order: which order, at which version."""

    order_id: str
    expected_version: int | None


def order_envelope(
    info: Info, input: OrderCommandFields, roles: frozenset[Role] = EVERYONE
) -> OrderEnvelope:
    """`envelope`, plus the order and the version the client expects it at (None: any)."""
    return {
        **envelope(info, input.get("commandId"), roles),
        "order_id": input["orderId"],
        "expected_version": input.get("expectedVersion"),
    }


async def dispatch(info: Info, command: Command) -> CommandResult:
    """Send `command` on the CommandBus and answer with what it did on the write side (its
    position is the request's session position: graph/api/session.py)."""
    result = await info.context.command_bus.dispatch(command)
    info.context.session.wrote(result.position)
    return CommandResult(
        command_id=strawberry.ID(result.command_id),
        order_id=strawberry.ID(result.order_id),
        version=result.version,
        position=Position(result.position),
    )


__all__ = ["Envelope", "OrderEnvelope", "dispatch", "envelope", "order_envelope"]
