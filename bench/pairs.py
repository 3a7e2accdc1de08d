"""The HTTP rows: product and baseline legs interleaved A B A B in one server process."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench import workloads as w
from bench.harness import call, graphql
from bench.load import LegResult, Request, run_leg
from bench.report import Row, Side

Hook = Callable[[], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """How long each leg runs and how many rounds a pair gets."""

    leg_seconds: float
    warmup_seconds: float
    rounds: int
    connections: int = 50
    # A page of 100 takes tens of ms: fewer connections keep its latency well inside a leg.
    list_connections: int = 16


def run_pair(
    base_url: str,
    plan: Plan,
    product: Request,
    baseline: Request,
    *,
    before_baseline: Hook | None = None,
    after_baseline: Hook | None = None,
    after_product: Hook | None = None,
    connections: int | None = None,
) -> tuple[Side, Side]:
    """Warm both sides up, then run them interleaved A B A B; the median of each side."""
    product_legs: list[LegResult] = []
    baseline_legs: list[LegResult] = []

    def leg(request: Request, seconds: float, before: Hook | None, after: Hook | None) -> LegResult:
        if before is not None:
            before()
        try:
            return run_leg(base_url, request, seconds, connections or plan.connections)
        finally:
            if after is not None:
                after()

    leg(product, plan.warmup_seconds, None, after_product)
    leg(baseline, plan.warmup_seconds, before_baseline, after_baseline)
    for _ in range(plan.rounds):
        product_legs.append(leg(product, plan.leg_seconds, None, after_product))
        baseline_legs.append(leg(baseline, plan.leg_seconds, before_baseline, after_baseline))
    return Side.of(product_legs), Side.of(baseline_legs)


def ratio_row(row: Row, product: Side, baseline: Side, target: float) -> Row:
    """Fill `row` with both sides and the product/baseline rate ratio against `target`."""
    row.product_side, row.baseline_side = product, baseline
    value = product.rate / baseline.rate if baseline.rate else 0.0
    row.judge(value, value >= target)
    if product.bad or baseline.bad:
        row.notes.append(f"bad responses: product {product.bad}, baseline {baseline.bad}")
        row.passed = False
    return row


class HttpRows:
    """The rows measured over HTTP against one running bench server."""

    def __init__(self, base_url: str, token: str, plan: Plan) -> None:
        self.base_url = base_url
        self.token = token
        self.plan = plan

    def gql(self, body: str, path: str = "/graphql") -> Request:
        return Request(path=path, body=body, token=self.token)

    def seed(self, orders: int) -> str:
        """Place `orders` orders and return the last one's id."""
        order_id = ""
        for _ in range(orders):
            order_id = graphql(self.base_url, w.create_body(), self.token)["createOrder"]["orderId"]
        call(self.base_url + "/bench/drain")
        return order_id

    def gql_overhead(self) -> Row:
        row = Row(
            name="gql-overhead",
            product="{ __typename }, production schema, extensions, admin token",
            baseline="constant JSON route",
            target=">= 0.5",
        )
        typename = w.body(w.TYPENAME)
        sides = run_pair(
            self.base_url, self.plan, self.gql(typename), self.gql(typename, "/bench/const")
        )
        return ratio_row(row, *sides, 0.5)

    def create(self, name: str = "create", target: float = 1.2) -> Row:
        row = Row(
            name=name,
            product="createOrder, 3 lines, end to end",
            baseline="one raw SQLAlchemy insert per request, own transaction",
            target=f">= {target}",
        )
        create = w.create_body()
        sides = run_pair(
            self.base_url, self.plan, self.gql(create), self.gql(create, "/bench/insert")
        )
        return ratio_row(row, *sides, target)

    def create_view(self) -> Row:
        row = Row(
            name="create+view",
            product="createOrder { order { ... } } (read-your-writes, one trip)",
            baseline="createOrder without the view",
            target=">= 0.9",
        )
        sides = run_pair(
            self.base_url,
            self.plan,
            self.gql(w.create_body(with_view=True)),
            self.gql(w.create_body()),
        )
        return ratio_row(row, *sides, 0.9)

    def get(self, order_id: str, name: str = "get", target: float = 0.9) -> Row:
        row = Row(
            name=name,
            product="order(id) with every view field",
            baseline="raw primary-key select of the same row as JSON",
            target=f">= {target}",
        )
        sides = run_pair(
            self.base_url,
            self.plan,
            self.gql(w.body(w.GET, {"id": order_id})),
            self.gql(f'{{"id":"{order_id}"}}', "/bench/get"),
        )
        return ratio_row(row, *sides, target)

    def list(self, view_rows: int) -> Row:
        row = Row(
            name="list",
            product="orders(first: 100), edges + pageInfo",
            baseline="the same 100 rows as raw JSON",
            target=">= 0.5",
        )
        sides = run_pair(
            self.base_url,
            self.plan,
            self.gql(w.body(w.LIST)),
            self.gql("{}", "/bench/list"),
            connections=self.plan.list_connections,
        )
        row.notes.append(
            f"order_view held {view_rows:,} rows; {self.plan.list_connections} connections"
        )
        return ratio_row(row, *sides, 0.5)

    def five(self) -> Row:
        row = Row(
            name="five-field-page",
            product="orders(first: 100) { edges { node { 5 fields } } }",
            baseline="a raw select of those 5 columns of 100 rows, as JSON",
            target=">= 0.4",
        )
        sides = run_pair(
            self.base_url,
            self.plan,
            self.gql(w.body(w.FIVE)),
            self.gql("{}", "/bench/five"),
            connections=self.plan.list_connections,
        )
        return ratio_row(row, *sides, 0.4)

    def runner_cost(self) -> Row:
        row = Row(
            name="runner-cost",
            product="createOrder load, projections live",
            baseline="the same, projections paused (runner.stop())",
            target=">= 0.9; lag 0 in <= 1 s",
        )
        drains: list[float | None] = []

        def pause() -> None:
            call(self.base_url + "/bench/runner/stop", "{}")

        def resume() -> None:
            call(self.base_url + "/bench/runner/start", "{}")
            call(self.base_url + "/bench/drain?timeout=60")

        def lag_back() -> None:
            drains.append(call(self.base_url + "/bench/drain?timeout=10")["seconds"])

        create = w.create_body()
        sides = run_pair(
            self.base_url,
            self.plan,
            self.gql(create),
            self.gql(create),
            before_baseline=pause,
            after_baseline=resume,
            after_product=lag_back,
        )
        ratio_row(row, *sides, 0.9)
        measured = [d for d in drains[1:] if d is not None]
        worst = max(measured) if len(measured) == len(drains) - 1 else None
        row.extra["lag_to_zero_s"] = drains[1:]
        row.notes.append(
            "lag back to 0 after load stopped: "
            + ("over 10 s" if worst is None else f"worst {worst * 1000:.0f} ms")
        )
        if worst is None or worst > 1.0:
            row.passed = False
        return row

    def freshness(self, max_create_rate: float) -> Row:
        row = Row(
            name="freshness",
            product="commit-to-view lag, createOrder at half the max create rate",
            baseline="-",
            target="p99 <= 5 ms",
            unit="ms",
        )
        connections = 8
        wanted = max(max_create_rate / 2, 1.0)
        delay_ms = max(1, round(connections / wanted * 1000) - 2)
        call(self.base_url + "/bench/freshness", "{}")
        leg = run_leg(
            self.base_url,
            self.gql(w.create_body()),
            self.plan.leg_seconds * 2,
            connections,
            delay_ms=delay_ms,
        )
        call(self.base_url + "/bench/drain?timeout=10")
        lags = sorted(call(self.base_url + "/bench/freshness", "{}")["lags"])
        row.product_side = Side.of([leg])
        if not lags:
            row.notes.append("no commits were observed")
            row.judge(None, False)
            return row
        cuts = statistics.quantiles(lags, n=100) if len(lags) > 1 else lags * 99
        p50, p99 = cuts[49] * 1000, cuts[98] * 1000
        row.extra.update(p50_ms=p50, p99_ms=p99, commits=len(lags), target_rate=wanted)
        row.notes.append(
            f"lag p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(lags):,} commits at "
            f"{leg.rate:,.0f} creates/s (aimed at {wanted:,.0f}/s)"
        )
        row.judge(p99, p99 <= 5.0 and leg.bad == 0)
        return row


__all__ = ["HttpRows", "Plan", "ratio_row", "run_pair"]
