"""The schema against the contract and schema.graphql, and the scalars' rules (no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from graphql import (
    DangerousChangeType,
    GraphQLError,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from graph.api.scalars import (
    POSITION_MAX,
    parse_datetime,
    parse_decimal,
    parse_position,
    serialize_datetime,
    serialize_decimal,
)
from graph.api.schema import build_schema as build_strawberry_schema
from graph.api.schema import export_sdl, graphql_schema
from graph.pipeline.errors import classify

REPO = Path(__file__).resolve().parents[3]
CONTRACT = REPO / "docs" / "contract" / "contract.graphql"
SHARED = REPO.parent / "shared"
SCHEMA_FILE = REPO / "schema.graphql"


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="no shared/ folder beside the checkout (a plain clone)"
)
@pytest.mark.parametrize("name", ["contract.graphql", "contract.md"])
def test_the_contract_copy_equals_the_shared_contract(name: str) -> None:
    assert (CONTRACT.parent / name).read_bytes() == (SHARED / name).read_bytes(), (
        f"docs/contract/{name} differs from ../shared/{name}: copy the shared one in"
    )


def test_schema_graphql_is_what_the_code_exports() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql drifted from the code: run `ordergraph export-schema --output "
        "schema.graphql`"
    )


def test_schema_graphql_keeps_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert find_breaking_changes(contract, ours) == []
    # New optional arguments are additions (Relay's `last`/`before`); any other dangerous
    # change (a default changed, an enum value added) is not.
    dangerous = find_dangerous_changes(contract, ours)
    assert [c for c in dangerous if c.type is not DangerousChangeType.OPTIONAL_ARG_ADDED] == []


def as_read(description: str | None) -> str | None:
    """A description as CommonMark reads it: a line break inside a paragraph is a space."""
    if description is None:
        return None
    paragraphs = re.split(r"\n\s*\n", description.strip())
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def test_descriptions_and_defaults_mirror_the_contract() -> None:
    """The contract's descriptions are ours, word for word (ours are not wrapped: GraphiQL
    shows each line break as a hard one); where the contract has none, ours may add one."""
    contract = build_schema(CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(export_sdl())
    for name, contract_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        our_type = ours.type_map[name]
        if contract_type.description is not None:
            assert as_read(our_type.description) == as_read(contract_type.description), name
        for field_name, field in getattr(contract_type, "fields", {}).items():
            our_field = our_type.fields[field_name]  # type: ignore[attr-defined]
            if field.description is not None:
                assert as_read(our_field.description) == as_read(field.description), (
                    f"{name}.{field_name}"
                )
            assert str(our_field.type) == str(field.type), f"{name}.{field_name}"
            for arg_name, arg in getattr(field, "args", {}).items():
                our_arg = our_field.args[arg_name]
                assert str(our_arg.type) == str(arg.type), f"{name}.{field_name}({arg_name})"
                assert our_arg.default_value == arg.default_value, f"{field_name}({arg_name})"
                if arg.description is not None:
                    assert as_read(our_arg.description) == as_read(arg.description)


def test_every_root_field_and_argument_says_what_it_is() -> None:
    schema = graphql_schema(build_strawberry_schema())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    undescribed = [
        f"{root.name}.{name}{'' if arg is None else f'({arg})'}"
        for root in roots
        if root is not None
        for name, field in root.fields.items()
        for arg, described in [
            (None, field.description),
            *((arg_name, arg.description) for arg_name, arg in field.args.items()),
        ]
        if not (described or "").strip()
    ]
    assert undescribed == []


def test_no_description_breaks_a_line_inside_a_paragraph() -> None:
    """GraphiQL renders descriptions as Markdown with every line break a hard break."""
    schema = graphql_schema(build_strawberry_schema())
    descriptions: dict[str, str | None] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        descriptions[name] = named.description
        fields = {**getattr(named, "fields", {})}
        for field_name, field in fields.items():
            descriptions[f"{name}.{field_name}"] = field.description
            for arg_name, arg in getattr(field, "args", {}).items():
                descriptions[f"{name}.{field_name}({arg_name})"] = arg.description
        for value_name, value in getattr(named, "values", {}).items():
            descriptions[f"{name}.{value_name}"] = value.description
    wrapped = [
        where
        for where, text in descriptions.items()
        if text is not None and re.search(r"[^\n]\n[^\n]", text.strip())
    ]
    assert wrapped == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("19.99", Decimal("19.99")),
        ("0", Decimal(0)),
        ("-3.5", Decimal("-3.5")),
        ("1000000.00", Decimal("1000000.00")),
        (7, Decimal(7)),
    ],
)
def test_decimal_accepts_plain_notation_and_integers(given: object, expected: Decimal) -> None:
    parsed = parse_decimal(given)
    assert parsed == expected
    assert str(parsed) == str(expected)


@pytest.mark.parametrize(
    "given",
    [
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e3",
        "1E-2",
        " 1.00",
        "1.00 ",
        "+1",
        "1.",
        ".5",
        "1,5",
        "",
        "abc",
        "1" * 65,
        1.5,
        2.0,
        True,
        None,
        [1],
    ],
)
def test_decimal_refuses_the_rest(given: object) -> None:
    with pytest.raises(GraphQLError):
        parse_decimal(given)


def test_decimal_serializes_as_a_string_without_exponent() -> None:
    assert serialize_decimal(Decimal("19.99")) == "19.99"
    assert serialize_decimal(Decimal("1E+2")) == "100"
    assert serialize_decimal(Decimal("0.00")) == "0.00"
    with pytest.raises(GraphQLError):
        serialize_decimal(Decimal("NaN"))
    with pytest.raises(GraphQLError):
        serialize_decimal(1.5)


def test_datetime_is_utc_iso() -> None:
    moment = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert serialize_datetime(moment) == "2024-05-01T12:30:15.123456Z"
    assert parse_datetime("2024-05-01T12:30:15.123456Z") == moment
    assert parse_datetime("2024-05-01T12:30:15.123456+00:00") == moment
    assert serialize_datetime(moment.astimezone(timezone(timedelta(hours=2)))).endswith("Z")
    for bad in ("2024-05-01T12:30:15", "2024-05-01T12:30:15+02:00", "yesterday", 5):
        with pytest.raises(GraphQLError):
            parse_datetime(bad)
    with pytest.raises(GraphQLError):
        serialize_datetime(datetime(2024, 5, 1))


def test_position_is_a_64_bit_integer() -> None:
    assert parse_position(0) == 0
    assert parse_position(POSITION_MAX) == 2**63 - 1
    for bad in (-1, 2**63, "12", 1.0, True, None):
        with pytest.raises(GraphQLError):
            parse_position(bad)


def test_unexpected_errors_are_masked_with_the_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = GraphQLError("db exploded: secret", path=["order"], original_error=OSError("secret"))
    classify(error, "req-42")
    assert error.message == "Internal server error"
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "req-42"}
    assert error.original_error is None
    assert "req-42" in caplog.text
    assert "secret" in caplog.text
