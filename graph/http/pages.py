"""The pages a person opens: the live orders page at `/`, and GraphiQL with its local assets."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

from graph.http.assets import ASSETS_PATH, CDN_PREFIX, AssetError, AssetStore, graphiql_assets
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

MISSING_ASSETS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL is not installed</title></head>
<body><h1>GraphiQL's files are not installed</h1>
<p>ORDERGRAPH_ASSETS=local, but {reason}.
Run <code>ordergraph fetch-assets</code> once (it needs the npm registry),
or set <code>ORDERGRAPH_ASSETS=cdn</code> to load them from unpkg.</p></body></html>
"""


def asset_store(settings: Settings, template: str | None = None) -> AssetStore:
    """The assets folder the settings name (or the default one), for the page `template`."""
    directory = Path(settings.assets_dir) if settings.assets_dir else None
    return AssetStore(directory, graphiql_assets(template))


class GraphiqlPage:
    """Strawberry's GraphiQL page, its unpkg URLs pointed at `/assets/` when they are local."""

    def __init__(self, settings: Settings, template: str | None = None) -> None:
        self._source = settings.assets
        self._cdn_html = get_graphql_ide_html("graphiql") if template is None else template
        self._store: AssetStore | None = None
        self._local_html: str | None = None
        try:
            self._store = asset_store(settings, self._cdn_html)
        except AssetError as error:
            log.warning("GraphiQL can only load from the CDN: %s", error)
            return
        local_html = self._cdn_html
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
        if self._source == "local":
            reason = (
                "this Strawberry's GraphiQL page cannot load from local files"
                if self._store is None
                else f"<code>{escape(str(self._store.directory))}</code> does not hold them all"
            )
            return HTMLResponse(MISSING_ASSETS.format(reason=reason), status_code=503)
        return HTMLResponse(self._cdn_html)


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


__all__ = ["STATIC_DIR", "GraphiqlPage", "asset_store", "page_routes"]
