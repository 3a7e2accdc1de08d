"""The live delivery's counters in /metrics (registered into the service's registry by
`live_delivery`, so graph/observe/metrics.py needs no change)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from graph.pipeline.live import LiveStats, SharedExecutions
from readmodels.live.orders import followers_of

if TYPE_CHECKING:
    from prometheus_client import Metric

    from graph.observe.metrics import Metrics
    from graph.pipeline.run import Runner
    from readmodels.feed import ChangeHub


class LiveCollector(Collector):
    def __init__(self, stats: LiveStats, hub: Callable[[], ChangeHub | None]) -> None:
        self._stats = stats
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        stats = self._stats
        counters = (
            (
                "ordergraph_live_executions",
                "Live selection sets executed (one per group and view).",
                stats.executions,
            ),
            (
                "ordergraph_live_frames",
                "Live `next` frames written by the shared send path.",
                stats.frames,
            ),
            (
                "ordergraph_live_list_catch_ups",
                "Live lists that fell behind a full socket and re-read the view table.",
                stats.list_catch_ups,
            ),
            (
                "ordergraph_live_slow_consumers_closed",
                "Sockets closed 4008: send buffer full too long.",
                stats.slow_closed,
            ),
        )
        for name, documentation, value in counters:
            counter = CounterMetricFamily(name, documentation)
            counter.add_metric([], value)
            yield counter
        hub = self._hub()
        skipped = CounterMetricFamily(
            "ordergraph_live_changes_skipped",
            "Changes a subscriber skipped for a newer one (latest-state, while it was behind).",
        )
        skipped.add_metric([], 0 if hub is None else hub.skipped + stats.skipped)
        yield skipped
        followers = GaugeMetricFamily(
            "ordergraph_live_order_followers",
            "orderUpdated subscriptions followed by their order's one task (no task of their own).",
        )
        followers.add_metric([], 0 if hub is None else followers_of(hub))
        yield followers
        for name, documentation, value in (
            (
                "ordergraph_live_groups",
                "Live execution groups (shared document, variables, visibility).",
                stats.groups,
            ),
            (
                "ordergraph_live_members",
                "Live operations delivered through a shared group.",
                stats.members,
            ),
        ):
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], value)
            yield gauge


def live_delivery(
    runner: Runner, metrics: Metrics, hub: Callable[[], ChangeHub | None]
) -> SharedExecutions:
    """The app's shared executions, their counters registered in `metrics`."""
    shared = SharedExecutions(runner)
    metrics.registry.register(LiveCollector(shared.stats, hub))
    return shared


__all__ = ["LiveCollector", "live_delivery"]
