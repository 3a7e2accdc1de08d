"""Service settings, read from ORDERGRAPH_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from domain.storage.database import DEFAULT_DATABASE_URL

ENV_PREFIX = "ORDERGRAPH_"
ASSET_SOURCES = ("auto", "local", "cdn")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Everything the composition root and the ASGI app need; defaults suit a laptop."""

    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str | None = None
    default_wait_ms: int = 5_000
    max_wait_ms: int = 10_000
    max_tokens: int = 2_000
    parser_cache_size: int = 1_000
    validation_cache_size: int = 1_000
    graphiql: bool = True
    # Upgrade the database schema on start; when off, refuse to start on an unmigrated one.
    migrate_on_start: bool = True
    # Authentication: with no secret the service runs in development mode (no authentication,
    # loopback only). Production mode needs a secret and turns off introspection, GraphiQL and
    # field suggestions.
    auth_secret: str | None = None
    production: bool = False
    # Limits on what one request may ask for.
    max_depth: int = 10
    max_aliases: int = 30
    max_cost: int = 200_000
    max_body_bytes: int = 1_000_000
    request_timeout_ms: int = 30_000
    # WebSocket limits.
    ws_init_timeout_ms: int = 10_000
    max_subscriptions_per_connection: int = 50
    # GraphiQL's scripts and styles: "local" (served from assets_dir, which `ordergraph
    # fetch-assets` fills), "cdn" (unpkg), or "auto" (local when assets_dir has them all).
    assets: str = "auto"
    assets_dir: str | None = None

    @property
    def development(self) -> bool:
        """No signing secret: no authentication, and only loopback addresses may listen."""
        return self.auth_secret is None

    def __post_init__(self) -> None:
        if self.assets not in ASSET_SOURCES:
            raise SettingsError(
                f"{ENV_PREFIX}ASSETS must be one of {', '.join(ASSET_SOURCES)}, got {self.assets!r}"
            )
        if self.production and self.auth_secret is None:
            raise SettingsError(
                "production mode needs a signing secret: set ORDERGRAPH_AUTH_SECRET "
                "(at least 32 bytes)"
            )
        if self.auth_secret is not None and len(self.auth_secret.encode()) < 32:
            raise SettingsError("ORDERGRAPH_AUTH_SECRET must be at least 32 bytes")
        if not 0 <= self.default_wait_ms <= self.max_wait_ms:
            raise SettingsError(
                f"default wait {self.default_wait_ms} ms must be between 0 and the cap "
                f"{self.max_wait_ms} ms"
            )
        for name in (
            "max_tokens",
            "parser_cache_size",
            "validation_cache_size",
            "max_depth",
            "max_aliases",
            "max_cost",
            "max_body_bytes",
            "request_timeout_ms",
            "ws_init_timeout_ms",
            "max_subscriptions_per_connection",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ORDERGRAPH_DATABASE_URL, ORDERGRAPH_MAX_WAIT_MS and friends."""
        env = os.environ if environ is None else environ
        defaults = cls()

        def text(name: str, default: str) -> str:
            return env.get(ENV_PREFIX + name) or default

        def number(name: str, default: int) -> int:
            raw = env.get(ENV_PREFIX + name)
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from None

        def flag(name: str, default: bool) -> bool:
            raw = env.get(ENV_PREFIX + name)
            if not raw:
                return default
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"{ENV_PREFIX}{name} must be true or false, got {raw!r}")

        return cls(
            database_url=text("DATABASE_URL", DEFAULT_DATABASE_URL),
            read_database_url=env.get(ENV_PREFIX + "READ_DATABASE_URL") or None,
            default_wait_ms=number("DEFAULT_WAIT_MS", 5_000),
            max_wait_ms=number("MAX_WAIT_MS", 10_000),
            max_tokens=number("MAX_TOKENS", 2_000),
            parser_cache_size=number("PARSER_CACHE_SIZE", 1_000),
            validation_cache_size=number("VALIDATION_CACHE_SIZE", 1_000),
            graphiql=flag("GRAPHIQL", True),
            migrate_on_start=flag("MIGRATE_ON_START", True),
            auth_secret=env.get(ENV_PREFIX + "AUTH_SECRET") or None,
            production=flag("PRODUCTION", False),
            max_depth=number("MAX_DEPTH", defaults.max_depth),
            max_aliases=number("MAX_ALIASES", defaults.max_aliases),
            max_cost=number("MAX_COST", defaults.max_cost),
            max_body_bytes=number("MAX_BODY_BYTES", defaults.max_body_bytes),
            request_timeout_ms=number("REQUEST_TIMEOUT_MS", defaults.request_timeout_ms),
            ws_init_timeout_ms=number("WS_INIT_TIMEOUT_MS", defaults.ws_init_timeout_ms),
            max_subscriptions_per_connection=number(
                "MAX_SUBSCRIPTIONS_PER_CONNECTION", defaults.max_subscriptions_per_connection
            ),
            assets=text("ASSETS", defaults.assets).lower(),
            assets_dir=env.get(ENV_PREFIX + "ASSETS_DIR") or None,
        )


__all__ = ["Settings", "SettingsError"]
