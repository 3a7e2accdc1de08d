"""GraphiQL's scripts and styles, served by the service itself so GraphiQL works offline.

Strawberry's GraphiQL page loads React and GraphiQL from unpkg, each `<script>`/`<link>` with an
`integrity` hash, so with no internet it stays blank. The service serves those files under
`/assets/` instead, looking for each one, by the page's own name and hash:

1. in the package (`graph/http/graphiql/`, listed in its `manifest.json`): the exact files the
   page of the Strawberry this release was tested with names, taken from the npm registry with
   their licences. They are used only where the manifest's hash is the page's hash, so a newer
   Strawberry that names other versions falls through to
2. the assets cache (`ORDERGRAPH_ASSETS_DIR`, `~/.cache/ordergraph/assets`), which
   `ordergraph fetch-assets` fills with `npm pack` for whatever versions the page names.

The shipped files come first: they are the ones a test checked against the page, and a cache
left behind by another version or a half-finished fetch can then never spoil a page that works
out of the box. When both hold a file they hold the same bytes (the page's hash says so), so the
order matters only for files the package does not ship.

`python -m graph.http.assets vendor` re-vendors the shipped files (for a Strawberry upgrade).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

CDN_PREFIX = "https://unpkg.com/"
ASSETS_PATH = "/assets/"
NPM_TIMEOUT_SECONDS = 300
IMMUTABLE = "public, max-age=31536000, immutable"
SHIPPED_DIR = Path(__file__).parent / "graphiql"
MANIFEST = "manifest.json"
LICENCE_NAMES = re.compile(r"^(?:LICEN[CS]E|COPYING|NOTICE)(?:[.-][^/]*)?$", re.IGNORECASE)
REVENDOR = "python -m graph.http.assets vendor"

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
        """The file's name under an assets folder and under `/assets/`."""
        return f"{self.spec}/{self.path}"

    @property
    def cdn_url(self) -> str:
        return CDN_PREFIX + self.name

    def check(self, content: bytes) -> None:
        """Raise AssetError unless `content` has the page's `integrity` hash."""
        if integrity_of(content) != self.integrity:
            raise AssetError(f"{self.name} does not match the page's integrity hash")


def integrity_of(content: bytes) -> str:
    """The Subresource Integrity value of `content`: `sha384-` and the base64 digest."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


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


@dataclass(frozen=True, kw_only=True, slots=True)
class ShippedFile:
    """One entry of the shipped folder's manifest: a file and the licence files beside it."""

    asset: Asset
    licences: tuple[str, ...]


