"""What a document costs before it is parsed: its size and its tokens, comments included.

graphql-core's parser reads a document one character at a time in Python (about 0.1 us a
character here) and its `max_tokens` does not count comments, so a 15 MB comment would hold
the event loop for seconds before any limit applies. `measure` refuses such a document in C:
one regular expression that matches a GraphQL token or a comment, run at most `max_tokens + 1`
times, so its work is bounded by the token limit and the document's size, never by what the
parser would do with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import GraphQLError

# One token (a block string, a string, a comment, a spread, a name, a number, or any other
# single character: punctuators and whatever the parser will refuse), per the GraphQL
# specification's lexical grammar. The strings are written as unrolled loops (a run of plain
# characters, then one escape or quote at a time), so each character costs one step.
_TOKEN = re.compile(
    r'"""[^"\\]*(?:(?:\\"""|\\|"(?!""))[^"\\]*)*"""'
    r'|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"'
    r"|#[^\n\r]*"
    r"|\.\.\."
    r"|[_A-Za-z][_0-9A-Za-z]*"
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"|[^\s,\ufeff]"
)


@dataclass(frozen=True, slots=True)
class Measure:
    """A document's size in UTF-8 bytes and its tokens (comments count as tokens)."""

    size: int
    tokens: int


def utf8_size(text: str) -> int:
    """`text`'s length in UTF-8 bytes (a lone surrogate counts as the 3 bytes it would take)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def measure(text: str, *, max_bytes: int, max_tokens: int) -> Measure:
    """The document's measure, or a request error when it is over either limit."""
    size = len(text)
    if size > max_bytes or (not text.isascii() and (size := utf8_size(text)) > max_bytes):
        raise GraphQLError(
            f"The document is {size:,} bytes; the limit is {max_bytes:,} "
            "(ORDERGRAPH_MAX_BODY_BYTES)",
            extensions={"code": "BAD_USER_INPUT"},
        )
    tokens = 0
    for tokens, _ in enumerate(_TOKEN.finditer(text), start=1):
        if tokens > max_tokens:
            raise GraphQLError(
                f"The document has more than {max_tokens:,} tokens (comments included); "
                "the limit is ORDERGRAPH_MAX_TOKENS",
                extensions={"code": "BAD_USER_INPUT"},
            )
    return Measure(size=size, tokens=tokens)


__all__ = ["Measure", "measure", "utf8_size"]
