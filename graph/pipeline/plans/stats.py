"""What the planner did: objects completed by a plan, plans abandoned (and why), objects left
to graphql-core because their selection cannot be planned (and why), plans compiled.

One `PlanStats` is shared by every request of a schema (the executor class holds it); the app
exposes it on /metrics with `snapshot()`. The counters are plain integers, updated on the event
loop's thread; a snapshot taken from another thread may be a moment stale, never torn.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import TypedDict


class FallbackReason(StrEnum):
    """Why a plan gave up on an object at run time and graphql-core completed it instead.

    The plan itself raises NULL_IN_NON_NULL, UNEXPECTED_VALUE and SERIALIZER_ERROR (for a None
    result); an exception from a getter or a serializer is classified by its type
    (AttributeError: getter; GraphQLError, TypeError, ValueError: serializer), so a getter
    raising a ValueError counts as a serializer error.
    """

    NULL_IN_NON_NULL = "null_in_non_null"
    """A non-null field's getter returned None (graphql-core reports the violation)."""
    SERIALIZER_ERROR = "serializer_error"
    """A scalar or enum serializer raised, or returned None."""
    GETTER_ERROR = "getter_error"
    """Reading the attribute raised (AttributeError: the source lacks the field)."""
    UNEXPECTED_VALUE = "unexpected_value"
    """A list field's value is not a list or tuple, or a value is an exception or Undefined."""
    UNEXPECTED_ERROR = "unexpected_error"
    """Anything else that raised while the plan ran."""
    DIRECTIVE_ERROR = "directive_error"
    """An `@include`/`@skip` condition could not be evaluated from the variables: the request
    runs on graphql-core's path, which reports the error."""


class UnplannedReason(StrEnum):
    """Why an object's selection cannot be planned (decided once, when it is compiled)."""

    RESOLVER = "resolver"
    """A nested object in the selection has a field with its own resolver or field extensions
    (DataLoaders, waits, permissions): the object holding it goes to graphql-core, and the
    nested object is planned when graphql-core completes it. (In the object itself, such a
    field is run by graphql-core inside the plan, and not counted.)"""
    ARGUMENTS = "arguments"
    """A field takes arguments."""
    ABSTRACT_TYPE = "abstract_type"
    """An interface or union in the selection needs a type resolver."""
    IS_TYPE_OF = "is_type_of"
    """An object type in the selection has an `is_type_of` check."""
    DIRECTIVE = "directive"
    """A directive other than `@include`/`@skip` on a selection."""
    INCREMENTAL = "incremental"
    """`@defer`, `@stream` or fragment arguments are in play."""
    UNKNOWN_FIELD = "unknown_field"
    """A field the schema does not define (validation normally refuses these)."""
    PLAN_BUDGET = "plan_budget"
    """The operation already holds its maximum number of plans (one per `@include`/`@skip`
    combination and selection)."""


class PlanFallback(Exception):
    """Raised inside a plan when it meets a value it does not complete itself; the executor
    catches it and lets graphql-core complete the object (see FallbackReason)."""

    def __init__(self, reason: FallbackReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class PlanStatsSnapshot(TypedDict):
    """The counters at one moment, for /metrics."""

    planned: int
    compiled: int
    evicted: int
    fallbacks: dict[str, int]
    unplanned: dict[str, int]


class PlanStats:
    """Counters of the planner's fast path and of every way it is missed.

    - `planned`: objects (with everything below them) completed by a plan;
    - `fallbacks[reason]`: plans that gave up at run time; graphql-core completed that object
      (its errors and null propagation are graphql-core's). One anomaly counts once, at the
      outermost object that gave up, even though the replay narrows it down level by level;
    - `unplanned[reason]`: objects graphql-core completed because their selection has no plan
      (counted at each such object, every request);
    - `compiled`: object plans compiled (or found unplannable); `evicted`: operations dropped
      from the bounded plan cache.
    """

    __slots__ = ("compiled", "evicted", "fallbacks", "planned", "unplanned")

    def __init__(self) -> None:
        self.planned = 0
        self.compiled = 0
        self.evicted = 0
        self.fallbacks: Counter[FallbackReason] = Counter()
        self.unplanned: Counter[UnplannedReason] = Counter()

    def fallback_count(self) -> int:
        """All fallbacks, whatever their reason."""
        return sum(self.fallbacks.values())

    def snapshot(self) -> PlanStatsSnapshot:
        """A copy of every counter, reasons as their string values (every reason listed)."""
        return {
            "planned": self.planned,
            "compiled": self.compiled,
            "evicted": self.evicted,
            "fallbacks": {reason.value: self.fallbacks[reason] for reason in FallbackReason},
            "unplanned": {reason.value: self.unplanned[reason] for reason in UnplannedReason},
        }

    def reset(self) -> None:
        """Zero every counter (for tests and benchmarks)."""
        self.planned = self.compiled = self.evicted = 0
        self.fallbacks.clear()
        self.unplanned.clear()


__all__ = ["FallbackReason", "PlanFallback", "PlanStats", "PlanStatsSnapshot", "UnplannedReason"]
