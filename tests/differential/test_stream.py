"""Differential tests of the streaming entry point (spec §8.1): A against B, and each against plan.

For every generated valid call, the slice of §8.1 rule 4 is built from the inventory; then
``plan_stream`` of A and of B give the same streamed verdict, and each equals what ``plan`` gives
on the whole inventory (both planners' ``plan`` agree already, ``test_differential``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given, note, settings

import deleter_a
import deleter_b
from tests import tally
from tests.conftest import examples
from tests.strategies import Scenario, chain_scenarios, scenarios

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType


def stream_slice(
    scenario: Scenario,
) -> tuple[dict[str, Any], Callable[[], Iterator[dict[str, Any]]], list[list[str]]]:
    """(T's record, objects(), shared) of §8.1 rule 4, built from the scenario's inventory."""
    inventory, _, tid, _ = scenario.args()
    record = next(t for t in inventory["tenants"] if t["id"] == tid)
    own = sorted(
        (o for o in inventory["objects"] if o["tenant"] == tid),
        key=lambda o: (o["store"], o["key"]),
    )
    shared = [
        list(r) for o in inventory["objects"] if o["tenant"] != tid for r in o.get("refs", [])
    ]

    def objects() -> Iterator[dict[str, Any]]:
        return iter([dict(o) for o in own])

    return record, objects, shared


def streamed(planner: ModuleType, scenario: Scenario) -> dict[str, Any]:
    """The streamed verdict, collected into the form of §7.5 (§8.1 rule 4)."""
    record, objects, shared = stream_slice(scenario)
    _, policy, _, as_of = scenario.args()
    result: dict[str, Any] = planner.plan_stream(record, objects, shared, policy, as_of)
    decisions = list(result.pop("decisions"))
    result["purge"] = [
        {"store": d["store"], "key": d["key"]} for d in decisions if d["reason"] is None
    ]
    result["kept"] = [d for d in decisions if d["reason"] is not None]
    return result


def planned(planner: ModuleType, scenario: Scenario) -> dict[str, Any] | None:
    """``plan`` on the whole inventory, or None when it rejects the input."""
    try:
        verdict: dict[str, Any] = planner.plan(*scenario.args())
    except planner.PlanInputError:
        return None
    return verdict


def check_streams(scenario: Scenario, label: str) -> None:
    """A's stream equals B's, and each equals plan on the whole inventory."""
    whole = planned(deleter_a, scenario)
    if whole is None:
        tally.COUNTS[f"stream-{label}-skipped-invalid"] += 1
        return
    a = streamed(deleter_a, scenario)
    b = streamed(deleter_b, scenario)
    note(f"plan: {whole}\nA: {a}\nB: {b}")
    assert (whole, whole) == (a, b)
    state = "eligible" if whole["eligible"] else whole["reason"]
    tally.COUNTS[f"stream-{label}-agreed-{state}"] += 1


@settings(max_examples=examples(ci=2000, dev=200))
@given(scenario=scenarios())
def test_streams_agree_with_each_other_and_with_plan(scenario: Scenario) -> None:
    """Spec §8.1 rule 4: both streamed verdicts equal the verdict of plan."""
    check_streams(scenario, "valid")


@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=chain_scenarios())
def test_streams_agree_on_chains_and_cycles(scenario: Scenario) -> None:
    """Spec §7.3, §8.1: long chains and cycles across the stream give the same verdicts."""
    check_streams(scenario, "chains")


@settings(max_examples=examples(ci=500, dev=100))
@given(scenario=scenarios(max_objects=40, max_refs=6))
def test_streams_agree_on_dense_graphs(scenario: Scenario) -> None:
    """Spec §7.3, §8.1: dense ref graphs, many refs from other tenants."""
    check_streams(scenario, "dense")
