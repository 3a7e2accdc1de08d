"""The `ordergraph` command: serve, migrate, seed, rebuild, status, export-schema, make-migration,
token, fetch-assets and bench.

This package is wiring, like `graph/app.py`: it may use every room of graph/ (the HTTP edge for
uvicorn's protocol and tokens, the operations, the composition root).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from domain.storage.database import Database, DatabaseUrlError
from graph.cli import tools
from graph.cli.parser import build_parser
from graph.http.auth import is_loopback
from graph.ops.migrate import SchemaMismatch
from graph.ops.preflight import StartupError, describe
from graph.ops.terminal import shown_url
from graph.settings import Settings, SettingsError, unknown_variables
from readmodels.projections import PROJECTION_NAMES


def _settings(parser: argparse.ArgumentParser, database_url: str | None) -> Settings:
    """The environment's settings with `--database-url` applied, checked before use."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        _fail(str(error))
    if database_url is not None:
        settings = dataclasses.replace(settings, database_url=database_url)
    for url in filter(None, (settings.database_url, settings.read_database_url)):
        try:
            Database(url).write_engine.sync_engine.dispose()
        except (DatabaseUrlError, ArgumentError, ImportError) as error:
            parser.error(f"bad database URL {shown_url(url)!r}: {error}")
    return settings


def _fail(message: str) -> NoReturn:
    """An operator error (not a usage one): one line on stderr, exit status 1."""
    sys.exit(f"ordergraph: error: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ordergraph` console script."""
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["bench"]:
        # Everything after `bench` is the benchmark's own (its --help included).
        return tools.run_bench(parser, arguments[1:])
    args = parser.parse_args(arguments)
    if args.command == "export-schema":
        return tools.export_schema(parser, args.output)
    if args.command == "token":
        return tools.mint_token(parser, args.role, args.subject, args.hours)
    if args.command == "make-migration":
        return tools.make_migration(args.message)
    if args.command == "fetch-assets":
        return tools.fetch_assets(parser, args.dir)
    settings = _settings(parser, args.database_url)
    for warning in unknown_variables():
        print(f"ordergraph: warning: {warning}", file=sys.stderr)
    if args.command == "serve":
        if args.workers > 1 and settings.database_url.startswith("sqlite"):
            parser.error(
                "--workers needs PostgreSQL: SQLite has one writer, so run one process on it"
            )
        if settings.development and not is_loopback(args.host):
            parser.error(
                f"refusing to listen on {args.host} without authentication: development mode "
                "(no ORDERGRAPH_AUTH_SECRET) serves loopback addresses only"
            )
    try:
        _run_on_database(args, settings)
    except (StartupError, SchemaMismatch) as error:
        _fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        _fail(f"cannot use the database {shown_url(settings.database_url)!r}: {describe(error)}")
    if args.command == "serve":
        from graph.cli.serve import serve

        serve(settings, args.host, args.port, args.workers, args.log_format)
    return 0


def _run_on_database(args: argparse.Namespace, settings: Settings) -> None:
    """The commands that use the database (for serve: the checks and migrations before it)."""
    if args.command == "serve":
        from graph.cli.serve import prepare_to_serve

        prepare_to_serve(settings, args.host, args.port, args.log_format)
        return
    from graph.cli import maintenance

    if args.command == "rebuild":
        names = PROJECTION_NAMES if args.all else (args.name,)
        asyncio.run(maintenance.rebuild_projections(settings, names, sys.stderr))
    elif args.command == "migrate":
        print(asyncio.run(maintenance.migrate_databases(settings)))
    elif args.command == "seed":
        seeded = maintenance.seed_demo(settings, args.orders, args.customers, sys.stderr)
        print(asyncio.run(seeded))
    else:
        print(asyncio.run(maintenance.projection_status(settings)))


__all__ = ["build_parser", "main"]
