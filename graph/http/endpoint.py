"""The /graphql endpoint: GraphQL over HTTP (POST and GET), GraphiQL's page, and the hand-off of
WebSocket upgrades to graphql-transport-ws (graph/http/ws.py).

An HTTP request takes one path: its parameters (params.py), the session's minimum position
(`OrderGraph-Min-Position` or `extensions.minPosition`: graph/api/session.py), a persisted
query's document when it names one by hash (persisted.py), the caller from its bearer token,
`prepare` (one cache: graph/pipeline/prepare.py), the operation type the method allows, `run`
(graph/pipeline/run.py), and the answer's bytes, encoded once, in the media type the client
accepts (media.py), with `OrderGraph-Position` when the request wrote or read a position.
Whatever is not a well-formed GraphQL request is answered as a coded GraphQL error in that
media type too.

An operation the Accept header asks to stream (accept.py: a subscription, or any operation
from a client that accepts no JSON) is answered by an HTTP stream (stream.py) in graphql-sse's
format (sse.py) or a multipart one (multipart.py). A subscription from a client that accepts
only JSON is a 400. Every request but GraphiQL's page is one operation for the runner's watch
(graph/pipeline/watch.py: the metrics, the traces), ended with its response (a streamed one:
once answered, or its subscription established).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from graphql import GraphQLError, OperationType

from graph.api.context import REQUEST_ID_HEADER, Context, correlation_id_from
from graph.api.session import POSITION_HEADER
from graph.http.accept import accepted
from graph.http.media import GRAPHQL_RESPONSE, answer_media_type
from graph.http.operation import StreamedOperation
from graph.http.params import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    MIN_POSITION_HEADER,
    UNSUPPORTED_MEDIA_TYPE,
    Params,
    Problem,
    from_json_body,
    from_query_string,
    is_json,
    session_minimum,
)
from graph.http.persisted import PersistedQueryError
from graph.http.stream import HttpStream, HttpStreams
from graph.http.ws import TransportWS
from graph.pipeline.encoding import encode_json_bytes
from graph.pipeline.errors import INTERNAL_SERVER_ERROR
from graph.pipeline.prepare import Refused
from graph.pipeline.run import Answer
from graph.pipeline.watch import CANCELLED, answer_outcome

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from graph.api.context import Services
    from graph.http.accept import Accepted
    from graph.http.pages import GraphiqlPage
    from graph.http.persisted import PersistedQueries
    from graph.http.serving import Serving
    from graph.pipeline.live import SharedExecutions
    from graph.pipeline.prepare import Prepared
    from graph.pipeline.watch import Operation
    from graph.settings import Settings

log = logging.getLogger("ordergraph.http")

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS = "1"
_HTML_ACCEPTS = ("text/html", "*/*")
_POSITION_HEADER = POSITION_HEADER.lower()


class GraphQLEndpoint:
    """The ASGI app mounted at /graphql."""

    def __init__(
        self,
        serving: Serving,
        *,
        persisted: PersistedQueries,
        graphiql: GraphiqlPage | None,
        shared: SharedExecutions,
        settings: Settings,
    ) -> None:
        self.serving = serving
        self.runner = serving.runner
        self.persisted = persisted
        self.graphiql = graphiql
        self.shared = shared
        self.settings = settings
        self.streams = HttpStreams(settings.max_http_streams, shared.stats)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            settings = self.settings
            connection = TransportWS(
                self.serving,
                self.shared,
                init_timeout=settings.ws_init_timeout_ms / 1000,
                max_operations=settings.max_subscriptions_per_connection,
                max_bytes=settings.max_body_bytes,
                scope=scope,
                receive=receive,
                send=send,
            )
            await connection.serve()
            return
        # One operation for the runner's watch, ended once here (None: GraphiQL's page; a
        # streamed operation ends it itself, http/operation.py, unless stopped first).
        watch = self.runner.watch
        operation = watch.begin("http")
        outcome: str | None = INTERNAL_SERVER_ERROR
        headers = _headers(scope)
        accept = headers.get(b"accept", b"").decode("latin-1")
        media = answer_media_type(accept)
        try:
            try:
                params = await self._params(scope, receive, headers)
                if params is None:  # GraphiQL's page
                    outcome = None
                    assert self.graphiql is not None
                    await self.graphiql.response()(scope, receive, send)
                    return
                answered = await self._answer(
                    scope, params, headers, media, accepted(accept), operation
                )
                if isinstance(answered, HttpStream):
                    work = answered.work
                    outcome = answer_outcome(work) if isinstance(work, Answer) else CANCELLED
                    await answered.serve(scope, receive, send)
                    return
                status, body, extra, outcome = answered
            except Problem as problem:
                status = problem.status
                body = encode_json_bytes(
                    {"errors": [{"message": problem.message, "extensions": {"code": problem.code}}]}
                )
                extra = problem.headers
                outcome = problem.code
            await _respond(send, status, media, body, extra)
        except asyncio.CancelledError:  # the request timed out (a 504), or the server stops
            outcome = CANCELLED
            raise
        finally:
            if outcome is not None:
                watch.end(operation, outcome)

    # -- the request ------------------------------------------------------------------------

    async def _params(
        self, scope: Scope, receive: Receive, headers: dict[bytes, bytes]
    ) -> Params | None:
        method = scope["method"]
        if method == "POST":
            if not is_json(headers.get(b"content-type", b"").decode("latin-1")):
                raise Problem(
                    415,
                    UNSUPPORTED_MEDIA_TYPE,
                    "Send the request as Content-Type: application/json",
                )
            return from_json_body(await _body(receive))
        if method == "GET":
            query_string: bytes = scope.get("query_string", b"")
            if self._wants_graphiql(query_string, headers):
                return None
            return from_query_string(query_string)
        raise Problem(
            405, METHOD_NOT_ALLOWED, "Use POST or GET on /graphql", {"allow": "GET, POST"}
        )

    def _wants_graphiql(self, query_string: bytes, headers: dict[bytes, bytes]) -> bool:
        """A browser's GET with no operation in it: GraphiQL's page (404 when it is off)."""
        accept = headers.get(b"accept", b"").decode("latin-1")
        if b"query=" in query_string or b"extensions=" in query_string:
            return False
        if not any(kind in accept for kind in _HTML_ACCEPTS):
            return False
        if self.graphiql is None:
            raise Problem(
                404,
                "NOT_FOUND",
                "No page is served at /graphql here: send a GraphQL request (POST, or GET with "
                "?query=)",
            )
        return True

    async def _answer(
        self,
        scope: Scope,
        params: Params,
        headers: dict[bytes, bytes],
        media: str,
        accepts: Accepted,
        operation: Operation,
    ) -> tuple[int, bytes, dict[str, str], str] | HttpStream:
        services = self.serving.services()
        if services is None:
            raise Problem(
                503,
                SERVICE_UNAVAILABLE,
                "The service is starting or stopping: retry shortly",
                {"retry-after": RETRY_AFTER_SECONDS},
            )
        context = self.context(scope, headers, services)
        extra: dict[str, str] = {}
        try:
            minimum = headers.get(MIN_POSITION_HEADER)
            context.session.minimum = session_minimum(minimum, params.extensions)
            prepared = await self._prepare(params, extra)
        except Refused as refusal:
            return self._refused(
                self.runner.refusal(refusal.errors, context), media, extra, accepts
            )
        self.runner.watch.identify(operation, prepared)
        kind = prepared.kind
        if kind is OperationType.MUTATION and scope["method"] == "GET":
            raise Problem(
                405,
                METHOD_NOT_ALLOWED,
                "A mutation cannot run over GET: send it with POST",
                {"allow": "POST"},
            )
        subscription = kind is OperationType.SUBSCRIPTION
        stream = accepts.streams(subscription)
        if stream is not None:
            try:
                variables = self.runner.variables(prepared, params.variables)
            except Refused as refusal:
                answer = self.runner.refusal(refusal.errors, context)
                return self._refused(answer, media, extra, accepts)
            operation.transport = "sse" if stream.name == "graphql-sse" else "multipart"
            streamed = StreamedOperation(
                self.runner, self.shared, prepared, variables, params.variables, context, operation
            )
            return self.streams.open(stream, streamed)
        if subscription:
            raise Problem(
                400,
                BAD_REQUEST,
                "A subscription needs a stream: send it with Accept: text/event-stream "
                "(graphql-sse) or multipart/mixed;subscriptionSpec=1.0 (Apollo), or open a "
                "WebSocket (graphql-transport-ws) on /graphql",
            )
        answer = await self.runner.run(prepared, params.variables, context)
        position = context.session.position
        if position is not None:
            extra[_POSITION_HEADER] = str(position)
        return *self._status_and_body(answer, media, extra), answer_outcome(answer)

    def _refused(
        self, answer: Answer, media: str, extra: dict[str, str], accepts: Accepted
    ) -> tuple[int, bytes, dict[str, str], str] | HttpStream:
        """A request error: in JSON, or (a client that accepts no JSON) as its stream's one
        answer."""
        if accepts.stream is not None and not accepts.json:
            return self.streams.open(accepts.stream, answer)
        return *self._status_and_body(answer, media, extra), answer_outcome(answer)

    async def _prepare(self, params: Params, extra: dict[str, str]) -> Prepared:
        """The prepared operation of the request's document, or of the persisted one it names."""
        try:
            resolved = await self.persisted.resolve(params.query, params.extensions)
        except PersistedQueryError as error:
            extra["cache-control"] = "no-store"
            raise Refused([error.error]) from None
        text = resolved.query
        if text is None:  # from_json_body/from_query_string refuse a request without either
            raise Refused([GraphQLError("No GraphQL query found in the request")])
        name = params.operation_name
        prepared = await self.serving.prepare(text, name)
        if resolved.remember is not None:
            await self.persisted.remember(resolved.remember, text)
        return prepared

    def context(self, scope: Scope, headers: dict[bytes, bytes], services: Services) -> Context:
        """The resolvers' context: the services, the caller, the request's correlation id."""
        principal, auth_error = self.serving.authenticate(headers.get(b"authorization"))
        state = scope.get("state")
        correlation_id = state.get("correlation_id") if state else None
        if correlation_id is None:
            raw = headers.get(REQUEST_ID_HEADER.encode())
            correlation_id = correlation_id_from(raw.decode("latin-1") if raw else None)
        return Context(
            services=services,
            correlation_id=correlation_id,
            principal=principal,
            auth_error=auth_error,
        )

    # -- the answer -------------------------------------------------------------------------

    @staticmethod
    def _status_and_body(
        answer: Answer, media: str, extra: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        """graphql-response+json: a request error is a 400 without `data`; application/json:
        200. A failure that is not the caller's and may pass is a 503 with Retry-After."""
        if any(_code(error) == SERVICE_UNAVAILABLE for error in answer.errors):
            extra["retry-after"] = RETRY_AFTER_SECONDS
            return 503, answer.encode(with_data=answer.ran), extra
        if media == GRAPHQL_RESPONSE and not answer.ran:
            return 400, answer.encode(with_data=False), extra
        return 200, answer.encode(), extra


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by lower-case name (the last of repeated ones)."""
    return dict(scope["headers"])


async def _body(receive: Receive) -> bytes:
    """The request body (its size is bounded before the app runs: graph/http/edge.py)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def _respond(send: Send, status: int, media: str, body: bytes, extra: dict[str, str]) -> None:
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend((name.encode(), value.encode()) for name, value in extra.items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["SERVICE_UNAVAILABLE", "GraphQLEndpoint"]
