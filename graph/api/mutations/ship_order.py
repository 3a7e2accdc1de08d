"""shipOrder (staff): a confirmed order leaves with its tracking number."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import ShipOrder
from graph.api.access import STAFF
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import ORDER_INPUT_DESCRIPTION, OrderCommandFields, coerced
from graph.api.types import CommandResult

SHIP_ORDER_DESCRIPTION = (
    "Ships a CONFIRMED order with its carrier's tracking number: it becomes SHIPPED. Staff only."
)


@coerced
@strawberry.input
class ShipOrderInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    tracking_number: str


class ShipOrderFields(OrderCommandFields):
    """A `ShipOrderInput` as graphql-core coerced it."""

    trackingNumber: str


async def ship_order(
    info: Info,
    input: Annotated[
        ShipOrderFields,
        strawberry.argument(graphql_type=ShipOrderInput, description=ORDER_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(
        info,
        ShipOrder(**order_envelope(info, input, STAFF), tracking_number=input["trackingNumber"]),
    )


__all__ = ["SHIP_ORDER_DESCRIPTION", "ShipOrderFields", "ShipOrderInput", "ship_order"]
