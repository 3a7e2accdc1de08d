"""addOrderItem: one more line on an order."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import AddOrderItem
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import (
    EXPECTED_VERSION_DESCRIPTION,
    ORDER_INPUT_DESCRIPTION,
    OrderCommandFields,
    OrderLineFields,
    OrderLineInput,
    coerced,
    order_line,
)
from graph.api.types import CommandResult

ADD_ORDER_ITEM_DESCRIPTION = (
    "Adds a line to a PLACED order; a sku already on the order adds to that line's quantity "
    "(at the same unitPrice, else BAD_USER_INPUT)."
)


@coerced
@strawberry.input
class AddOrderItemInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None = strawberry.field(description=EXPECTED_VERSION_DESCRIPTION)
    item: OrderLineInput


class AddOrderItemFields(OrderCommandFields):
    """An `AddOrderItemInput` as graphql-core coerced it."""

    item: OrderLineFields


async def add_order_item(
    info: Info,
    input: Annotated[
        AddOrderItemFields,
        strawberry.argument(graphql_type=AddOrderItemInput, description=ORDER_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(
        info, AddOrderItem(**order_envelope(info, input), item=order_line(input["item"]))
    )


__all__ = [
    "ADD_ORDER_ITEM_DESCRIPTION",
    "AddOrderItemFields",
    "AddOrderItemInput",
    "add_order_item",
]
