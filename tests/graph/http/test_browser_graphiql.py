"""GraphiQL with no internet: its files shipped in the package (or fetched), served by the app."""

from __future__ import annotations

import logging
import re
import shutil
from typing import TYPE_CHECKING

import pytest

from graph.cli import main
from graph.http import assets as assets_module
from graph.http.assets import (
    REVENDOR,
    SHIPPED_DIR,
    AssetError,
    AssetStore,
    graphiql_assets,
    integrity_of,
    shipped_files,
)
from graph.http.pages import FETCH_HINT, GraphiqlPage
from graph.settings import Settings, SettingsError
from tests.support.browser import (
    chromium_path,
    empty_home,
    node_script,
    ordergraph_serve,
    unavailable,
)
from tests.support.graph import app_client, uvicorn_server

if TYPE_CHECKING:
    from pathlib import Path

HTML = {"accept": "text/html"}
SECRET = "s" * 32
# graphiql.min.js alone is 3.5 MB; the shipped folder stays "a few MB".
MAX_SHIPPED_BYTES = 5_000_000


@pytest.fixture
def nothing_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package as if it shipped no GraphiQL files (as after a Strawberry upgrade)."""
    empty = tmp_path / "shipped"
    empty.mkdir()
    monkeypatch.setattr(assets_module, "SHIPPED_DIR", empty)
    return empty


def test_the_assets_are_the_files_strawberrys_page_names() -> None:
    assets = graphiql_assets()
    packages = {asset.package for asset in assets}
    assert {"react", "react-dom", "graphiql"} <= packages
    assert all(asset.integrity.startswith("sha384-") for asset in assets)
    react = next(asset for asset in assets if asset.package == "react")
    assert react.cdn_url == f"https://unpkg.com/react@{react.version}/{react.path}"
    assert react.name == f"react@{react.version}/{react.path}"


def test_a_file_with_other_bytes_is_refused() -> None:
    asset = graphiql_assets()[0]
    with pytest.raises(AssetError, match="integrity"):
        asset.check(b"console.log('not react')")


def test_the_package_ships_exactly_the_files_strawberrys_page_names() -> None:
    page = set(graphiql_assets())
    shipped = {entry.asset for entry in shipped_files()}
    assert shipped == page, (
        f"Strawberry's GraphiQL page names {sorted(a.name for a in page - shipped)} but the "
        f"package ships {sorted(a.name for a in shipped - page)} (or other hashes): the "
        f"installed Strawberry changed its GraphiQL files; re-vendor them with `{REVENDOR}`"
    )
    for entry in shipped_files():
        content = (SHIPPED_DIR / entry.asset.name).read_bytes()
        assert integrity_of(content) == entry.asset.integrity, entry.asset.name


def test_each_shipped_package_has_its_licence_beside_it_and_nothing_else_is_shipped() -> None:
    entries = shipped_files()
    for entry in entries:
        assert entry.licences, f"{entry.asset.spec} ships without a licence file"
        for licence in entry.licences:
            assert licence.startswith(f"{entry.asset.spec}/"), licence
            text = (SHIPPED_DIR / licence).read_text(encoding="utf-8")
            assert "Permission is hereby granted" in text, licence  # all five are MIT
    expected = {"manifest.json", "README.md", ".gitattributes"}
    expected |= {entry.asset.name for entry in entries}
    expected |= {licence for entry in entries for licence in entry.licences}
    present = {
        path.relative_to(SHIPPED_DIR).as_posix()
        for path in SHIPPED_DIR.rglob("*")
        if path.is_file()
    }
    assert present == expected
    size = sum((SHIPPED_DIR / name).stat().st_size for name in present)
    assert size < MAX_SHIPPED_BYTES, f"the shipped GraphiQL files take {size} bytes"


def test_fetch_assets_fills_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("npm") is None:
        unavailable("npm is not on PATH")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))  # not ~/.npm
    target = tmp_path / "assets"
    if main(["fetch-assets", "--dir", str(target)]) != 0:  # one line: no registry reachable
        unavailable(capsys.readouterr().err.strip())
    store = AssetStore(target)
    assert all(store.file(asset).is_file() for asset in store.assets)
    for asset in store.assets:
        asset.check(store.file(asset).read_bytes())
    assert capsys.readouterr().out.split() == [str(store.file(a)) for a in store.assets]


@pytest.mark.parametrize("source", ["auto", "local"])
async def test_graphiql_loads_every_file_from_the_package_with_an_empty_cache(
    sqlite_url: str, tmp_path: Path, source: str
) -> None:
    cache = tmp_path / "cache"
    async with app_client(sqlite_url, assets=source, assets_dir=str(cache)) as client:
        page = await client.http.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert "unpkg.com" not in page.text
        urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
        assert len(urls) == len(graphiql_assets())
        by_url = {f"/assets/{asset.name}": asset for asset in graphiql_assets()}
        for url in urls:
            response = await client.http.get(url)
            assert response.status_code == 200, url
            assert "immutable" in response.headers["cache-control"]
            assert response.headers["content-encoding"] == "gzip"
            by_url[url].check(response.content)  # the bytes the page's integrity hash names
            plain = await client.http.get(url, headers={"accept-encoding": "identity"})
            assert "content-encoding" not in plain.headers
            assert plain.headers["content-type"] == response.headers["content-type"]
            by_url[url].check(plain.content)
        for other in ("react@18.2.0/package.json", "react@18.2.0/LICENSE", "manifest.json"):
            assert (await client.http.get(f"/assets/{other}")).status_code == 404
    assert not cache.exists()  # the cache was not needed, nor written


def test_the_cache_serves_what_the_package_does_not_ship(tmp_path: Path) -> None:
    cache, nothing = tmp_path / "cache", tmp_path / "nothing"
    nothing.mkdir()
    for asset in graphiql_assets():
        (cache / asset.name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHIPPED_DIR / asset.name, cache / asset.name)
    store = AssetStore(cache, shipped=nothing)
    assert store.complete()
    assert all(store.source(asset) == store.file(asset) for asset in store.assets)
    page = GraphiqlPage(Settings(assets_dir=str(cache)), shipped=nothing).response()
    assert b'src="/assets/graphiql@' in bytes(page.body)
    # Where both hold a file, the shipped one is served: a spoilt cache cannot break the page.
    (cache / store.assets[0].name).write_bytes(b"half a download")
    assert AssetStore(cache).source(store.assets[0]) == SHIPPED_DIR / store.assets[0].name


async def test_without_files_the_page_says_what_to_run_and_the_log_says_it_once(
    sqlite_url: str, tmp_path: Path, nothing_shipped: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "empty-cache"
    caplog.set_level(logging.WARNING, logger="ordergraph.pages")
    async with app_client(sqlite_url, assets_dir=str(cache)) as client:
        pages = [await client.http.get("/graphql", headers=HTML) for _ in range(3)]
    for page in pages:
        assert page.status_code == 200
        assert 'src="https://unpkg.com/graphiql@' in page.text
        assert "/assets/" not in page.text
        assert FETCH_HINT in page.text
        assert "Loading...</div>" not in page.text
    warnings = [r.getMessage() for r in caplog.records if r.name == "ordergraph.pages"]
    assert len(warnings) == 1, warnings
    assert FETCH_HINT in warnings[0]
    assert str(cache) in warnings[0]
    assert "unpkg.com" in warnings[0]


async def test_cdn_mode_uses_unpkg_and_says_what_to_run_if_it_is_unreachable(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ordergraph.pages")
    async with app_client(sqlite_url, assets="cdn") as client:
        page = await client.http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert 'src="https://unpkg.com/graphiql@' in page.text
    assert "/assets/" not in page.text
    assert FETCH_HINT in page.text
    assert not [r for r in caplog.records if r.name == "ordergraph.pages"]  # it was asked for


async def test_local_mode_without_files_says_how_to_fetch_them(
    sqlite_url: str, tmp_path: Path, nothing_shipped: Path
) -> None:
    async with app_client(sqlite_url, assets="local", assets_dir=str(tmp_path)) as client:
        page = await client.http.get("/graphql", headers=HTML)
    assert page.status_code == 503
    assert FETCH_HINT in page.text
    assert str(tmp_path) in page.text


async def test_production_serves_no_graphiql_files(sqlite_url: str) -> None:
    async with app_client(sqlite_url, production=True, auth_secret=SECRET) as client:
        asset = graphiql_assets()[0]
        assert (await client.http.get(f"/assets/{asset.name}")).status_code == 404


async def test_the_cdn_page_in_chromium_with_no_internet_says_what_to_run(
    sqlite_url: str,
) -> None:
    chromium = chromium_path()
    with uvicorn_server(sqlite_url, assets="cdn") as address:
        async with node_script(
            "graphiql_offline.cjs", f"http://{address}", "expect-blank", CHROMIUM_PATH=chromium
        ) as browser:
            blank = await browser.expect("blank")
            await browser.finish()
    assert blank["editors"] == 0
    assert blank["text"].startswith("Loading GraphiQL from unpkg.com")
    assert FETCH_HINT in blank["text"]
    assert any(url.startswith("https://unpkg.com/") for url in blank["blocked"])


async def test_graphiql_renders_offline_right_after_serve_with_a_fresh_home(
    tmp_path: Path,
) -> None:
    """The README's first command on a new machine: `ordergraph serve` with an empty HOME (so
    an empty assets cache) and the default ORDERGRAPH_ASSETS=auto, then GraphiQL in a Chromium
    whose profile is new and which reaches nothing but 127.0.0.1."""
    chromium = chromium_path()
    server_home, workdir = tmp_path / "server-home", tmp_path / "work"
    server_home.mkdir()
    workdir.mkdir()
    browser_home = empty_home()
    profile = browser_home / "chromium-profile"
    with ordergraph_serve(server_home, workdir) as (base, log):
        async with node_script(
            "graphiql_offline.cjs",
            base,
            CHROMIUM_PATH=chromium,
            HOME=str(browser_home),
            CHROMIUM_USER_DATA_DIR=str(profile),
        ) as browser:
            rendered = await browser.expect("rendered")
            shown = await browser.expect("result")
            await browser.finish()
    assert rendered["editor"] == 1  # GraphiQL's query editor (CodeMirror) is on the page
    assert "projections" in rendered["editorText"]
    assert shown["blocked"] == []  # it asked for nothing beyond the service
    assert shown["problems"] == []
    assets = sorted(item["path"] for item in shown["loaded"] if item["path"].startswith("/assets/"))
    assert assets == sorted(f"/assets/{asset.name}" for asset in graphiql_assets())
    assert all(item["status"] == 200 for item in shown["loaded"]), shown["loaded"]
    assert '"name": "order_views"' in shown["text"]
    assert '"state": "RUNNING"' in shown["text"]
    assert list(server_home.iterdir()) == []  # the service wrote nothing into its HOME
    assert any(profile.iterdir())  # Chromium kept its profile where it was told
    assert FETCH_HINT not in log.read_text()


def test_a_page_with_no_hashed_files_falls_back_to_the_cdn(tmp_path: Path) -> None:
    template = '<script src="https://unpkg.com/graphiql@9.0.0/graphiql.min.js"></script>'
    with pytest.raises(AssetError, match="no unpkg file"):
        graphiql_assets(template)
    auto = GraphiqlPage(Settings(assets_dir=str(tmp_path)), template)
    assert bytes(auto.response().body) == template.encode()
    local = GraphiqlPage(Settings(assets="local", assets_dir=str(tmp_path)), template)
    assert local.response().status_code == 503
    assert b"cannot load from local files" in bytes(local.response().body)


def test_the_assets_setting_comes_from_the_environment() -> None:
    settings = Settings.from_env({"ORDERGRAPH_ASSETS": "CDN", "ORDERGRAPH_ASSETS_DIR": "/srv/a"})
    assert (settings.assets, settings.assets_dir) == ("cdn", "/srv/a")
    assert Settings.from_env({}).assets == "auto"
    with pytest.raises(SettingsError, match="ORDERGRAPH_ASSETS must be one of auto, local, cdn"):
        Settings.from_env({"ORDERGRAPH_ASSETS": "offline"})
