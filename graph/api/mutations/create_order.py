"""createOrder: a new order for a customer, with its lines and shipping address."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import CreateOrder
from graph.api.context import Info
from graph.api.mutations.command import dispatch, envelope
from graph.api.mutations.inputs import (
    COMMAND_ID_DESCRIPTION,
    AddressFields,
    AddressInput,
    CommandFields,
    OrderLineFields,
    OrderLineInput,
    address,
    coerced,
    order_line,
)
from graph.api.types import CommandResult

CREATE_ORDER_DESCRIPTION = (
    "Places a new order (PLACED) for a customer, with 1 to 100 lines and a shipping address. "
    "Its `position` is what a read passes as `minPosition` to see it; select `order` to get "
    "the new order in the same round trip."
)
CREATE_INPUT_DESCRIPTION = (
    "The customer, the lines and the shipping address. With `commandId` a retry is safe (it "
    "returns the first result and places nothing twice)."
)


@coerced
@strawberry.input
class CreateOrderInput:
    command_id: strawberry.ID | None = strawberry.field(description=COMMAND_ID_DESCRIPTION)
    customer_id: strawberry.ID
    items: list[OrderLineInput]
    shipping_address: AddressInput


class CreateOrderFields(CommandFields):
    """A `CreateOrderInput` as graphql-core coerced it."""

    customerId: str
    items: list[OrderLineFields]
    shippingAddress: AddressFields


async def create_order(
    info: Info,
    input: Annotated[
        CreateOrderFields,
        strawberry.argument(graphql_type=CreateOrderInput, description=CREATE_INPUT_DESCRIPTION),
    ],
) -> CommandResult:
    return await dispatch(
        info,
        CreateOrder(
            **envelope(info, input.get("commandId")),
            customer_id=input["customerId"],
            lines=tuple(map(order_line, input["items"])),
            shipping_address=address(input["shippingAddress"]),
        ),
    )


__all__ = ["CREATE_ORDER_DESCRIPTION", "CreateOrderFields", "CreateOrderInput", "create_order"]
