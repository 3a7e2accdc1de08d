"""Running the projections: slots and their follow loops, the in-writer hook, leadership,
the cluster messages, rebuilds and checkpoints."""

from __future__ import annotations

from readmodels.runner.runner import ProjectionRunner

__all__ = ["ProjectionRunner"]
