"""Strawberry's ASGI view for /graphql (HTTP, GraphiQL, graphql-transport-ws) with a typed
per-request Context, authentication from headers or the connection_init payload, and strict JSON
parsing; and the Runtime that holds the running container for it."""

from __future__ import annotations

import dataclasses
import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graph.api.context import REQUEST_ID_HEADER, Context, Loaders, correlation_id_from
from graph.api.plans.encoding import encode_json_text
from graph.http.auth import (
    DEVELOPMENT_PRINCIPAL,
    AuthenticationError,
    Principal,
    TokenAuthority,
)
from graph.http.live_metrics import live_delivery
from graph.http.live_ws import LiveTransportWSHandler
from graph.http.media import (
    GRAPHQL_RESPONSE,
    JSON,
    SubResponse,
    answer_media_type,
    is_request_error,
)
from graph.http.pages import GraphiqlPage
from graph.http.persisted import PersistedQueries, PersistedQueryError
from graph.http.wsprotocol import TransportWSHandler, WebSocketAdapter

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter
    from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
    from strawberry.http.base import BaseRequestProtocol

    from graph.api.schema import OrderGraphSchema
    from graph.bootstrap import Container
    from graph.http.metrics import Metrics
    from graph.settings import Settings
    from readmodels.feed import ChangeHub

log = logging.getLogger("ordergraph.app")

POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
"""What a POST may run (Strawberry's `OperationType.from_http("POST")`)."""


class Runtime:
    """Holds the container while the lifespan runs; the app's routes read it from here."""

    def __init__(self) -> None:
        self._container: Container | None = None

    @property
    def container(self) -> Container:
        if self._container is None:
            raise RuntimeError("the service is not started (the ASGI lifespan has not run)")
        return self._container

    @property
    def started(self) -> bool:
        return self._container is not None

    def set(self, container: Container | None) -> None:
        self._container = container


