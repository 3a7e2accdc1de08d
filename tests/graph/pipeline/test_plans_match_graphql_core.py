"""The planner answers exactly as graphql-core does: same data, same key order, same errors
(message, path, locations, code) and the same null propagation, on a real SQLite database.

The differential test runs documents generated from the schema by hypothesis-graphql, reshaped
at random (aliases, repeated fields, inline and named fragments, `@include`/`@skip` with
literals and with variables, `__typename`), on `build_schema` and on the same schema with
`PlannedExecutionContext`, as three callers, over orders of every state and three damaged ones
(a null in a non-null field and two values the Int serializer refuses). The JSON texts must be
equal, compared without sorting keys.

CI runs a bounded, derandomized set of examples (a few seconds). A longer run:

    PLANS_MAX_EXAMPLES=2000 .venv/bin/pytest -q -p no:cacheprovider \
        tests/graph/pipeline/test_plans_match_graphql_core.py

(about 0.05 s an example). With `PLANS_DEBUG=1` and `-s` it prints every answer and the
planner's counters at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import graphql
import pytest
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from bench.workloads import GET, LIST
from graph.pipeline.plans import FallbackReason, UnplannedReason
from tests.graph.fuzzing import fuzz_settings, schema_sdl
from tests.graph.pipeline.plans_world import CALLERS, ORDER_FIELDS, World, running_world

if TYPE_CHECKING:
    from pathlib import Path

MAX_EXAMPLES = int(os.environ.get("PLANS_MAX_EXAMPLES", "200"))
Draw = Callable[[st.SearchStrategy[Any]], Any]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path) as running:
        yield running


# -- reshaping a generated document ------------------------------------------------------------


def _name(value: str) -> NameNode:
    return NameNode(value=value)


class Reshaper:
    """Rewrites a query's selections at random into an equivalent-to-validate document that
    exercises every way graphql-core groups fields."""

    def __init__(self, schema: graphql.GraphQLSchema, draw: Draw) -> None:
        self.schema = schema
        self.draw = draw
        self.variables: dict[str, bool] = {}
        self.fragments: list[FragmentDefinitionNode] = []
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def condition(self) -> tuple[DirectiveNode, ...]:
        """An `@include` or `@skip`, its `if` a literal or a new Boolean! variable."""
        kind = self.draw(st.sampled_from(("include", "skip")))
        if self.draw(st.booleans()):
            value: Any = BooleanValueNode(value=self.draw(st.booleans()))
        else:
            variable = self.fresh("v")
            self.variables[variable] = self.draw(st.booleans())
            value = VariableNode(name=_name(variable))
        argument = ArgumentNode(name=_name("if"), value=value)
        return (DirectiveNode(name=_name(kind), arguments=(argument,)),)

    def selection_set(self, parent: GraphQLObjectType, node: SelectionSetNode) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for selection in node.selections:
            assert isinstance(selection, FieldNode)
            selections.extend(self.reshape(parent, self.field(parent, selection)))
        return SelectionSetNode(selections=tuple(selections))

    def field(self, parent: GraphQLObjectType, node: FieldNode) -> FieldNode:
        selection_set = node.selection_set
        if selection_set is not None:
            child = get_named_type(parent.fields[node.name.value].type)
            assert isinstance(child, GraphQLObjectType)
            selection_set = self.selection_set(child, selection_set)
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=node.directives or (),
            selection_set=selection_set,
        )

    def reshape(self, parent: GraphQLObjectType, node: FieldNode) -> list[SelectionNode]:
        choice = self.draw(st.integers(0, 11))
        inner = SelectionSetNode(selections=(node,))
        on_parent = NamedTypeNode(name=_name(parent.name))
        if choice == 0 and node.alias is None:
            return [FieldNode(**{**_fields(node), "alias": _name(self.fresh("k"))})]
        if choice == 1:
            return [node, node]
        if choice == 2:
            return [
                InlineFragmentNode(type_condition=on_parent, directives=(), selection_set=inner)
            ]
        if choice == 3:
            return [InlineFragmentNode(directives=self.condition(), selection_set=inner)]
        if choice == 4:
            name = self.fresh("F")
            self.fragments.append(
                FragmentDefinitionNode(
                    name=_name(name), type_condition=on_parent, directives=(), selection_set=inner
                )
            )
            directives = self.condition() if self.draw(st.booleans()) else ()
            return [FragmentSpreadNode(name=_name(name), directives=directives)]
        if choice == 5:
            return [FieldNode(**{**_fields(node), "directives": self.condition()})]
        if choice == 6:
            return [FieldNode(name=_name("__typename"), directives=()), node]
        if choice == 7:  # the same field twice, one copy conditional: merged only when included
            return [node, FieldNode(**{**_fields(node), "directives": self.condition()})]
        return [node]

    def document(self, generated: DocumentNode) -> DocumentNode:
        (operation,) = generated.definitions
        assert isinstance(operation, OperationDefinitionNode)
        query_type = self.schema.query_type
        assert query_type is not None
        selection_set = self.selection_set(query_type, operation.selection_set)
        variables = tuple(
            VariableDefinitionNode(
                variable=VariableNode(name=_name(name)),
                type=NonNullTypeNode(type=NamedTypeNode(name=_name("Boolean"))),
                directives=(),
            )
            for name in self.variables
        )
        reshaped = OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=_name("Reshaped"),
            variable_definitions=variables,
            directives=(),
            selection_set=selection_set,
        )
        return DocumentNode(definitions=(reshaped, *self.fragments))


def _fields(node: FieldNode) -> dict[str, Any]:
    return {
        "alias": node.alias,
        "name": node.name,
        "arguments": node.arguments,
        "directives": node.directives,
        "selection_set": node.selection_set,
    }


def argument_values(world: World) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Arguments that mostly find something: known ids, real cursors and dates, small counts,
    positions around the head (and now and then one that does not)."""
    texts = (*world.cursors, "2026-03-01", "2026-03-03", "not-a-cursor")
    return {
        "ID": st.sampled_from((*world.known_ids, "no-such-id")).map(nodes.String),
        "String": st.sampled_from(texts).map(nodes.String),
        "Int": st.integers(0, 16).map(nodes.Int),
        "Position": st.integers(0, world.head + 1).map(nodes.Int),
        "Decimal": st.sampled_from(("19.99", "0")).map(nodes.String),
    }


