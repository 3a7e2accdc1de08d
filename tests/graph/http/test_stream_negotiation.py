"""Which Accept headers ask /graphql for a stream, in which format, and whether JSON too."""

from __future__ import annotations

import pytest

from graph.http.accept import accepted
from graph.http.multipart import APOLLO_MULTIPART, MULTIPART
from graph.http.sse import SSE
from graph.http.stream import StreamFormat

APOLLO_CLIENT_4 = (
    "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,"
    "application/graphql-response+json,application/json;q=0.9"
)


@pytest.mark.parametrize(
    ("accept", "stream", "json"),
    [
        ("", None, True),
        ("*/*", None, True),
        ("application/json", None, True),
        ("text/event-stream", SSE, False),
        ("text/event-stream;q=0, application/json", None, True),
        (APOLLO_CLIENT_4, APOLLO_MULTIPART, True),
        ('multipart/mixed; subscriptionSpec="1.0"', APOLLO_MULTIPART, False),
        ("application/json, multipart/mixed", MULTIPART, True),  # GraphiQL's fetcher
        # Incremental delivery (@defer) is not a subscription stream.
        ("multipart/mixed;deferSpec=20220824, application/json", None, True),
        ("text/event-stream;q=0.5, multipart/mixed;subscriptionSpec=1.0", APOLLO_MULTIPART, False),
        ("text/event-stream, multipart/mixed;subscriptionSpec=1.0", SSE, False),
    ],
)
def test_the_accept_header_picks_the_stream(
    accept: str, stream: StreamFormat | None, json: bool
) -> None:
    found = accepted(accept)
    assert (found.stream, found.json) == (stream, json)


def test_only_a_subscription_or_a_client_without_json_is_streamed() -> None:
    graphiql = accepted("application/json, multipart/mixed")
    assert graphiql.streams(subscription=True) is MULTIPART
    assert graphiql.streams(subscription=False) is None
    assert accepted("text/event-stream").streams(subscription=False) is SSE
    assert accepted("application/json").streams(subscription=True) is None
