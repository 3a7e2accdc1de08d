"""The read views, one module each, and the registry the runner and the migrations use.

The registry is derived from the package: every concrete `Projection` class defined in one of
its modules is a view the service runs, in the order of the modules' names. A new view is one
new module here, and nothing else to list.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from readmodels.projections.base import Projection


def _defined_here() -> tuple[type[Projection], ...]:
    found: list[type[Projection]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Projection)
            and value.__module__ == module.__name__
            and not inspect.isabstract(value)
        )
    return tuple(found)


DEFAULT_PROJECTION_TYPES: tuple[type[Projection], ...] = _defined_here()
"""The views the service runs, in the order they are started and reported."""

PROJECTION_NAMES: tuple[str, ...] = tuple(kind.name for kind in DEFAULT_PROJECTION_TYPES)


def default_projections() -> list[Projection]:
    """A fresh instance of each of the service's views."""
    return [kind() for kind in DEFAULT_PROJECTION_TYPES]


__all__ = ["DEFAULT_PROJECTION_TYPES", "PROJECTION_NAMES", "Projection", "default_projections"]
