"""The mutation driver's own rules: which mutants count as changing only a message."""

from __future__ import annotations

import ast

import pytest

from deleter_a._validation import _describe
from deleter_b._schema import _kind
from tests.mutation.driver import TARGETS, changed_lines, message_only

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
