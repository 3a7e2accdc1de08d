"""The `ordergraph` command: serve, migrate, seed, rebuild, status, export-schema, token and
fetch-assets."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from domain.storage.database import Database, DatabaseUrlError
from graph.api.identity import Role
from graph.http.auth import TokenAuthority, is_loopback
from graph.http.request_log import LOG_FORMATS, configure_logging
from graph.ops.migrate import SchemaMismatch
from graph.ops.preflight import StartupError, check_port, check_sqlite, describe
from graph.ops.terminal import shown_url
from graph.settings import Settings, SettingsError, unknown_variables
from readmodels.projections import PROJECTION_NAMES

EXIT_USAGE = 2
MIGRATE_OFF_HINT = (
    "ORDERGRAPH_MIGRATE_ON_START=false only checks an existing database: run "
    "`ordergraph migrate` first"
)

log = logging.getLogger("ordergraph.cli")


class _Parser(argparse.ArgumentParser):
    """argparse whose errors print the usage and a clear message, then exit 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ordergraph", description="The ordergraph orders service.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def with_database(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--database-url",
            help="SQLAlchemy async URL (default: $ORDERGRAPH_DATABASE_URL or ./ordergraph.db)",
        )

    serve = commands.add_parser("serve", help="serve the GraphQL API with uvicorn")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="server processes on one PostgreSQL database (default 1)",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text, or one JSON object per line (default: %(default)s)",
    )
    with_database(serve)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to this release")
    with_database(migrate)

    bench = commands.add_parser(
        "bench",
        help="run the benchmark (python -m bench) from this source checkout",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="python -m bench's options")

    revision = commands.add_parser(
        "make-migration",
        help="write a new schema revision for what the code defines and the migrations lack",
    )
    revision.add_argument("message", help="what the revision does, e.g. 'gift notes'")

    seed = commands.add_parser("seed", help="fill the database with demo orders (CommandBus)")
    seed.add_argument("--orders", type=_positive, default=200)
    seed.add_argument("--customers", type=_positive, default=20)
    with_database(seed)

    export = commands.add_parser("export-schema", help="print the schema in SDL")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")

    rebuild = commands.add_parser("rebuild", help="rebuild projections from the event log")
    which = rebuild.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", choices=PROJECTION_NAMES, help="the projection")
    which.add_argument("--all", action="store_true", help="every projection")
    with_database(rebuild)

    status = commands.add_parser(
        "status", help="each projection's state, position and lag, and whether a server runs it"
    )
    with_database(status)

    token = commands.add_parser(
        "token", help="mint a bearer token signed with $ORDERGRAPH_AUTH_SECRET (for local use)"
    )
    token.add_argument("--role", required=True, choices=[role.value for role in Role])
    token.add_argument("--subject", required=True, help="the customer id, or a staff member's id")
    token.add_argument("--hours", type=float, default=12.0, help="validity (default 12)")

    assets = commands.add_parser(
        "fetch-assets", help="fetch GraphiQL's scripts from the npm registry, to serve offline"
    )
    assets.add_argument(
        "--dir",
        type=Path,
        help="where (default: $ORDERGRAPH_ASSETS_DIR or ~/.cache/ordergraph/assets)",
    )
    return parser


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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Check what can be checked before anything starts (the port first, then the databases,
    migrated here), then serve."""
    from graph.ops.maintenance import prepare_databases
    from graph.ops.serve import serve

    try:
        check_port(args.host, args.port)
        for url in filter(None, (settings.database_url, settings.read_database_url)):
            check_sqlite(url, create=settings.migrate_on_start, missing_hint=MIGRATE_OFF_HINT)
        # Only once the arguments are accepted: a refused serve leaves the logging as it was.
        configure_logging(args.log_format)
        if settings.development:
            log.warning(
                "development mode: no ORDERGRAPH_AUTH_SECRET, so no authentication "
                "(every caller is an admin); listening on loopback only"
            )
        for line in asyncio.run(prepare_databases(settings)):
            log.info("migrated %s", line)
    except (StartupError, SchemaMismatch) as error:
        _fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        _fail(f"cannot use the database {shown_url(settings.database_url)!r}: {describe(error)}")
    serve(settings, args.host, args.port, args.workers, args.log_format)
    return 0


def _token(parser: argparse.ArgumentParser, role: str, subject: str, hours: float) -> int:
    secret = os.environ.get("ORDERGRAPH_AUTH_SECRET")
    if not secret:
        parser.error("set ORDERGRAPH_AUTH_SECRET (the server's signing secret) to mint a token")
    try:
        authority = TokenAuthority(secret)
    except ValueError as error:
        parser.error(str(error))
    print(authority.mint(subject, Role(role), ttl=timedelta(hours=hours)))
    return 0


def _fetch_assets(parser: argparse.ArgumentParser, directory: Path | None) -> int:
    from graph.http.assets import AssetError, fetch_assets
    from graph.http.pages import asset_store

    try:
        target = directory or asset_store(Settings.from_env()).directory
        assets = fetch_assets(target)
    except (AssetError, SettingsError, OSError) as error:
        parser.error(f"cannot fetch GraphiQL's assets: {error}")
    for asset in assets:
        print(target / asset.name)
    return 0


def _bench(parser: argparse.ArgumentParser, arguments: list[str]) -> int:
    """Hand over to `python -m bench`, which lives beside the packages in a source checkout."""
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "bench" / "__main__.py").is_file():
        parser.error("the benchmark ships with the source checkout: run it from a clone")
    return subprocess.call([sys.executable, "-m", "bench", *arguments], cwd=checkout)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ordergraph` console script."""
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["bench"]:
        # Everything after `bench` is the benchmark's own (its --help included).
        return _bench(parser, arguments[1:])
    args = parser.parse_args(arguments)
    if args.command == "export-schema":
        from graph.api.schema import export_sdl

        sdl = export_sdl()
        if args.output is None:
            sys.stdout.write(sdl)
        else:
            try:
                args.output.write_text(sdl, encoding="utf-8")
            except OSError as error:
                parser.error(f"cannot write {args.output}: {error.strerror}")
        return 0
    if args.command == "token":
        return _token(parser, args.role, args.subject, args.hours)
    if args.command == "make-migration":
        from graph.ops.migrate import new_revision

        print(new_revision(args.message))
        return 0
    if args.command == "fetch-assets":
        return _fetch_assets(parser, args.dir)
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
        return _serve(args, settings)
    from graph.ops import maintenance

    try:
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
    except (StartupError, SchemaMismatch) as error:
        _fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        _fail(f"cannot use the database {shown_url(settings.database_url)!r}: {describe(error)}")
    return 0


__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
