"""The read side depends on the write side's vocabulary and storage, never on its handling."""

from __future__ import annotations

import ast
from pathlib import Path

READMODELS = Path(__file__).resolve().parents[2] / "readmodels"
# The events it projects, the ports it tails, the values and errors its answers carry, and
# the storage it reads and writes through; never the bus, handlers, middleware or aggregate.
ALLOWED = ("domain.events", "domain.ports", "domain.values", "domain.errors", "domain.storage")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _allowed(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ALLOWED)


def test_readmodels_never_imports_the_bus_handlers_aggregate_or_graph() -> None:
    wrong = {
        f"{path.relative_to(READMODELS.parent)}: {module}"
        for path in READMODELS.rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] in {"domain", "graph"} and not _allowed(module)
    }
    assert not wrong, sorted(wrong)
