"""The `ordergraph` command line: its subcommands, their options, and what a syntax error looks
like (argparse's usage block and exit status 2; every other refusal is one line, see `main`)."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from graph.api.identity import Role
from graph.http.request_log import LOG_FORMATS
from readmodels.registry import PROJECTION_NAMES

EXIT_USAGE = 2


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


def _with_database(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--database-url",
        help="SQLAlchemy async URL (default: $ORDERGRAPH_DATABASE_URL or ./ordergraph.db)",
    )


def version() -> str:
    """This installation's version, as its package metadata records it."""
    try:
        return metadata.version("ordergraph")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ordergraph", description="The ordergraph orders service.")
    parser.add_argument("--version", action="version", version=f"ordergraph {version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    _with_database(serve)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to this release")
    _with_database(migrate)

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
    _with_database(seed)

    export = commands.add_parser("export-schema", help="print the schema in SDL")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")

    rebuild = commands.add_parser("rebuild", help="rebuild projections from the event log")
    which = rebuild.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", choices=PROJECTION_NAMES, help="the projection")
    which.add_argument("--all", action="store_true", help="every projection")
    _with_database(rebuild)

    status = commands.add_parser(
        "status", help="each projection's state, position and lag, and whether a server runs it"
    )
    _with_database(status)

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


__all__ = ["build_parser", "version"]
