"""Tests of the public interface of deleter_a (spec §8)."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

import copy
import pickle

import pytest

import deleter_a
from deleter_a import PlanInputError, PlannerError, plan

from .a_support import DUE_AS_OF, UTC_POLICY, cancelled_tenant, inventory, obj


def test_a_exports() -> None:
    """The package exports exactly the names of spec §8 and §8.1, at version 0.2.0."""
    expected = ["PlanInputError", "PlannerError", "__version__", "plan", "plan_stream"]
    assert expected == sorted(deleter_a.__all__)
    assert "0.2.0" == deleter_a.__version__


def test_a_error_hierarchy() -> None:
    """PlanInputError is a PlannerError and an Exception."""
    assert issubclass(PlanInputError, PlannerError)
    assert issubclass(PlannerError, Exception)


def test_a_error_attributes_and_str() -> None:
    """The error carries source, field and message; str() is one line with the field."""
    error = PlanInputError("inventory", "objects[2].legalhold", "unknown field")
    assert ("inventory", "objects[2].legalhold", "unknown field") == (
        error.source,
        error.field,
        error.message,
    )
    assert "inventory: objects[2].legalhold: unknown field" == str(error)


def test_a_error_str_escapes_line_breaks() -> None:
    """A message holding a line break still gives a one-line str()."""
    error = PlanInputError("policy", "timezone", "bad\nname")
    assert 1 == len(str(error).splitlines())
    assert "timezone" in str(error)


def test_a_error_rejects_unknown_source() -> None:
    """A source other than the four of spec §8 is a programming error."""
    with pytest.raises(ValueError, match="unknown error source"):
        PlanInputError("elsewhere", "x", "y")


def test_a_error_pickles() -> None:
    """The error survives pickling with its attributes."""
    error = PlanInputError("as_of", "as_of", "bad")
    copied = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, made just above
    assert ("as_of", "as_of", "bad") == (copied.source, copied.field, copied.message)


def test_a_plan_does_not_mutate_arguments() -> None:
    """Plan leaves its inventory and policy exactly as they were."""
    inv = inventory(
        [cancelled_tenant(), cancelled_tenant("u")],
        [obj("s", "a", refs=[["s", "b"]]), obj("s", "b"), obj("s", "c", "u", refs=[["s", "a"]])],
    )
    policy: dict[str, object] = {"timezone": "UTC", "categories": {"logs": {"retain_days": 3}}}
    inv_before, policy_before = copy.deepcopy(inv), copy.deepcopy(policy)
    plan(inv, policy, "t", DUE_AS_OF)
    assert inv_before == inv
    assert policy_before == policy


def test_a_plan_is_deterministic() -> None:
    """Two calls with equal input give equal verdicts."""
    inv = inventory([cancelled_tenant()], [obj("s", "a"), obj("s", "b", hold=True)])
    assert plan(inv, UTC_POLICY, "t", DUE_AS_OF) == plan(inv, UTC_POLICY, "t", DUE_AS_OF)


def test_a_verdict_keys_and_types() -> None:
    """A verdict has exactly the keys of spec §7.5, in that order."""
    verdict = plan(inventory([cancelled_tenant()], []), UTC_POLICY, "t", DUE_AS_OF)
    expected = ["tenant", "as_of", "eligible", "reason", "primary_due", "backup_due", "purge"]
    assert [*expected, "kept"] == list(verdict)


def test_a_error_str_at_root() -> None:
    """An error at the root of an argument has the empty field and no empty field part."""
    error = PlanInputError("inventory", "", "expected a table/object, got list")
    assert "inventory: expected a table/object, got list" == str(error)
