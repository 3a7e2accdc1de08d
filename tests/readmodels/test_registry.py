"""readmodels/registry.py lists by hand what the package holds: every concrete projection class
of `readmodels/projections/` and every reader module's `ANSWERS`, each once (a module added
without its line in the registry would run nowhere)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from readmodels import projections, readers
from readmodels.projections.base import Projection
from readmodels.registry import PROJECTION_NAMES, PROJECTION_TYPES, READERS


def _modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]


def test_every_projection_class_is_listed_once() -> None:
    defined = {
        value
        for module in _modules(projections)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Projection)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    }
    assert len(PROJECTION_TYPES) == len(set(PROJECTION_TYPES))
    assert set(PROJECTION_TYPES) == defined
    assert len(set(PROJECTION_NAMES)) == len(PROJECTION_NAMES)


def test_every_reader_modules_answers_are_listed_once() -> None:
    declared = [id(module.ANSWERS) for module in _modules(readers) if hasattr(module, "ANSWERS")]
    assert sorted(id(answers) for answers in READERS) == sorted(declared)
