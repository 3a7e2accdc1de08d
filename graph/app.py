"""The ASGI app: /graphql (HTTP, GraphiQL, graphql-transport-ws), /healthz, and the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graph.bootstrap import Container, bootstrap
from graph.context import REQUEST_ID_HEADER, Context, Loaders, correlation_id_from
from graph.schema import OrderGraphSchema, build_schema
from graph.settings import Settings

log = logging.getLogger("ordergraph.app")

HEALTH_TIMEOUT_SECONDS = 2.0


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


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with a typed per-request Context and strict JSON parsing."""

    def __init__(self, schema: OrderGraphSchema, runtime: Runtime, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self._runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        container = self._runtime.container
        correlation_id = correlation_id_from(request.headers.get(REQUEST_ID_HEADER))
        if isinstance(response, Response):
            response.headers[REQUEST_ID_HEADER] = correlation_id
        return Context(
            command_bus=container.bus,
            query_bus=container.query_bus,
            runner=container.runner,
            settings=container.settings,
            correlation_id=correlation_id,
            loaders=Loaders.build(container.query_bus),
            request=request,
            response=response,
        )

    def parse_json(self, data: str | bytes) -> Any:
        """JSON that cannot be decoded (bad UTF-8, huge integers, deep nesting) is a 400."""
        try:
            return self.decode_json(data)
        except (ValueError, RecursionError) as error:
            raise HTTPException(400, "Unable to parse request body as JSON") from error


def create_app(settings: Settings | None = None) -> Starlette:
    """The service as an ASGI app; `uvicorn graph.app:create_app --factory` serves it."""
    settings = settings or Settings.from_env()
    runtime = Runtime()
    gql_app = GraphQLApp(build_schema(settings), runtime, settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        container = bootstrap(settings)
        try:
            await container.start()
        except BaseException:
            await container.stop()
            raise
        runtime.set(container)
        log.info("ordergraph started on %s", container.db.dialect)
        try:
            yield
        finally:
            await container.stop()
            log.info("ordergraph stopped")

    async def healthz(_request: Request) -> JSONResponse:
        if not runtime.started or not runtime.container.runner.alive:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        try:
            await asyncio.wait_for(runtime.container.store.head_position(), HEALTH_TIMEOUT_SECONDS)
        except Exception:
            log.warning("health check: the database does not answer", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graphql", gql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql_app),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


__all__ = ["GraphQLApp", "create_app"]
