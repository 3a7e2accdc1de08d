"""The postgres rows: `create` and `get` against the raw routes on a throwaway PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from bench.harness import Server, admin_token
from bench.pairs import HttpRows, Plan
from bench.report import Row


def _skipped(reason: str) -> list[Row]:
    row = Row(
        name="postgres",
        product="create and get on PostgreSQL",
        baseline="raw routes on PostgreSQL",
        target=">= 0.8 / >= 0.5",
    )
    row.notes.append(f"skipped: {reason}")
    return [row]


def postgres_rows(folder: Path, plan: Plan) -> tuple[list[Row], str | None]:
    """Both rows and the server's version, or one skipped row when PostgreSQL is missing."""
    try:
        from tests.support.pgserver import PostgresServer, PostgresUnavailable
    except ImportError as error:
        return _skipped(f"tests.support.pgserver cannot be imported: {error}"), None
    try:
        pg = PostgresServer.start()
    except PostgresUnavailable as error:
        return _skipped(str(error)), None
    try:
        name = pg.create_database()
        version = pg._admin(_version)
        with Server(pg.url(name), folder / "server-pg.log") as server:
            rows = HttpRows(server.base_url, admin_token(), plan)
            order_id = rows.seed(120)
            rows_out = [rows.create("pg-create", 0.8), rows.get(order_id, "pg-get", 0.5)]
        return rows_out, version
    finally:
        pg.stop()


async def _version(connection: object) -> str:
    return str(await connection.fetchval("SHOW server_version"))  # type: ignore[attr-defined]


__all__ = ["postgres_rows"]
