"""cancelOrder (staff): the order will not ship, and why."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import CancelOrder
from graph.api.access import STAFF
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import ORDER_INPUT_DESCRIPTION, OrderCommandFields, coerced
from graph.api.types import CommandResult

CANCEL_ORDER_DESCRIPTION = (
    "Cancels a PLACED or CONFIRMED order, with the reason: it becomes CANCELLED. Staff only."
)


@coerced
@strawberry.input
class CancelOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    reason: str


class CancelOrderFields(OrderCommandFields):
    """A `CancelOrderInput` as graphql-core coerced it."""

    reason: str


async def cancel_order(
    info: Info,
    input: Annotated[
        CancelOrderFields,
        strawberry.argument(graphql_type=CancelOrderInput, description=ORDER_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(
        info, CancelOrder(**order_envelope(info, input, STAFF), reason=input["reason"])
    )


__all__ = ["CANCEL_ORDER_DESCRIPTION", "CancelOrderFields", "CancelOrderInput", "cancel_order"]
