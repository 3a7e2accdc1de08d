"""Fuzzing over real HTTP with schema-valid documents from hypothesis-graphql.

No answer is a masked internal error, and a document refused before it ran (or a command its
rules refused) leaves the event log exactly where it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import graphql
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries

from tests.graph.fuzzing import (
    CALLERS,
    COMMANDS,
    DOMAIN_CODES,
    fuzz_settings,
    fuzz_target,
    scalar_values,
    schema_sdl,
)

if TYPE_CHECKING:
    from pathlib import Path


def valid_documents(known_ids: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Queries, mutations, and mutations of one command each (more of them get through)."""
    sdl, scalars = schema_sdl(), scalar_values(known_ids)
    kinds = (
        queries(sdl, custom_scalars=scalars),
        mutations(sdl, custom_scalars=scalars),
        st.one_of(*(mutations(sdl, fields=(name,), custom_scalars=scalars) for name in COMMANDS)),
    )
    return st.integers(0, len(kinds) - 1).flatmap(kinds.__getitem__)


def _commands_that_may_have_run(document: str, errors: list[dict[str, Any]]) -> int | None:
    """How many command fields of a mutation ran and may have appended; None for a query.

    Root mutation fields run one after another; the first that fails (their results are non-null)
    nulls the whole `data` and stops the rest, but the commands before it have been applied.
    """
    operation = graphql.get_operation_ast(graphql.parse(document))
    assert operation is not None
    if operation.operation != graphql.OperationType.MUTATION:
        return None
    failed = {error["path"][0] for error in errors if error.get("path")}
    count = 0
    for selection in operation.selection_set.selections:
        assert isinstance(selection, graphql.FieldNode)
        key = (selection.alias or selection.name).value
        if key in failed:
            break
        count += selection.name.value != "rebuildProjection"
    return count


def check_answer(document: str, response: httpx.Response, moved: int) -> None:
    """The rules every answer to a schema-valid document keeps."""
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    errors: list[dict[str, Any]] = answer.get("errors", [])
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    assert "INTERNAL_SERVER_ERROR" not in codes, (document, errors)
    assert None not in codes, errors
    if any("path" not in error for error in errors) or not codes <= DOMAIN_CODES:
        assert moved == 0, (document, errors)
    ran = _commands_that_may_have_run(document, errors)
    # Every command appends at most one event; a refused one (or a replayed commandId) none.
    assert 0 <= moved <= (ran or 0), (document, answer)


@pytest.mark.slow
def test_schema_valid_documents_never_fail_the_server(tmp_path: Path) -> None:
    with fuzz_target(tmp_path) as target:

        @fuzz_settings(max_examples=2_000)
        @given(document=valid_documents(target.known_ids), caller=CALLERS)
        def send(document: str, caller: str) -> None:
            kind = "mutation" if document.startswith("mutation") else "query"
            response, moved = target.send(kind, target.post({"query": document}, caller))
            check_answer(document, response, moved)

        send()
        head = target.head()
    sent = target.sent
    assert sent["query"] + sent["mutation"] >= 2_000, sent
    assert min(sent["query"], sent["mutation"]) >= 500, sent
    assert head > 4, "no fuzzed command ever got through: the fuzz only reached the rules"
