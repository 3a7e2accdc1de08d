"""Where the service listens, checked before anything is migrated or started: the port is free,
several processes only on PostgreSQL, and a non-loopback address only with authentication on.

`ordergraph serve` knows its address from its own options. Under `uvicorn graph.app:create_app
--factory` the factory runs before uvicorn binds its socket and before the lifespan migrates the
database and takes the projections, so it reads the address from uvicorn's own command line
(`uvicorn_address`), parsed by uvicorn's own parser (its options, defaults and `UVICORN_*`
variables alike).
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Sequence
from pathlib import Path

from graph.ops.preflight import StartupError
from graph.settings import Settings, is_loopback


def check_serving(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """`settings` may serve on host:port with `workers` processes, and nothing listens there."""
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise StartupError(
            "--workers needs PostgreSQL: SQLite has one writer, so run one process on it"
        )
    if settings.development and not is_loopback(host):
        raise StartupError(
            f"refusing to listen on {host} without authentication: development mode "
            "(no ORDERGRAPH_AUTH_SECRET) serves loopback addresses only; set "
            "ORDERGRAPH_AUTH_SECRET, or listen on 127.0.0.1"
        )
    check_port(host, port)


def check_port(host: str, port: int) -> None:
    """Nothing listens on host:port yet, and this process may (as uvicorn would bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host.strip("[]"), port), family=family):
            pass
    except OSError as error:
        where = f"{host}:{port}"
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"{where} is already in use (another ordergraph serve?): stop it, or pick "
                "another port with --port"
            ) from None
        if error.errno == errno.EACCES:
            raise StartupError(
                f"not allowed to listen on {where}: pick a port above 1023"
            ) from None
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise StartupError(
                f"cannot listen on {host!r}: not an address of this machine"
            ) from None
        raise StartupError(f"cannot listen on {where}: {error.strerror or error}") from None


def uvicorn_address(argv: Sequence[str]) -> tuple[str, int] | None:
    """The (host, port) that uvicorn's command line in `argv` binds once the app is built; None
    when `argv` is not uvicorn's (another server, `ordergraph serve`'s workers) or when the
    socket is bound before the app is built (several workers, --reload) or handed over (--fd,
    --uds)."""
    program = Path(argv[0]) if argv else Path()
    if program.stem != "uvicorn" and (program.name, program.parent.name) != (
        "__main__.py",
        "uvicorn",
    ):
        return None
    import click
    from uvicorn.main import main as uvicorn_command

    try:
        options = uvicorn_command.make_context("uvicorn", list(argv[1:])).params
    except (click.ClickException, click.exceptions.Exit):
        return None  # uvicorn accepted them, so this is not its command line after all
    workers = options["workers"] or int(os.environ.get("WEB_CONCURRENCY") or 1)
    if workers > 1 or options["reload"] or options["fd"] is not None or options["uds"]:
        return None
    return str(options["host"]), int(options["port"])


__all__ = ["check_port", "check_serving", "uvicorn_address"]
