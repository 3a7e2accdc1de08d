"""Operation plans: selections compiled into straight-line Python over the DTOs.

Following one field from the document to the bytes, e.g. `{ order(id: "o-1") { status } }`:

1. `prepare` (graph/pipeline/prepare.py) keeps an `OperationPlans` (operation.py) with the
   prepared operation; the first run compiles the root selection (`OperationPlans.root`): its
   field `order` has a resolver, so the plan only keeps its place (`delegated`);
2. the pipeline's `Execution` (graph/pipeline/execution.py) calls the resolver of `order`
   itself, which waits for freshness when asked and returns the frozen `OrderView` DTO;
3. to complete that `Order` it asks for the plan of `{ status }` on `Order`: `Compiler`
   (compiler.py) groups the selection as graphql-core's collect_fields would and describes
   `status`: the attribute `status` (Strawberry's default resolver is getattr), non-null, the
   `OrderStatus` enum's serializer (leaves.py); codegen.py writes that as a function
   (`value = source.status`, the None check, `serialize_0(value)`), kept readable in
   `ObjectPlan.source`;
4. the plan returns `{"status": "PLACED"}`; the pipeline places it under `data.order` and
   encodes the answer once, with orjson.

Anything unusual (None in a non-null field, a serializer raising, an unexpected value) makes the
plan give up on that object (`PlanFallback`); graphql-core completes it instead
(`PlannedExecutionContext`, executor.py), so errors are always graphql-core's, and
`PlanStats.fallbacks` counts it by `FallbackReason`.
"""

from graph.pipeline.plans.compiler import ObjectPlan, PlanOrReason, Unplannable
from graph.pipeline.plans.executor import PlannedExecutionContext
from graph.pipeline.plans.operation import OperationPlans, Outcomes
from graph.pipeline.plans.stats import (
    FallbackReason,
    PlanFallback,
    PlanStats,
    PlanStatsSnapshot,
    UnplannedReason,
)

__all__ = [
    "FallbackReason",
    "ObjectPlan",
    "OperationPlans",
    "Outcomes",
    "PlanFallback",
    "PlanOrReason",
    "PlanStats",
    "PlanStatsSnapshot",
    "PlannedExecutionContext",
    "Unplannable",
    "UnplannedReason",
]
