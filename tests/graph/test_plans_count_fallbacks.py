"""Every way the fast path is missed is counted in PlanStats (what /metrics shows), the plan
cache stays within its bounds, and each of those paths still answers as graphql-core does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest
from graphql import GraphQLResolveInfo
from graphql.pyutils import AwaitableOrValue
from strawberry.extensions import SchemaExtension

from graph.api.plans import FallbackReason, PlannedExecutionContext, PlanStats, UnplannedReason
from graph.api.plans.encoding import encode_json_bytes, encode_json_text
from graph.api.schema import build_schema
from tests.graph.plans_world import ORDER_FIELDS, World, planned_schema, running_world

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
    stats = world.executor.plan_stats
    plain, planned = await world.answers(GET, {"id": world.order_ids[1]})
    assert planned == plain
    assert (stats.planned, stats.fallback_count()) == (1, 0)
    plain, planned = await world.answers(GET, {"id": world.damaged["text_version"]})
    assert planned == plain
    assert stats.fallbacks == {FallbackReason.SERIALIZER_ERROR: 1}


async def test_the_plan_cache_evicts_the_oldest_operation(world: World) -> None:
    executor = PlannedExecutionContext.configured(max_operations=2)
    world.planned = planned_schema(world.settings, executor)
    world.executor = executor
    documents = [f"query Q{n}($id: ID!) {{ order(id: $id) {{ id version }} }}" for n in range(3)]
    for document in (*documents, documents[0]):
        plain, planned = await world.answers(document, {"id": world.order_ids[1]})
        assert planned == plain
    assert len(executor.plan_cache) == 2
    assert executor.plan_stats.evicted == 2  # Q0, then Q1 (Q0 came back as a new entry)


async def test_a_full_operation_budget_leaves_the_rest_to_graphql_core(world: World) -> None:
    executor = PlannedExecutionContext.configured(max_plans_per_operation=1)
    world.planned, world.executor = planned_schema(world.settings, executor), executor
    # The order's plan needs nested plans (items, shippingAddress) beyond the budget of one.
    plain, planned = await world.answers(GET, {"id": world.order_ids[1]})
    assert planned == plain
    assert executor.plan_stats.unplanned[UnplannedReason.PLAN_BUDGET] >= 1


class Tracing(SchemaExtension):
    """A schema extension with a `resolve` hook: resolver middleware for every field."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> AwaitableOrValue[object]:
        result: object = _next(root, info, *args, **kwargs)
        return result


async def test_resolver_middleware_turns_planning_off_and_is_counted_per_request(
    world: World,
) -> None:
    executor = PlannedExecutionContext.configured()
    world.plain = build_schema(world.settings, extra_extensions=[Tracing])
    world.planned = build_schema(world.settings, extra_extensions=[Tracing])
    world.planned.execution_context_class = executor
    for _ in range(2):
        plain, planned = await world.answers(GET, {"id": world.order_ids[1]})
        assert planned == plain
    assert executor.plan_stats.planned == 0
    assert executor.plan_stats.fallbacks == {FallbackReason.MIDDLEWARE: 2}


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
    assert world.executor.plan_stats.fallbacks == {FallbackReason.DIRECTIVE_ERROR: 1}


async def test_fields_with_resolvers_run_on_graphql_cores_path_inside_a_plan(
    world: World,
) -> None:
    document = "query Get($id: ID!) { order(id: $id) { id customer { id orderCount } status } }"
    plain, planned = await world.answers(document, {"id": world.order_ids[1]})
    assert planned == plain
    stats = world.executor.plan_stats
    assert stats.planned == 2  # the Order (its customer executed by graphql-core), the Customer
    assert not stats.unplanned


async def test_objects_holding_an_object_with_resolvers_are_counted_as_unplanned(
    world: World,
) -> None:
    document = "{ orders(first: 2) { edges { cursor node { customer { id } } } } }"
    plain, planned = await world.answers(document)
    assert planned == plain
    stats = world.executor.plan_stats
    # OrderConnection and each OrderEdge hold an Order whose customer has a resolver.
    assert stats.unplanned == {UnplannedReason.RESOLVER: 3}
    assert stats.planned == 4  # each Order and each Customer


async def test_subscription_events_are_planned_and_answer_alike(world: World) -> None:
    document = (
        "subscription Watch($id: ID!, $after: Position) "
        f"{{ orderUpdated(id: $id, afterPosition: $after) {{ {ORDER_FIELDS} }} }}"
    )
    variables = {"id": world.order_ids[1], "after": 0}
    answers = []
    for schema in (world.plain, world.planned):
        stream = await schema.subscribe(document, variables, context_value=world.context())
        first = await anext(stream)
        await stream.aclose()
        answers.append(json.dumps({"data": first.data, "errors": first.errors}))
    assert answers[1] == answers[0]
    assert world.executor.plan_stats.planned == 1


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
