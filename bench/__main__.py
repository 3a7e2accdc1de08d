"""`python -m bench`: every row side by side on this machine, one table, optionally JSON."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import workloads as w
from bench.fanout import fanout_row
from bench.growth import growth_rows
from bench.harness import Server, admin_token, graphql
from bench.live import live_rows
from bench.load import LOAD_CORE, generator_name
from bench.pairs import HttpRows, Plan
from bench.peer import peer_row
from bench.postgres import postgres_rows
from bench.rebuild import rebuild_row
from bench.replicas import replica_rows
from bench.report import Row, format_table, to_json, versions


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="ordergraph against its baselines, side by side."
    )
    parser.add_argument("--quick", action="store_true", help="shorter legs (about 90 s)")
    parser.add_argument("--full", action="store_true", help="rebuild over 1M events")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses its target")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated row groups: http,fanout,live,rebuild,growth,peer,postgres,replicas",
    )
    return parser


def _timed(label: str, step: Callable[[], list[Row]]) -> list[Row]:
    started = time.monotonic()
    sys.stderr.write(f"bench: {label} ...\n")
    rows = step()
    sys.stderr.write(f"bench: {label} took {time.monotonic() - started:.1f} s\n")
    return rows


def _http_rows(folder: Path, plan: Plan, fan_subscribers: int, fan_updates: int) -> list[Row]:
    token = admin_token()
    url = f"sqlite+aiosqlite:///{folder / 'http.db'}"
    with Server(url, folder / "server.log") as server:
        rows = HttpRows(server.base_url, token, plan)
        order_id = rows.seed(120)
        out = [rows.gql_overhead(), rows.create(), rows.create_view(), rows.runner_cost()]
        create_rate = out[1].product_side.rate if out[1].product_side else 0.0
        out.append(rows.freshness(create_rate))
        out.append(rows.get(order_id))
        total = graphql(server.base_url, w.body("{ orders(first: 1) { totalCount } }"), token)
        out.append(rows.list(int(total["orders"]["totalCount"])))
        out.append(rows.five())
        out.append(fanout_row(server, token, fan_subscribers, fan_updates))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rows, print the table, write JSON when asked; exit 1 only with --strict."""
    args = build_parser().parse_args(argv)
    os.sched_setaffinity(0, {int(LOAD_CORE)})
    plan = (
        Plan(leg_seconds=1.0, warmup_seconds=1.0, rounds=2)
        if args.quick
        else Plan(leg_seconds=2.0, warmup_seconds=1.0, rounds=2)
    )
    events = 1_000_000 if args.full else (30_000 if args.quick else 200_000)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    started = time.monotonic()
    rows: list[Row] = []
    postgres_version: str | None = None
    with tempfile.TemporaryDirectory(prefix="ordergraph-bench-") as scratch:
        folder = Path(scratch)
        if not only or "http" in only or "fanout" in only:
            fan = (1000, 5) if args.quick else (1000, 15)
            rows += _timed("HTTP rows", lambda: _http_rows(folder, plan, *fan))
        if not only or "live" in only:
            rows += _timed("live rows", lambda: live_rows(folder, args.quick))
        if not only or "rebuild" in only:
            rows += _timed("rebuild", lambda: [rebuild_row(folder, events)])
        if not only or "growth" in only:
            orders = 333_334 if args.full else (30_000 if args.quick else 100_000)
            rows += _timed("growth", lambda: growth_rows(folder, orders, 2.0))
        if not only or "peer" in only:
            rows += _timed("peer", lambda: [peer_row(folder, 1.0 if args.quick else 2.0)])
        if not only or "postgres" in only:
            pg_rows, postgres_version = postgres_rows(folder, plan)
            rows += pg_rows
        if not only or "replicas" in only:
            rows += _timed("replicas", lambda: replica_rows(folder, plan))
    facts = versions(generator_name(), postgres_version)
    facts["elapsed_s"] = round(time.monotonic() - started, 1)
    settings = {
        "mode": "quick" if args.quick else ("full" if args.full else "default"),
        "leg_seconds": plan.leg_seconds,
        "rounds": plan.rounds,
        "connections": plan.connections,
        "rebuild_events": events,
    }
    print(format_table(rows, facts))
    if args.json is not None:
        args.json.write_text(to_json(rows, facts, settings) + "\n", encoding="utf-8")
    failed = [row.name for row in rows if row.passed is False]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
