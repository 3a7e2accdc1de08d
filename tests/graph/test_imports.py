"""The graph package's imports form no circle (TYPE_CHECKING and function-level imports
included), and the imports between the product packages point one way:
graph → readmodels → domain."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "readmodels", "graph")
# Which of our packages each one may import.
ALLOWED = {"domain": {"domain"}, "readmodels": {"readmodels", "domain"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    """Every module of the product packages, by dotted name."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        yield source
        yield from (f"{source}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Each product module and the product modules it imports anywhere in its body."""
    modules = product_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        targets = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, name, is_package)
            if target in modules and target != name
        }
        edges[name] = targets
    return edges


def circles(edges: dict[str, set[str]], within: str) -> list[list[str]]:
    """The import circles among the modules of package `within` (one path per circle)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            found.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(edges.get(module, ())):
            if target.split(".")[0] == within:
                visit(target, [*path, module])
        done.add(module)

    for module in sorted(edges):
        if module.split(".")[0] == within:
            visit(module, [])
    return found


def test_the_graph_package_has_no_import_circle() -> None:
    assert circles(import_graph(), "graph") == []


def test_imports_point_from_graph_to_readmodels_to_domain() -> None:
    wrong = sorted(
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if target.split(".")[0] not in ALLOWED.get(module.split(".")[0], set(PACKAGES))
    )
    assert wrong == []


def test_the_walk_sees_the_imports_it_checks() -> None:
    edges = import_graph()
    assert "graph.bootstrap" in edges["graph.app"]
    assert "graph.api.context" in edges["graph.api.reads"]  # under TYPE_CHECKING
    assert "graph.ops.maintenance" in edges["graph.cli"]  # inside a function
    assert circles({"graph.a": {"graph.b"}, "graph.b": {"graph.a"}}, "graph") == [
        ["graph.a", "graph.b", "graph.a"]
    ]
