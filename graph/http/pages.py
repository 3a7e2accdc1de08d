"""The pages a person opens: the live orders page at `/`, and GraphiQL with its local assets."""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

from graph.http.assets import (
    ASSETS_PATH,
    CDN_PREFIX,
    AssetError,
    AssetStore,
    graphiql_assets,
)
from graph.http.welcome import welcome
from graph.settings import Settings

log = logging.getLogger("ordergraph.pages")

STATIC_DIR = Path(__file__).parent / "static"

# The orders page loads only its own files and talks only to its own origin (ws: included).
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}

FETCH_HINT = "ordergraph fetch-assets"

MISSING_ASSETS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL is not installed</title></head>
<body><h1>GraphiQL's files are not installed</h1>
<p>ORDERGRAPH_ASSETS=local, but {reason}.
Run <code>ordergraph fetch-assets</code> once (it needs the npm registry),
or set <code>ORDERGRAPH_ASSETS=cdn</code> to load them from unpkg.</p></body></html>
"""

# What the CDN page shows in place of Strawberry's "Loading...": GraphiQL replaces it once its
# scripts run; when they cannot load (no internet), it is what stays on the screen.
CDN_PLACEHOLDER = (
    '<div style="margin:auto;max-width:42em;padding:1em;font:16px/1.5 system-ui,sans-serif">'
    "<p>Loading GraphiQL from unpkg.com&hellip;</p>"
    "<p>If this stays, this browser cannot reach unpkg.com. Run "
    f"<code>{FETCH_HINT}</code> where the service runs (it needs the npm registry) and reload: "
    "the service then serves GraphiQL's files itself.</p></div>"
)
_PLACEHOLDER = re.compile(r'(<div id="graphiql"[^>]*>)\s*Loading\.\.\.\s*(</div>)')


def asset_store(
    settings: Settings, template: str | None = None, shipped: Path | None = None
) -> AssetStore:
    """The page's files: shipped, else in the folder the settings name (or the default one)."""
    directory = Path(settings.assets_dir) if settings.assets_dir else None
    return AssetStore(directory, graphiql_assets(template), shipped)


class GraphiqlPage:
    """Strawberry's GraphiQL page, titled and opening as `welcome` says, its unpkg URLs
    pointed at `/assets/` when they are local.

    On "auto" (the default) and "local" the files come from this service when it has them all
    (shipped with the package, else fetched into the cache); "auto" otherwise falls back to the
    CDN, "local" to a page saying what to run. Either fallback is logged once.
    """

    def __init__(
        self, settings: Settings, template: str | None = None, shipped: Path | None = None
    ) -> None:
        self._source = settings.assets
        stock = welcome(get_graphql_ide_html("graphiql") if template is None else template)
        self._cdn_html = _PLACEHOLDER.sub(rf"\g<1>{CDN_PLACEHOLDER}\g<2>", stock, count=1)
        self._store: AssetStore | None = None
        self._local_html: str | None = None
        self._warned = False
        try:
            self._store = asset_store(settings, stock, shipped)
        except AssetError as error:
            log.warning("GraphiQL can only load from the CDN: %s", error)
            return
        local_html = stock
        for asset in self._store.assets:
            local_html = local_html.replace(asset.cdn_url, ASSETS_PATH + asset.name)
        if CDN_PREFIX in local_html:
            log.warning("GraphiQL can only load from the CDN: its page loads an unhashed file")
            return
        self._local_html = local_html

    def response(self) -> Response:
        """The page: local assets when chosen (or, on "auto", when all are there), else the CDN."""
        if self._source == "cdn":
            return HTMLResponse(self._cdn_html)
        if self._store is not None and self._local_html is not None and self._store.complete():
            return HTMLResponse(self._local_html)
        self._warn_once()
        if self._source == "local":
            reason = (
                "this Strawberry's GraphiQL page cannot load from local files"
                if self._store is None
                else "ordergraph does not ship the files this Strawberry's page names and "
                f"<code>{escape(str(self._store.directory))}</code> does not hold them all"
            )
            return HTMLResponse(MISSING_ASSETS.format(reason=reason), status_code=503)
        return HTMLResponse(self._cdn_html)

    def _warn_once(self) -> None:
        if self._warned or self._store is None:
            return
        self._warned = True
        missing = ", ".join(asset.name for asset in self._store.missing())
        outcome = (
            "/graphql answers 503"
            if self._source == "local"
            else "/graphql loads them from unpkg.com, so GraphiQL needs internet"
        )
        log.warning(
            "GraphiQL's files (%s) are neither shipped with ordergraph nor in %s: %s; run `%s` "
            "to serve them from here",
            missing,
            self._store.directory,
            outcome,
            FETCH_HINT,
        )


async def orders_page(_request: Request) -> Response:
    """GET /: the live orders page."""
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


def page_routes(settings: Settings) -> list[BaseRoute]:
    """`/`, its files under `/static/`, and GraphiQL's files under `/assets/` when it is on."""
    routes: list[BaseRoute] = [
        Route("/", orders_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    if settings.graphiql and not settings.production:
        try:
            store = asset_store(settings)
        except AssetError:
            return routes  # GraphiqlPage has said why; the page loads from the CDN
        routes.append(Route(ASSETS_PATH + "{name:path}", store.endpoint))
    return routes


__all__ = [
    "CDN_PLACEHOLDER",
    "FETCH_HINT",
    "STATIC_DIR",
    "GraphiqlPage",
    "asset_store",
    "page_routes",
]