@st.composite
def reshaped_queries(
    draw: Draw, schema: graphql.GraphQLSchema, world: World
) -> tuple[str, dict[str, bool]]:
    """A generated query, reshaped, printed; and the values of its condition variables."""
    sdl, scalars = schema_sdl(), argument_values(world)
    roots = draw(st.sampled_from((None, ("order",), ("orders",), ("order", "orders"))))
    generated = draw(queries(sdl, fields=roots, custom_scalars=scalars, print_ast=lambda d: d))
    reshaper = Reshaper(schema, draw)
    document = reshaper.document(generated)
    return graphql.print_ast(document), reshaper.variables


# -- the differential test ---------------------------------------------------------------------


def test_generated_queries_answer_alike(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        context = running_world(tmp_path)
        world = runner.run(context.__aenter__())
        try:
            schema = world.schema
            seen = {"valid": 0}

            @fuzz_settings(MAX_EXAMPLES)
            @given(
                request=reshaped_queries(schema, world),
                caller=st.sampled_from(tuple(CALLERS)),
            )
            def answers_alike(request: tuple[str, dict[str, bool]], caller: str) -> None:
                document, variables = request
                if not graphql.validate(schema, graphql.parse(document)):
                    seen["valid"] += 1
                plain, planned = runner.run(world.answers(document, variables, caller))
                assert planned == plain, document
                if os.environ.get("PLANS_DEBUG"):
                    print("ERR" if '"errors"' in plain else "ok ", plain[:300])

            answers_alike()
        finally:
            runner.run(context.__aexit__(None, None, None))
    stats = world.stats
    assert seen["valid"] > MAX_EXAMPLES // 2, seen
    assert stats.planned > 0, stats.snapshot()
    if os.environ.get("PLANS_DEBUG"):
        print(seen, stats.snapshot())


# -- chosen documents --------------------------------------------------------------------------


async def test_the_bench_documents_answer_alike(world: World) -> None:
    """The list (its page holds the damaged orders) and the get of an undamaged order."""
    for document, variables in ((LIST, None), (GET, {"id": world.order_ids[1]})):
        plain, planned = await world.answers(document, variables)
        assert planned == plain
    stats = world.stats
    assert stats.planned >= 1, stats.snapshot()
    assert stats.fallback_count() == 1, stats.snapshot()


async def test_an_undamaged_page_is_one_plan_below_the_root(world: World) -> None:
    newest = await world.plain("{ orders(first: 8) { edges { cursor } } }")
    after = json.loads(newest)["data"]["orders"]["edges"][-1]["cursor"]  # the next two: intact
    document = (
        "query Page($after: String) { orders(first: 2, after: $after) { edges { cursor node { "
        f"{ORDER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    world.stats.reset()
    plain, planned = await world.answers(document, {"after": after})
    assert planned == plain
    stats = world.stats
    assert (stats.planned, stats.fallback_count()) == (2, 0), stats.snapshot()  # root, page


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("null_sku", FallbackReason.NULL_IN_NON_NULL),
        ("null_city", FallbackReason.NULL_IN_NON_NULL),
        ("null_position", FallbackReason.NULL_IN_NON_NULL),
        ("text_version", FallbackReason.SERIALIZER_ERROR),
        ("huge_item_count", FallbackReason.SERIALIZER_ERROR),
        ("bytes_tracking_number", FallbackReason.SERIALIZER_ERROR),
    ],
)
async def test_a_damaged_order_answers_with_graphql_cores_errors(
    world: World, damage: str, reason: FallbackReason
) -> None:
    document = f"query Get($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
    world.stats.reset()
    plain, planned = await world.answers(document, {"id": world.damaged[damage]})
    assert planned == plain
    assert '"errors"' in plain, plain
    # A non-null field nulls the order; a nullable one (trackingNumber) only itself.
    assert ('"order": null' in plain) is (damage != "bytes_tracking_number"), plain
    assert dict(world.stats.fallbacks) == {reason: 1}


