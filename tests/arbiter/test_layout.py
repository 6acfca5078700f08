"""``ls arbiter/`` draws the architecture: every subpackage has its place in the layers contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
