"""A commandId belongs to the caller that sent it: each customer has a namespace of its own
(staff and admins share one), so an answer never depends on another caller's ids, and no one
can squat the ids another customer's client will use. Role and ownership checks come before
the idempotency lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from tests.support.graph import CREATE_ORDER, app_client, error_codes, order_input

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.support.graph import Client

SECRET = "a-test-signing-secret-of-32-bytes!!"
AUTHORITY = TokenAuthority(SECRET)
CONFIRM = """mutation($id: ID!, $commandId: ID) {
  confirmOrder(input: {orderId: $id, commandId: $commandId}) { commandId orderId version }
}"""


def _as(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {AUTHORITY.mint(subject, role)}"}


async def _create(
    client: Client, caller: dict[str, str], customer: str, command_id: str, **overrides: Any
) -> dict[str, Any]:
    variables = {"input": order_input(customer, commandId=command_id, **overrides)}
    return await client.post(CREATE_ORDER, variables, **caller)


@pytest.fixture
async def secured(sqlite_url: str) -> AsyncIterator[Client]:
    async with app_client(sqlite_url, auth_secret=SECRET) as client:
        yield client


async def test_another_customers_used_id_answers_as_a_fresh_one(secured: Client) -> None:
    bob, alice = _as(Role.CUSTOMER, "bob"), _as(Role.CUSTOMER, "alice")
    assert "errors" not in await _create(secured, bob, "bob", "cmd-shared")

    used = await _create(secured, alice, "bob", "cmd-shared")
    fresh = await _create(secured, alice, "bob", "cmd-never-used")
    assert error_codes(used) == error_codes(fresh) == ["FORBIDDEN"]

    mine = await _create(secured, alice, "alice", "cmd-shared")
    assert "errors" not in mine, mine
    created = mine["data"]["createOrder"]
    assert created["commandId"] == "cmd-shared"
    assert created["order"]["customerId"] == "alice"


async def test_a_customer_cannot_squat_the_ids_of_another(secured: Client) -> None:
    alice, bob = _as(Role.CUSTOMER, "alice"), _as(Role.CUSTOMER, "bob")
    squatted = await _create(secured, alice, "alice", "bobs-next-id")
    later = await _create(secured, bob, "bob", "bobs-next-id")
    assert "errors" not in later, later
    assert later["data"]["createOrder"]["orderId"] != squatted["data"]["createOrder"]["orderId"]
    assert later["data"]["createOrder"]["order"]["customerId"] == "bob"


async def test_ownership_is_checked_before_the_idempotency_lookup(secured: Client) -> None:
    alice = _as(Role.CUSTOMER, "alice")
    assert "errors" not in await _create(secured, alice, "alice", "cmd-1")
    # Her own used id, for another customer: FORBIDDEN, as with a fresh id, not a mismatch.
    assert error_codes(await _create(secured, alice, "bob", "cmd-1")) == ["FORBIDDEN"]


async def test_a_retry_by_the_same_caller_still_answers_the_first_result(secured: Client) -> None:
    alice = _as(Role.CUSTOMER, "alice")
    first = await _create(secured, alice, "alice", "retry-1")
    again = await _create(secured, alice, "alice", "retry-1")
    assert again["data"]["createOrder"] == first["data"]["createOrder"]
    assert again["data"]["createOrder"]["commandId"] == "retry-1"
    other_items = [{"sku": "SKU-2", "quantity": 1, "unitPrice": "1.00"}]
    different = await _create(secured, alice, "alice", "retry-1", items=other_items)
    assert error_codes(different) == ["BAD_USER_INPUT"]
    long_id = "L" * 128  # the longest id the contract allows, scoped all the same
    first_long = await _create(secured, alice, "alice", long_id)
    assert first_long["data"]["createOrder"]["commandId"] == long_id
    assert (await _create(secured, alice, "alice", long_id))["data"] == first_long["data"]


async def test_staff_and_admins_share_one_namespace(secured: Client) -> None:
    order = await _create(secured, _as(Role.CUSTOMER, "carol"), "carol", "carol-1")
    order_id = order["data"]["createOrder"]["orderId"]
    variables = {"id": order_id, "commandId": "desk-7"}
    by_staff = await secured.post(CONFIRM, variables, **_as(Role.STAFF, "sam"))
    by_admin = await secured.post(CONFIRM, variables, **_as(Role.ADMIN, "ann"))
    assert "errors" not in by_staff, by_staff
    assert by_admin == by_staff
