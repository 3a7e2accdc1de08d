"""The ASGI app: /graphql (the view in graph/http/view.py), /healthz, /metrics, /, the guards
around them, and the lifespan that builds and stops the container."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from graph.api.schema import build_schema
from graph.bootstrap import bootstrap
from graph.http.guards import BodySizeLimit, LoopbackOnly, RequestTimeout
from graph.http.metrics import Metrics
from graph.http.pages import page_routes
from graph.http.request_log import RequestLog
from graph.http.view import GraphQLApp, Runtime
from graph.settings import Settings

log = logging.getLogger("ordergraph.app")

HEALTH_TIMEOUT_SECONDS = 2.0


def create_app(settings: Settings | None = None) -> Starlette:
    """The service as an ASGI app; `uvicorn graph.app:create_app --factory` serves it."""
    settings = settings or Settings.from_env()
    runtime = Runtime()
    metrics = Metrics()
    gql_app = GraphQLApp(build_schema(settings), runtime, settings, metrics)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        container = bootstrap(
            settings, on_batch=metrics.observe_batch, on_command=metrics.observe_command
        )
        try:
            await container.start()
        except BaseException:
            await container.stop()
            raise
        runtime.set(container)
        metrics.bind(container.store, container.runner)
        log.info("ordergraph started on %s", container.db.dialect)
        try:
            yield
        finally:
            metrics.unbind()
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
        return JSONResponse({"status": "ok", "leading": runtime.container.runner.leading()})

    # Outermost first: the request log, who may listen, how long a request may take, its size.
    guards = [Middleware(RequestLog)]
    if settings.development:
        guards.append(Middleware(LoopbackOnly))
    guards += [
        Middleware(RequestTimeout, seconds=settings.request_timeout_ms / 1000),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
    ]
    app = Starlette(
        routes=[
            Route("/graphql", gql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql_app),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            *page_routes(settings),
        ],
        middleware=guards,
        lifespan=lifespan,
    )
    # Tools that run beside the service in one process (the benchmark's baseline routes)
    # reach the running container through here.
    app.state.runtime = runtime
    return app


__all__ = ["create_app"]
