"""Properties every verdict has, checked on both planners (spec §7)."""

from __future__ import annotations

import copy
import random
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deleter_a
import deleter_b
from tests.conftest import examples
from tests.strategies import Scenario, render_instant, scenarios

if TYPE_CHECKING:
    from types import ModuleType

PLANNERS = pytest.mark.parametrize("planner", [deleter_a, deleter_b], ids=["a", "b"])


def ids_of(objects: list[dict[str, Any]], owner: str) -> set[tuple[str, str]]:
    """(store, key) of ``owner``'s objects."""
    return {(o["store"], o["key"]) for o in objects if o["tenant"] == owner}


@PLANNERS
@settings(max_examples=examples(ci=500, dev=100))
@given(scenario=scenarios())
def test_purge_and_kept_partition_the_tenants_objects(
    planner: ModuleType, scenario: Scenario
) -> None:
    """Spec §7.4: when eligible, purge and kept partition T's objects; otherwise both are empty."""
    v = planner.plan(*scenario.args())
    purge = [(o["store"], o["key"]) for o in v["purge"]]
    kept = [(k["store"], k["key"]) for k in v["kept"]]
    if v["eligible"]:
        assert ids_of(scenario.inventory["objects"], scenario.tenant) == set(purge) | set(kept)
        assert len(purge) + len(kept) == len(set(purge) | set(kept))
    else:
        assert ([], []) == (purge, kept)


@PLANNERS
@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=scenarios(), data=st.data())
def test_unrelated_tenant_changes_nothing(
    planner: ModuleType, scenario: Scenario, data: st.DataObject
) -> None:
    """Spec §7.3: adding another tenant's objects that do not ref T's changes nothing."""
    before = planner.plan(*scenario.args())
    inventory, policy, tid, as_of = scenario.args()
    inventory["tenants"].append({"id": "unrelated", "events": [{"kind": "cancelled", "at": as_of}]})
    t_ids = ids_of(inventory["objects"], tid)
    for i in range(data.draw(st.integers(1, 5))):
        refs = data.draw(
            st.lists(
                st.sampled_from([("x", f"u{j}") for j in range(5)] + [("db", "nowhere")]),
                max_size=3,
            )
        )
        assert not set(refs) & t_ids
        inventory["objects"].append(
            {
                "store": "x",
                "key": f"u{i}",
                "tenant": "unrelated",
                "created_at": as_of,
                "refs": [list(r) for r in refs],
            }
        )
    assert before == planner.plan(inventory, policy, tid, as_of)


@PLANNERS
@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_order_of_records_carries_no_meaning(
    planner: ModuleType, scenario: Scenario, seed: int
) -> None:
    """Spec §4.1: shuffling tenants, events, objects and refs changes nothing."""
    before = planner.plan(*scenario.args())
    inventory, policy, tid, as_of = scenario.args()
    rng = random.Random(seed)
    rng.shuffle(inventory["tenants"])
    for t in inventory["tenants"]:
        rng.shuffle(t["events"])
    rng.shuffle(inventory["objects"])
    for o in inventory["objects"]:
        rng.shuffle(o.get("refs", []))
    assert before == planner.plan(inventory, policy, tid, as_of)


@PLANNERS
@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=scenarios(), data=st.data())
def test_spelling_of_instants_carries_no_meaning(
    planner: ModuleType, scenario: Scenario, data: st.DataObject
) -> None:
    """Spec §2.1: the same instants written with other offsets give the same verdict."""
    from datetime import datetime  # noqa: PLC0415 -- only this test re-reads instants

    def respell(text: str) -> str:
        return data.draw(render_instant(datetime.fromisoformat(text)))

    before = planner.plan(*scenario.args())
    inventory, policy, tid, as_of = scenario.args()
    for t in inventory["tenants"]:
        for e in t["events"]:
            e["at"] = respell(e["at"])
    for o in inventory["objects"]:
        o["created_at"] = respell(o["created_at"])
    assert before == planner.plan(inventory, policy, tid, respell(as_of))


@PLANNERS
@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=scenarios(), data=st.data())
def test_a_new_hold_never_purges_more(
    planner: ModuleType, scenario: Scenario, data: st.DataObject
) -> None:
    """Spec §7.2, §7.3: holding one more object can only shrink the purge set."""
    before = planner.plan(*scenario.args())
    inventory, policy, tid, as_of = scenario.args()
    if not inventory["objects"]:
        return
    target = data.draw(st.sampled_from(inventory["objects"]))
    target["legal_hold"] = True
    after = planner.plan(inventory, policy, tid, as_of)

    def as_set(verdict: dict[str, Any]) -> set[tuple[str, str]]:
        return {(o["store"], o["key"]) for o in verdict["purge"]}

    assert as_set(after) <= as_set(before)
    if before["eligible"] and target["tenant"] == tid:
        assert (target["store"], target["key"]) not in as_set(after)


@PLANNERS
@settings(max_examples=examples(ci=200, dev=50))
@given(scenario=scenarios())
def test_objects_are_consumed_in_one_pass(planner: ModuleType, scenario: Scenario) -> None:
    """Spec §8: the planner iterates inventory["objects"] once (ready for streaming)."""

    class OnePass(list[dict[str, Any]]):
        passes = 0

        def __iter__(self) -> Any:
            OnePass.passes += 1
            return super().__iter__()

    inventory, policy, tid, as_of = scenario.args()
    expected = planner.plan(copy.deepcopy(inventory), policy, tid, as_of)
    inventory["objects"] = OnePass(inventory["objects"])
    OnePass.passes = 0
    assert expected == planner.plan(inventory, policy, tid, as_of)
    assert 1 == OnePass.passes
