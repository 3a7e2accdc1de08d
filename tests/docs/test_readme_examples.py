"""README.md's examples are real output: each marked example runs against a live server (uvicorn
over real HTTP and WebSocket, a fresh SQLite file) and its answer must be the README's, up to the
ids, times and positions that differ from run to run (tests/docs/readme_examples.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.docs.readme_examples import RUNNERS, Aliases, Session, examples
from tests.support.graph import uvicorn_server

README = Path(__file__).resolve().parents[2] / "README.md"


async def test_the_readme_examples_are_what_a_live_server_answers(
    sqlite_url: str, tmp_path: Path
) -> None:
    marked = examples(README.read_text(encoding="utf-8"))
    names = {example.name for example in marked}
    assert {"create-order", "read-order", "watch-order", "refusal", "bad-input", "seed"} <= names
    assert {example.kind for example in marked} <= set(RUNNERS)
    with uvicorn_server(sqlite_url) as address:
        base_url = f"http://{address}"
        async with httpx.AsyncClient(base_url=base_url) as http:
            session = Session(base_url=base_url, http=http, folder=tmp_path)
            for example in marked:
                try:
                    await RUNNERS[example.kind](example, session)
                except AssertionError as error:
                    error.add_note(f"README.md line {example.line}: example {example.name}")
                    raise


def test_an_alias_stands_for_one_live_value_and_one_only() -> None:
    aliases = Aliases()
    readme = {"orderId": "01a2166d-ef2b-7f70-82b5-a7705aac448e", "position": 1}
    live = {"orderId": "0190f00d-0000-7000-8000-000000000001", "position": 7}
    aliases.assert_matches(readme, live)
    assert aliases.live_document(
        '{ order(id: "01a2166d-ef2b-7f70-82b5-a7705aac448e", minPosition: 1) { id } }'
    ) == (
        '{\n  order(id: "0190f00d-0000-7000-8000-000000000001", minPosition: 7) {\n    id\n  }\n}'
    )
    with pytest.raises(AssertionError):  # the same README id for another live id
        aliases.assert_matches(readme, {**live, "orderId": "0190f00d-0000-7000-8000-000000000002"})
    with pytest.raises(AssertionError):  # another README position for the same live one
        aliases.assert_matches({**readme, "position": 2}, live)
    with pytest.raises(AssertionError):  # a value that is not volatile must be equal
        aliases.assert_matches({"version": 1}, {"version": 2})
    with pytest.raises(AssertionError, match="another order"):
        aliases.assert_matches({"a": 1, "b": 2}, {"b": 2, "a": 1})
