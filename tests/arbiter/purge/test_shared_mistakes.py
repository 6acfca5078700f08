"""Mistakes both planners share: they agree, so only the arbiter's own guards stand in the way.

Comparison cannot catch a misreading of the spec that both planners make (docs/fault-detection.md,
"The limit"). Each test here replaces both planners by the same wrong one and checks that the
guard meant for that class of mistake refuses the purge before anything is deleted.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

import deleter_a
from arbiter import ObjectId, Planner, Workspace
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

AS_OF = "2026-03-01T00:00:00Z"


def _ignore_tenant_hold(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    wrong = copy.deepcopy(dict(inv))
    for record in wrong["tenants"]:
        record["legal_hold"] = False
    return deleter_a.plan(wrong, pol, t, at)


def _cancellation_wins_ties(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    # Misreads spec §5.2: a reactivation at the instant of a cancellation counts as earlier.
    wrong = copy.deepcopy(dict(inv))
    for record in wrong["tenants"]:
        cancelled = {e["at"] for e in record["events"] if e["kind"] == "cancelled"}
        record["events"] = [
            e for e in record["events"] if e["kind"] != "reactivated" or e["at"] not in cancelled
        ]
    return deleter_a.plan(wrong, pol, t, at)


def _ignore_resubscription(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    # Misreads spec §5.1: only reactivations undo a cancellation, a new subscription does not.
    wrong = copy.deepcopy(dict(inv))
    for record in wrong["tenants"]:
        record["events"] = [e for e in record["events"] if e["kind"] != "subscribed"]
    return deleter_a.plan(wrong, pol, t, at)


def _refs_backwards(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    # Misreads spec §4.1: "x refs y" taken as "y needs x".
    wrong = copy.deepcopy(dict(inv))
    reverse: dict[tuple[str, str], list[list[str]]] = {}
    for record in wrong["objects"]:
        for store, key in record.pop("refs", []):
            reverse.setdefault((store, key), []).append([record["store"], record["key"]])
    for record in wrong["objects"]:
        record["refs"] = reverse.get((record["store"], record["key"]), [])
    return deleter_a.plan(wrong, pol, t, at)


def _ignore_category_keep(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    wrong = copy.deepcopy(dict(pol))
    wrong.pop("categories", None)
    return deleter_a.plan(inv, wrong, t, at)


def inventory(*, hold: bool = False, tie: bool = False, again: bool = False) -> dict[str, Any]:
    """Tenant t is due (or held, reactivated at the instant it cancelled, or subscribed again)."""
    events = [
        event("subscribed", "2025-01-01T00:00:00Z"),
        event("cancelled", "2026-01-01T00:00:00Z"),
    ]
    if tie:
        events.append(event("reactivated", "2026-01-01T00:00:00Z"))
    if again:
        events.append(event("subscribed", "2026-01-15T00:00:00Z"))
    return {
        "tenants": [
            tenant("t", *events, legal_hold=hold),
            tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
        ],
        "objects": [
            obj("r1"),
            obj("audit", category="audit"),
            obj("needed"),
            obj("u1", "u", refs=[("db", "needed")]),
        ],
    }


def ids(ws: Workspace) -> set[ObjectId]:
    """Every object identity in the store."""
    return {ObjectId(o["store"], o["key"]) for o in ws.export_inventory()["objects"]}


@pytest.mark.parametrize(
    ("plan", "guard", "data"),
    [
        (_ignore_tenant_hold, "tenant-hold", {"hold": True}),
        (_cancellation_wins_ties, "tenant-not-cancelled", {"tie": True}),
        (_ignore_resubscription, "tenant-not-cancelled", {"again": True}),
        (_refs_backwards, "shared", {}),
        (_ignore_category_keep, "category-keep", {}),
    ],
    ids=[
        "ignore-tenant-hold",
        "ties-to-cancellation",
        "ignore-resubscription",
        "refs-backwards",
        "ignore-category-keep",
    ],
)
def test_a_mistake_both_planners_share_is_refused_by_its_guard(
    tmp_path: Path, plan: Any, guard: str, data: dict[str, bool]
) -> None:
    """Both planners wrong the same way agree; the guard for that mistake refuses, deletes nothing."""
    ws = workspace(
        tmp_path / "ws",
        inventory(**data),
        policy={"timezone": "UTC", "categories": {"audit": {"keep": True}}},
        planners=(
            Planner("a", "wrong", plan, deleter_a.PlanInputError),
            Planner("b", "wrong", plan, deleter_a.PlanInputError),
        ),
    )
    try:
        before = ids(ws)
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("refused", guard, before) == (outcome.status, outcome.guard, ids(ws))
    finally:
        ws.close()


def test_the_right_planners_purge_the_same_data(tmp_path: Path) -> None:
    """Control: with the real planners the same inventory purges only what the spec allows."""
    ws = workspace(
        tmp_path / "ws",
        inventory(),
        policy={"timezone": "UTC", "categories": {"audit": {"keep": True}}},
    )
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        expected = {ObjectId("db", "audit"), ObjectId("db", "needed"), ObjectId("db", "u1")}
        assert ("executed", expected) == (outcome.status, ids(ws))
    finally:
        ws.close()
