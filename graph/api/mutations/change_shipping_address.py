"""changeShippingAddress: where an order goes, before it ships."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.commands import ChangeShippingAddress
from graph.api.context import Info
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import (
    ORDER_INPUT_DESCRIPTION,
    AddressFields,
    AddressInput,
    OrderCommandFields,
    address,
    coerced,
)
from graph.api.types import CommandResult

CHANGE_SHIPPING_ADDRESS_DESCRIPTION = "Changes where a PLACED or CONFIRMED order goes."


@coerced
@strawberry.input
class ChangeShippingAddressInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    shipping_address: AddressInput


class ChangeShippingAddressFields(OrderCommandFields):
    """A `ChangeShippingAddressInput` as graphql-core coerced it."""

    shippingAddress: AddressFields


async def change_shipping_address(
    info: Info,
    input: Annotated[
        ChangeShippingAddressFields,
        strawberry.argument(
            graphql_type=ChangeShippingAddressInput, description=ORDER_INPUT_DESCRIPTION
        ),
    ],
) -> CommandResult:
    return await dispatch(
        info,
        ChangeShippingAddress(
            **order_envelope(info, input), shipping_address=address(input["shippingAddress"])
        ),
    )


__all__ = [
    "CHANGE_SHIPPING_ADDRESS_DESCRIPTION",
    "ChangeShippingAddressFields",
    "ChangeShippingAddressInput",
    "change_shipping_address",
]
