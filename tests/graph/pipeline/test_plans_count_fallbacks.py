"""Every way the fast path is missed is counted in PlanStats (what /metrics shows), an
operation's plans stay within their budget, and each of those paths still answers as
graphql-core does. The root selection counts as one planned object."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

import graphql
import pytest

from graph.pipeline.encoding import encode_json_bytes, encode_json_text
from graph.pipeline.plans import FallbackReason, PlanStats, UnplannedReason
from graph.pipeline.prepare import Preparer
from tests.graph.pipeline.plans_world import ORDER_FIELDS, World, running_world

if TYPE_CHECKING:
    from pathlib import Path

GET = f"query Get($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path) as running:
        yield running


def test_a_snapshot_lists_every_reason_and_reset_zeroes_it() -> None:
    stats = PlanStats()
    stats.planned, stats.compiled = 3, 2
    stats.fallbacks[FallbackReason.NULL_IN_NON_NULL] += 1
    stats.unplanned[UnplannedReason.RESOLVER] += 4
    snapshot = stats.snapshot()
    assert set(snapshot["fallbacks"]) == {reason.value for reason in FallbackReason}
    assert set(snapshot["unplanned"]) == {reason.value for reason in UnplannedReason}
    assert (snapshot["planned"], snapshot["fallbacks"]["null_in_non_null"]) == (3, 1)
    assert stats.fallback_count() == 1
    stats.reset()
    assert stats.snapshot()["planned"] == stats.fallback_count() == 0


async def test_an_intact_order_is_planned_and_a_damaged_one_counted_by_reason(
    world: World,
) -> None:
    stats = world.stats
    plain, planned = await world.answers(GET, {"id": world.order_ids[1]})
    assert planned == plain
    assert (stats.planned, stats.fallback_count()) == (2, 0)
    plain, planned = await world.answers(GET, {"id": world.damaged["text_version"]})
    assert planned == plain
    assert stats.fallbacks == {FallbackReason.SERIALIZER_ERROR: 1}


async def test_a_full_operation_budget_leaves_the_rest_to_graphql_core(world: World) -> None:
    world.preparer = Preparer(world.schema, world.settings, world.stats, max_plans_per_operation=2)
    # The root and the order's plans fit; the order's nested plans (items, shippingAddress) not.
    plain, planned = await world.answers(GET, {"id": world.order_ids[1]})
    assert planned == plain
    assert world.stats.unplanned[UnplannedReason.PLAN_BUDGET] >= 1


async def test_a_condition_graphql_core_refuses_turns_planning_off_for_the_request(
    world: World,
) -> None:
    order = world.order_ids[1]
    document = (
        f'query($v: Boolean = true) {{ order(id: "{order}") {{ id status @include(if: $v) }} }}'
    )
    plain, planned = await world.answers(document, {"v": None})
    assert planned == plain
    assert "errors" in json.loads(plain)
    assert world.stats.fallbacks == {FallbackReason.DIRECTIVE_ERROR: 1}


async def test_fields_with_resolvers_run_on_graphql_cores_path_inside_a_plan(
    world: World,
) -> None:
    document = "query Get($id: ID!) { order(id: $id) { id customer { id orderCount } status } }"
    plain, planned = await world.answers(document, {"id": world.order_ids[1]})
    assert planned == plain
    stats = world.stats
    assert stats.planned == 3  # the root, the Order (its customer a resolver), the Customer
    assert not stats.unplanned


async def test_objects_holding_an_object_with_resolvers_are_counted_as_unplanned(
    world: World,
) -> None:
    document = "{ orders(first: 2) { edges { cursor node { customer { id } } } } }"
    plain, planned = await world.answers(document)
    assert planned == plain
    stats = world.stats
    # OrderConnection and each OrderEdge hold an Order whose customer has a resolver.
    assert stats.unplanned == {UnplannedReason.RESOLVER: 3}
    assert stats.planned == 5  # the root, each Order and each Customer


async def test_subscription_events_are_planned_and_answer_alike(world: World) -> None:
    document = (
        "subscription Watch($id: ID!, $after: Position) "
        f"{{ orderUpdated(id: $id, afterPosition: $after) {{ {ORDER_FIELDS} }} }}"
    )
    variables = {"id": world.order_ids[1], "after": 0}
    subscribed = graphql.subscribe(
        world.schema, graphql.parse(document), None, world.context(), variables
    )
    plain = await subscribed if graphql.pyutils.is_awaitable(subscribed) else subscribed
    assert isinstance(plain, AsyncGenerator)
    first = await anext(plain)
    await plain.aclose()
    prepared = await world.preparer.prepare(document, None)
    coerced = world.runner.variables(prepared, variables)
    stream = await world.runner.subscribe(prepared, coerced, world.context())
    assert isinstance(stream, AsyncGenerator)
    view = await anext(stream)
    await stream.aclose()
    answer = await world.runner.execute(prepared, coerced, world.context(), view)
    assert json.dumps(answer.formatted()) == json.dumps({"data": first.data})
    assert world.stats.planned == 2  # the root and the order


@pytest.mark.parametrize(
    "data",
    [
        {"data": {"order": {"id": "é", "n": 1, "ok": True, "none": None, "list": [1, 2]}}},
        {"data": {"big": 2**70}},  # beyond orjson's 64 bits: json writes it
    ],
)
def test_orjson_bodies_parse_to_what_json_writes(data: dict[str, Any]) -> None:
    expected = json.dumps(data, separators=(",", ":"))
    assert json.loads(encode_json_text(data)) == json.loads(expected)
    assert json.loads(encode_json_bytes(data)) == json.loads(expected)
    assert isinstance(encode_json_text(data), str)
