"""The planner interface of spec §8: exports, purity, single pass, order independence."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

import deleter_b

from .b_support import UTC, Data, cancelled, event, inventory, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Iterator

AS_OF = "2026-05-01T00:00:00Z"


class OnePassList(list[object]):
    """A list that counts iterations and refuses random access."""

    iterations = 0

    def __iter__(self) -> Iterator[object]:
        """Count the call and iterate."""
        self.iterations += 1
        return super().__iter__()

    def __getitem__(self, index: object) -> object:  # type: ignore[override]
        """Refuse indexing: the planner must only iterate."""
        raise AssertionError(index)


def _input() -> tuple[Data, Data]:
    inv = inventory(
        [
            cancelled("t", "2020-02-01T00:00:00Z"),
            tenant("u", [event("subscribed", "2020-01-01T00:00:00Z")]),
        ],
        [
            obj("s", "b", refs=[("s", "c")]),
            obj("s", "a", category="logs"),
            obj("s", "c"),
            obj("s", "h", legal_hold=True, refs=[("s", "d"), ("x", "y")]),
            obj("s", "d"),
            obj("s", "o", "u", refs=[("s", "b")]),
            obj("s", "e", category="audit"),
            obj("r", "z"),
        ],
    )
    policy: Data = {
        "timezone": "Europe/Berlin",
        "grace_days": 3,
        "categories": {"logs": {"retain_days": 36500}, "audit": {"keep": True}},
    }
    return inv, policy


EXPECTED: Data = {
    "tenant": "t",
    "as_of": AS_OF,
    "eligible": True,
    "reason": None,
    # ld(2020-02-01T00:00Z) in Berlin = 2020-02-01; + 4 = 2020-02-05 at +01:00; + 14 = 02-19.
    "primary_due": "2020-02-04T23:00:00Z",
    "backup_due": "2020-02-18T23:00:00Z",
    "purge": [{"store": "r", "key": "z"}],
    "kept": [
        {"store": "s", "key": "a", "reason": "category-retain"},
        {"store": "s", "key": "b", "reason": "shared"},
        {"store": "s", "key": "c", "reason": "shared"},
        {"store": "s", "key": "d", "reason": "shared"},
        {"store": "s", "key": "e", "reason": "category-keep"},
        {"store": "s", "key": "h", "reason": "object-hold"},
    ],
}


def test_exports() -> None:
    """Spec §8: the package exports exactly the planner interface."""
    assert ["PlanInputError", "PlannerError", "__version__", "plan", "plan_stream"] == sorted(
        deleter_b.__all__
    )
    assert "0.2.0" == deleter_b.__version__
    assert issubclass(deleter_b.PlanInputError, deleter_b.PlannerError)
    assert issubclass(deleter_b.PlannerError, Exception)


def test_full_verdict() -> None:
    """Spec §7.5: the verdict has exactly the listed keys, sorted lists and UTC instants."""
    inv, policy = _input()
    assert EXPECTED == deleter_b.plan(inv, policy, "t", AS_OF)


def test_objects_consumed_in_one_pass() -> None:
    """Spec §8: inventory['objects'] is iterated once and never indexed."""
    inv, policy = _input()
    objects = OnePassList(inv["objects"])  # type: ignore[call-overload]
    inv["objects"] = objects
    assert EXPECTED == deleter_b.plan(inv, policy, "t", AS_OF)
    assert 1 == objects.iterations


def test_arguments_not_mutated() -> None:
    """Spec §8: the planner does not mutate its arguments."""
    inv, policy = _input()
    inv_before, policy_before = copy.deepcopy(inv), copy.deepcopy(policy)
    deleter_b.plan(inv, policy, "t", AS_OF)
    assert (inv_before, policy_before) == (inv, policy)


def test_verdict_is_fresh_and_deterministic() -> None:
    """Spec §8: repeated calls give equal, independent verdicts."""
    inv, policy = _input()
    first = deleter_b.plan(inv, policy, "t", AS_OF)
    purge = first["purge"]
    assert isinstance(purge, list)
    purge.clear()
    assert EXPECTED == deleter_b.plan(inv, policy, "t", AS_OF)


def test_order_of_input_does_not_matter() -> None:
    """Spec §4.1: reversing tenants, events, objects and refs gives the same verdict."""
    inv, policy = _input()
    tenants = inv["tenants"]
    objects = inv["objects"]
    assert isinstance(tenants, list)
    assert isinstance(objects, list)
    for t in tenants:
        t["events"].reverse()
    for o in objects:
        o.get("refs", []).reverse()
    tenants.reverse()
    objects.reverse()
    assert EXPECTED == deleter_b.plan(inv, policy, "t", AS_OF)


def test_code_point_sort_order() -> None:
    """Spec §7.5: purge is sorted by (store, key) in code-point order."""
    objects = [obj("b", "a"), obj("a", "é"), obj("a", "Z"), obj("a", "z"), obj("B", "a")]
    inv = inventory([cancelled("t", "2020-02-01T00:00:00Z")], objects)
    actual = deleter_b.plan(inv, UTC, "t", AS_OF)
    expected = [
        {"store": "B", "key": "a"},
        {"store": "a", "key": "Z"},
        {"store": "a", "key": "z"},
        {"store": "a", "key": "é"},
        {"store": "b", "key": "a"},
    ]
    assert expected == actual["purge"]


def test_non_string_key_is_unknown_field() -> None:
    """Spec §4.4 item 1: a non-string key in a record is an unknown field."""
    inv, policy = _input()
    objects = inv["objects"]
    assert isinstance(objects, list)
    objects[0][1] = "x"
    with pytest.raises(deleter_b.PlanInputError) as caught:
        deleter_b.plan(inv, policy, "t", AS_OF)
    assert ("inventory", "objects[0].1") == (caught.value.source, caught.value.field)


def test_error_survives_pickling() -> None:
    """PlanInputError keeps its attributes through copy (args hold them)."""
    error = deleter_b.PlanInputError("policy", "timezone", "bad")
    clone = copy.copy(error)
    assert ("policy", "timezone", "bad", "policy timezone: bad") == (
        clone.source,
        clone.field,
        clone.message,
        str(clone),
    )
