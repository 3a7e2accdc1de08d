"""The live delivery's counters in /metrics (registered into the service's registry by
`live_delivery`, so graph/observe/metrics.py needs no change)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from graph.pipeline.live import LiveStats, SharedExecutions

if TYPE_CHECKING:
    from prometheus_client import Metric

    from graph.observe.metrics import Metrics
    from graph.pipeline.run import Runner
    from readmodels.feed import ChangeHub


class LiveCollector(Collector):
    def __init__(
        self, stats: LiveStats, hub: Callable[[], ChangeHub | None], followers: Callable[[], int]
    ) -> None:
        self._stats = stats
        self._hub = hub
        self._followers = followers

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
        followers.add_metric([], self._followers())
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
            (
                "ordergraph_http_streams",
                "Open HTTP streams (graphql-sse, multipart subscriptions).",
                stats.streams,
            ),
        ):
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], value)
            yield gauge


def live_delivery(
    runner: Runner,
    metrics: Metrics,
    hub: Callable[[], ChangeHub | None],
    followers: Callable[[], int],
) -> SharedExecutions:
    """The app's shared executions, their counters registered in `metrics` (`hub` gives the
    change hub and `followers` the number of order followers, once the service runs)."""
    shared = SharedExecutions(runner)
    metrics.registry.register(LiveCollector(shared.stats, hub, followers))
    return shared


__all__ = ["LiveCollector", "live_delivery"]
