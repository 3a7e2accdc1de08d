"""GraphiQL's scripts and styles: fetched once from the npm registry, then served by the service.

Strawberry's GraphiQL page loads React and GraphiQL from unpkg, so with no internet it stays
blank. `ordergraph fetch-assets` runs `npm pack` for exactly the packages and versions that page
names, checks each file against the page's own `integrity` hash, and keeps only those files in
the assets folder (never in the repository). The service then serves them under `/assets/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

CDN_PREFIX = "https://unpkg.com/"
ASSETS_PATH = "/assets/"
NPM_TIMEOUT_SECONDS = 300
IMMUTABLE = "public, max-age=31536000, immutable"

_REFERENCE = re.compile(
    r'(?:src|href)="' + re.escape(CDN_PREFIX) + r'(?P<package>(?:@[^/@"]+/)?[^/@"]+)'
    r'@(?P<version>[^/"]+)/(?P<path>[^"]+)"\s+integrity="(?P<integrity>sha384-[^"]+)"'
)


class AssetError(RuntimeError):
    """The assets could not be fetched, or a fetched file is not the one the page expects."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Asset:
    """One file that the GraphiQL page loads, as the page names it."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def spec(self) -> str:
        """The npm package spec, such as `graphiql@3.8.3`."""
        return f"{self.package}@{self.version}"

    @property
    def name(self) -> str:
        """The file's name under the assets folder and under `/assets/`."""
        return f"{self.spec}/{self.path}"

    @property
    def cdn_url(self) -> str:
        return CDN_PREFIX + self.name

    def check(self, content: bytes) -> None:
        """Raise AssetError unless `content` has the page's `integrity` hash."""
        digest = base64.b64encode(hashlib.sha384(content).digest()).decode()
        if f"sha384-{digest}" != self.integrity:
            raise AssetError(f"{self.name} does not match the page's integrity hash")


def graphiql_assets(html: str | None = None) -> tuple[Asset, ...]:
    """The CDN files that Strawberry's GraphiQL page references, in page order."""
    page = get_graphql_ide_html("graphiql") if html is None else html
    assets = tuple(
        Asset(
            package=match["package"],
            version=match["version"],
            path=match["path"],
            integrity=match["integrity"],
        )
        for match in _REFERENCE.finditer(page)
    )
    if not assets:
        raise AssetError("Strawberry's GraphiQL page names no unpkg file with an integrity hash")
    return assets


def default_assets_dir() -> Path:
    """`$XDG_CACHE_HOME/ordergraph/assets`, else `~/.cache/ordergraph/assets`."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ordergraph" / "assets"


class AssetStore:
    """The folder that holds GraphiQL's files, and the `/assets/` endpoint that serves them."""

    def __init__(
        self, directory: Path | None = None, assets: tuple[Asset, ...] | None = None
    ) -> None:
        self.directory = directory or default_assets_dir()
        self.assets = assets or graphiql_assets()
        self._by_name = {asset.name: asset for asset in self.assets}

    def file(self, asset: Asset) -> Path:
        return self.directory / asset.name

    def complete(self) -> bool:
        """Whether every file the page needs is in the folder."""
        return all(self.file(asset).is_file() for asset in self.assets)

    async def endpoint(self, request: Request) -> Response:
        """GET /assets/{name}: one of the page's files; anything else is a 404."""
        asset = self._by_name.get(request.path_params["name"])
        if asset is None or not self.file(asset).is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(self.file(asset), headers={"cache-control": IMMUTABLE})


def fetch_assets(directory: Path, npm: str = "npm") -> tuple[Asset, ...]:
    """Fill `directory` with the page's files from the npm registry; return what it holds."""
    store = AssetStore(directory)
    executable = shutil.which(npm)
    if executable is None:
        raise AssetError(f"{npm!r} is not on PATH: install Node.js and npm first")
    specs = list(dict.fromkeys(asset.spec for asset in store.assets))
    with tempfile.TemporaryDirectory(prefix="ordergraph-assets-") as scratch:
        try:
            packed = subprocess.run(
                [executable, "pack", "--json", "--pack-destination", scratch, *specs],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_SECONDS,
                check=True,
            )
        except subprocess.CalledProcessError as error:
            raise AssetError(f"npm pack failed: {error.stderr.strip()[-2000:]}") from error
        except subprocess.TimeoutExpired as error:
            raise AssetError(f"npm pack took over {NPM_TIMEOUT_SECONDS} s") from error
        tarballs = {
            f"{entry['name']}@{entry['version']}": Path(scratch) / entry["filename"]
            for entry in json.loads(packed.stdout)
        }
        for asset in store.assets:
            content = _member(tarballs[asset.spec], asset)
            asset.check(content)
            _write_atomically(store.file(asset), content)
    return store.assets


def _member(tarball: Path, asset: Asset) -> bytes:
    """The bytes of `asset` inside its npm tarball (whose files sit under `package/`)."""
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            member = archive.extractfile(f"package/{asset.path}")
        except KeyError:
            member = None
        if member is None:
            raise AssetError(f"{asset.spec} has no file {asset.path}")
        with member:
            return member.read()


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.write_bytes(content)
    partial.replace(target)


__all__ = [
    "ASSETS_PATH",
    "Asset",
    "AssetError",
    "AssetStore",
    "default_assets_dir",
    "fetch_assets",
    "graphiql_assets",
]
