"""The tracer provider the standard `OTEL_*` variables describe, built by the SDK's own
configuration (the helpers `opentelemetry-instrument` uses), not by variables of ours.

- `OTEL_TRACES_EXPORTER`: the exporters, by the names their packages register (`console`,
  `otlp`, `otlp_proto_http`, `otlp_proto_grpc`, ...); `otlp` takes its protocol from
  `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL` (gRPC when unset).
- Each exporter reads its own variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `..._HEADERS`, ...)
  and is fed by a batch processor (`OTEL_BSP_*`).
- The resource: `OTEL_SERVICE_NAME` (ordergraph when unset) and `OTEL_RESOURCE_ATTRIBUTES`;
  the sampler: `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`; span limits: `OTEL_SPAN_*`.
"""

from __future__ import annotations

from opentelemetry.sdk._configuration import _get_exporter_names, _import_exporters
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from graph.settings import SettingsError

DEFAULT_SERVICE_NAME = "ordergraph"


def provider_from_env() -> TracerProvider:
    """A tracer provider with the exporters, resource and sampler the environment names;
    SettingsError (one line) for an exporter no installed package provides."""
    try:
        exporters, _metrics, _logs = _import_exporters(_get_exporter_names("traces"), [], [])
    except RuntimeError as error:
        raise SettingsError(
            f"OTEL_TRACES_EXPORTER: {error} (pip install 'ordergraph[otel]' brings console "
            "and otlp)"
        ) from None
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters.values():
        provider.add_span_processor(BatchSpanProcessor(exporter()))
    return provider


__all__ = ["DEFAULT_SERVICE_NAME", "provider_from_env"]
