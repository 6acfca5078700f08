"""Tests of sharing (spec §7.3), the purge set (§7.4), ordering (§7.5) and the single pass (§8)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import pytest

from deleter_a import PlanInputError, plan
from deleter_a._reachability import shared_candidates

from .a_support import DUE_AS_OF, UTC_POLICY, CountingList, cancelled_tenant, inventory, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Iterator

CHAIN = 100_000


class OnePassList(CountingList[dict[str, object]]):
    """A list that may be iterated once and never indexed or measured."""

    def __iter__(self) -> Iterator[dict[str, object]]:
        """Allow a single iteration."""
        if self.iterations:
            pytest.fail("objects iterated twice")
        return super().__iter__()

    def __len__(self) -> int:  # noqa: PLE0303 - never returns: fails the test on purpose
        """Fail: the planner must not measure the objects."""
        pytest.fail("objects measured")

    def __getitem__(self, index: object) -> NoReturn:
        """Fail: the planner must not index the objects."""
        pytest.fail("objects indexed")

    def __reversed__(self) -> NoReturn:
        """Fail: the planner must read forward."""
        pytest.fail("objects reversed")


def _keys(entries: object) -> list[str]:
    assert isinstance(entries, list)
    return [entry["key"] for entry in entries]


def _plan(objects: list[dict[str, object]]) -> dict[str, object]:
    tenants = [cancelled_tenant(), tenant("u")]
    return plan(inventory(tenants, objects), UTC_POLICY, "t", DUE_AS_OF)


def _chain(*, rooted: bool) -> list[dict[str, object]]:
    objects = [obj("s", f"n{i:06d}", refs=[["s", f"n{i + 1:06d}"]]) for i in range(CHAIN)]
    if rooted:
        objects.append(obj("s", "root", "u", refs=[["s", "n000000"]]))
    return objects


def test_a_long_chain_is_shared_without_recursion() -> None:
    """A 100000-long chain reached from L is shared whole under a recursion limit of 400 frames."""
    objects = _chain(rooted=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # far below the chain's length: a recursive walk would fail
    try:
        verdict = _plan(objects)
    finally:
        sys.setrecursionlimit(limit)
    assert [] == verdict["purge"]
    kept = verdict["kept"]
    assert isinstance(kept, list)
    assert CHAIN == len(kept)
    assert {"store": "s", "key": f"n{CHAIN - 1:06d}", "reason": "shared"} == kept[-1]


def test_a_long_chain_without_root_is_purged() -> None:
    """The same chain with no ref from L is purged whole (its last ref dangles)."""
    verdict = _plan(_chain(rooted=False))
    assert [] == verdict["kept"]
    assert CHAIN == len(_keys(verdict["purge"]))


def test_a_marking_handles_long_chain_directly() -> None:
    """The marking itself is iterative: a 100000-long chain of integers is fully marked."""
    refs = {i: [i + 1] for i in range(CHAIN)}
    assert set(range(CHAIN)) == shared_candidates([0], refs)


def test_a_marking_ignores_non_candidates_and_repeats() -> None:
    """Roots and targets that are not candidates are skipped; repeated roots are harmless."""
    refs = {"a": ["b", "zz", "b"], "b": ["a"], "c": []}
    assert {"a", "b"} == shared_candidates(["zz", "a", "a"], refs)


def test_a_path_through_kept_object() -> None:
    """A candidate referenced by a kept object of T is shared; the one referring to it is not."""
    objects = [
        obj("s", "c0", refs=[["s", "k"]]),
        obj("s", "k", hold=True, refs=[["s", "c1"]]),
        obj("s", "c1"),
    ]
    verdict = _plan(objects)
    assert ["c0"] == _keys(verdict["purge"])
    assert ["c1", "k"] == _keys(verdict["kept"])


def test_a_refs_point_from_needer_to_needed() -> None:
    """A candidate that refs an object of L is not kept by that ref."""
    verdict = _plan([obj("s", "a", refs=[["s", "o"]]), obj("s", "o", "u")])
    assert (["a"], []) == (_keys(verdict["purge"]), _keys(verdict["kept"]))


def test_a_dangling_and_repeated_refs() -> None:
    """Dangling refs are ignored; repeated refs change nothing."""
    objects = [
        obj("s", "a", refs=[["s", "gone"], ["s", "gone"]]),
        obj("s", "o", "u", refs=[["s", "b"], ["s", "b"], ["t", "gone"]]),
        obj("s", "b"),
    ]
    verdict = _plan(objects)
    assert (["a"], ["b"]) == (_keys(verdict["purge"]), _keys(verdict["kept"]))


def test_a_objects_of_other_tenants_never_listed() -> None:
    """Objects of other tenants, cancelled or not, never appear in T's verdict."""
    tenants = [cancelled_tenant(), cancelled_tenant("u")]
    objects = [obj("s", "a"), obj("s", "b", "u"), obj("s", "c", "u", hold=True)]
    verdict = plan(inventory(tenants, objects), UTC_POLICY, "t", DUE_AS_OF)
    assert (["a"], []) == (_keys(verdict["purge"]), _keys(verdict["kept"]))


def test_a_code_point_order() -> None:
    """Purge and kept are sorted by (store, key) in code-point order."""
    objects = [
        obj("b", "a"),
        obj("a", "z"),
        obj("a", "\u00e9"),
        obj("a", "Z"),
        obj("B", "a"),
        obj("a", "10"),
        obj("a", "9"),
    ]
    verdict = _plan(objects)
    expected = [
        ("B", "a"),
        ("a", "10"),
        ("a", "9"),
        ("a", "Z"),
        ("a", "z"),
        ("a", "\u00e9"),
        ("b", "a"),
    ]
    purge = verdict["purge"]
    assert isinstance(purge, list)
    assert expected == [(entry["store"], entry["key"]) for entry in purge]


def test_a_objects_iterated_once() -> None:
    """The objects are consumed in one forward pass: iter() once, no len, no indexing."""
    objects = OnePassList(
        [obj("s", "a", refs=[["s", "b"]]), obj("s", "b"), obj("s", "o", "u", refs=[["s", "a"]])]
    )
    verdict = plan(
        inventory([cancelled_tenant(), tenant("u")], objects), UTC_POLICY, "t", DUE_AS_OF
    )
    assert 1 == objects.iterations
    assert ["a", "b"] == _keys(verdict["kept"])


def test_a_objects_iterated_once_when_not_eligible() -> None:
    """Validation of the objects of an active tenant is also one pass."""
    objects: CountingList[dict[str, object]] = CountingList([obj("s", "a")])
    plan(inventory([tenant("t")], objects), UTC_POLICY, "t", DUE_AS_OF)
    assert 1 == objects.iterations


def test_a_objects_iterated_once_on_bad_object() -> None:
    """A bad object is reported after at most one pass."""
    objects: CountingList[dict[str, object]] = CountingList([obj("s", "a"), {"store": "s"}])
    with pytest.raises(PlanInputError):
        plan(inventory([tenant("t")], objects), UTC_POLICY, "t", DUE_AS_OF)
    assert 1 == objects.iterations


def test_a_order_of_objects_does_not_matter() -> None:
    """Reversing the objects (targets before referrers) gives the same verdict."""
    objects = [
        obj("s", "o", "u", refs=[["s", "a"]]),
        obj("s", "a", refs=[["s", "b"]]),
        obj("s", "b", refs=[["s", "c"]]),
        obj("s", "c"),
        obj("s", "d", refs=[["s", "e"]]),
        obj("s", "e", refs=[["s", "d"]]),
    ]
    assert _plan(objects) == _plan(objects[::-1])
