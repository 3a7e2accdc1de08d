"""The code blocks of a Markdown document that name a file or a command.

A block is marked by an HTML comment on the line right before its fence:

    <!-- file: apollo/client.mjs -->
    ```js
    ...
    ```

    <!-- command: codegen -->
    ```sh
    npx graphql-codegen --config codegen.ts
    ```

`docs/clients.md` is written this way: tests/docs/test_clients.py writes its files into a scratch
project and runs its commands there, so the doc shows exactly the code the test runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"<!-- (?P<kind>file|command): (?P<name>[^ ]+) -->")


@dataclass(frozen=True, kw_only=True, slots=True)
class DocBlocks:
    """A document's marked blocks: files by path, commands by name, in document order."""

    files: dict[str, str]
    commands: dict[str, str]


def doc_blocks(markdown: str) -> DocBlocks:
    """The marked blocks of `markdown`; a marker not followed by a fenced block is an error."""
    files: dict[str, str] = {}
    commands: dict[str, str] = {}
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        marker = _MARKER.fullmatch(line.strip())
        if marker is None:
            continue
        if index + 1 >= len(lines) or not lines[index + 1].startswith("```"):
            raise ValueError(f"line {index + 1}: {line.strip()} is not right before a fence")
        end = next(
            (later for later in range(index + 2, len(lines)) if lines[later].startswith("```")),
            None,
        )
        if end is None:
            raise ValueError(f"line {index + 1}: the block after {line.strip()} never closes")
        body = "\n".join(lines[index + 2 : end]) + "\n"
        target = files if marker["kind"] == "file" else commands
        if marker["name"] in target:
            raise ValueError(f"line {index + 1}: {marker['name']} is marked twice")
        target[marker["name"]] = body if marker["kind"] == "file" else body.strip()
    return DocBlocks(files=files, commands=commands)


__all__ = ["DocBlocks", "doc_blocks"]
