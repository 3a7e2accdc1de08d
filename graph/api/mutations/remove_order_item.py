"""removeOrderItem: take the line with one SKU off an order."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import RemoveOrderItem
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import ORDER_INPUT_DESCRIPTION, OrderCommandFields, coerced
from graph.api.types import CommandResult

REMOVE_ORDER_ITEM_DESCRIPTION = (
    "Takes the line of one sku off a PLACED order; never its last line (INVALID_TRANSITION)."
)


@coerced
@strawberry.input
class RemoveOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    sku: str


class RemoveOrderItemFields(OrderCommandFields):
    """A `RemoveOrderItemInput` as graphql-core coerced it."""

    sku: str


async def remove_order_item(
    info: Info,
    input: Annotated[
        RemoveOrderItemFields,
        strawberry.argument(graphql_type=RemoveOrderItemInput, description=ORDER_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(info, RemoveOrderItem(**order_envelope(info, input), sku=input["sku"]))


__all__ = [
    "REMOVE_ORDER_ITEM_DESCRIPTION",
    "RemoveOrderItemFields",
    "RemoveOrderItemInput",
    "remove_order_item",
]
