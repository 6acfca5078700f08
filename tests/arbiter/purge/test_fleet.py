"""Properties of ``run_due`` over generated workspaces: what goes, what stays, the audit log."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

import arbiter
from arbiter import LimitsConfig, ObjectId
from tests.builders import workspace
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def identities(objects: list[dict[str, Any]]) -> set[ObjectId]:
    """The identities of inventory objects."""
    return {ObjectId(o["store"], o["key"]) for o in objects}


@settings(
    max_examples=examples(ci=200, dev=40),
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)
@given(scenario=scenarios(max_objects=12, max_refs=3))
def test_run_due_deletes_exactly_what_agreed_plans_allow(scenario: Scenario) -> None:
    """After run_due: agreed purge sets gone; held, kept, retained, shared, non-eligible stay."""
    try:
        arbiter.validate_inventory(scenario.inventory, scenario.policy)
    except (arbiter.InputError, arbiter.RefusedError):
        return
    before = {
        t["id"]: arbiter.arbitrate(*scenario.args()[:2], t["id"], scenario.as_of).verdict
        for t in scenario.inventory["tenants"]
    }
    payloads = {i: i.key.encode() for i in identities(scenario.inventory["objects"])}
    with tempfile.TemporaryDirectory() as directory:
        limits = LimitsConfig(batch_size=3, max_store_fraction=1.0)
        with workspace(
            Path(directory) / "ws",
            scenario.inventory,
            policy=scenario.policy,
            limits=limits,
            payloads=payloads,
            clock=lambda: FAR_FUTURE,
        ) as ws:
            report = ws.run_due(scenario.as_of)
            after = ws.export_inventory()
            remaining = identities(after["objects"])
            files = {
                p.relative_to(ws.blobs.root) for p in Path(ws.blobs.root).rglob("*") if p.is_file()
            }
            records = ws.verify_audit()
    gone = identities(scenario.inventory["objects"]) - remaining
    statuses = {o.tenant: o.status for o in report.outcomes}
    guards = {o.tenant: o.guard for o in report.outcomes}
    assert "failed" not in statuses.values()
    owner = {ObjectId(o["store"], o["key"]): o["tenant"] for o in scenario.inventory["objects"]}
    for tid, verdict in before.items():
        if verdict.eligible and statuses[tid] == "refused":
            # The arbiter refuses a tenant whose lifecycle after as_of is no longer a cancellation.
            assert "tenant-not-cancelled" == guards[tid]
            assert not {i for i, t in owner.items() if t == tid} & gone
        elif verdict.eligible:
            assert "executed" == statuses[tid]
            # Purging other tenants only removes referrers, so a planned purge still happens.
            assert set(verdict.purge) <= gone
            held = {k.id for k in verdict.kept if k.reason != "shared"}
            assert not held & gone
        else:
            assert not {i for i, t in owner.items() if t == tid} & gone
    # Nothing that survives refs an object the purge removed: sharing was honoured.
    for o in after["objects"]:
        assert not {ObjectId(s, k) for s, k in o["refs"]} & gone
    blob_rows = {Path(i.store) / i.key for i in remaining if ws.blobs.is_blob_store(i.store)}
    assert blob_rows == files
    assert records > 0
