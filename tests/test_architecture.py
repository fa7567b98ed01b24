"""The shape docs/architecture.md describes, kept by a test: who may import whom, all SQL behind
the store's door, no import cycles, small functions and modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "newsdesk"
MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 600

# The road, lowest first: a module may import its own layer and the layers below it, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "model", "util", "pools"),
    ("settings", "fetch", "parse", "process", "query"),
    ("store",),
    (
        "schedule",
        "refresh",
        "refresh_pool",
        "refresh_state",
        "refresh_worker",
        "enrich",
        "stories",
        "entities",
        "timeline",
        "alerts",
        "rules",
        "intel",
        "publish",
    ),
    ("desk",),
    ("web", "workers", "demo", "cli", "__main__"),
)
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}


@dataclass(frozen=True)
class Import:
    source: str  # dotted module that imports
    target: str  # dotted module (or package) imported
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> Iterator[tuple[Path, str, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        yield path, module_name(path), ast.parse(path.read_text(encoding="utf-8"))


def imports(path: Path, module: str, tree: ast.Module) -> Iterator[Import]:
    top = {id(node) for node in tree.body}
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, id(node) in top)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package[: len(package) - (node.level - 1)]
                base = ".".join([*stem, base] if base else stem)
            yield Import(module, base, node.lineno, id(node) in top)
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno, id(node) in top)


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


ALL = list(sources())
MODULES = {module for _, module, _ in ALL}
IMPORTS = [found for path, module, tree in ALL for found in imports(path, module, tree)]


def known(target: str) -> str | None:
    """The module of ours a dotted import name lands on (``a.b.name`` -> ``a.b``)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def test_nothing_outside_the_store_imports_sqlalchemy_or_the_schema() -> None:
    found = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in IMPORTS
        if top_package(i.source) != "store"
        and (i.target.split(".")[0] == "sqlalchemy" or i.target.startswith("newsdesk.store.schema"))
    ]
    assert found == []


def test_nothing_outside_the_store_touches_an_engine() -> None:
    found = [
        f"{module}:{node.lineno}"
        for path, module, tree in ALL
        if top_package(module) != "store"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "engine"
    ]
    assert found == []


def test_layers_only_import_downwards() -> None:
    upward = []
    for i in IMPORTS:
        target = known(i.target)
        if target is None:
            continue
        here, there = LAYER_OF[top_package(i.source)], LAYER_OF[top_package(target)]
        if there > here:
            upward.append(f"{i.source}:{i.line} imports {target}")
    assert upward == []


def test_every_package_has_a_layer() -> None:
    assert {top_package(m) for m in MODULES} <= set(LAYER_OF)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for i in IMPORTS:
        target = known(i.target)
        if i.top_level and target and target != i.source:
            graph.setdefault(i.source, set()).add(target)
    cycles = _cycles(graph)
    assert cycles == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("limit", [MAX_FUNCTION_LINES])
def test_functions_are_short(limit: int) -> None:
    long = [
        f"{module}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for _, module, tree in ALL
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]
    assert long == []


def test_modules_are_short() -> None:
    long = [
        f"{module} ({lines} lines)"
        for path, module, _ in ALL
        if (lines := path.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES
    ]
    assert long == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
