"""Prometheus metrics: what the service did and how far behind its views are.

Counters and histograms are updated where things happen (the pipeline's operation watch, the
command bus's observer, the freshness wait, the runner's batch observer, the replicas'
observer); gauges for positions, lag, state and open subscriptions are read from the running
store and runner at scrape time. Each app has its own registry, with prometheus_client's
process (`process_*`), platform (`python_info`) and garbage collector (`python_gc_*`)
collectors in it. Every series is listed in docs/operations.md.

The route that serves them (an admin's token needed with a signing secret) is the HTTP
edge's: graph/http/metrics_route.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from graph.observe.operation_metrics import MAX_OPERATION_NAMES, OperationMetrics
from readmodels.dto import ProjectionState

if TYPE_CHECKING:
    from domain.bus import CommandOutcome
    from domain.storage.sql import SqlEventStore
    from graph.pipeline.plans import PlanStats
    from graph.pipeline.prepare import PreparedCache
    from readmodels.dto import BatchApplied
    from readmodels.replicas import ReplicaRead
    from readmodels.runner.runner import ProjectionRunner

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The service's metrics, in a registry of its own."""

    def __init__(
        self,
        plans: PlanStats | None = None,
        prepared: PreparedCache | None = None,
        *,
        operation_names: int = MAX_OPERATION_NAMES,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.operations = OperationMetrics(operation_names)
        self.registry.register(self.operations)
        self.commands = Counter(
            "ordergraph_commands",
            "Commands handled, by type and outcome (ok or the error code).",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "ordergraph_command_seconds",
            "Time from dispatch to commit of a command, by type.",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.commit_to_view_seconds = Histogram(
            "ordergraph_commit_to_view_seconds",
            "Time from an event's commit to its projection applying it.",
            ["projection"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.freshness_waits = Counter(
            "ordergraph_freshness_waits",
            "Reads that waited for minPosition, by outcome (fresh or stale after timeoutMs).",
            ["outcome"],
            registry=self.registry,
        )
        self.replica_reads = Counter(
            "ordergraph_replica_reads",
            "Reads that could go to a replica, by where they went: replica, fallback_lag (none "
            "had the position in time: the views database answered) or fallback_down (none "
            "was up).",
            ["outcome"],
            registry=self.registry,
        )
        self.replica_wait_seconds = Histogram(
            "ordergraph_replica_wait_seconds",
            "How long a read with a minimum position waited for a replica once the views "
            "database had that position.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.replica_lag = Gauge(
            "ordergraph_replica_lag_positions",
            "Positions each replica's checkpoints trailed the views database's, at its last "
            "read with a minimum position.",
            ["replica"],
            registry=self.registry,
        )
        self._state = _StateCollector()
        self.registry.register(self._state)
        if plans is not None:
            self.registry.register(_PlanCollector(plans))
        if prepared is not None:
            self.registry.register(_PreparedCollector(prepared))

    def bind(self, store: SqlEventStore, runner: ProjectionRunner) -> None:
        """Read the log's head and the projections' positions, lag and subscriptions from these."""
        self._state.sources = store, runner

    def unbind(self) -> None:
        """Stop reporting positions (the service has stopped)."""
        self._state.sources = None

    def observe_command(self, observed: CommandOutcome) -> None:
        """The command bus's observer: every outcome counted, the time of those that commit."""
        kind = type(observed.command).__name__
        self.commands.labels(kind, observed.outcome).inc()
        if observed.outcome == "ok":
            self.command_seconds.labels(kind).observe(observed.seconds)

    def observe_wait(self, stale: bool) -> None:
        """A read waited for `minPosition`: fresh, or stale after its timeout."""
        self.freshness_waits.labels("stale" if stale else "fresh").inc()

    def observe_batch(self, batch: BatchApplied) -> None:
        """The runner's `on_batch` observer."""
        self.commit_to_view_seconds.labels(batch.projection).observe(batch.seconds_after_commit)

    def observe_replica_read(self, read: ReplicaRead) -> None:
        """The replicas' observer."""
        self.replica_reads.labels(read.outcome).inc()
        if read.waited is not None:
            self.replica_wait_seconds.observe(read.waited)
        if read.replica is not None and read.behind is not None:
            self.replica_lag.labels(read.replica).set(read.behind)

    def exposition(self) -> bytes:
        """Every series in Prometheus' text format."""
        return generate_latest(self.registry)


class _PlanCollector(Collector):
    """How often operation plans answered, and why graphql-core answered instead."""

    def __init__(self, plans: PlanStats) -> None:
        self.plans = plans

    def collect(self) -> Iterator[Metric]:
        snapshot = self.plans.snapshot()
        planned = CounterMetricFamily(
            "ordergraph_plan_objects", "Objects completed by an operation plan."
        )
        planned.add_metric([], snapshot["planned"])
        compiled = CounterMetricFamily("ordergraph_plans_compiled", "Operation plans compiled.")
        compiled.add_metric([], snapshot["compiled"])
        fallbacks = CounterMetricFamily(
            "ordergraph_plan_fallbacks",
            "Objects a plan gave back to graphql-core at run time, by reason.",
            labels=["reason"],
        )
        for reason, count in snapshot["fallbacks"].items():
            fallbacks.add_metric([reason], count)
        unplanned = CounterMetricFamily(
            "ordergraph_plan_unplanned",
            "Objects no plan could cover (left to graphql-core), by reason.",
            labels=["reason"],
        )
        for reason, count in snapshot["unplanned"].items():
            unplanned.add_metric([reason], count)
        yield from (planned, compiled, fallbacks, unplanned)


class _PreparedCollector(Collector):
    """How often an operation was found prepared, and what the cache holds."""

    def __init__(self, prepared: PreparedCache) -> None:
        self.prepared = prepared

    def collect(self) -> Iterator[Metric]:
        outcomes = CounterMetricFamily(
            "ordergraph_prepared_operations",
            "Operations by whether they were found prepared (hit) or were parsed and validated "
            "(miss: new, evicted, or another operationName).",
            labels=["outcome"],
        )
        outcomes.add_metric(["hit"], self.prepared.hits)
        outcomes.add_metric(["miss"], self.prepared.misses)
        entries = GaugeMetricFamily(
            "ordergraph_prepared_cache_entries", "Prepared operations and refusals kept."
        )
        entries.add_metric([], len(self.prepared))
        size = GaugeMetricFamily(
            "ordergraph_prepared_cache_bytes",
            "Estimated bytes the prepared operations hold (bounded by "
            "ORDERGRAPH_PREPARED_CACHE_BYTES).",
        )
        size.add_metric([], self.prepared.bytes)
        yield from (outcomes, entries, size)


class _StateCollector(Collector):
    def __init__(self) -> None:
        self.sources: tuple[SqlEventStore, ProjectionRunner] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.sources is None:
            return
        store, runner = self.sources
        appended = CounterMetricFamily(
            "ordergraph_events_appended", "Events appended by this process."
        )
        appended.add_metric([], store.appended)
        yield appended
        head = GaugeMetricFamily(
            "ordergraph_head_position", "The last committed position of the event log."
        )
        head.add_metric([], store.committed.head)
        yield head
        position = GaugeMetricFamily(
            "ordergraph_projection_position",
            "Last position each projection has applied.",
            labels=["projection"],
        )
        lag = GaugeMetricFamily(
            "ordergraph_projection_lag",
            "Events each projection still has to apply.",
            labels=["projection"],
        )
        state = GaugeMetricFamily(
            "ordergraph_projection_state",
            "1 for each projection's current state.",
            labels=["projection", "state"],
        )
        leader = GaugeMetricFamily(
            "ordergraph_projection_leader",
            "1 when this process runs the projection (0: it follows another process).",
            labels=["projection"],
        )
        leading = set(runner.leading())
        for status in runner.status():
            position.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
            for candidate in ProjectionState:
                state.add_metric([status.name, candidate.value], float(status.state is candidate))
            leader.add_metric([status.name], float(status.name in leading))
        yield from (position, lag, state, leader)
        subscriptions = GaugeMetricFamily(
            "ordergraph_subscriptions_open", "Open subscriptions to view changes."
        )
        subscriptions.add_metric([], len(runner.changes))
        yield subscriptions


__all__ = ["Metrics"]
