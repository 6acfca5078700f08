"""Sharing through refs: the semi-naive fixpoint of spec §7.3."""

from __future__ import annotations

import deleter_b
from deleter_b._closure import shared_candidates

from .b_support import UTC, Data, cancelled, eligible_at, inventory, keys, obj, reasons, tenant

AS_OF = "2026-05-01T00:00:00Z"
N = 100_000


def _k(name: str) -> tuple[str, str]:
    return ("s", name)


def test_fixpoint_follows_chains_through_candidates_only() -> None:
    """Spec §7.3: reachability starts at L's targets and walks candidates only."""
    refs = {_k("a"): [_k("b")], _k("b"): [_k("kept")], _k("c"): [_k("a")]}
    actual = shared_candidates(
        candidates={_k("a"), _k("b"), _k("c")},
        targets_of_kept=[_k("a"), _k("nowhere")],
        refs=refs,
    )
    assert {_k("a"), _k("b")} == actual


def test_fixpoint_stops_on_cycles() -> None:
    """Spec §7.3: cycles terminate and are kept whole when entered."""
    refs = {_k("p"): [_k("q")], _k("q"): [_k("p"), _k("q")]}
    actual = shared_candidates(candidates={_k("p"), _k("q")}, targets_of_kept=[_k("q")], refs=refs)
    assert {_k("p"), _k("q")} == actual


def test_fixpoint_with_no_seed_is_empty() -> None:
    """Spec §7.3: with no ref from L nothing is shared."""
    actual = shared_candidates(candidates={_k("p")}, targets_of_kept=[], refs={_k("p"): [_k("p")]})
    assert set() == actual


def _chain(length: int, *, from_other: bool) -> list[Data]:
    objects = [
        obj("s", f"c{i:06d}", refs=[("s", f"c{i + 1:06d}")] if i + 1 < length else None)
        for i in range(length)
    ]
    if from_other:
        objects.append(obj("s", "o", "u", refs=[("s", "c000000")]))
    return objects


def test_chain_of_100000_is_shared() -> None:
    """Spec §7.3: a 100000-long chain entered from another tenant is kept whole."""
    actual = eligible_at(AS_OF, _chain(N, from_other=True))
    kept = actual["kept"]
    assert isinstance(kept, list)
    assert (0, N) == (len(keys(actual["purge"])), len(kept))
    assert {"shared"} == {entry["reason"] for entry in kept}


def test_chain_of_100000_without_seed_is_purged() -> None:
    """Spec §7.3: the same chain with no ref from L is purged whole."""
    actual = eligible_at(AS_OF, _chain(N, from_other=False))
    assert (N, []) == (len(keys(actual["purge"])), actual["kept"])


def test_long_cycle_entered_at_the_end() -> None:
    """Spec §7.3: a 100000-long cycle entered anywhere is kept whole."""
    objects = [obj("s", f"c{i:06d}", refs=[("s", f"c{(i + 1) % N:06d}")]) for i in range(N)]
    objects.append(obj("s", "h", legal_hold=True, refs=[("s", f"c{N - 1:06d}")]))
    actual = eligible_at(AS_OF, objects)
    kept = actual["kept"]
    assert isinstance(kept, list)
    assert (0, N + 1) == (len(keys(actual["purge"])), len(kept))


def test_dangling_refs_are_ignored() -> None:
    """Spec §7.3: refs to no object neither keep nor fail anything."""
    objects = [
        obj("s", "a", refs=[("s", "ghost"), ("t", "a")]),
        obj("s", "o", "u", refs=[("s", "ghost2")]),
    ]
    actual = eligible_at(AS_OF, objects)
    assert ([("s", "a")], []) == (keys(actual["purge"]), actual["kept"])


def test_refs_are_directed() -> None:
    """Spec §4.1: a ref means 'from needs to'; a candidate needing a kept object is purged."""
    objects = [
        obj("s", "a", refs=[("s", "h"), ("s", "o")]),
        obj("s", "h", legal_hold=True),
        obj("s", "o", "u"),
    ]
    actual = eligible_at(AS_OF, objects)
    assert ([("s", "a")], {"h": "object-hold"}) == (keys(actual["purge"]), reasons(actual))


def test_kept_by_category_seeds_sharing() -> None:
    """Spec §7.3: T's objects kept by category are in L and share what they reference."""
    policy: Data = {"timezone": "UTC", "categories": {"audit": {"keep": True}}}
    objects = [
        obj("s", "audit", category="audit", refs=[("s", "x"), ("s", "x")]),
        obj("s", "x", refs=[("s", "y")]),
        obj("s", "y"),
        obj("s", "z"),
    ]
    actual = eligible_at(AS_OF, objects, policy)
    assert ([("s", "z")], {"audit": "category-keep", "x": "shared", "y": "shared"}) == (
        keys(actual["purge"]),
        reasons(actual),
    )


def test_refs_from_other_tenants_count_whatever_their_state() -> None:
    """Spec §7.3: an eligible other tenant's objects are still in L for T."""
    inv = inventory(
        [cancelled("t", "2020-02-01T00:00:00Z"), cancelled("u", "2020-02-01T00:00:00Z")],
        [obj("s", "a"), obj("s", "o", "u", refs=[("s", "a")])],
    )
    actual = deleter_b.plan(inv, UTC, "t", AS_OF)
    assert ([], {"a": "shared"}) == (keys(actual["purge"]), reasons(actual))


def test_same_key_in_other_store_is_a_different_object() -> None:
    """Spec §1: objects are identified by (store, key), so refs match both parts."""
    objects = [obj("s1", "a"), obj("s2", "a"), obj("s", "o", "u", refs=[("s2", "a")])]
    actual = eligible_at(AS_OF, objects)
    assert ([("s1", "a")], [("s2", "a")]) == (keys(actual["purge"]), keys(actual["kept"]))


def test_objects_of_other_tenants_never_listed() -> None:
    """Spec §7.4: only T's objects appear in the verdict."""
    inv = inventory(
        [cancelled("t", "2020-02-01T00:00:00Z"), tenant("u")],
        [obj("s", "a"), obj("s", "b", "u")],
    )
    actual = deleter_b.plan(inv, UTC, "t", AS_OF)
    assert ([("s", "a")], []) == (keys(actual["purge"]), actual["kept"])
