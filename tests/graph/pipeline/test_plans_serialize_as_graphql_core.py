"""Leaves and lists complete exactly as graphql-core completes them, whatever the source holds.

A small Strawberry schema with a field of every kind (ID, String, Int, Boolean, Float, an enum,
the service's Decimal/DateTime/Position scalars, lists, nullable and not, a nested object) is
executed by graphql-core alone and by the pipeline (prepare, run: plans) over source objects
whose attributes hypothesis fills with values of every type: the right ones, None, numbers
where strings are expected and the reverse, big integers, NaN, members of another enum, str
subclasses, objects with a `__str__`, exception instances, Undefined, tuples, dicts. The
answers must be the same JSON text.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from types import SimpleNamespace
from typing import Any

import strawberry
from graphql import ExecutionResult, Undefined, execute, parse
from hypothesis import given
from hypothesis import strategies as st
from strawberry.schema.config import StrawberryConfig

from graph.api.scalars import SCALAR_MAP, Position
from graph.api.schema import graphql_schema
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import Prepared, Preparer
from graph.pipeline.run import Answer, Runner
from graph.settings import Settings
from tests.graph.fuzzing import fuzz_settings

MAX_EXAMPLES = int(os.environ.get("PLANS_MAX_EXAMPLES", "150"))


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Shade(StrEnum):  # another enum whose values equal Color's
    RED = "red"
    GREEN = "green"


@strawberry.type
class Item:
    id: strawberry.ID
    maybe_id: strawberry.ID | None
    text: str
    maybe_text: str | None
    count: int
    maybe_count: int | None
    flag: bool
    maybe_flag: bool | None
    ratio: float | None
    color: Color
    maybe_color: Color | None
    amount: Decimal | None
    at: datetime | None
    position: Position | None
    tags: list[str]
    maybe_tags: list[str | None] | None
    child: Item | None


@strawberry.type
class Query:
    @strawberry.field
    def item(self, info: strawberry.Info[dict[str, Any], None]) -> Item | None:
        source: Item | None = info.context["item"]
        return source


class Named:
    """Not a builtin: graphql-core's String and ID serialize it with str()."""

    def __str__(self) -> str:
        return "named"


class Oops(Exception):
    """An exception as a value: graphql-core raises it (never serializes it with str())."""


FIELDS = (
    "id maybeId text maybeText count maybeCount flag maybeFlag ratio color maybeColor amount "
    "at position tags maybeTags"
)
DOCUMENT = f"{{ item {{ {FIELDS} __typename child {{ {FIELDS} child {{ id }} }} }} }}"
SCHEMA = graphql_schema(strawberry.Schema(Query, config=StrawberryConfig(scalar_map=SCALAR_MAP)))
PARSED = parse(DOCUMENT)
STATS = PlanStats()
RUNNER = Runner(SCHEMA, production=False)

EDGES = (
    None, Undefined, Named(), Oops("boom"), ValueError("no"), b"b", {"a": 1}, ("t",), ["x", None],
    2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63, 2**64, 1.0, -0.0, 1.5, math.nan, math.inf,
    True, False, 0, "", "7", "red", "RED", Color.RED, Shade.RED, Shade.GREEN,
    Decimal("1.5"), Decimal("NaN"), datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1),
)  # fmt: skip
ODD_VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.none(),
    st.text(max_size=4),
    st.integers(),
    st.sampled_from((2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63, 2**64, 1.0, -0.0)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from((Color.RED, Color.BLUE, Shade.RED, Shade.GREEN, "red", "RED", "BLUE")),
    st.sampled_from((Decimal("1.5"), Decimal("NaN"), datetime(2026, 1, 1, tzinfo=UTC))),
    st.sampled_from((Named(), Oops("boom"), ValueError("no"), Undefined, b"b", {"a": 1}, math.pi)),
    st.lists(st.one_of(st.none(), st.text(max_size=2), st.integers(0, 3)), max_size=3),
    st.tuples(st.text(max_size=2)),
)
ATTRIBUTES = [
    "id", "maybe_id", "text", "maybe_text", "count", "maybe_count", "flag", "maybe_flag", "ratio",
    "color", "maybe_color", "amount", "at", "position", "tags", "maybe_tags",
]  # fmt: skip
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "id": st.text(max_size=3),
    "text": st.text(max_size=3),
    "count": st.integers(-5, 5),
    "flag": st.booleans(),
    "ratio": st.floats(-2, 2),
    "color": st.sampled_from(Color),
    "amount": st.decimals(-100, 100, places=2),
    "at": st.datetimes(timezones=st.just(UTC)),
    "position": st.integers(0, 99),
    "tags": st.lists(st.text(max_size=2), max_size=2),
}


@st.composite
def items(draw: st.DrawFn, depth: int) -> Any:
    """A source object: well-typed attributes but for a few that hold anything at all (one odd
    value among good ones is what a plan must notice)."""
    odd = set(draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=2)))
    values: dict[str, Any] = {}
    for name in ATTRIBUTES:
        good = GOOD[name.removeprefix("maybe_")]
        if name.startswith("maybe_") or name in ("ratio", "amount", "at", "position"):
            good = st.one_of(st.none(), good)
        values[name] = draw(ODD_VALUES if name in odd else good)
    values["child"] = None if depth == 0 else draw(st.one_of(st.none(), items(depth - 1)))
    return SimpleNamespace(**values)


def prepared() -> Prepared:
    """The document, prepared once (its plans kept, as the service keeps them)."""
    preparer = Preparer(SCHEMA, Settings(), STATS)
    found: list[Prepared] = []

    async def prepare() -> None:
        found.append(await preparer.prepare(DOCUMENT, None))

    asyncio.run(prepare())
    return found[0]


PREPARED = prepared()


def _text(answer: Answer) -> str:
    return json.dumps(answer.formatted())


def plain(item: Any) -> str:
    """graphql-core alone (no plans); errors coded as the pipeline codes them."""
    context = {"item": item}
    result = execute(SCHEMA, PARSED, context_value=context)
    assert isinstance(result, ExecutionResult)
    return _text(RUNNER.finish(result.data, list(result.errors or ()), context))


def planned(item: Any) -> str:
    """The pipeline: the prepared operation run with its plans."""
    return _text(asyncio.run(RUNNER.run(PREPARED, None, {"item": item})))


@fuzz_settings(MAX_EXAMPLES)
@given(item=items(2))
def test_odd_values_complete_as_graphql_core_completes_them(item: Any) -> None:
    assert planned(item) == plain(item)


def well_typed() -> SimpleNamespace:
    return SimpleNamespace(
        id="i", maybe_id=None, text="t", maybe_text="m", count=3, maybe_count=None, flag=True,
        maybe_flag=False, ratio=0.5, color=Color.RED, maybe_color=Shade.RED, amount=Decimal("2"),
        at=datetime(2026, 1, 1, tzinfo=UTC), position=7, tags=("a",), maybe_tags=["b", None],
        child=None,
    )  # fmt: skip


def test_well_typed_values_are_planned() -> None:
    item = well_typed()
    STATS.reset()
    assert planned(item) == plain(item)
    assert (STATS.planned, STATS.fallback_count()) == (2, 0)  # the root, the item


def test_every_edge_value_in_every_field_completes_as_graphql_core_does() -> None:
    for name in ATTRIBUTES:
        for value in EDGES:
            item = well_typed()
            setattr(item, name, value)
            item.child = well_typed()
            assert planned(item) == plain(item), (name, value)
