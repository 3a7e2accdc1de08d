"""Subscriptions as a `multipart/mixed` response, each part one JSON body.

- Apollo's multipart subscription protocol (`Accept: multipart/mixed;subscriptionSpec="1.0"`,
  what Apollo Client's `HttpLink` sends for a subscription): the response is
  `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`, each part
  `{"payload": <GraphQL response>}`, a `{}` part every `KEEP_ALIVE_SECONDS` (the heartbeat the
  protocol asks for), and an error that ends the subscription for a reason of the transport (an
  expired token) is `{"payload": null, "errors": [...]}`.
- Plain `multipart/mixed` (no `subscriptionSpec`; GraphiQL's fetcher sends
  `application/json, multipart/mixed`): each part is the GraphQL response itself, as
  GraphiQL and meros read it.

Every part ends with the boundary line, so a client reads it as soon as it arrives; the body
ends with the closing boundary `--graphql--`.
"""

from __future__ import annotations

from graph.http.stream import StreamFormat

KEEP_ALIVE_SECONDS = 5.0
_DELIMITER = "\r\n--graphql"
_PART = "\r\ncontent-type: application/json\r\n\r\n"

APOLLO_MULTIPART = StreamFormat(
    name="multipart (Apollo)",
    content_type='multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    opening=_DELIMITER,
    frame=(_PART + '{"payload":', "}" + _DELIMITER),
    errors_frame=(_PART + '{"payload":null,"errors":', "}" + _DELIMITER),
    keep_alive=_PART + "{}" + _DELIMITER,
    keep_alive_seconds=KEEP_ALIVE_SECONDS,
    closing="--\r\n",
)

MULTIPART = StreamFormat(
    name="multipart",
    content_type='multipart/mixed;boundary="graphql"',
    opening=_DELIMITER,
    frame=(_PART, _DELIMITER),
    errors_frame=(_PART + '{"errors":', "}" + _DELIMITER),
    keep_alive=_PART + "{}" + _DELIMITER,
    keep_alive_seconds=KEEP_ALIVE_SECONDS,
    closing="--\r\n",
)

__all__ = ["APOLLO_MULTIPART", "KEEP_ALIVE_SECONDS", "MULTIPART"]