class _LiveHandler(LiveTransportWSHandler, TransportWSHandler):
    """The strict, expiring handler with the shared live send path (graph/http/live_ws.py)."""


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with a typed per-request Context and strict JSON parsing."""

    # graphql-transport-ws: strict about frames, closed 4403 when the token expires.
    graphql_transport_ws_handler_class = _LiveHandler
    websocket_adapter_class = WebSocketAdapter

    def __init__(
        self, schema: OrderGraphSchema, runtime: Runtime, settings: Settings, metrics: Metrics
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql and not settings.production else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(milliseconds=settings.ws_init_timeout_ms),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self._runtime = runtime
        self._schema_planned = schema
        self._metrics = metrics
        self._graphiql = GraphiqlPage(settings)
        self._authority = (
            None if settings.auth_secret is None else TokenAuthority(settings.auth_secret)
        )
        self._persisted = PersistedQueries(settings.persisted_queries)
        self.live = live_delivery(schema, metrics, lambda: _hub(runtime))

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Context | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        """A POST of JSON whose operation is prepared goes the short way (`_run_prepared`);
        everything else, Strawberry's view."""
        if isinstance(request, Request) and context is UNSET and root_value is UNSET:
            response = await self._run_prepared(request)
            if response is not None:
                return response
        return await super().run(request, context, root_value)  # type: ignore[arg-type]

    async def _run_prepared(self, request: Request) -> Response | None:
        """What Strawberry's view does for a POST of JSON (`{"query", "variables",
        "operationName"}`, no `extensions`) whose operation the gate has let through before,
        without its general steps (content-type parsing through `email.message`, the IDE and
        streaming checks, the persisted-query lookup, the result-type checks). None (the view
        answers, reading the cached body again) for anything else, an unparsable body
        included: the view gives the error. Held to the view's bytes by
        tests/graph/test_prepared_operations.py."""
        headers = request.headers
        content_type = headers.get("content-type", "")
        if request.method != "POST" or not (
            content_type == JSON or content_type.startswith(JSON + ";")
        ):
            return None
        if not self._plain_accept(headers.get("accept", "")):
            return None
        try:
            data = self.parse_json(await request.body())
        except HTTPException:
            return None
        query, variables = data.get("query"), data.get("variables")
        name = data.get("operationName")
        if (
            not isinstance(query, str)
            or not (variables is None or isinstance(variables, dict))
            or data.get("extensions") is not None
        ):
            return None
        prepared = self._schema_planned.prepared.find(query, name, count=False)
        if prepared is None or prepared.kind not in POST_OPERATIONS:
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self._schema_planned.execute(
            query,
            root_value=None,  # this view's get_root_value
            variable_values=variables,
            context_value=context,
            operation_name=name,
            allowed_operation_types=POST_OPERATIONS,
        )
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one view per app, a handful of values
    def _plain_accept(self, accept: str) -> bool:
        """Whether an Accept header asks for no streaming transport (multipart, SSE)."""
        return self._get_stream_transport_from_headers({"accept": accept}) is None

    def encode_json(self, data: object) -> str:
        """Responses and WebSocket frames encoded by orjson (text, so frames stay text frames)."""
        return encode_json_text(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL, its scripts served by this service when they are installed locally."""
        return self._graphiql.response()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Not for a GET that names a persisted query by its hash (it has no `query`)."""
        # Strawberry's check first: it is False at once for a POST (no query string parsed).
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return SubResponse(answer_media_type(request.headers.get("accept")))

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the request's document, or the persisted one its hash names."""
        try:
            resolved = self._persisted.resolve(request_data.query, request_data.extensions)
        except PersistedQueryError as error:
            sub_response.headers["cache-control"] = "no-store"
            return ExecutionResult(data=None, errors=[error.error])
        result = await super().execute_single(
            request,
            request_adapter,
            sub_response,
            context,
            root_value,
            dataclasses.replace(request_data, query=resolved.query),
        )
        if resolved.remember is not None and resolved.query is not None:
            # Remembered only once it parsed and validated.
            failed = result.data is None and all(e.path is None for e in result.errors or ())
            if not (failed and result.errors):
                self._persisted.remember(resolved.remember, resolved.query)
        return result

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The answer in the media type the client accepts; as graphql-response+json, a request
        error (parse, validation, variable coercion) is a 400 without `data`."""
        media = getattr(sub_response, "answer_media_type", JSON)
        if media == GRAPHQL_RESPONSE and is_request_error(response_data):
            assert isinstance(response_data, dict)
            response_data = cast(
                "GraphQLHTTPResponse", {k: v for k, v in response_data.items() if k != "data"}
            )
            sub_response.status_code = sub_response.status_code or 400
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = media
        return response

    def _authenticate(self, authorization: Any) -> tuple[Principal | None, str | None]:
        """The caller named by an Authorization value, or None and why not."""
        if self._authority is None:
            return DEVELOPMENT_PRINCIPAL, None
        if authorization is not None and not isinstance(authorization, str):
            return None, "Authorization must be a string 'Bearer <token>'"
        try:
            return self._authority.from_authorization(authorization), None
        except AuthenticationError as error:
            return None, str(error)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        container = self._runtime.container
        correlation_id = getattr(request.state, "correlation_id", None) or correlation_id_from(
            request.headers.get(REQUEST_ID_HEADER)
        )
        if isinstance(response, Response):
            principal, auth_error = self._authenticate(request.headers.get("authorization"))
        else:
            principal, auth_error = None, "send Authorization in the connection_init payload"
        return Context(
            command_bus=container.bus,
            query_bus=container.query_bus,
            runner=container.runner,
            settings=container.settings,
            metrics=self._metrics,
            order_reads=container.order_reads,
            correlation_id=correlation_id,
            loaders=Loaders.build(container.query_bus),
            request=request,
            response=response,
            principal=principal,
            auth_error=auth_error,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload; close 4403 if it fails."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        principal, auth_error = self._authenticate(authorization)
        if principal is None:
            log.info("WebSocket refused: %s", auth_error)
            raise ConnectionRejectionError({"message": auth_error})
        context.principal, context.auth_error = principal, None
        return cast("UnsetType", UNSET)

    def parse_json(self, data: str | bytes) -> Any:
        """JSON that cannot be decoded (bad UTF-8, huge integers, deep nesting) or is not an
        object is a 400."""
        try:
            decoded = self.decode_json(data)
        except (ValueError, RecursionError) as error:
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(decoded, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        name = decoded.get("operationName")
        if name is not None and (not isinstance(name, str) or not name.isprintable()):
            # Strawberry echoes an unknown name in a text/plain 400, which cannot encode a
            # lone surrogate.
            raise HTTPException(400, "operationName must be a string of printable characters")
        return decoded


def _hub(runtime: Runtime) -> ChangeHub | None:
    return runtime.container.runner.changes if runtime.started else None


__all__ = ["GraphQLApp", "Runtime"]
