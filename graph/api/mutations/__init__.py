"""Mutations: a command from the coerced input, dispatched on the CommandBus, its result mapped."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry

from domain import commands
from domain.errors import DomainError
from graph.api.access import ADMIN, EVERYONE, STAFF, require
from graph.api.context import Info
from graph.api.freshness import require_projection_name
from graph.api.inputs import (
    AddOrderItemInput,
    CancelOrderInput,
    ChangeShippingAddressInput,
    CoercedInput,
    ConfirmOrderInput,
    CreateOrderInput,
    RemoveOrderItemInput,
    ShipOrderInput,
    address,
    order_line,
)
from graph.api.scalars import Position
from graph.api.types import CommandResult, Projection
from graph.http.auth import Role


def _envelope(
    info: Info, command_id: str | None, roles: frozenset[Role] = EVERYONE
) -> dict[str, Any]:
    """The fields every command carries: its id, when it was issued, the request's id, and
    the customer it acts for (a customer may only act for itself)."""
    caller = require(info, roles, "send this command")
    return {
        "command_id": uuid.uuid4().hex if command_id is None else command_id,
        "issued_at": datetime.now(UTC),
        "correlation_id": info.context.correlation_id,
        "on_behalf_of": caller.acting_customer,
    }


async def _dispatch(info: Info, command: commands.Command) -> CommandResult:
    metrics = info.context.metrics
    kind = type(command).__name__
    started = time.perf_counter()
    try:
        result = await info.context.command_bus.dispatch(command)
    except DomainError as error:
        metrics.commands.labels(kind, error.code.value).inc()
        raise
    except Exception:
        metrics.commands.labels(kind, "INTERNAL_SERVER_ERROR").inc()
        raise
    metrics.commands.labels(kind, "ok").inc()
    metrics.command_seconds.labels(kind).observe(time.perf_counter() - started)
    return CommandResult(
        command_id=strawberry.ID(result.command_id),
        order_id=strawberry.ID(result.order_id),
        version=result.version,
        position=Position(result.position),
    )


async def _rebuild_projection(info: Info, name: str) -> Projection:
    require(info, ADMIN, "rebuild projections")
    status = await info.context.runner.rebuild(require_projection_name(name))
    return Projection.from_dto(status)


@strawberry.type
class Mutation:
    """Each command's input arrives as graphql-core's coerced dict (see graph/inputs.py)."""

    @strawberry.mutation
    async def create_order(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=CreateOrderInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.CreateOrder(
                **_envelope(info, input.get("commandId")),
                customer_id=input["customerId"],
                lines=tuple(map(order_line, input["items"])),
                shipping_address=address(input["shippingAddress"]),
            ),
        )

    @strawberry.mutation
    async def add_order_item(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=AddOrderItemInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.AddOrderItem(
                **_envelope(info, input.get("commandId")),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
                item=order_line(input["item"]),
            ),
        )

    @strawberry.mutation
    async def remove_order_item(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=RemoveOrderItemInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.RemoveOrderItem(
                **_envelope(info, input.get("commandId")),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
                sku=input["sku"],
            ),
        )

    @strawberry.mutation
    async def change_shipping_address(
        self,
        info: Info,
        input: Annotated[
            CoercedInput, strawberry.argument(graphql_type=ChangeShippingAddressInput)
        ],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.ChangeShippingAddress(
                **_envelope(info, input.get("commandId")),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
                shipping_address=address(input["shippingAddress"]),
            ),
        )

    @strawberry.mutation
    async def confirm_order(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=ConfirmOrderInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.ConfirmOrder(
                **_envelope(info, input.get("commandId"), STAFF),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
            ),
        )

    @strawberry.mutation
    async def ship_order(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=ShipOrderInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.ShipOrder(
                **_envelope(info, input.get("commandId"), STAFF),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
                tracking_number=input["trackingNumber"],
            ),
        )

    @strawberry.mutation
    async def cancel_order(
        self,
        info: Info,
        input: Annotated[CoercedInput, strawberry.argument(graphql_type=CancelOrderInput)],
    ) -> CommandResult:
        return await _dispatch(
            info,
            commands.CancelOrder(
                **_envelope(info, input.get("commandId"), STAFF),
                order_id=input["orderId"],
                expected_version=input.get("expectedVersion"),
                reason=input["reason"],
            ),
        )

    rebuild_projection: Projection = strawberry.mutation(
        resolver=_rebuild_projection,
        description=(
            "Clears one projection's views and replays the whole log into it; "
            "reads keep answering meanwhile."
        ),
    )


__all__ = ["Mutation"]
