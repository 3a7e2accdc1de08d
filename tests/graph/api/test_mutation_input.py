"""Mutations build their commands from graphql-core's coerced input, not Strawberry's classes.

The handlers receive the command each input describes (Decimal money, str ids, None for what
the client left out, a fresh id for a missing commandId), the input is handed over as
graphql-core coerced it (no field-by-field conversion), and refused input or callers get their
codes before anything reaches a handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
import strawberry.types.arguments

from domain import commands
from domain.bus import CommandBus, UnitOfWork
from domain.commands import Command, CommandResult
from domain.handlers import create_order, on_order
from domain.ids import new_order_id
from domain.order import DECISIONS
from domain.values import Address, OrderLine
from graph.api.identity import Role
from graph.app import create_app
from graph.http.auth import TokenAuthority
from graph.settings import Settings
from tests.support.graph import Client, error_codes

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
REQUEST_ID = "mutation-input-1"
ISSUED = datetime(2024, 1, 1, tzinfo=UTC)

CREATE = """mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { commandId orderId version position } }"""
ADD = "mutation($input: AddOrderItemInput!) { addOrderItem(input: $input) { version } }"
REMOVE = "mutation($input: RemoveOrderItemInput!) { removeOrderItem(input: $input) { version } }"
CHANGE = """mutation($input: ChangeShippingAddressInput!) {
  changeShippingAddress(input: $input) { version } }"""
CONFIRM = "mutation($input: ConfirmOrderInput!) { confirmOrder(input: $input) { version } }"
SHIP = "mutation($input: ShipOrderInput!) { shipOrder(input: $input) { version } }"
CANCEL = "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { version } }"

ADDRESS_INPUT = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postalCode": "N1 9GU",
    "country": "GB",
}
ADDRESS = Address(
    name="Ada Lovelace",
    line1="1 Analytical Way",
    line2=None,
    city="London",
    postal_code="N1 9GU",
    country="GB",
)
LINES_INPUT = [
    {"sku": "A", "quantity": 1, "unitPrice": "9.5"},
    {"sku": "B", "quantity": 2, "unitPrice": 3},
    {"sku": "C", "quantity": 3, "unitPrice": "0.01"},
]
LINES = (
    OrderLine(sku="A", quantity=1, unit_price=Decimal("9.5")),
    OrderLine(sku="B", quantity=2, unit_price=Decimal(3)),
    OrderLine(sku="C", quantity=3, unit_price=Decimal("0.01")),
)

Handler = Callable[[Any, UnitOfWork], Awaitable[CommandResult]]
HANDLERS: dict[type[Command], Handler] = {
    commands.CreateOrder: partial(create_order, new_id=new_order_id),
    **dict.fromkeys(DECISIONS, on_order),
}


def _recording(handler: Handler, seen: list[Command]) -> Handler:
    async def handle(command: Any, uow: UnitOfWork) -> CommandResult:
        seen.append(command)
        return await handler(command, uow)

    return handle


def record_commands(bus: CommandBus) -> list[Command]:
    """Every command the bus's handlers receive, in order, the real handlers still behind."""
    seen: list[Command] = []
    for command_type, handler in HANDLERS.items():
        bus.register(command_type, _recording(handler, seen))
    return seen


@asynccontextmanager
async def recorded_app(url: str, **overrides: Any) -> AsyncIterator[tuple[Client, list[Command]]]:
    """The app in-process (as `app_client`), with the commands its handlers receive."""
    app = create_app(replace(Settings(database_url=url), **overrides))
    async with app.router.lifespan_context(app):
        seen = record_commands(app.state.runtime.container.bus)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield Client(http), seen


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint(subject, role)}"}


