"""Service settings, read from ORDERGRAPH_* environment variables."""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.storage.database import DEFAULT_DATABASE_URL, database_url

ENV_PREFIX = "ORDERGRAPH_"
ASSET_SOURCES = ("auto", "local", "cdn")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Everything the composition root and the ASGI app need; defaults suit a laptop."""

    # A SQLAlchemy URL, postgresql:// or postgres:// (asyncpg), or a SQLite file path; held as
    # the URL it means (domain.storage.database.database_url).
    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str | None = None
    # PostgreSQL streaming standbys of the views database (read_database_url, else
    # database_url): reads go there, each proving its freshness (docs/deployment.md).
    replica_urls: tuple[str, ...] = ()
    # How long a read whose position the views database has applied waits for a lagging
    # replica before the views database answers it (never past the read's own timeout).
    replica_wait_ms: int = 250
    default_wait_ms: int = 5_000
    max_wait_ms: int = 10_000
    max_tokens: int = 2_000
    # A document's size in bytes (the body limit applies too, on every transport).
    max_document_bytes: int = 100_000
    # The one cache of prepared operations: entries, and the bytes they are estimated to hold.
    prepared_cache_size: int = 1_000
    prepared_cache_bytes: int = 64_000_000
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
    # Open HTTP streams (graphql-sse, multipart subscriptions) one process holds at most.
    max_http_streams: int = 1_000
    # GraphiQL's scripts and styles: "local" (served from assets_dir, which `ordergraph
    # fetch-assets` fills), "cdn" (unpkg), or "auto" (local when assets_dir has them all).
    assets: str = "auto"
    assets_dir: str | None = None
    # Browser apps on these origins may call the API (CORS); none by default. "*" is any origin.
    cors_origins: tuple[str, ...] = ()
    # Apollo's automatic persisted queries: how many documents the database keeps by hash (and
    # each process in memory in front of it).
    persisted_queries: int = 1_000
    # GET /graphql/schema.graphql serves the SDL; None: everywhere but in production mode.
    schema_sdl: bool | None = None
    # Host names the service answers to (Starlette's TrustedHostMiddleware: "api.example.com",
    # "*.example.com"); none: any. Development mode answers only loopback names whatever this is.
    allowed_hosts: tuple[str, ...] = ()
    # /metrics: distinct operation names counted apart; later ones share "(overflow)".
    metrics_operation_names: int = 100

    @property
    def serves_sdl(self) -> bool:
        """Whether GET /graphql/schema.graphql answers."""
        return not self.production if self.schema_sdl is None else self.schema_sdl

    @property
    def development(self) -> bool:
        """No signing secret: no authentication, and only loopback addresses (`is_loopback`)
        may listen."""
        return self.auth_secret is None

    def __post_init__(self) -> None:
        # postgresql://, postgres:// and a plain file path, as every caller may give them.
        object.__setattr__(self, "database_url", database_url(self.database_url))
        if self.read_database_url is not None:
            object.__setattr__(self, "read_database_url", database_url(self.read_database_url))
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
        if self.max_wait_ms < 0:
            raise SettingsError(
                f"{ENV_PREFIX}MAX_WAIT_MS must be 0 or more milliseconds, got {self.max_wait_ms}"
            )
        if not 0 <= self.default_wait_ms <= self.max_wait_ms:
            raise SettingsError(
                f"{ENV_PREFIX}DEFAULT_WAIT_MS must be between 0 and {ENV_PREFIX}MAX_WAIT_MS "
                f"({self.max_wait_ms} ms), got {self.default_wait_ms}"
            )
        for origin in self.cors_origins:
            if origin != "*" and not _is_origin(origin):
                raise SettingsError(
                    f"{ENV_PREFIX}CORS_ORIGINS must list origins like https://app.example.com "
                    f"(scheme, host and port only) or *, got {origin!r}"
                )
        for host in self.allowed_hosts:
            if "*" in host[1:] or (host.startswith("*") and not host.startswith("*.")):
                raise SettingsError(
                    f"{ENV_PREFIX}ALLOWED_HOSTS must list host names like api.example.com or "
                    f"*.example.com, got {host!r}"
                )
        self._check_replicas()
        if self.persisted_queries < 0:
            raise SettingsError(f"{ENV_PREFIX}PERSISTED_QUERIES must be 0 (off) or more")
        for name in (
            "max_tokens",
            "max_document_bytes",
            "prepared_cache_size",
            "prepared_cache_bytes",
            "max_depth",
            "max_aliases",
            "max_cost",
            "max_body_bytes",
            "request_timeout_ms",
            "ws_init_timeout_ms",
            "max_subscriptions_per_connection",
            "max_http_streams",
            "metrics_operation_names",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")

    def _check_replicas(self) -> None:
        if self.replica_wait_ms < 0:
            raise SettingsError(f"{ENV_PREFIX}REPLICA_WAIT_MS must be 0 or more milliseconds")
        if not self.replica_urls:
            return
        views = self.read_database_url or self.database_url
        if _scheme(views) != "postgresql":
            raise SettingsError(
                f"{ENV_PREFIX}REPLICA_URLS needs PostgreSQL: replicas are streaming standbys of "
                f"the views database, and it is {_scheme(views) or 'a file'} here"
            )
        for url in self.replica_urls:
            if not url.startswith("postgresql+asyncpg://"):
                scheme, found, _rest = url.partition("://")
                raise SettingsError(
                    f"{ENV_PREFIX}REPLICA_URLS must list PostgreSQL URLs (postgresql://user@host/"
                    f"dbname, comma-separated), got {f'a {scheme}:// URL' if found else 'no URL'}"
                )

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
            replica_urls=tuple(
                database_url(url.strip())
                for url in text("REPLICA_URLS", "").split(",")
                if url.strip()
            ),
            replica_wait_ms=number("REPLICA_WAIT_MS", defaults.replica_wait_ms),
            default_wait_ms=number("DEFAULT_WAIT_MS", 5_000),
            max_wait_ms=number("MAX_WAIT_MS", 10_000),
            max_tokens=number("MAX_TOKENS", 2_000),
            max_document_bytes=number("MAX_DOCUMENT_BYTES", defaults.max_document_bytes),
            prepared_cache_size=number("PREPARED_CACHE_SIZE", defaults.prepared_cache_size),
            prepared_cache_bytes=number("PREPARED_CACHE_BYTES", defaults.prepared_cache_bytes),
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
            max_http_streams=number("MAX_HTTP_STREAMS", defaults.max_http_streams),
            assets=text("ASSETS", defaults.assets).lower(),
            assets_dir=env.get(ENV_PREFIX + "ASSETS_DIR") or None,
            cors_origins=tuple(
                origin.strip().rstrip("/")
                for origin in text("CORS_ORIGINS", "").split(",")
                if origin.strip()
            ),
            persisted_queries=number("PERSISTED_QUERIES", defaults.persisted_queries),
            schema_sdl=None if not env.get(ENV_PREFIX + "SCHEMA_SDL") else flag("SCHEMA_SDL", True),
            allowed_hosts=tuple(
                name.strip().lower()
                for name in text("ALLOWED_HOSTS", "").split(",")
                if name.strip()
            ),
            metrics_operation_names=number(
                "METRICS_OPERATION_NAMES", defaults.metrics_operation_names
            ),
        )


# Read by the test helpers, not by the service.
OTHER_VARIABLES = frozenset({ENV_PREFIX + "NPM_DIR"})


class _Recording(Mapping[str, str]):
    """An empty environment that notes every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def known_variables() -> frozenset[str]:
    """Every ORDERGRAPH_* variable the service reads (found by asking `from_env` itself)."""
    recording = _Recording()
    Settings.from_env(recording)
    return frozenset(recording.asked) | OTHER_VARIABLES


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ORDERGRAPH_* variable set that nothing reads, with the likely name."""
    env = os.environ if environ is None else environ
    known = known_variables()
    warnings = []
    for name in sorted(n for n in env if n.startswith(ENV_PREFIX) and n not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"ignoring unknown variable {name}{hint}")
    return warnings


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _scheme(url: str) -> str:
    """The database kind a URL names ("postgresql", "sqlite"), "" when it names none."""
    scheme, found, _rest = database_url(url).partition("://")
    return scheme.partition("+")[0] if found else ""


def _is_origin(text: str) -> bool:
    parts = urlsplit(text)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not parts.path
        and not parts.query
        and not parts.fragment
    )


__all__ = [
    "Settings",
    "SettingsError",
    "is_loopback",
    "known_variables",
    "unknown_variables",
]
