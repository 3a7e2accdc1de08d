"""confirmOrder (staff): the order is accepted and will be shipped."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import ConfirmOrder
from graph.api.access import STAFF
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import ORDER_INPUT_DESCRIPTION, OrderCommandFields, coerced
from graph.api.types import CommandResult

CONFIRM_ORDER_DESCRIPTION = "Accepts a PLACED order for shipping: it becomes CONFIRMED. Staff only."


@coerced
@strawberry.input
class ConfirmOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None


async def confirm_order(
    info: Info,
    input: Annotated[
        OrderCommandFields,
        strawberry.argument(graphql_type=ConfirmOrderInput, description=ORDER_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(info, ConfirmOrder(**order_envelope(info, input, STAFF)))


__all__ = ["CONFIRM_ORDER_DESCRIPTION", "ConfirmOrderInput", "confirm_order"]