async def send(
    client: Client, query: str, fields: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return await client.post(
        query, {"input": fields}, **{"X-Request-ID": REQUEST_ID}, **(headers or {})
    )


def issued_now(command: Command) -> Command:
    """`command` with its `issued_at` set to ISSUED, after checking it is aware UTC and recent."""
    assert command.issued_at.utcoffset() == timedelta(0)
    assert datetime.now(UTC) - command.issued_at < timedelta(minutes=1)
    return replace(command, issued_at=ISSUED)


def envelope(command_id: str) -> dict[str, Any]:
    return {"command_id": command_id, "issued_at": ISSUED, "correlation_id": REQUEST_ID}


async def test_each_mutation_sends_the_command_its_input_describes(sqlite_url: str) -> None:
    async with recorded_app(sqlite_url) as (client, seen):
        created = await send(
            client,
            CREATE,
            {
                "commandId": "k-create",
                "customerId": "cust-1",
                "items": LINES_INPUT,
                "shippingAddress": ADDRESS_INPUT,
            },
        )
        order_id = created["data"]["createOrder"]["orderId"]
        moved = {**ADDRESS_INPUT, "line2": "Flat 2", "city": "Leeds"}
        answers = [
            await send(
                client,
                ADD,
                {
                    "commandId": "k-add",
                    "orderId": order_id,
                    "expectedVersion": 1,
                    "item": {"sku": "D", "quantity": 4, "unitPrice": "1.25"},
                },
            ),
            await send(client, REMOVE, {"commandId": "k-remove", "orderId": order_id, "sku": "D"}),
            await send(
                client,
                CHANGE,
                {"commandId": "k-change", "orderId": order_id, "shippingAddress": moved},
            ),
            await send(client, CONFIRM, {"commandId": None, "orderId": order_id}),
            await send(
                client,
                SHIP,
                {"commandId": "k-ship", "orderId": order_id, "trackingNumber": "TRACK-1"},
            ),
            await send(
                client,
                CANCEL,
                {
                    "commandId": "k-cancel",
                    "orderId": order_id,
                    "expectedVersion": 6,
                    "reason": "late",
                },
            ),
        ]
    assert [error_codes(answer) for answer in answers] == [
        [],
        [],
        [],
        [],
        [],
        ["INVALID_TRANSITION"],
    ]
    confirm_id = seen[4].command_id
    assert len(confirm_id) == 32  # commandId: null gets a fresh id, as when it is left out
    assert [issued_now(command) for command in seen] == [
        commands.CreateOrder(
            **envelope("k-create"), customer_id="cust-1", lines=LINES, shipping_address=ADDRESS
        ),
        commands.AddOrderItem(
            **envelope("k-add"),
            order_id=order_id,
            expected_version=1,
            item=OrderLine(sku="D", quantity=4, unit_price=Decimal("1.25")),
        ),
        commands.RemoveOrderItem(**envelope("k-remove"), order_id=order_id, sku="D"),
        commands.ChangeShippingAddress(
            **envelope("k-change"),
            order_id=order_id,
            shipping_address=replace(ADDRESS, line2="Flat 2", city="Leeds"),
        ),
        commands.ConfirmOrder(**envelope(confirm_id), order_id=order_id),
        commands.ShipOrder(**envelope("k-ship"), order_id=order_id, tracking_number="TRACK-1"),
        commands.CancelOrder(
            **envelope("k-cancel"), order_id=order_id, expected_version=6, reason="late"
        ),
    ]
    placed = seen[0]
    assert isinstance(placed, commands.CreateOrder)
    assert all(type(line.unit_price) is Decimal for line in placed.lines)
    assert type(placed.customer_id) is str
    assert type(placed.shipping_address.postal_code) is str


async def test_the_input_reaches_the_resolver_as_graphql_core_coerced_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    convert = strawberry.types.arguments.convert_argument
    calls: list[object] = []

    def counting(value: object, *args: Any, **kwargs: Any) -> object:
        calls.append(value)
        return convert(value, *args, **kwargs)

    monkeypatch.setattr(strawberry.types.arguments, "convert_argument", counting)
    literal = """mutation { createOrder(input: {customerId: "cust-1", items: [
      {sku: "A", quantity: 1, unitPrice: "9.5"}, {sku: "B", quantity: 2, unitPrice: 3},
      {sku: "C", quantity: 3, unitPrice: "0.01"}], shippingAddress: {name: "Ada Lovelace",
      line1: "1 Analytical Way", city: "London", postalCode: "N1 9GU", country: "GB"}}) {
      orderId } }"""
    async with recorded_app(sqlite_url) as (client, seen):
        await client.data(
            CREATE,
            {
                "input": {
                    "customerId": "cust-1",
                    "items": LINES_INPUT,
                    "shippingAddress": ADDRESS_INPUT,
                }
            },
        )
        await client.data(literal)
    # One call per mutation: the `input` argument, handed over as graphql-core coerced it
    # (Strawberry's own conversion made 21 calls for each of these 3-line orders).
    assert len(calls) == 2
    assert all(isinstance(value, dict) for value in calls)
    assert [command.lines for command in seen if isinstance(command, commands.CreateOrder)] == [
        LINES,
        LINES,
    ]


async def test_refused_input_and_callers_get_their_codes_and_reach_no_handler(
    sqlite_url: str,
) -> None:
    alice, staff = bearer(Role.CUSTOMER, "alice"), bearer(Role.STAFF, "sam")
    zero = [{"sku": "A", "quantity": 0, "unitPrice": "1.00"}]
    valid = {"customerId": "alice", "items": LINES_INPUT, "shippingAddress": ADDRESS_INPUT}
    async with recorded_app(sqlite_url, auth_secret=SECRET) as (client, seen):
        created = await send(client, CREATE, {**valid, "commandId": "k-1"}, alice)
        order_id = created["data"]["createOrder"]["orderId"]
        retried = await send(client, CREATE, {**valid, "commandId": "k-1"}, alice)
        assert retried == created  # idempotent: the fingerprint of the rebuilt command matches

        cases: list[tuple[str, dict[str, Any], dict[str, str], str, str | None]] = [
            (CREATE, {**valid, "items": zero}, {}, "UNAUTHENTICATED", None),
            (CREATE, {**valid, "items": zero}, alice, "BAD_USER_INPUT", "items[0].quantity"),
            (CREATE, {**valid, "customerId": "bob"}, alice, "FORBIDDEN", None),
            (  # a command id its sender used for another command (ids are per sender)
                CREATE,
                {
                    **valid,
                    "commandId": "k-1",
                    "items": [{"sku": "Z", "quantity": 1, "unitPrice": "1"}],
                },
                alice,
                "BAD_USER_INPUT",
                "commandId",
            ),
            (CONFIRM, {"orderId": order_id, "expectedVersion": 9}, alice, "FORBIDDEN", None),
            (
                CONFIRM,
                {"orderId": order_id, "expectedVersion": 9},
                staff,
                "CONCURRENCY_CONFLICT",
                None,
            ),
            (
                ADD,
                {"orderId": order_id, "item": {"sku": "X", "quantity": 1, "unitPrice": "NaN"}},
                alice,
                "BAD_USER_INPUT",
                "item.unitPrice",
            ),
            (
                ADD,
                {"orderId": order_id, "item": {"sku": "X", "quantity": 1, "unitPrice": 1.5}},
                alice,
                "BAD_USER_INPUT",
                "item.unitPrice",
            ),
            (ADD, {"orderId": "no-such-order", "item": LINES_INPUT[0]}, alice, "NOT_FOUND", None),
            (SHIP, {"orderId": order_id}, staff, "BAD_USER_INPUT", "trackingNumber"),
        ]
        for query, fields, headers, code, field in cases:
            answer = await send(client, query, fields, headers)
            assert error_codes(answer) == [code], (fields, answer)
            assert answer["errors"][0]["extensions"].get("field") == field, answer
        literal = await client.post(
            'mutation { removeOrderItem(input: {orderId: "x", sku: 5}) { version } }', None, **alice
        )
        assert error_codes(literal) == ["BAD_USER_INPUT"]
    # Only what passed the role checks and the input rules reached a handler, acting for
    # the customer that sent it (the create for "bob" is refused before the idempotency
    # lookup, so before any handler).
    assert [(type(command).__name__, command.on_behalf_of) for command in seen] == [
        ("CreateOrder", "alice"),
        ("ConfirmOrder", None),
        ("AddOrderItem", "alice"),
    ]
