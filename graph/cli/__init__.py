"""The `ordergraph` command: serve, migrate, seed, rebuild, status, export-schema, make-migration,
token, fetch-assets and bench.

A syntax error (an unknown option, a missing argument, a value of the wrong form) prints
argparse's usage block and exits 2. Every other refusal is one line on stderr naming what to
fix, and exit status 1: the commands raise StartupError (or a settings, schema or database
error), and `main` is the one place that prints them.

This package is wiring, like `graph/app.py`: it may use every room of graph/ (the HTTP edge for
uvicorn's protocol and tokens, the operations, the composition root).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from graph.cli import tools
from graph.cli.parser import build_parser
from graph.observe.trace_config import tracing_from_env
from graph.ops.listen import check_serving
from graph.ops.migrate import SchemaMismatch
from graph.ops.preflight import StartupError, check_url, describe
from graph.ops.terminal import shown_url
from graph.settings import Settings, SettingsError, unknown_variables
from readmodels.registry import PROJECTION_NAMES

EXIT_REFUSED = 1
# What stops a command with one line (each says what to fix).
REFUSALS = (StartupError, SchemaMismatch, SettingsError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ordergraph` console script."""
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        if arguments[:1] == ["bench"]:
            # Everything after `bench` is the benchmark's own (its --help included).
            return tools.run_bench(arguments[1:])
        return _run(parser.parse_args(arguments))
    except REFUSALS as error:
        print(f"ordergraph: error: {error}", file=sys.stderr)
        return EXIT_REFUSED


def _run(args: argparse.Namespace) -> int:
    if args.command == "export-schema":
        tools.export_schema(args.output)
    elif args.command == "token":
        print(tools.mint_token(args.role, args.subject, args.hours))
    elif args.command == "make-migration":
        print(tools.make_migration(args.message))
    elif args.command == "fetch-assets":
        for path in tools.fetch_assets(args.dir):
            print(path)
    else:
        _run_on_database(args, _settings(args.database_url))
    return 0


def _settings(database_url: str | None) -> Settings:
    """The environment's settings with `--database-url` applied, their URLs checked."""
    settings = Settings.from_env()
    if database_url is not None:
        settings = dataclasses.replace(settings, database_url=database_url)
    for url in filter(None, (settings.database_url, settings.read_database_url)):
        check_url(url)
    for warning in unknown_variables():
        print(f"ordergraph: warning: {warning}", file=sys.stderr)
    return settings


def _run_on_database(args: argparse.Namespace, settings: Settings) -> None:
    """The commands that use the database; a failure of the database itself is one line too."""
    tracing = None
    if args.command == "serve":
        check_serving(settings, args.host, args.port, args.workers)
        tracing = tracing_from_env()  # a bad OTEL_* value is refused before any migration
    try:
        _database_command(args, settings)
    except (OSError, SQLAlchemyError) as error:
        raise StartupError(
            f"cannot use the database {shown_url(settings.database_url)!r}: {describe(error)}"
        ) from error
    if args.command == "serve":
        from graph.cli.serve import serve

        serve(settings, args.host, args.port, args.workers, args.log_format, tracing)


def _database_command(args: argparse.Namespace, settings: Settings) -> None:
    from graph.cli import maintenance

    if args.command == "serve":
        from graph.cli.serve import prepare_to_serve

        prepare_to_serve(settings, args.log_format)
    elif args.command == "rebuild":
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
