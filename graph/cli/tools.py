"""The commands that touch no database: export-schema, make-migration, token, fetch-assets and
bench. A refusal is a StartupError, one line naming what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from graph.ops.preflight import StartupError
from graph.settings import Settings


def export_schema(output: Path | None) -> None:
    """The schema's SDL on stdout, or in `output`."""
    from graph.api.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        sys.stdout.write(sdl)
        return
    try:
        output.write_text(sdl, encoding="utf-8")
    except OSError as error:
        raise StartupError(f"cannot write {output}: {error.strerror or error}") from None


def make_migration(message: str) -> str:
    """Write a revision for what the code defines and the migrations lack; what was done, in
    one line (the file written, or that there was nothing to write)."""
    from graph.ops.migrate import new_revision

    written = new_revision(message)
    if written is None:
        return "no schema change to write: the migrations already build what the code defines"
    return str(written)


def mint_token(role: str, subject: str, hours: float) -> str:
    """A bearer token signed with $ORDERGRAPH_AUTH_SECRET."""
    secret = os.environ.get("ORDERGRAPH_AUTH_SECRET")
    if not secret:
        raise StartupError(
            "set ORDERGRAPH_AUTH_SECRET (the server's signing secret) to mint a token"
        )
    try:
        authority = TokenAuthority(secret)
    except ValueError as error:
        raise StartupError(str(error)) from None
    return authority.mint(subject, Role(role), ttl=timedelta(hours=hours))


def fetch_assets(directory: Path | None) -> list[Path]:
    """GraphiQL's files fetched into `directory` (default: the configured assets folder)."""
    from graph.http.assets import AssetError
    from graph.http.assets import fetch_assets as fetch
    from graph.http.pages import asset_store

    target = directory or asset_store(Settings.from_env()).directory
    try:
        return [target / asset.name for asset in fetch(target)]
    except (AssetError, OSError) as error:
        raise StartupError(f"cannot fetch GraphiQL's assets: {error}") from None


def run_bench(arguments: list[str]) -> int:
    """Hand over to `python -m bench`, which lives beside the packages in a source checkout."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "bench" / "__main__.py").is_file():
        raise StartupError("the benchmark ships with the source checkout: run it from a clone")
    return subprocess.call([sys.executable, "-m", "bench", *arguments], cwd=checkout)


__all__ = ["export_schema", "fetch_assets", "make_migration", "mint_token", "run_bench"]
