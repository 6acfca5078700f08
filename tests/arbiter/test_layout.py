"""``ls arbiter/`` draws the architecture: every subpackage has its place in the layers contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

import arbiter

ROOT = Path(__file__).resolve().parents[2]


def layers_contract() -> dict[str, object]:
    """The import-linter layers contract over ``arbiter`` in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    found = [c for c in contracts if c["type"] == "layers" and c.get("containers") == ["arbiter"]]
    assert 1 == len(found)
    contract: dict[str, object] = found[0]
    return contract


def layered_packages() -> list[str]:
    """The packages the layers contract names, top layer first."""
    layers = layers_contract()["layers"]
    assert isinstance(layers, list)
    return [name.strip() for layer in layers for name in str(layer).split("|")]


def subpackages() -> set[str]:
    """The subpackages on disk (directories with an ``__init__.py``) below ``arbiter/``."""
    return {p.parent.name for p in Path(arbiter.__file__).parent.glob("*/__init__.py")}


def test_every_subpackage_is_in_exactly_one_layer() -> None:
    """A new subpackage without a place in the layers fails; so does a layer with no package."""
    named = layered_packages()
    assert len(named) == len(set(named))
    assert subpackages() == set(named)
    assert {"core", "purge", "cli", "backup", "manual"} <= subpackages()


def test_the_arbiter_has_no_flat_modules() -> None:
    """Beside ``__init__.py`` the arbiter holds only subpackages (and its type marker)."""
    top = {p.name for p in Path(arbiter.__file__).parent.iterdir() if p.suffix == ".py"}
    assert {"__init__.py"} == top


def test_the_core_is_the_bottom_layer_and_the_cli_the_top() -> None:
    """The order of the layers is the one documented in docs/api.md."""
    named = layered_packages()
    assert "cli" == named[0]
    assert {"core", "durable"} == set(named[-2:])


def import_cycles(graph: grimp.ImportGraph, prefix: str) -> list[list[str]]:
    """Every cycle of direct imports among the modules under ``prefix`` (type-only ones too)."""
    modules = sorted(m for m in graph.modules if m.startswith(prefix))
    edges = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i.startswith(prefix))
        for m in modules
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in edges.get(module, []):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module)
    return cycles


def test_the_arbiter_has_no_import_cycle() -> None:
    """No module of the arbiter imports, directly or through others, a module importing it."""
    graph = grimp.build_graph("arbiter")
    assert len([m for m in graph.modules if m.startswith("arbiter.")]) > 40
    assert [] == import_cycles(graph, "arbiter.")


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The walk reports a cycle where there is one (so the test above cannot pass vacuously)."""
    graph = grimp.ImportGraph()
    for module in ("pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]] == import_cycles(graph, "pkg.")
