"""The layout holds: no import circle anywhere in the product, imports point one way
(graph → readmodels → domain; the read side uses only the write side's vocabulary, ports and
storage's public names), and modules stay small enough to read.

The walk reads every import statement with `ast`, those under TYPE_CHECKING and inside
functions included: a circle that only type checkers follow is still one a reader follows.
"""

from __future__ import annotations

import ast
import statistics
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("domain", "readmodels", "graph")
# Which of our packages each one may import (graph may import all three).
MAY_IMPORT = {"domain": {"domain"}, "readmodels": {"readmodels", "domain"}}
# What the read side may take from the write side: the events it projects, the ports it tails,
# the values and errors its answers carry, and storage (its public names only); never the bus,
# handlers, middleware, rules or the aggregate.
READ_SIDE_USES = (
    "domain.events",
    "domain.ports",
    "domain.values",
    "domain.errors",
    "domain.storage",
)
# Rooms inside graph/, lowest first: the GraphQL surface (api) knows no other room; the pipeline
# knows the surface; the metrics know both; the HTTP edge knows those three but not the
# operations (CLI checks, migrations, status, seed), which know neither the edge nor the wiring
# (the composition root, the app, the command line). Each key may import none of the packages or
# modules listed for it.
WIRING = ("graph.app", "graph.bootstrap", "graph.cli")
GRAPH_ROOMS_MAY_NOT_IMPORT = {
    "graph.api": ("graph.pipeline", "graph.observe", "graph.http", "graph.ops", *WIRING),
    "graph.pipeline": ("graph.observe", "graph.http", "graph.ops", *WIRING),
    "graph.observe": ("graph.http", "graph.ops", *WIRING),
    "graph.ops": ("graph.http", *WIRING),
    "graph.http": ("graph.ops",),
}
# Module sizes, in lines as `wc -l` counts them (blank lines and docstrings included).
SIZED = (*PRODUCT, "tests", "bench")
MAX_LINES = 400
MAX_MEDIAN_LINES = 150


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def product_modules() -> dict[str, Path]:
    """Every module of the product packages, by dotted name."""
    return {
        _module_name(path): path
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _imports(module: str, path: Path) -> Iterator[tuple[str, str | None]]:
    """(module imported from, name imported or None) for every import statement in `path`."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            yield from ((source, alias.name) for alias in node.names)


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Each product module and the product modules it imports anywhere in its body."""
    modules = product_modules()
    edges: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        targets = set()
        for source, imported in _imports(name, path):
            targets.add(source)
            if imported is not None:
                targets.add(f"{source}.{imported}")  # `from package import module`
        edges[name] = frozenset(t for t in targets if t in modules and t != name)
    return edges


def circles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The import circles in `edges` (one path per circle found)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            found.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(edges.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def _public_names(module: str) -> set[str] | None:
    """The names listed in the `__all__` of one of our modules, or None if it has none."""
    path = product_modules().get(module)
    if path is None:
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
            )
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            return {str(ast.literal_eval(element)) for element in node.value.elts}
    return None


def test_no_import_circle_anywhere_in_the_product() -> None:
    assert circles(import_graph()) == []


def test_imports_point_from_graph_to_readmodels_to_domain() -> None:
    wrong = sorted(
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if _package(target) not in MAY_IMPORT.get(_package(module), set(PRODUCT))
    )
    assert wrong == []


def _within(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def test_graphs_rooms_keep_to_themselves() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for room, forbidden in GRAPH_ROOMS_MAY_NOT_IMPORT.items()
        if _within(module, room)
        for target in targets
        if any(_within(target, other) for other in forbidden)
    )
    assert wrong == []


def _read_side_uses(source: str, name: str | None) -> bool:
    if not any(source == use or source.startswith(use + ".") for use in READ_SIDE_USES):
        return False
    if name is None:
        return True
    if name.startswith("_"):
        return False
    if source.startswith("domain.storage"):
        public = _public_names(source)
        return public is None or name in public or f"{source}.{name}" in product_modules()
    return True


def test_the_read_side_uses_only_the_write_sides_vocabulary_ports_and_public_storage() -> None:
    wrong = sorted(
        f"{module}: from {source} import {name}"
        for module, path in product_modules().items()
        if _package(module) == "readmodels"
        for source, name in _imports(module, path)
        if _package(source) == "domain" and not _read_side_uses(source, name)
    )
    assert wrong == []


def _module_lines() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in SIZED
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_no_module_is_over_400_lines_and_the_median_is_under_150() -> None:
    lines = _module_lines()
    assert len(lines) > 100
    assert {path: n for path, n in lines.items() if n > MAX_LINES} == {}
    assert statistics.median(lines.values()) < MAX_MEDIAN_LINES


def test_the_checks_see_what_they_check() -> None:
    edges = import_graph()
    assert "graph.bootstrap" in edges["graph.app"]
    assert "graph.api.context" in edges["graph.api.reads"]  # under TYPE_CHECKING
    assert "graph.cli.maintenance" in edges["graph.cli"]  # inside a function
    assert "graph.cli.tools" in edges["graph.cli"]  # `from package import module`
    assert _within("graph.ops.status", "graph.ops")
    assert not _within("graph.opsx", "graph.ops")
    assert circles({"graph.a": frozenset({"graph.b"}), "graph.b": frozenset({"graph.a"})}) == [
        ["graph.a", "graph.b", "graph.a"]
    ]
    assert _read_side_uses("domain.storage.database", "padded_chunks")
    assert not _read_side_uses("domain.storage.database", "_configure_sqlite")
    assert not _read_side_uses("domain.bus", "CommandBus")
    assert not _read_side_uses("domain.handlers", None)
    assert "readmodels/runner/runner.py" in _module_lines()


def test_architecture_md_names_every_product_module() -> None:
    """docs/architecture.md's tree has a line for each module, under its package's folder."""
    tree = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = tree[tree.index("## The tree") :].split("```")[1]
    lines = block.splitlines()
    missing = []
    for path in product_modules().values():
        if path.name == "__init__.py" or "migrations" in path.parts:
            continue
        folder = path.parent.name + "/"
        owners = [i for i, line in enumerate(lines) if line.strip().split(" ")[0] == folder]
        named = [i for i, line in enumerate(lines) if line.strip().split(" ")[0] == path.name]
        if not any(o < n for o in owners for n in named):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == [], f"docs/architecture.md's tree does not name {missing}"
