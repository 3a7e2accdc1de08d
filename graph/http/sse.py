"""graphql-sse's "distinct connections" mode (the protocol of the graphql-sse library): a POST
or GET with `Accept: text/event-stream` is answered with an event stream, one operation per
connection.

Each answer is an `event: next` whose `data:` is the GraphQL response on one line (JSON text
never holds a raw line break); `event: complete` follows the last one. A subscription's stream
stays open until its source ends or the client closes the connection. A request error found
before the operation runs (syntax, validation, variables) is a `next` carrying the errors, then
`complete`, as the protocol asks, when the client accepts no JSON; what is not a GraphQL request
at all is answered like any other (a coded JSON error with its status). A comment line (`:`)
every `KEEP_ALIVE_SECONDS` keeps proxies from closing an idle stream; clients ignore it.
"""

from __future__ import annotations

from graph.http.stream import StreamFormat

MEDIA_TYPE = "text/event-stream"
KEEP_ALIVE_SECONDS = 12.0

SSE = StreamFormat(
    name="graphql-sse",
    content_type=MEDIA_TYPE,
    opening="",
    frame=("event: next\ndata: ", "\n\n"),
    errors_frame=('event: next\ndata: {"errors":', "}\n\n"),
    keep_alive=":\n\n",
    keep_alive_seconds=KEEP_ALIVE_SECONDS,
    closing="event: complete\ndata:\n\n",
)

__all__ = ["KEEP_ALIVE_SECONDS", "MEDIA_TYPE", "SSE"]
