"""The ASGI app: /graphql (graph/http/endpoint.py), /healthz, /livez, /readyz, /metrics, /, the
edge in front of them, and the lifespan that builds and stops the container."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from graph.api.context import Services
from graph.api.schema import build_schema, export_sdl, graphql_schema
from graph.api.session import MIN_POSITION_HEADER, POSITION_HEADER
from graph.bootstrap import Container, bootstrap
from graph.http.auth import TokenAuthority
from graph.http.edge import Edge
from graph.http.endpoint import GraphQLEndpoint
from graph.http.metrics_route import MetricsRoute
from graph.http.pages import GraphiqlPage, page_routes
from graph.http.persisted import PersistedQueries
from graph.http.request_log import configure_logging
from graph.http.serving import Serving
from graph.observe.live_metrics import live_delivery
from graph.observe.metrics import Metrics
from graph.observe.trace_config import tracing_from_env
from graph.ops.listen import check_serving, uvicorn_address
from graph.ops.migrate import SchemaMismatch
from graph.ops.preflight import (
    MIGRATE_OFF_HINT,
    StartupError,
    check_databases_now,
    check_sqlite,
    check_url,
    where,
)
from graph.ops.startup import OneLineStartupErrors
from graph.ops.status import ServingMark
from graph.pipeline.persisted_documents import PersistedDocuments
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import Preparer
from graph.pipeline.run import Runner
from graph.pipeline.watch import OperationWatch
from graph.settings import Settings, SettingsError, unknown_variables

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from graph.observe.tracing import Tracing
    from readmodels.feed import ChangeHub
    from readmodels.projections.base import Projection

log = logging.getLogger("ordergraph.app")

HEALTH_TIMEOUT_SECONDS = 2.0


def _from_env() -> tuple[Settings, Tracing | None]:
    """The environment's settings and traces when the app is built by `uvicorn
    graph.app:create_app --factory`, checked before uvicorn starts the lifespan (which migrates
    the database and takes the projections): a bad variable (an `OTEL_TRACES_EXPORTER` no
    package provides too) or database URL, a missing SQLite file or folder, a port in use or a
    non-loopback address without a secret (read from uvicorn's own command line), a database
    that does not answer or, when the schema is only checked, is at another revision: each is
    one line on stderr and exit status 1. Logging is set up as `ordergraph serve` does (unless
    the host configured it)."""
    try:
        settings = Settings.from_env()
        tracing = tracing_from_env()
        for url in filter(None, (settings.database_url, settings.read_database_url)):
            check_url(url)
            check_sqlite(url, create=settings.migrate_on_start, missing_hint=MIGRATE_OFF_HINT)
        address = uvicorn_address(sys.argv)
        if address is not None:
            check_serving(settings, *address)
        check_databases_now(settings)
    except (SettingsError, StartupError, SchemaMismatch) as error:
        sys.exit(f"ordergraph: error: {error}")
    if not logging.getLogger().handlers:
        configure_logging()
    for warning in unknown_variables():
        log.warning("%s", warning)
    if settings.development:
        log.warning(
            "development mode: no ORDERGRAPH_AUTH_SECRET, so no authentication (every caller "
            "is an admin); serve it on a loopback address only"
        )
    return settings, tracing


class Runtime:
    """Holds the container, and the services resolvers share, while the lifespan runs (and
    after: requests that arrive once it has stopped meet a stopped bus, never a missing one)."""

    def __init__(self) -> None:
        self._container: Container | None = None
        self._services: Services | None = None

    @property
    def container(self) -> Container:
        if self._container is None:
            raise RuntimeError("the service is not started (the ASGI lifespan has not run)")
        return self._container

    @property
    def started(self) -> bool:
        return self._container is not None

    def services(self) -> Services | None:
        return self._services

    def hub(self) -> ChangeHub | None:
        return None if self._container is None else self._container.runner.changes

    def followers(self) -> int:
        """How many `orderUpdated` subscriptions follow their order (0 before the start)."""
        return 0 if self._container is None else len(self._container.live.orders)

    def set(self, container: Container, on_wait: Callable[[bool], None]) -> None:
        self._container = container
        self._services = Services(
            command_bus=container.bus,
            query_bus=container.query_bus,
            runner=container.runner,
            settings=container.settings,
            order_reads=container.order_reads,
            live=container.live,
            on_wait=on_wait,
        )


def create_app(
    settings: Settings | None = None,
    *,
    base_url: str | None = None,
    projections: Sequence[Projection] | None = None,
    tracing: Tracing | Literal["env"] | None = "env",
    freeze_gc: bool = False,
) -> Starlette:
    """The service as an ASGI app; `uvicorn graph.app:create_app --factory` serves it.
    `base_url` (http://host:port), when known, is logged with GraphiQL's and the live page's
    addresses once the service has started; `projections` replaces the service's own (tests);
    `tracing` the traces: by default those the `OTEL_*` variables ask for
    (graph/observe/trace_config.py), None for none.

    `freeze_gc` (a process that serves only this app, as `ordergraph serve` runs it): once
    started, what start-up built (the schema, plans, SQLAlchemy, every module) is moved out of
    the cyclic GC's reach (`gc.freeze`), so a full collection scans only what requests and
    connections hold: with 1,000 WebSockets a full collection took 40-240 ms, the whole of the
    fan-out row's tail (docs/performance.md)."""
    if settings is None:
        settings, from_env = _from_env()
        tracing = from_env if tracing == "env" else tracing
    elif tracing == "env":
        tracing = tracing_from_env()
    runtime = Runtime()
    strawberry_schema = build_schema(production=settings.production)
    schema = graphql_schema(strawberry_schema)
    plan_stats = PlanStats()
    preparer = Preparer(schema, settings, plan_stats)
    metrics = Metrics(
        plans=plan_stats,
        prepared=preparer.cache,
        operation_names=settings.metrics_operation_names,
    )
    if tracing is None:
        watch = OperationWatch(ended=[metrics.operations.ended])
    else:
        watch = OperationWatch(
            ended=[metrics.operations.ended, tracing.ended],
            identified=[tracing.identified],
            pushed=tracing.pushed,
        )
    runner = Runner(schema, production=settings.production, watch=watch)
    authority = None if settings.auth_secret is None else TokenAuthority(settings.auth_secret)
    persisted = PersistedQueries(settings.persisted_queries)
    endpoint = GraphQLEndpoint(
        Serving(preparer, runner, runtime.services, authority),
        persisted=persisted,
        graphiql=GraphiqlPage(settings) if settings.graphiql and not settings.production else None,
        shared=live_delivery(runner, metrics, runtime.hub, runtime.followers),
        settings=settings,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        container = bootstrap(
            settings,
            projections=projections,
            on_batch=metrics.observe_batch,
            on_command=metrics.observe_command,
            on_replica_read=metrics.observe_replica_read,
            batch_watch=tracing,
            on_apply=None if tracing is None else tracing.applying,
        )
        try:
            await container.start()
        except BaseException:
            await container.stop()
            raise
        runtime.set(container, metrics.observe_wait)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        metrics.bind(container.store, container.runner)
        persisted.bind(PersistedDocuments(container.db))
        # Tells `ordergraph status` that a server runs the projections (SQLite).
        serving = ServingMark(settings.database_url).__enter__()
        log.info("ordergraph started on %s", container.db.dialect)
        if base_url is not None:
            graphiql = "GraphiQL" if settings.graphiql and not settings.production else "API"
            log.info("%s at %s/graphql, the live page at %s/", graphiql, base_url, base_url)
        try:
            yield
        finally:
            metrics.unbind()
            preparer.close()
            try:
                await persisted.unbind()
                await container.stop()
            finally:
                serving.__exit__(None, None, None)  # after the connections are closed
                if tracing is not None:
                    tracing.shutdown()  # exports the spans still buffered
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

    async def livez(_request: Request) -> JSONResponse:
        # The process answers: nothing else is asked (a database outage is /readyz's).
        return JSONResponse({"status": "live"})

    async def readyz(_request: Request) -> JSONResponse:
        reason = await runtime.container.unready() if runtime.started else "starting"
        if reason is not None:
            return JSONResponse({"status": "unready", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    # The edge first (graph/http/edge.py: Host, body, time, the request log; /graphql straight
    # to its endpoint), then the lifespan's one-line failures; CORS around both doors.
    graphql: ASGIApp = endpoint
    cors_layers = []
    if settings.cors_origins:
        # Browser apps on these origins may call /graphql; bearer tokens, never cookies.
        cors: dict[str, Any] = {
            "allow_origins": list(settings.cors_origins),
            "allow_methods": ["GET", "POST"],
            "allow_headers": [
                "authorization",
                "content-type",
                "x-request-id",
                MIN_POSITION_HEADER.lower(),
            ],
            "expose_headers": ["x-request-id", POSITION_HEADER.lower()],
            "max_age": 600,
        }
        graphql = CORSMiddleware(endpoint, **cors)
        cors_layers.append(Middleware(CORSMiddleware, **cors))
    layers = [
        Middleware(Edge, graphql=graphql, settings=settings),
        Middleware(OneLineStartupErrors, database=where(settings.database_url)),
        *cors_layers,
    ]
    if tracing is not None:  # the HTTP server span, around everything a request meets
        from graph.observe.traced_requests import TracedRequests  # OpenTelemetry's: only now

        layers.insert(0, Middleware(TracedRequests, tracing=tracing, direct=("/graphql",)))
    sdl_routes = []
    if settings.serves_sdl:
        sdl = export_sdl(strawberry_schema)

        async def schema_sdl(_request: Request) -> PlainTextResponse:
            return PlainTextResponse(sdl)

        sdl_routes.append(Route("/graphql/schema.graphql", schema_sdl, methods=["GET"]))
    app = Starlette(
        routes=[
            Route("/graphql", endpoint),
            *sdl_routes,
            WebSocketRoute("/graphql", endpoint),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", MetricsRoute(metrics, authority).respond, methods=["GET"]),
            *page_routes(settings),
        ],
        middleware=layers,
        lifespan=lifespan,
    )
    # Tools that run beside the service in one process (the benchmark's baseline routes)
    # reach the running container through here.
    app.state.runtime = runtime
    return app


def create_served_app() -> Starlette:
    """The app as `ordergraph serve --workers N` runs it in each worker (`uvicorn
    graph.app:create_served_app --factory`): from the environment, with `freeze_gc`."""
    return create_app(freeze_gc=True)


__all__ = ["create_app", "create_served_app"]
