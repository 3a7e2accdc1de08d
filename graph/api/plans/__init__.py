"""Operation plans: objects below the root fields completed by compiled straight-line Python.

Wiring: `strawberry.Schema(..., execution_context_class=PlannedExecutionContext)`; the counters
for /metrics are `PlannedExecutionContext.plan_stats` (a `PlanStats`, see `snapshot()`).

Following one field from the document to the bytes, e.g. `{ order(id: "o-1") { status } }`:

1. graphql-core executes the root field `order` as always (its resolver waits for freshness
   and asks the query bus), which returns the frozen `OrderView` DTO;
2. to complete that `Order`, graphql-core calls `collect_and_execute_subfields`, which
   `PlannedExecutionContext` overrides (executor.py);
3. it asks the bounded `PlanCache` (cache.py) for the operation's plans, keyed by the identity
   of the cached document's nodes and this request's `@include`/`@skip` outcomes;
4. the first time, `Compiler` (compiler.py) groups `{ status }` as graphql-core's
   collect_fields would and describes `status`: the attribute `status` (Strawberry's default
   resolver is getattr), non-null, the `OrderStatus` enum's serializer (leaves.py); codegen.py
   writes that as a function (`value = source.status`, the None check, `serialize_0(value)`),
   kept readable in `ObjectPlan.source`;
5. the plan returns `{"status": "PLACED"}`; graphql-core places it under `data.order`, and
   Strawberry's view encodes the result to JSON bytes.

Anything unusual (None in a non-null field, a serializer raising, an unexpected value) makes the
plan give up on that object (`PlanFallback`); graphql-core completes it instead, so errors are
always graphql-core's, and `PlanStats.fallbacks` counts it by `FallbackReason`.
"""

from graph.api.plans.cache import PlanCache
from graph.api.plans.executor import DEFAULT_STATS, PlannedExecutionContext
from graph.api.plans.stats import (
    FallbackReason,
    PlanFallback,
    PlanStats,
    PlanStatsSnapshot,
    UnplannedReason,
)

__all__ = [
    "DEFAULT_STATS",
    "FallbackReason",
    "PlanCache",
    "PlanFallback",
    "PlanStats",
    "PlanStatsSnapshot",
    "PlannedExecutionContext",
    "UnplannedReason",
]
