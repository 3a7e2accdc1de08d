"""Whether this service traces, decided from the environment without importing OpenTelemetry
unless traces are asked for.

Traces are on when a host already configured OpenTelemetry's SDK in this process (the service
runs under `opentelemetry-instrument`: its tracer provider is used), or when
`OTEL_TRACES_EXPORTER` names an exporter (graph/observe/trace_provider.py builds the provider
from the `OTEL_*` variables). `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns
them off. Asked for without the `otel` extra installed, they stay off with a warning; with
traces off, no module of OpenTelemetry is imported and nothing is added to a request's path.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from graph.observe.tracing import Tracing

log = logging.getLogger("ordergraph.app")

EXTRA_HINT = "pip install 'ordergraph[otel]'"


def tracing_from_env(environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """The service's traces as the environment asks for them, or None (off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    hosted = _hosted()
    if hosted is not None:
        return hosted
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if not exporters or exporters.lower() == "none":
        return None
    try:
        from graph.observe.trace_provider import provider_from_env
        from graph.observe.tracing import Tracing
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith("opentelemetry"):
            raise
        log.warning(
            "OTEL_TRACES_EXPORTER=%s, but OpenTelemetry is not installed (%s): no traces",
            exporters,
            EXTRA_HINT,
        )
        return None
    return Tracing(provider_from_env(), owned=True)


def _hosted() -> Tracing | None:
    """The tracer provider a host set up in this process (opentelemetry-instrument), if any:
    looked for only when the SDK is already imported."""
    if "opentelemetry.sdk.trace" not in sys.modules:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from graph.observe.tracing import Tracing

    provider = trace.get_tracer_provider()
    return Tracing(provider) if isinstance(provider, TracerProvider) else None


__all__ = ["EXTRA_HINT", "tracing_from_env"]
