"""The package's folders tell the pipeline, and its imports follow it: no cycles, nothing upward.

Layers, lowest first: the shared small modules; the generic Hudi writer; the
study's table definition; then the stages generator -> lake -> catalog ->
pipeline; the simulation that chains them; the ML end; the ``awsglue`` shim that Glue job
scripts import (a package of its own beside zfish, over the catalog and the lake); the AWS
endpoint; the command line. A module may import its own layer or a lower one, never a higher
one, and the module graph (lazy imports inside functions included) has no cycle.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zfish"
# Shipped beside zfish (pyproject's packages include it) and held to the same layers.
SHIM = PACKAGE.parent / "awsglue"

LAYERS: list[tuple[str, ...]] = [
    (
        "zfish",
        "zfish.__init__",
        "zfish.exceptions",
        "zfish.settings",
        "zfish.console",
        "zfish.fsutil",
        "zfish.problems",
        "zfish.spark",
    ),
    ("zfish.hudi",),
    ("zfish.fishtable",),
    ("zfish.generator",),
    ("zfish.lake",),
    ("zfish.catalog",),
    ("zfish.pipeline",),
    ("zfish.simulate",),
    ("zfish.ml",),
    # Job scripts run it in their own process (spark-submit); the endpoint never imports it.
    ("awsglue",),
    # Trino 476, the real engine behind Athena: zfish query --engine trino and the oracle.
    ("zfish.trino",),
    # The AWS endpoint: a floor above every stage, which none of them imports.
    ("zfish.aws",),
    ("zfish.cli", "zfish.__main__"),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for root in (PACKAGE, SHIM) for p in root.rglob("*.py")}


def _layer(module: str) -> int:
    best = -1
    best_len = -1
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = rank, len(prefix)
    assert best >= 0, f"{module} is in no layer of tests/test_layout.py; add it"
    return best


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """zfish modules imported by ``module`` anywhere in its body (``from x import y`` may name a module)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` depends on pkg.mod; ``from pkg import name`` on pkg.
            names = [f"{base}.{a.name}" for a in node.names]
            if any(n not in known for n in names):
                names.append(base)
        else:
            continue
        for name in names:
            if name in known and name != module:
                found.add(name)
    return found


@functools.cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_every_module_sits_in_a_layer() -> None:
    for module in _modules():
        _layer(module)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_upward_imports(module: str) -> None:
    graph = _graph()
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for target in sorted(graph[module])
        if _layer(target) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    edges = graph
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_stage_folders_hold_their_modules() -> None:
    expected = {
        "lake": {"upload", "jsoncompact", "partitions"},
        "catalog": {"crawler", "glue", "jsontypes", "query", "render"},
        "ml": {"features", "dataset", "model", "explore", "plots", "notebooks"},
    }
    for folder, names in expected.items():
        present = {p.stem for p in (PACKAGE / folder).glob("*.py")}
        assert names <= present, f"zfish/{folder}/ lacks {sorted(names - present)}"
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    moved = set().union(*expected.values())
    assert not flat & moved, f"still flat in zfish/: {sorted(flat & moved)}"