def shipped_files(directory: Path | None = None) -> tuple[ShippedFile, ...]:
    """What `directory/manifest.json` lists; nothing when there is no readable manifest."""
    directory = SHIPPED_DIR if directory is None else directory
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        return tuple(
            ShippedFile(
                asset=Asset(
                    package=entry["package"],
                    version=entry["version"],
                    path=entry["file"],
                    integrity=entry["integrity"],
                ),
                licences=tuple(entry["licences"]),
            )
            for entry in manifest["files"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return ()


class AssetStore:
    """Where GraphiQL's files are (shipped, else the cache), and the `/assets/` endpoint."""

    def __init__(
        self,
        directory: Path | None = None,
        assets: tuple[Asset, ...] | None = None,
        shipped: Path | None = None,
    ) -> None:
        self.directory = directory or default_assets_dir()
        self.shipped = SHIPPED_DIR if shipped is None else shipped
        self.assets = assets or graphiql_assets()
        self._by_name = {asset.name: asset for asset in self.assets}
        # Only files whose manifest hash is the page's hash count as shipped.
        self._shipped = {entry.asset for entry in shipped_files(self.shipped)} & set(self.assets)
        self._gzipped: dict[Path, bytes] = {}

    def file(self, asset: Asset) -> Path:
        """Where `asset` sits in the cache folder (`fetch-assets` writes it there)."""
        return self.directory / asset.name

    def is_shipped(self, asset: Asset) -> bool:
        return asset in self._shipped and (self.shipped / asset.name).is_file()

    def source(self, asset: Asset) -> Path | None:
        """The file to serve for `asset`: the shipped one, else the cache's, else None."""
        if self.is_shipped(asset):
            return self.shipped / asset.name
        cached = self.file(asset)
        return cached if cached.is_file() else None

    def missing(self) -> tuple[Asset, ...]:
        """The page's files found neither in the package nor in the cache."""
        return tuple(asset for asset in self.assets if self.source(asset) is None)

    def complete(self) -> bool:
        """Whether every file the page needs can be served from here."""
        return not self.missing()

    async def endpoint(self, request: Request) -> Response:
        """GET /assets/{name}: one of the page's files; anything else is a 404.

        Gzipped for clients that accept it (graphiql.min.js: 3.5 MB, 0.7 MB gzipped),
        compressed once per file and kept in memory; the integrity hash is of the decoded bytes.
        """
        asset = self._by_name.get(request.path_params["name"])
        path = None if asset is None else self.source(asset)
        if path is None:
            return PlainTextResponse("not found", status_code=404)
        headers = {"cache-control": IMMUTABLE, "vary": "accept-encoding"}
        if "gzip" not in request.headers.get("accept-encoding", "").lower():
            return FileResponse(path, headers=headers)
        compressed = self._gzipped.get(path)
        if compressed is None:
            compressed = await run_in_threadpool(_gzip, path)  # 0.1 s, off the event loop
            self._gzipped[path] = compressed
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(
            compressed, media_type=media_type, headers={**headers, "content-encoding": "gzip"}
        )


def fetch_assets(directory: Path, npm: str = "npm") -> tuple[Asset, ...]:
    """Fill `directory` with the page's files from the npm registry; return what it holds."""
    store = AssetStore(directory)
    with _NpmPack(store.assets, npm) as tarballs:
        for asset in store.assets:
            content = _member(tarballs[asset.spec], f"package/{asset.path}", asset.spec)
            asset.check(content)
            _write_atomically(store.file(asset), content)
    return store.assets


def vendor_assets(directory: Path | None = None, npm: str = "npm") -> tuple[ShippedFile, ...]:
    """Replace the shipped folder with the files the current page names, their licences, a manifest.

    A package whose npm tarball carries no licence file keeps the one already in the folder
    (put there by hand from its repository); without one this refuses. The folder's own
    top-level notes (README.md, .gitattributes) are kept.
    """
    directory = SHIPPED_DIR if directory is None else directory
    assets = graphiql_assets()
    staging = directory.with_name(f".{directory.name}.{os.getpid()}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    entries: list[ShippedFile] = []
    try:
        with _NpmPack(assets, npm) as tarballs:
            licences: dict[str, tuple[str, ...]] = {}
            for spec, tarball in tarballs.items():
                licences[spec] = _vendor_licences(tarball, spec, directory, staging)
            for asset in assets:
                content = _member(tarballs[asset.spec], f"package/{asset.path}", asset.spec)
                asset.check(content)
                _write_atomically(staging / asset.name, content)
                entries.append(ShippedFile(asset=asset, licences=licences[asset.spec]))
        _write_atomically(staging / MANIFEST, _manifest(entries).encode())
        for note in [*directory.glob("*.md"), directory / ".gitattributes"]:
            if note.is_file():
                _write_atomically(staging / note.name, note.read_bytes())
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tuple(entries)


def _manifest(entries: list[ShippedFile]) -> str:
    document: dict[str, Any] = {
        "about": (
            "GraphiQL's files exactly as Strawberry's GraphiQL page names them (package, version, "
            "file, integrity), unmodified from the npm registry's tarballs (npm pack), with the "
            f"licence files beside them. Regenerate with `{REVENDOR}`."
        ),
        "files": [
            {
                "package": entry.asset.package,
                "version": entry.asset.version,
                "file": entry.asset.path,
                "integrity": entry.asset.integrity,
                "licences": list(entry.licences),
            }
            for entry in entries
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _vendor_licences(tarball: Path, spec: str, previous: Path, staging: Path) -> tuple[str, ...]:
    """Copy the tarball's top-level licence files (else the folder's own) into staging."""
    with tarfile.open(tarball, "r:gz") as archive:
        found = sorted(
            member.name.removeprefix("package/")
            for member in archive.getmembers()
            if member.isfile()
            and member.name.count("/") == 1
            and LICENCE_NAMES.match(member.name.removeprefix("package/"))
        )
    for name in found:
        _write_atomically(staging / spec / name, _member(tarball, f"package/{name}", spec))
    kept = sorted(
        path.name
        for path in (previous / spec).glob("*")
        if path.is_file() and LICENCE_NAMES.match(path.name) and path.name not in found
    )
    if not found and not kept:
        raise AssetError(
            f"npm's {spec} has no licence file: put its licence (from its repository) in "
            f"{previous / spec}/LICENSE and run again"
        )
    for name in kept:
        _write_atomically(staging / spec / name, (previous / spec / name).read_bytes())
    return tuple(f"{spec}/{name}" for name in [*found, *kept])


class _NpmPack:
    """`npm pack` of the assets' packages into a scratch folder: {spec: tarball}."""

    def __init__(self, assets: tuple[Asset, ...], npm: str) -> None:
        self._specs = list(dict.fromkeys(asset.spec for asset in assets))
        self._npm = npm
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> dict[str, Path]:
        executable = shutil.which(self._npm)
        if executable is None:
            raise AssetError(f"{self._npm!r} is not on PATH: install Node.js and npm first")
        self._scratch = tempfile.TemporaryDirectory(prefix="ordergraph-assets-")
        scratch = self._scratch.name
        try:
            packed = subprocess.run(
                [executable, "pack", "--json", "--pack-destination", scratch, *self._specs],
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
        return {
            f"{entry['name']}@{entry['version']}": Path(scratch) / entry["filename"]
            for entry in json.loads(packed.stdout)
        }

    def __exit__(self, *_exc: object) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()


def _gzip(path: Path) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def _member(tarball: Path, name: str, spec: str) -> bytes:
    """The bytes of the file `name` inside an npm tarball (whose files sit under `package/`)."""
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            member = archive.extractfile(name)
        except KeyError:
            member = None
        if member is None:
            raise AssetError(f"{spec} has no file {name.removeprefix('package/')}")
        with member:
            return member.read()


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.write_bytes(content)
    partial.replace(target)


def _main(argv: list[str]) -> int:
    if argv != ["vendor"]:
        print(f"usage: {REVENDOR}", file=sys.stderr)
        return 2
    try:
        entries = vendor_assets()
    except AssetError as error:
        print(f"cannot vendor GraphiQL's assets: {error}", file=sys.stderr)
        return 1
    for entry in entries:
        print(SHIPPED_DIR / entry.asset.name)
    return 0


__all__ = [
    "ASSETS_PATH",
    "REVENDOR",
    "SHIPPED_DIR",
    "Asset",
    "AssetError",
    "AssetStore",
    "ShippedFile",
    "default_assets_dir",
    "fetch_assets",
    "graphiql_assets",
    "integrity_of",
    "shipped_files",
    "vendor_assets",
]

if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
