"""The guards that run before the first batch: their limits are inclusive, their reports exact.

Execution rules 2 and 3: the blast-radius limits allow a purge of exactly the limit and refuse one
more; the scope check refuses a planned object that is not the tenant's at all. Found missing by
mutation testing (docs/fault-detection.md): ``>`` could become ``>=`` and a guard could report
the wrong tenant or counts unnoticed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

import deleter_a
from arbiter import LimitsConfig, Planner, Workspace
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

AS_OF = "2026-03-01T00:00:00Z"
INVENTORY = {
    "tenants": [
        tenant("t", event("cancelled", "2026-01-01T00:00:00Z")),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
    ],
    "objects": [obj(k) for k in ("a", "b", "c", "d")] + [obj(f"u{i}", "u") for i in range(4)],
}


def guard_details(ws: Workspace) -> list[Any]:
    """The details of every guard record in the audit log."""
    return [r.data["details"] for r in ws.audit.records() if r.kind == "guard"]


@pytest.mark.parametrize(
    ("limits", "status"),
    [
        (LimitsConfig(max_objects_per_purge=4), "executed"),
        (LimitsConfig(max_store_fraction=0.5, fraction_floor=3), "executed"),
        (LimitsConfig(max_store_fraction=0.25, fraction_floor=4), "executed"),
        (LimitsConfig(max_objects_per_purge=3), "refused"),
        (LimitsConfig(max_store_fraction=0.25, fraction_floor=3), "refused"),
    ],
    ids=["count-at-limit", "share-at-limit", "at-floor", "count-over", "share-over"],
)
def test_blast_radius_limits_are_inclusive(
    tmp_path: Path, limits: LimitsConfig, status: str
) -> None:
    """Four of eight objects: allowed at a limit of exactly four (or half), refused above it."""
    ws = workspace(tmp_path / "ws", INVENTORY, limits=limits)
    try:
        assert status == ws.purge_tenant("t", AS_OF).status
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("limits", "words", "details"),
    [
        (
            LimitsConfig(max_objects_per_purge=3),
            "4 objects exceed max_objects_per_purge 3",
            {"purge": 4},
        ),
        (
            LimitsConfig(max_store_fraction=0.25, fraction_floor=3),
            "4 of 8 objects exceed max_store_fraction 0.25",
            {"purge": 4, "total": 8},
        ),
    ],
    ids=["count", "share"],
)
def test_blast_radius_reports_the_tenant_and_the_counts(
    tmp_path: Path, limits: LimitsConfig, words: str, details: dict[str, int]
) -> None:
    """The refusal names the tenant and why; the audit log holds the counts."""
    ws = workspace(tmp_path / "ws", INVENTORY, limits=limits)
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("blast-radius", True, True) == (
            outcome.guard,
            "tenant 't'" in outcome.message,
            words in outcome.message,
        )
        assert [details] == guard_details(ws)
    finally:
        ws.close()


def test_future_as_of_reports_the_time_it_was_checked_against(tmp_path: Path) -> None:
    """The future-as-of refusal records the arbiter's own clock reading."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    ws = workspace(tmp_path / "ws", INVENTORY, clock=lambda: now)
    try:
        outcome = ws.purge_tenant("t", "2026-06-01T00:00:01Z")
        assert ("future-as-of", True) == (outcome.guard, "tenant 't'" in outcome.message)
        assert [{"now": "2026-06-01T00:00:00Z"}] == guard_details(ws)
    finally:
        ws.close()


def _plans_a_ghost(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    if verdict["eligible"]:
        verdict["purge"] = [*verdict["purge"], {"store": "db", "key": "ghost"}]
    return verdict


def test_an_object_that_is_nobodys_is_refused_by_the_scope_check(tmp_path: Path) -> None:
    """Both planners add an object that does not exist: the scope check refuses before any batch."""
    wrong = (
        Planner("a", "wrong", _plans_a_ghost, deleter_a.PlanInputError),
        Planner("b", "wrong", _plans_a_ghost, deleter_a.PlanInputError),
    )
    ws = workspace(tmp_path / "ws", INVENTORY, planners=wrong)
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("foreign-object", True) == (outcome.guard, "tenant 't'" in outcome.message)
        assert [{"objects": [{"store": "db", "key": "ghost"}]}] == (guard_details(ws))
    finally:
        ws.close()
