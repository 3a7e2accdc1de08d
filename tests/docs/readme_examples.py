"""README.md's examples, run against a live service and compared with what the README shows.

An example is marked by an HTML comment right before its fenced blocks:

    <!-- example: NAME KIND -->

The comment may go on over more lines of `key: value` that the kind reads. The fenced blocks
from the marker up to the next marker or heading belong to the example. The kinds:

- `graphql`: a ```graphql block, POSTed to /graphql as `{"query": ...}`, and the ```json
  answer (status 200).
- `ws`: one block of graphql-transport-ws frames, `> ` sent by the client and `< ` expected
  from the server. Each `meanwhile: DOCUMENT` line of the comment is a GraphQL document that
  another client POSTs, in order, one just before each `next` frame is awaited (so "while
  another client confirmed and shipped the order" is what happens).
- `cli`: one block: an `ordergraph` command (written `.venv/bin/ordergraph ...`) and then its
  standard output, line for line. It runs to its end in a fresh folder of its own.
- `sse`: a `curl -N` command (its lines may end in a backslash) POSTing to /graphql with its
  `-H` headers and `-d` body, then a block of the server-sent events it prints: each `event:`
  with its `data:` (JSON compared as for `graphql`), keep-alive comments skipped. `meanwhile:`
  lines work as for `ws`, one before each `next` event; a `complete` event must end the body.

The examples run in README order against one server on a fresh SQLite database, so each may use
what an earlier one created. What differs from run to run is compared by alias: an id (a UUID),
a timestamp or a log position (a value under `position`, `requested`, `reached` or a key ending
in `Position`) in the README stands for what the live service answered in the same place, one
README value for one live value throughout (`Aliases`). Requests are rewritten through the same
aliases before they are sent (ids and timestamps in their text, and the integer arguments that
are positions). Everything else must be equal, keys in the same order.

To add a kind (headers, ...): write `async def run_KIND(example: Example, session:
Session) -> None` that sends the example's request through `session.aliases.to_live` (or
`live_document`) and checks each answer with `session.aliases.assert_matches(expected,
actual)`, and add it to `RUNNERS`; `tests/docs/test_readme_examples.py` runs every marked
example of README.md.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
from graphql import ArgumentNode, IntValueNode, Visitor, parse, print_ast, visit
from websockets.asyncio.client import connect

from tests.support.commands import clean_env
from tests.support.graph import GRAPHQL_TRANSPORT_WS, ws_next
from tests.support.streams import RawStream

_MARKER = re.compile(r"<!-- example: (?P<name>[\w-]+) (?P<kind>[\w-]+)(?P<rest>.*)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
_TEXT_ALIASES = (("id", _UUID), ("timestamp", _TIMESTAMP))
_POSITION_KEYS = frozenset({"position", "requested", "reached"})


def is_position(key: str | None) -> bool:
    """Whether a value under `key` (a JSON key or an argument's name) is a log position."""
    return key is not None and (key in _POSITION_KEYS or key.endswith("Position"))


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """One fenced block: its language (maybe empty) and its text."""

    language: str
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Example:
    """One marked example of README.md."""

    name: str
    kind: str
    line: int
    options: tuple[tuple[str, str], ...]
    blocks: tuple[Block, ...]

    def option(self, key: str) -> list[str]:
        """The values of the comment's `key: value` lines, in order."""
        return [value for name, value in self.options if name == key]


def examples(markdown: str) -> list[Example]:
    """The marked examples of `markdown`, in order."""
    found: list[Example] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        marker = _MARKER.match(lines[index])
        if marker is None:
            index += 1
            continue
        start = index
        comment = [marker["rest"]]
        while "-->" not in comment[-1]:
            index += 1
            comment.append(lines[index])
        options = tuple(
            (key.strip(), value.strip())
            for key, _, value in (text.split("-->")[0].partition(":") for text in comment)
            if value.strip()
        )
        blocks: list[Block] = []
        index += 1
        while index < len(lines) and not lines[index].startswith(("#", "<!-- example:")):
            if lines[index].startswith("```"):
                language, body = lines[index][3:].strip(), []
                index += 1
                while not lines[index].startswith("```"):
                    body.append(lines[index])
                    index += 1
                blocks.append(Block(language=language, text="\n".join(body)))
            index += 1
        found.append(
            Example(
                name=marker["name"],
                kind=marker["kind"],
                line=start + 1,
                options=options,
                blocks=tuple(blocks),
            )
        )
    return found


@dataclass(slots=True)
class Aliases:
    """The README's volatile values and the live values they stand for, one to one."""

    _live: dict[tuple[str, object], object] = field(default_factory=dict)
    _readme: dict[tuple[str, object], object] = field(default_factory=dict)

    def bind(self, kind: str, readme: object, live: object) -> bool:
        """Let `readme` stand for `live`; False when either already stands for another."""
        known = self._live.get((kind, readme), self._readme.get((kind, live)))
        if known is not None:
            return (
                self._live.get((kind, readme)) == live and self._readme.get((kind, live)) == readme
            )
        self._live[(kind, readme)] = live
        self._readme[(kind, live)] = readme
        return True

    def normalized(self, expected: Any, actual: Any, key: str | None = None) -> Any:
        """`actual` with each volatile value that the README's `expected` holds in the same
        place replaced by that README value, where the aliases agree."""
        if isinstance(actual, dict) and isinstance(expected, dict):
            return {k: self.normalized(expected.get(k), v, k) for k, v in actual.items()}
        if isinstance(actual, list) and isinstance(expected, list):
            padded = expected + [None] * (len(actual) - len(expected))
            return [self.normalized(e, a) for e, a in zip(padded, actual, strict=False)]
        if (
            is_position(key)
            and type(actual) is int
            and type(expected) is int
            and self.bind("position", expected, actual)
        ):
            return expected
        if isinstance(actual, str) and isinstance(expected, str):
            for kind, pattern in _TEXT_ALIASES:
                if (
                    pattern.fullmatch(expected)
                    and pattern.fullmatch(actual)
                    and self.bind(kind, expected, actual)
                ):
                    return expected
        return actual

    def assert_matches(self, expected: Any, actual: Any) -> None:
        """The live `actual` is the README's `expected`, up to aliases, keys in order."""
        normalized = self.normalized(expected, actual)
        shown = (
            f"the README shows\n{json.dumps(expected)}\n"
            f"the service answered\n{json.dumps(normalized)}"
        )
        assert normalized == expected, shown
        assert json.dumps(normalized) == json.dumps(expected), f"keys in another order: {shown}"

    def to_live(self, text: str) -> str:
        """`text` with the README's ids and timestamps replaced by the live ones."""
        for kind, pattern in _TEXT_ALIASES:

            def live(match: re.Match[str], kind: str = kind) -> str:
                return str(self._live.get((kind, match[0]), match[0]))

            text = pattern.sub(live, text)
        return text

    def live_document(self, document: str) -> str:
        """A GraphQL document of the README as the live service needs it: ids, timestamps and
        position arguments replaced by the live values they stand for."""
        document = self.to_live(document)
        parsed = parse(document)
        rewritten = visit(parsed, _LivePositions(self._live))
        return document if rewritten is parsed else print_ast(rewritten)


class _LivePositions(Visitor):
    def __init__(self, live: Mapping[tuple[str, object], object]) -> None:
        super().__init__()
        self._live = live

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> ArgumentNode | None:
        if not is_position(node.name.value) or not isinstance(node.value, IntValueNode):
            return None
        live = self._live.get(("position", int(node.value.value)))
        if live is None:
            return None
        return ArgumentNode(name=node.name, value=IntValueNode(value=str(live)))


@dataclass(slots=True)
class Session:
    """What the examples share: the live server, the aliases, a folder for commands."""

    base_url: str
    http: httpx.AsyncClient
    folder: Path
    aliases: Aliases = field(default_factory=Aliases)

    async def post(self, document: str) -> Any:
        """The JSON answer (status 200) of a README document POSTed to /graphql."""
        query = self.aliases.live_document(document)
        response = await self.http.post("/graphql", json={"query": query})
        assert response.status_code == 200, response.text
        return response.json()


async def run_graphql(example: Example, session: Session) -> None:
    request, answer = example.blocks
    assert (request.language, answer.language) == ("graphql", "json")
    session.aliases.assert_matches(json.loads(answer.text), await session.post(request.text))


async def run_ws(example: Example, session: Session) -> None:
    [frames] = example.blocks
    meanwhile = example.option("meanwhile")
    address = session.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(address, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        for line in frames.text.splitlines():
            direction, text = line[:2], line[2:]
            if direction == "> ":
                message = json.loads(session.aliases.to_live(text))
                if message.get("type") == "subscribe":
                    payload = message["payload"]
                    payload["query"] = session.aliases.live_document(payload["query"])
                await ws.send(json.dumps(message))
                continue
            assert direction == "< ", line
            expected = json.loads(text)
            if expected.get("type") == "next" and meanwhile:
                answer = await session.post(meanwhile.pop(0))
                assert "errors" not in answer, answer
            session.aliases.assert_matches(expected, await ws_next(ws))
    assert meanwhile == [], "more meanwhile requests than next frames"


async def run_cli(example: Example, session: Session) -> None:
    [block] = example.blocks
    command, *output = block.text.splitlines()
    program, *arguments = shlex.split(command)
    assert program.endswith("/ordergraph"), command
    folder = session.folder / example.name
    folder.mkdir()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "graph.cli", *arguments],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == output, result.stdout


def _curl(command: str) -> tuple[str, dict[str, str], str]:
    """The URL, headers (by lower-case name) and body of a README `curl` command."""
    program, *arguments = shlex.split(command.replace("\\\n", " "))
    assert program == "curl", command
    url = next(argument for argument in arguments if argument.startswith("http"))
    headers: dict[str, str] = {}
    body = ""
    for flag, value in itertools.pairwise(arguments):
        if flag == "-H":
            name, _, text = value.partition(":")
            headers[name.strip().lower()] = text.strip()
        elif flag == "-d":
            body = value
    return url, headers, body


def _event(block: str) -> tuple[str, str]:
    """An event block of the README as (event, data)."""
    fields = dict(line.partition(":")[::2] for line in block.splitlines())
    return fields["event"].strip(), fields.get("data", "").strip()


async def run_sse(example: Example, session: Session) -> None:
    command, output = example.blocks
    meanwhile = example.option("meanwhile")
    url, headers, data = _curl(command.text)
    body = json.loads(session.aliases.to_live(data))
    body["query"] = session.aliases.live_document(body["query"])
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    async with session.http.stream("POST", path, json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        stream = RawStream(response)
        for block in output.text.strip().split("\n\n"):
            name, expected = _event(block)
            if name == "next" and meanwhile:
                answer = await session.post(meanwhile.pop(0))
                assert "errors" not in answer, answer
            event = await stream.next_event()
            assert event.event == name, (event, block)
            if expected:
                session.aliases.assert_matches(json.loads(expected), event.json())
            if name == "complete":
                assert await stream.rest() == ""
    assert meanwhile == [], "more meanwhile requests than next events"


Runner = Callable[[Example, Session], Awaitable[None]]
RUNNERS: Mapping[str, Runner] = MappingProxyType(
    {"graphql": run_graphql, "ws": run_ws, "cli": run_cli, "sse": run_sse}
)

__all__ = ["RUNNERS", "Aliases", "Block", "Example", "Session", "examples", "is_position"]