async def test_a_page_with_damaged_orders_nulls_as_graphql_core_does(world: World) -> None:
    document = (
        "{ orders(first: 6) { edges { cursor node { id items { sku } version itemCount } } "
        "pageInfo { hasNextPage } } }"
    )
    world.stats.reset()
    plain, planned = await world.answers(document)
    assert planned == plain
    assert '"data": null' in plain, plain  # Order! in [OrderEdge!]! in OrderConnection!
    stats = world.stats
    assert stats.fallback_count() == 1, stats.snapshot()  # one anomaly, counted once


async def test_a_missing_order_is_null_on_both_paths(world: World) -> None:
    document = "query Get($id: ID!) { order(id: $id) { id status } }"
    plain, planned = await world.answers(document, {"id": "no-such-order"})
    assert planned == plain == '{"data": {"order": null}}'


@pytest.mark.parametrize("a", [True, False])
@pytest.mark.parametrize("b", [True, False])
async def test_fragments_aliases_and_conditions_group_as_graphql_core_does(
    world: World, a: bool, b: bool
) -> None:
    document = """
    query Shaped($a: Boolean!, $b: Boolean!) {
      order(id: "%s") {
        status @include(if: $a)
        ...Money @skip(if: $b)
        x: id
        ... on Order { items { __typename sku } status }
        ... @include(if: $b) { lines: items { quantity sku } updatedAt }
        items @skip(if: $a) { unitPrice }
        __typename
        shippingAddress { ...Place city @skip(if: false) country @include(if: $a) }
        id @include(if: true) @skip(if: $a)
      }
    }
    fragment Money on Order { totalAmount items { lineTotal } ...Money2 }
    fragment Money2 on Order { totalAmount version }
    fragment Place on Address { line1 line2 }
    """ % (world.order_ids[5])  # noqa: UP031 - the braces of the document
    plain, planned = await world.answers(document, {"a": a, "b": b})
    assert planned == plain
    assert world.stats.fallback_count() == 0


async def test_objects_under_resolver_fields_are_still_planned(world: World) -> None:
    document = (
        "{ orders(first: 3) { totalCount edges { node { id customer { id orderCount "
        "totalSpent lastOrderAt } items { quantity } } } } "
        'customer(id: "c0") { id orders(first: 2) { edges { node { id status } } } } }'
    )
    world.stats.reset()
    plain, planned = await world.answers(document, caller="admin")
    assert planned == plain
    stats = world.stats
    assert stats.planned > 0, stats.snapshot()
    assert stats.unplanned[UnplannedReason.RESOLVER] > 0, stats.snapshot()


@pytest.mark.parametrize(
    "selection",
    [
        "id orderCount orders(first: 2) { totalCount edges { node { id status } } }",
        "id orders(first: 0) { totalCount }",  # the resolver refuses: null up to `customer`
        "orders(first: 2) { edges { cursor } } totalSpent orders2: orders(first: 1) { totalCount }",
    ],
)
async def test_resolver_fields_inside_a_plan_answer_alike(world: World, selection: str) -> None:
    document = f'{{ customer(id: "c0") {{ {selection} }} o: order(id: "{world.order_ids[4]}") '
    document += "{ id customer { id lastOrderAt } items { sku } } }"
    plain, planned = await world.answers(document)
    assert planned == plain
    assert world.stats.planned > 0
