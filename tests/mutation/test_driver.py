"""The mutation driver's own rules: which mutants count as changing only a message."""

from __future__ import annotations

import ast
import json
from typing import TYPE_CHECKING

import pytest

from deleter_a._validation import _describe
from deleter_b._schema import _kind
from tests.mutation.driver import (
    TARGETS,
    Target,
    changed_lines,
    message_only,
    read_results,
    save_checkpoint,
    seed_checkpoint,
)

if TYPE_CHECKING:
    from pathlib import Path

PLANNER = TARGETS["deleter_a"]


def function(source: str) -> ast.FunctionDef:
    """The one function defined by ``source``."""
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


ORIGINAL = """
def check(value, where):
    if not isinstance(value, str):
        raise PlanInputError("inventory", where, f"expected text, got {_describe(value)} {value[:60]!r}")
    if not value:
        where.fail("must not be empty")
    return value
"""


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('where.fail("must not be empty")', 'where.fail("XXmust not be emptyXX")'),
        ('where.fail("must not be empty")', 'where.fail("MUST NOT BE EMPTY")'),
        ("{value[:60]!r}", "{value[:61]!r}"),
        ("{_describe(value)}", "{_describe(None)}"),
    ],
)
def test_changes_to_the_words_of_a_message_are_message_only(before: str, after: str) -> None:
    """A literal message, a slice bound or a described value inside a message is only words."""
    assert message_only(function(ORIGINAL), function(ORIGINAL.replace(before, after)), PLANNER)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('where.fail("must not be empty")', "where.fail(None)"),
        ('where.fail("must not be empty")', "where.fail()"),
        ('PlanInputError("inventory"', 'PlanInputError("XXinventoryXX"'),
        ('PlanInputError("inventory", where', 'PlanInputError("inventory", None'),
        ("if not value:", "if value:"),
        ("{value[:60]!r}", "{value[:60].upper()!r}"),
    ],
)
def test_anything_else_is_run_like_any_mutant(before: str, after: str) -> None:
    """A missing message, a source, a field, a condition or a new call is not message-only."""
    assert not message_only(function(ORIGINAL), function(ORIGINAL.replace(before, after)), PLANNER)


@pytest.mark.parametrize("describe", [_describe, _kind])
def test_describers_accept_none(describe: object) -> None:
    """The describing functions a mutant may hand None still return text (the rule relies on it)."""
    assert callable(describe)
    assert "null" == describe(None)


def test_changed_lines_are_the_removed_and_added_lines() -> None:
    """A mutant is identified by what it removes and adds, whitespace aside."""
    diff = "--- a.py\n+++ a.py\n@@ -1 +1 @@\n     x = 1\n-    if a < b:\n+    if a <= b:"
    assert ["-if a < b:", "+if a <= b:"] == changed_lines(diff)


MUTATED = """
def x_f__mutmut_orig(a):
    return a + 1


def x_f__mutmut_1(a):
    return a - 1


def x_g__mutmut_orig(a):
    return a * 2


def x_g__mutmut_1(a):
    return a / 2


def x_g__mutmut_2(a):
    return a * 3
"""

FAKE = Target(
    name="fake",
    package="pkg",
    files=("pkg/*.py",),
    tests=("tests",),
    scope=("pkg.*",),
    message_calls=(),
    required_score=1.0,
)


def staged(root: Path, source: str, codes: dict[str, int | None]) -> Path:
    """A staging directory as mutmut leaves it: one mutated module and its results."""
    module = root / "mutants" / "pkg"
    module.mkdir(parents=True)
    (module / "mod.py").write_text(source, encoding="utf-8")
    meta = {"exit_code_by_key": codes, "durations_by_key": {}}
    (module / "mod.py.meta").write_text(json.dumps(meta), encoding="utf-8")
    return root


def results(directory: Path) -> dict[str, str]:
    """Each mutant's status in a staging directory."""
    return {r.name: r.status for r in read_results(directory, FAKE)}


def test_a_checkpoint_keeps_kills_and_a_later_session_takes_them_up(tmp_path: Path) -> None:
    """Kills come back in a fresh staging directory; a survivor and an unrun mutant do not."""
    codes: dict[str, int | None] = {
        "pkg.mod.x_f__mutmut_1": 1,
        "pkg.mod.x_g__mutmut_1": 0,
        "pkg.mod.x_g__mutmut_2": None,
    }
    checkpoint = tmp_path / "checkpoint.json"
    assert 1 == save_checkpoint(staged(tmp_path / "a", MUTATED, codes), FAKE, checkpoint)
    fresh = staged(tmp_path / "b", MUTATED, dict.fromkeys(codes))
    assert 1 == seed_checkpoint(fresh, FAKE, checkpoint)
    expected = {
        "pkg.mod.x_f__mutmut_1": "killed",
        "pkg.mod.x_g__mutmut_1": "not checked",
        "pkg.mod.x_g__mutmut_2": "not checked",
    }
    assert expected == results(fresh)


def test_a_kill_of_a_changed_function_is_run_again(tmp_path: Path) -> None:
    """A function whose original source changed since the checkpoint gets none of its kills."""
    codes: dict[str, int | None] = {"pkg.mod.x_f__mutmut_1": 1, "pkg.mod.x_g__mutmut_1": 1}
    checkpoint = tmp_path / "checkpoint.json"
    assert 2 == save_checkpoint(staged(tmp_path / "a", MUTATED, codes), FAKE, checkpoint)
    changed = MUTATED.replace("return a + 1", "return a + 2", 1)
    fresh = staged(tmp_path / "b", changed, dict.fromkeys(codes))
    assert 1 == seed_checkpoint(fresh, FAKE, checkpoint)
    expected = {"pkg.mod.x_f__mutmut_1": "not checked", "pkg.mod.x_g__mutmut_1": "killed"}
    assert expected == results(fresh)


def test_a_checkpoint_of_another_target_is_refused(tmp_path: Path) -> None:
    """Seeding from a file that is not this target's checkpoint stops, seeding nothing."""
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(json.dumps({"format": "x", "target": "fake"}), encoding="utf-8")
    fresh = staged(tmp_path / "b", MUTATED, {"pkg.mod.x_f__mutmut_1": None})
    with pytest.raises(SystemExit, match="not a mutation checkpoint of fake"):
        seed_checkpoint(fresh, FAKE, checkpoint)
    assert {"pkg.mod.x_f__mutmut_1": "not checked"} == results(fresh)
