"""Differential tests: planner A against planner B on generated inputs (spec §9).

The planners are each other's oracle: for every generated call, both return the same verdict or
both reject the input. The tally at the end of the run counts what was compared and what the draws reached (verdict
class, kept reasons, instants near a change of offset; ``tests/differential/test_reach.py``
asserts the shares).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import event, given, note, settings

import deleter_a
import deleter_b
from tests import tally
from tests.conftest import examples
from tests.reach import classify
from tests.strategies import Scenario, bad_scenarios, chain_scenarios, scenarios

if TYPE_CHECKING:
    from types import ModuleType


def input_error_form(exc: Any) -> tuple[bool, ...]:
    """Spec §8, as checks: source is one of four, message is text, str(error) is one line with field."""
    text = str(exc)
    return (
        exc.source in {"inventory", "policy", "tenant", "as_of"},
        isinstance(exc.field, str),
        isinstance(exc.message, str) and exc.message != "",
        "\n" not in text,
        exc.field in text,
    )


def outcome(planner: ModuleType, scenario: Scenario) -> tuple[str, Any]:
    """("verdict", v) or ("rejected", (source, field)) for one planner on one call."""
    try:
        return "verdict", planner.plan(*scenario.args())
    except planner.PlanInputError as exc:
        error = exc
    assert (True, True, True, True, True) == input_error_form(error), repr(error)
    return "rejected", (error.source, error.field)


def check_same(scenario: Scenario, label: str) -> tuple[str, Any]:
    """Assert A and B agree (or both reject) on ``scenario``; count the outcome."""
    a = outcome(deleter_a, scenario)
    b = outcome(deleter_b, scenario)
    note(f"A: {a}\nB: {b}")
    if a[0] == b[0] == "rejected":
        tally.COUNTS[f"{label}-both-rejected"] += 1
        return a
    assert a == b
    tally.COUNTS[f"{label}-agreed-{'eligible' if a[1]['eligible'] else a[1]['reason']}"] += 1
    # What the draw reaches (tests/reach.py): hypothesis statistics and the end-of-run tally.
    for reached in classify(scenario, a[1]):
        event(reached)
        tally.COUNTS[f"{label}-{reached}"] += 1
    return a


@settings(max_examples=examples(ci=4000, dev=300))
@given(scenario=scenarios())
def test_planners_agree_on_valid_inputs(scenario: Scenario) -> None:
    """Spec §9: on valid generated inputs A and B return identical verdicts."""
    kind, _ = check_same(scenario, "valid")
    assert "verdict" == kind


@settings(max_examples=examples(ci=1500, dev=200))
@given(case=bad_scenarios())
def test_planners_both_reject_bad_inputs(case: tuple[str, Scenario]) -> None:
    """Spec §4.4, §8: an input broken in one way is rejected by both, naming the same field."""
    fault, scenario = case
    note(fault)
    a = outcome(deleter_a, scenario)
    b = outcome(deleter_b, scenario)
    assert ("rejected", "rejected") == (a[0], b[0]), (fault, a, b)
    assert a[1] == b[1], fault
    tally.COUNTS["bad-both-rejected"] += 1


@settings(max_examples=examples(ci=300, dev=60))
@given(scenario=chain_scenarios())
def test_planners_agree_on_chains_and_cycles(scenario: Scenario) -> None:
    """Spec §7.3: long chains and cycles, entered or not, give identical verdicts."""
    check_same(scenario, "chains")


@settings(max_examples=examples(ci=800, dev=150))
@given(scenario=scenarios(max_objects=40, max_refs=6))
def test_planners_agree_on_dense_graphs(scenario: Scenario) -> None:
    """Spec §7.3: dense ref graphs across tenants give identical verdicts."""
    check_same(scenario, "dense")
