"""GraphiQL with no internet: its files fetched from npm once, served by the service."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from graph.cli import main
from graph.http.assets import AssetError, AssetStore, graphiql_assets
from graph.http.pages import GraphiqlPage
from graph.settings import Settings, SettingsError
from tests.support.browser import chromium_path, graphiql_assets_dir, node_script
from tests.support.graph import app_client, uvicorn_server

if TYPE_CHECKING:
    from pathlib import Path

HTML = {"accept": "text/html"}
SECRET = "s" * 32


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


def test_fetch_assets_fills_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graphiql_assets_dir()  # skips (or fails under CI) when npm or its registry is unreachable
    assert main(["fetch-assets", "--dir", str(tmp_path)]) == 0
    store = AssetStore(tmp_path)
    assert store.complete()
    for asset in store.assets:
        asset.check(store.file(asset).read_bytes())
    assert capsys.readouterr().out.split() == [str(store.file(a)) for a in store.assets]


async def test_graphiql_loads_every_file_from_the_service(sqlite_url: str) -> None:
    directory = graphiql_assets_dir()
    async with app_client(sqlite_url, assets="local", assets_dir=str(directory)) as client:
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
            by_url[url].check(response.content)  # the bytes the page's integrity hash names
        assert (await client.http.get("/assets/react@18.2.0/package.json")).status_code == 404


async def test_cdn_mode_and_auto_without_files_use_unpkg(sqlite_url: str, tmp_path: Path) -> None:
    for source in ("cdn", "auto"):
        async with app_client(sqlite_url, assets=source, assets_dir=str(tmp_path)) as client:
            page = await client.http.get("/graphql", headers=HTML)
            assert page.status_code == 200
            assert 'src="https://unpkg.com/graphiql@' in page.text
            assert "/assets/" not in page.text


async def test_local_mode_without_files_says_how_to_fetch_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with app_client(sqlite_url, assets="local", assets_dir=str(tmp_path)) as client:
        page = await client.http.get("/graphql", headers=HTML)
    assert page.status_code == 503
    assert "ordergraph fetch-assets" in page.text
    assert str(tmp_path) in page.text


async def test_production_serves_no_graphiql_files(sqlite_url: str) -> None:
    directory = graphiql_assets_dir()
    async with app_client(
        sqlite_url, production=True, auth_secret=SECRET, assets_dir=str(directory)
    ) as client:
        asset = graphiql_assets()[0]
        assert (await client.http.get(f"/assets/{asset.name}")).status_code == 404


@pytest.mark.parametrize("source", ["local", "cdn"])
async def test_graphiql_in_chromium_with_no_internet(sqlite_url: str, source: str) -> None:
    chromium = chromium_path()
    directory = graphiql_assets_dir()
    with uvicorn_server(sqlite_url, assets=source, assets_dir=str(directory)) as address:
        if source == "cdn":
            # The control: the stock page, its scripts blocked, stays blank.
            async with node_script(
                "graphiql_offline.cjs", f"http://{address}", "expect-blank", CHROMIUM_PATH=chromium
            ) as browser:
                blank = await browser.expect("blank")
                await browser.finish()
            assert blank["text"] == "Loading..."
            assert any(url.startswith("https://unpkg.com/") for url in blank["blocked"])
            return
        async with node_script(
            "graphiql_offline.cjs", f"http://{address}", CHROMIUM_PATH=chromium
        ) as browser:
            shown = await browser.expect("result")
            await browser.finish()
    assert shown["blocked"] == []
    assert shown["problems"] == []
    assert '"name": "order_views"' in shown["text"]
    assert '"state": "RUNNING"' in shown["text"]


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
