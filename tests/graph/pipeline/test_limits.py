from __future__ import annotations

from pathlib import Path

from graphql import GraphQLError, build_schema, parse, specified_rules, validate

from graph.pipeline.limits import document_limits_rule

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "contract" / "contract.graphql"
SCHEMA = build_schema(CONTRACT.read_text())


def errors(document: str, max_cost: int = 10_000) -> list[GraphQLError]:
    limits = document_limits_rule(max_depth=10, max_aliases=30, max_cost=max_cost)
    rules = [*specified_rules, limits]
    return validate(SCHEMA, parse(document), rules)


def cost_of(document: str) -> int:
    found = errors(document, max_cost=0)
    assert len(found) == 1, found
    assert found[0].extensions is not None
    cost = found[0].extensions["cost"]
    assert isinstance(cost, int)
    return cost


def test_a_plain_field_costs_one_per_field() -> None:
    assert cost_of("{ order(id: 1) { id status } }") == 3


def test_first_multiplies_what_a_connection_selects() -> None:
    small = cost_of("{ orders(first: 2) { edges { node { id } } } }")
    large = cost_of("{ orders(first: 100) { edges { node { id } } } }")
    assert small == 2 * (1 + 1 + 1 + 1)
    assert large == 50 * small


def test_an_omitted_first_counts_its_default_and_a_variable_counts_the_maximum() -> None:
    assert cost_of("{ orders { totalCount } }") == 20 * 2
    assert cost_of("query($n: Int) { orders(first: $n) { totalCount } }") == 100 * 2


def test_nested_lists_multiply_and_fragments_count() -> None:
    inline = cost_of("{ orders(first: 10) { edges { node { items { sku } } } } }")
    via_fragment = cost_of(
        "{ orders(first: 10) { edges { node { ...Lines } } } } "
        "fragment Lines on Order { items { sku } }"
    )
    assert inline == via_fragment == 10 * (1 + 1 + (1 + 100 * 2))


def test_an_expensive_document_is_refused_with_its_cost() -> None:
    document = (
        "{ orders(first: 100) { edges { node { items { sku } "
        "customer { orders(first: 100) { totalCount } } } } } }"
    )
    (error,) = errors(document, max_cost=20_000)
    assert error.extensions is not None
    assert error.extensions["code"] == "QUERY_TOO_COMPLEX"
    assert error.extensions["cost"] == 100 * (1 + 1 + 1 + 100 * 2 + (1 + 100 * 2))
    assert "over the limit of 20,000" in error.message


def test_a_cheap_document_passes() -> None:
    assert errors("{ order(id: 1) { id items { sku } } }", max_cost=1_000) == []


def test_every_operation_of_a_document_is_measured_whichever_runs() -> None:
    cheap = "query Cheap { projections { name } }"
    costly = "query Costly { orders(first: 100) { edges { node { items { sku } } } } }"
    found = errors(f"{cheap} {costly}", max_cost=1_000)
    assert [e.extensions and e.extensions["code"] for e in found] == ["QUERY_TOO_COMPLEX"]
    assert "over the limit of 1,000" in found[0].message


def test_aliases_are_counted_over_the_whole_document() -> None:
    aliased = " ".join(f"a{j}: projections {{ name }}" for j in range(10))
    operations = [f"query Q{i} {{ {aliased} }}" for i in range(4)]
    (error,) = errors(" ".join(operations))
    assert error.message == "40 aliases found. Allowed: 30"


def test_several_operations_pass_when_each_is_within_the_limits() -> None:
    assert errors("query A { projections { name } } query B { projections { name } }") == []
