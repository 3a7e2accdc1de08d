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
    input: Annotated[CreateOrderFields, strawberry.argument(graphql_type=CreateOrderInput)],
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


__all__ = ["CreateOrderFields", "CreateOrderInput", "create_order"]
