"""The commands that touch no database: export-schema, make-migration, token, fetch-assets and
bench."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from graph.http.auth import Role, TokenAuthority
from graph.settings import Settings, SettingsError


def export_schema(parser: argparse.ArgumentParser, output: Path | None) -> int:
    from graph.api.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        sys.stdout.write(sdl)
        return 0
    try:
        output.write_text(sdl, encoding="utf-8")
    except OSError as error:
        parser.error(f"cannot write {output}: {error.strerror}")
    return 0


def make_migration(message: str) -> int:
    from graph.ops.migrate import new_revision

    print(new_revision(message))
    return 0


def mint_token(parser: argparse.ArgumentParser, role: str, subject: str, hours: float) -> int:
    secret = os.environ.get("ORDERGRAPH_AUTH_SECRET")
    if not secret:
        parser.error("set ORDERGRAPH_AUTH_SECRET (the server's signing secret) to mint a token")
    try:
        authority = TokenAuthority(secret)
    except ValueError as error:
        parser.error(str(error))
    print(authority.mint(subject, Role(role), ttl=timedelta(hours=hours)))
    return 0


def fetch_assets(parser: argparse.ArgumentParser, directory: Path | None) -> int:
    from graph.http.assets import AssetError
    from graph.http.assets import fetch_assets as fetch
    from graph.http.pages import asset_store

    try:
        target = directory or asset_store(Settings.from_env()).directory
        assets = fetch(target)
    except (AssetError, SettingsError, OSError) as error:
        parser.error(f"cannot fetch GraphiQL's assets: {error}")
    for asset in assets:
        print(target / asset.name)
    return 0


def run_bench(parser: argparse.ArgumentParser, arguments: list[str]) -> int:
    """Hand over to `python -m bench`, which lives beside the packages in a source checkout."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "bench" / "__main__.py").is_file():
        parser.error("the benchmark ships with the source checkout: run it from a clone")
    return subprocess.call([sys.executable, "-m", "bench", *arguments], cwd=checkout)


__all__ = ["export_schema", "fetch_assets", "make_migration", "mint_token", "run_bench"]
