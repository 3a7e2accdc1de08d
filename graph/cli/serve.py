"""`ordergraph serve`: the databases checked and migrated before anything starts (the address
first, by `graph.ops.listen.check_serving`), then the app under uvicorn, in one process or
several."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from graph.cli.maintenance import prepare_databases
from graph.http.protocol import BoundedHttpToolsProtocol
from graph.http.request_log import configure_logging, logging_config
from graph.ops.preflight import MIGRATE_OFF_HINT, check_sqlite
from graph.settings import Settings

if TYPE_CHECKING:
    from graph.observe.tracing import Tracing

log = logging.getLogger("ordergraph.cli")


def uvicorn_options(
    host: str, port: int, log_format: str, *, max_body_bytes: int
) -> dict[str, Any]:
    """How uvicorn serves the app: uvloop, httptools with the request head bounded, WebSocket
    frames held to the body limit, our logging."""
    return {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": BoundedHttpToolsProtocol,
        "lifespan": "on",
        "ws": "websockets-sansio",
        # permessage-deflate costs ~67 us of CPU per frame per socket and ~50 KB per socket once
        # frames flow (fan-out of 1,000: RSS 194 MB with it, 145 MB without); frames are small.
        "ws_per_message_deflate": False,
        # A frame is a request like a body: uvicorn refuses a bigger one (close 1009) before
        # reading it, instead of its 16 MiB default.
        "ws_max_size": max_body_bytes,
        "timeout_graceful_shutdown": 30,
        "log_config": logging_config(log_format),
    }


def prepare_to_serve(settings: Settings, log_format: str) -> None:
    """Check the databases (the address is checked before, by `check_serving`), set up logging
    and migrate them. A refusal is raised before anything is written (StartupError,
    SchemaMismatch, or the database's own)."""
    for url in filter(None, (settings.database_url, settings.read_database_url)):
        check_sqlite(url, create=settings.migrate_on_start, missing_hint=MIGRATE_OFF_HINT)
    # Only once the arguments are accepted: a refused serve leaves the logging as it was.
    configure_logging(log_format)
    for line in asyncio.run(prepare_databases(settings)):
        log.info("migrated %s", line)
    if settings.development:
        log.warning(
            "development mode: no ORDERGRAPH_AUTH_SECRET, so no authentication "
            "(every caller is an admin); listening on loopback only"
        )


def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_format: str,
    tracing: Tracing | None = None,
) -> None:
    """Serve until stopped, with `tracing` (the environment's traces, checked already); with
    `workers` > 1 each worker process builds its app, and its traces, from the environment."""
    import uvicorn

    options = uvicorn_options(host, port, log_format, max_body_bytes=settings.max_body_bytes)
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    if workers == 1:
        from graph.app import create_app

        uvicorn.run(
            create_app(settings, base_url=base_url, tracing=tracing, freeze_gc=True), **options
        )
        return
    if tracing is not None:
        tracing.shutdown()  # each worker builds its own
    log.info("GraphiQL at %s/graphql, the live page at %s/", base_url, base_url)
    os.environ["ORDERGRAPH_DATABASE_URL"] = settings.database_url
    uvicorn.run("graph.app:create_served_app", factory=True, workers=workers, **options)


__all__ = ["prepare_to_serve", "serve", "uvicorn_options"]
