"""`prepare`: one parse and validation per (text, operationName), limits before the parser,
refusals cached like successes, the cache bounded by entries and by bytes, and a large
document parsed off the event loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from graph.api.schema import build_schema, graphql_schema
from graph.pipeline.document import measure
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import INLINE_PARSE_CHARS, Prepared, Preparer, Refused
from graph.settings import Settings

SCHEMA = graphql_schema(build_schema())


def preparer(**settings: int) -> Preparer:
    return Preparer(SCHEMA, Settings(**settings), PlanStats())  # type: ignore[arg-type]


async def refusal(preparer: Preparer, text: str, name: str | None = None) -> Refused:
    with pytest.raises(Refused) as refused:
        await preparer.prepare(text, name)
    return refused.value


async def test_one_text_is_prepared_once_and_found_again() -> None:
    prepare = preparer()
    first = await prepare.prepare("{ __typename }", None)
    assert isinstance(first, Prepared)
    assert prepare.find("{ __typename }", None) is first
    assert await prepare.prepare("{ __typename }", None) is first
    assert (prepare.cache.hits, prepare.cache.misses) == (2, 1)


async def test_the_token_limit_counts_comments() -> None:
    prepare = preparer(max_tokens=30)
    assert await prepare.prepare("{ " + "__typename " * 3 + "}", None)
    commented = "#" + "x" * 50 + "\n" + "# c\n" * 40 + "{ __typename }"
    refused = await refusal(prepare, commented)
    assert refused.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert "comments included" in refused.errors[0].message


async def test_a_document_over_the_byte_limit_is_refused_before_it_is_read() -> None:
    prepare = preparer(max_document_bytes=1_000)
    started = time.perf_counter()
    refused = await refusal(prepare, "#" + "x" * 16_000_000 + "\n{ __typename }")
    assert time.perf_counter() - started < 1.0  # a bound on the wait, not a speed claim
    assert "bytes" in refused.errors[0].message
    assert len(prepare.cache) == 0  # a huge text is not kept, not even as a refusal


def test_measuring_counts_every_kind_of_token() -> None:
    document = '# one\nquery Q($a: Int = -1.5e3) { x(s: "a\\"b", t: """c"d""") ...F }'
    measured = measure(document, max_bytes=1_000, max_tokens=100)
    assert measured.tokens == 24  # the comment, 23 tokens; commas are not tokens
    assert measure("é" * 10, max_bytes=20, max_tokens=100).size == 20


async def test_refusals_are_cached_and_say_what_is_wrong() -> None:
    prepare = preparer()
    syntax = await refusal(prepare, "{ projections { name")
    assert "Syntax Error" in syntax.errors[0].message
    assert await refusal(prepare, "{ projections { name") is syntax
    unknown = await refusal(prepare, "{ noSuchField }")
    assert "noSuchField" in unknown.errors[0].message
    two = "query A { __typename } query B { __typename }"
    assert "operationName" in (await refusal(prepare, two)).errors[0].message
    assert "'C'" in (await refusal(prepare, two, "C")).errors[0].message
    assert (await prepare.prepare(two, "B")).operation.name.value == "B"  # type: ignore[union-attr]


async def test_the_cache_is_bounded_by_bytes_as_well_as_entries() -> None:
    prepare = preparer(prepared_cache_bytes=400_000, prepared_cache_size=1_000)
    for n in range(60):
        fields = " ".join(f"f{n}_{i}: __typename" for i in range(25))
        await prepare.prepare("{ " + fields + " }", None)
    assert prepare.cache.bytes <= 400_000
    assert 0 < len(prepare.cache) < 60
    small = preparer(prepared_cache_size=3)
    for n in range(5):
        await small.prepare(f"{{ a{n}: __typename }}", None)
    assert len(small.cache) == 3


async def test_a_large_document_is_parsed_off_the_event_loop() -> None:
    prepare = preparer(max_tokens=2_000, max_aliases=1_000)
    fields = " ".join(f"a{i}: __typename" for i in range(600))
    document = "{ " + fields + " }"
    assert len(document) > INLINE_PARSE_CHARS
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        prepared = await prepare.prepare(document, None)
    finally:
        ticker.cancel()
        prepare.close()
    assert isinstance(prepared, Prepared)
    assert ticks > 1  # the loop kept turning while the worker thread parsed
