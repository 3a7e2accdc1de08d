"""Per-operation metrics: every GraphQL operation counted by transport, type, name and outcome,
and timed, when the pipeline's watch records it (graph/pipeline/watch.py).

Operation names come from clients, so the `name` label is bounded: an anonymous operation is
`(unnamed)`, one that never got as far as being prepared (a refused document) is `(unknown)`,
and once `max_names` distinct names have been seen, any new one is `(overflow)`. The brackets
keep these apart from any GraphQL name.

Recording an operation is two dictionary updates (plain numbers, no locks: the event loop is
the only writer, and /metrics reads them on the same loop); the Prometheus families are built
when /metrics is scraped.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING

from graphql import OperationType
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client import Metric

    from graph.pipeline.watch import Operation

OPERATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATION_NAMES = 100
UNNAMED = "(unnamed)"
UNKNOWN = "(unknown)"
OVERFLOW = "(overflow)"
_BOUNDS = [*(str(bound) for bound in OPERATION_BUCKETS), "+Inf"]


class OperationMetrics(Collector):
    """`ordergraph_operations_total` and `ordergraph_operation_seconds`: what `ended` records
    (told by the pipeline's watch), exposed when /metrics is scraped."""

    def __init__(self, max_names: int = MAX_OPERATION_NAMES) -> None:
        self.max_names = max_names
        self._names: set[str] = set()
        self._counts: dict[tuple[str, str, str, str], int] = {}
        # Per (transport, type, name): the count in each bucket (not cumulative; the last one
        # is +Inf), and the sum of the seconds.
        self._buckets: dict[tuple[str, str, str], list[int]] = {}
        self._sums: dict[tuple[str, str, str], float] = {}

    def ended(self, operation: Operation, outcome: str) -> None:
        """Count and time `operation` (the pipeline's watch calls this once it is over)."""
        prepared = operation.prepared
        if prepared is None:
            kind, name = "unknown", UNKNOWN
        else:
            chosen = prepared.operation.operation
            kind = (
                "query"  # compared, not hashed: an enum's hash is a call of Python code
                if chosen is OperationType.QUERY
                else "mutation"
                if chosen is OperationType.MUTATION
                else "subscription"
            )
            named = prepared.operation.name
            if named is None:
                name = UNNAMED
            else:
                name = named.value
                if name not in self._names:
                    name = self._bounded(name)
        key = (operation.transport, kind, name)
        counted = (*key, outcome)
        self._counts[counted] = self._counts.get(counted, 0) + 1
        seconds = time.perf_counter() - operation.started
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._buckets[key] = [0] * len(_BOUNDS)
            self._sums[key] = 0.0
        buckets[bisect_left(OPERATION_BUCKETS, seconds)] += 1
        self._sums[key] += seconds

    def _bounded(self, name: str) -> str:
        """A name not seen before: kept while there is room, else the overflow bucket."""
        if len(self._names) >= self.max_names:
            return OVERFLOW
        self._names.add(name)
        return name

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "ordergraph_operations",
            "GraphQL operations by transport (http, sse, multipart, ws), type (query, mutation, "
            "subscription, unknown: refused before it was prepared), name and outcome (ok, "
            "cancelled, or the first error's code).",
            labels=["transport", "type", "name", "outcome"],
        )
        for labels, count in self._counts.items():
            requests.add_metric(labels, count)
        seconds = HistogramMetricFamily(
            "ordergraph_operation_seconds",
            "Time from an operation's first byte to its answer (a subscription: to its stream "
            "being established), by transport, type and name.",
            labels=["transport", "type", "name"],
        )
        for key, counts in self._buckets.items():
            cumulative, running = [], 0
            for bound, count in zip(_BOUNDS, counts, strict=True):
                running += count
                cumulative.append((bound, running))
            seconds.add_metric(key, cumulative, self._sums[key])
        yield from (requests, seconds)


__all__ = ["MAX_OPERATION_NAMES", "OVERFLOW", "UNKNOWN", "UNNAMED", "OperationMetrics"]
