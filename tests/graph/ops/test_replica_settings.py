"""ORDERGRAPH_REPLICA_URLS: PostgreSQL standbys, comma-separated, refused in one line where
they cannot be."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import Settings, SettingsError
from tests.support.commands import error_line, ordergraph

PRIMARY = "postgresql+asyncpg://app@db-primary/orders"


def test_replica_urls_are_read_comma_separated_as_asyncpg() -> None:
    settings = Settings.from_env(
        {
            "ORDERGRAPH_DATABASE_URL": PRIMARY,
            "ORDERGRAPH_REPLICA_URLS": " postgresql://app@db-r1/orders ,postgres://app:pw@db-r2:6432"
            "/orders,",
            "ORDERGRAPH_REPLICA_WAIT_MS": "40",
        }
    )
    assert settings.replica_urls == (
        "postgresql+asyncpg://app@db-r1/orders",
        "postgresql+asyncpg://app:pw@db-r2:6432/orders",
    )
    assert settings.replica_wait_ms == 40
    assert Settings.from_env({}).replica_urls == ()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"replica_urls": ("postgresql+asyncpg://r/orders",)},
            "ORDERGRAPH_REPLICA_URLS needs PostgreSQL: replicas are streaming standbys of the "
            "views database, and it is sqlite here",
        ),
        (
            {"database_url": PRIMARY, "replica_urls": ("mysql://r/orders",)},
            "ORDERGRAPH_REPLICA_URLS must list PostgreSQL URLs (postgresql://user@host/dbname, "
            "comma-separated), got a mysql:// URL",
        ),
        (
            {"database_url": PRIMARY, "replica_urls": ("r:secret@host",)},
            "got no URL",
        ),
        (
            {"database_url": PRIMARY, "replica_wait_ms": -1},
            "ORDERGRAPH_REPLICA_WAIT_MS must be 0 or more milliseconds",
        ),
    ],
)
def test_replicas_that_cannot_be_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(**settings)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert "secret" not in str(refused.value)


def test_replicas_of_a_sqlite_database_are_one_line_at_start(tmp_path: Path) -> None:
    result = ordergraph(
        "status", cwd=tmp_path, ORDERGRAPH_REPLICA_URLS="postgresql://app@db-r1/orders"
    )
    assert "ORDERGRAPH_REPLICA_URLS needs PostgreSQL" in error_line(result)
    assert list(tmp_path.iterdir()) == []
