"""What a generated planning call reaches: its verdict class, its kept reasons, its DST dates.

The differential tests record these with ``hypothesis.event`` and in ``tests.tally.COUNTS``;
``tests/differential/test_reach.py`` asserts minimum shares of them on a fixed sample, so that a
change to ``tests/strategies.py`` cannot quietly stop exercising the rules of docs/spec.md.

Only the verdict (spec §7.5) and the scenario are read here: nothing about how a planner works.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.strategies import transition_instants

if TYPE_CHECKING:
    from tests.strategies import Scenario

__all__ = [
    "KEPT_REASONS",
    "VERDICT_CLASSES",
    "classify",
    "near_transition",
    "parse_instant",
]

VERDICT_CLASSES = ("eligible-purge", "eligible-empty", "active", "not-due", "tenant-hold")
KEPT_REASONS = ("created-after-as-of", "object-hold", "category-keep", "category-retain", "shared")

_ONE_DAY = timedelta(days=1)


def parse_instant(text: str) -> datetime:
    """A valid spec §2.1 instant as an aware UTC datetime (fractions of 1 to 6 digits included)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def near_transition(zone: str, moment: datetime) -> bool:
    """Whether ``zone`` changes its UTC offset within one day (either side) of ``moment``."""
    found = transition_instants(zone)
    i = bisect.bisect_left(found, moment - _ONE_DAY)
    return i < len(found) and found[i] <= moment + _ONE_DAY


def classify(scenario: Scenario, verdict: dict[str, Any]) -> list[str]:
    """The labels a verdict on ``scenario`` reaches (see the module docstring).

    Args:
        scenario: the planning call.
        verdict: a planner's verdict on it (spec §7.5).

    Returns:
        ``class:<one of VERDICT_CLASSES>``; ``kept:<reason>`` once per kept reason present;
        ``as-of-near-dst`` and ``primary-due-near-dst`` when that instant lies within one day
        of a UTC-offset change of the policy's zone; ``created-after-as-of-exists`` when the
        tenant is eligible and owns an object created after ``as_of`` (whatever the verdict says).
    """
    zone: str = scenario.policy["timezone"]
    if verdict["eligible"]:
        kind = "eligible-purge" if verdict["purge"] else "eligible-empty"
    else:
        kind = verdict["reason"]
    labels = [f"class:{kind}"]
    labels += [f"kept:{r}" for r in KEPT_REASONS if any(k["reason"] == r for k in verdict["kept"])]
    as_of = parse_instant(scenario.as_of)
    if near_transition(zone, as_of):
        labels.append("as-of-near-dst")
    if verdict["primary_due"] is not None and near_transition(
        zone, parse_instant(verdict["primary_due"])
    ):
        labels.append("primary-due-near-dst")
    if verdict["eligible"] and any(
        o["tenant"] == scenario.tenant and parse_instant(o["created_at"]) > as_of
        for o in scenario.inventory["objects"]
    ):
        labels.append("created-after-as-of-exists")
    return labels
