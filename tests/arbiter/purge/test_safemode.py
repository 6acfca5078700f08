"""Fleet safe mode on the real SQLite store: trips, refusals on every runner, clocks, resets.

A trip is fleet-wide because it lives in the store: the test of another runner refusing while
tripped runs on both stores (``store_kind``, ``tests/arbiter/conftest.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import arbiter
import deleter_a
from arbiter import (
    ApprovalError,
    LimitsConfig,
    OperatorConfig,
    Planner,
    SafeMode,
    SafeModeConfig,
    SafeModeError,
    StoreConfig,
    UsageError,
    Workspace,
    WorkspaceConfig,
    generate_key,
)
from arbiter.core.instants import format_instant
from arbiter.purge.safemode import FleetTally
from tests.builders import event, obj, tenant
from tests.postgres import store_url

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

AS_OF = "2026-03-01T00:00:00Z"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
A, B = arbiter.default_planners()
TENANTS = [f"t{i}" for i in range(6)]


def _drop_one(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    verdict["purge"] = verdict["purge"][1:]
    return verdict


DIVERGING = (Planner("a", "wrong", _drop_one, deleter_a.PlanInputError), B)


def inventory() -> dict[str, Any]:
    """Six due tenants (t0..t5), two objects each."""
    return {
        "tenants": [tenant(t, event("cancelled", "2026-01-01T00:00:00Z")) for t in TENANTS],
        "objects": [obj(f"{t}-{i}", t) for t in TENANTS for i in range(2)],
    }


def keys_of(directory: Path) -> dict[str, Path]:
    """The operators' key files of a test workspace."""
    return {name: directory.parent / "keys" / f"{name}.key" for name in ("alice", "bob")}


def create(directory: Path, *, admin_url: str | None = None, **safe_mode: Any) -> Workspace:
    """A workspace holding ``inventory()``, operators alice and bob registered.

    On SQLite, or on the PostgreSQL database ``admin_url`` (a superuser URL) names.
    """
    keys = keys_of(directory)
    keys["alice"].parent.mkdir(parents=True)
    public = {name: generate_key(path) for name, path in keys.items()}
    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=LimitsConfig(max_store_fraction=1.0),
        operators={name: OperatorConfig(key) for name, key in public.items()},
        safe_mode=SafeModeConfig(**safe_mode),
        store=StoreConfig() if admin_url is None else StoreConfig(url=store_url(admin_url)),
    )
    with Workspace.create(directory, config, admin_url=admin_url) as created:
        created.import_inventory(inventory())
        return created


def reopen(
    ws: Workspace,
    *,
    planners: Any = None,
    clock: Any = lambda: NOW,
) -> Workspace:
    """Another runner on the same workspace."""
    return Workspace.open(
        ws.config.directory, planners=planners, clock=clock, credentials=ws.credentials
    )


def remaining(ws: Workspace) -> dict[str, int]:
    """Objects left per tenant."""
    found: dict[str, int] = {}
    for o in ws.export_inventory()["objects"]:
        found[o["tenant"]] = found.get(o["tenant"], 0) + 1
    return found


def kinds(ws: Workspace) -> list[str]:
    """The audit log's record kinds (verified first)."""
    ws.verify_audit()
    return [r.kind for r in ws.audit.records()]


def alerts(ws: Workspace) -> list[dict[str, Any]]:
    """Every alert in the JSON-lines sink."""
    path = ws.config.path(ws.config.alerts.log)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def trip_by_divergence(tmp_path: Path, admin_url: str | None = None) -> Workspace:
    """A workspace whose run with diverging planners tripped safe mode (closed).

    On SQLite, or on the PostgreSQL database ``admin_url`` names.
    """
    created = create(tmp_path / "ws", admin_url=admin_url)
    with reopen(created, planners=DIVERGING) as ws:
        report = ws.run_due(AS_OF)
    assert report.safe_mode is not None
    return created


def test_divergences_trip_safe_mode_and_later_tenants_are_untouched(tmp_path: Path) -> None:
    """Three divergences trip the fleet: the run stops, the rest is not started, all kept."""
    created = create(tmp_path / "ws")
    with reopen(created, planners=DIVERGING) as ws:
        report = ws.run_due(AS_OF)
        assert (["refused"] * 3, ("t3", "t4", "t5")) == (
            [o.status for o in report.outcomes],
            report.not_started,
        )
        assert report.safe_mode is not None
        assert (("t0", "t1", "t2"), "threshold", AS_OF) == (
            report.safe_mode.tenants,
            report.safe_mode.kind,
            report.safe_mode.as_of,
        )
        assert (
            "3 of 3 tenants attempted were refused or failed",
            {"attempted": 3, "bad": 3, "refused": 3},
        ) == (report.safe_mode.reason, report.safe_mode.counts)
        runs = [r.data for r in ws.audit.records() if r.kind == "run-due"]
        assert [(report.safe_mode.trip_id, ["t3", "t4", "t5"])] == [
            (r["safe_mode"], r["not_started"]) for r in runs
        ]
        assert dict.fromkeys(TENANTS, 2) == remaining(ws)
        assert 1 == kinds(ws).count("safe-mode-trip")
        trip_alerts = [a for a in alerts(ws) if a["kind"] == "safe-mode"]
        assert [["t0", "t1", "t2"]] == [a["details"]["tenants"] for a in trip_alerts]


def test_another_runner_refuses_while_tripped(
    tmp_path: Path, workspace_admin_url: str | None
) -> None:
    """A second runner with good planners refuses run_due and purge_tenant; nothing deleted."""
    created = trip_by_divergence(tmp_path, workspace_admin_url)
    with reopen(created) as ws:
        with pytest.raises(SafeModeError) as run:
            ws.run_due(AS_OF)
        with pytest.raises(SafeModeError):
            ws.purge_tenant("t5", AS_OF)
        assert ("t0", "t1", "t2") == run.value.tenants
        assert dict.fromkeys(TENANTS, 2) == remaining(ws)


def test_dry_run_still_plans_and_reports_safe_mode(tmp_path: Path) -> None:
    """A dry run while tripped plans every tenant and reports the trip."""
    created = trip_by_divergence(tmp_path)
    with reopen(created) as ws:
        report = ws.run_due(AS_OF, dry_run=True)
    assert report.safe_mode is not None
    assert ["dry-run"] * 6 == [o.status for o in report.outcomes]


def reset_request(ws: Workspace, path: Path, *approvers: str) -> None:
    """Write a reset request at ``path`` and have ``approvers`` sign it."""
    arbiter.request_safe_mode_reset(ws, path, operator="alice", reason="planner A fixed")
    for name in approvers:
        arbiter.approve_safe_mode_reset(
            ws, path, operator=name, key_path=keys_of(ws.config.directory)[name]
        )


def test_reset_needs_two_operators_and_is_audited(tmp_path: Path) -> None:
    """One approval is refused; two reset the trip, audited and alerted; purges run again."""
    created = trip_by_divergence(tmp_path)
    with reopen(created) as ws:
        reset_request(ws, tmp_path / "reset.json", "alice")
        with pytest.raises(ApprovalError):
            arbiter.reset_safe_mode(ws, tmp_path / "reset.json", operator="alice")
        assert arbiter.safe_mode_status(ws).active is not None
        arbiter.approve_safe_mode_reset(
            ws,
            tmp_path / "reset.json",
            operator="bob",
            key_path=keys_of(created.config.directory)["bob"],
        )
        trip = arbiter.reset_safe_mode(ws, tmp_path / "reset.json", operator="alice")
        assert ("alice", "bob") == trip.reset_by
        assert arbiter.safe_mode_status(ws).active is None
        assert {"approval-refused", "safe-mode-reset"} <= set(kinds(ws))
        assert "safe-mode-reset" in {a["kind"] for a in alerts(ws)}
        report = ws.run_due(AS_OF)
        assert ["executed"] * 6 == [o.status for o in report.outcomes]
        assert {} == remaining(ws)


def test_a_request_for_an_old_trip_cannot_reset_a_new_one(tmp_path: Path) -> None:
    """An approved request binds its trip: after a reset and a new trip, it resets nothing."""
    created = trip_by_divergence(tmp_path)
    with reopen(created) as ws:
        reset_request(ws, tmp_path / "old.json", "alice", "bob")
        arbiter.reset_safe_mode(ws, tmp_path / "old.json", operator="alice")
    with reopen(created, planners=DIVERGING) as ws:
        assert ws.run_due(AS_OF).safe_mode is not None
    with reopen(created) as ws:
        with pytest.raises(UsageError):
            arbiter.reset_safe_mode(ws, tmp_path / "old.json", operator="alice")
        assert arbiter.safe_mode_status(ws).active is not None


def test_a_clock_jump_back_trips_safe_mode(tmp_path: Path) -> None:
    """A runner whose clock is hours behind the last run's as_of trips the fleet, purging nothing."""
    created = create(tmp_path / "ws")
    before_due = datetime(2026, 1, 20, tzinfo=UTC)  # cancelled 2026-01-01: not due yet
    with reopen(created, clock=lambda: before_due) as ws:
        assert ws.run_due().safe_mode is None
    with reopen(created, clock=lambda: before_due - timedelta(hours=2)) as ws:
        with pytest.raises(SafeModeError) as jumped:
            ws.run_due()
        assert "clock" in str(jumped.value)
        assert "clock" == arbiter.safe_mode_status(ws).active.kind  # type: ignore[union-attr]
    with reopen(created, clock=lambda: NOW) as ws, pytest.raises(SafeModeError):
        ws.run_due()  # even once the clock is right again, until two operators reset it
    with reopen(created) as ws:
        assert dict.fromkeys(TENANTS, 2) == remaining(ws)


@given(
    statuses=st.lists(
        st.sampled_from(["executed", "not-eligible", "refused", "failed", "skipped"]), max_size=30
    ),
    max_bad=st.integers(1, 8),
    share=st.floats(0.01, 1.0),
    min_attempted=st.integers(1, 10),
)
# A share met exactly (1 bad of 5 at 0.2) trips: the threshold is "at least", not "more than".
@example(statuses=["refused", *["executed"] * 4], max_bad=8, share=0.2, min_attempted=5)
def test_tally_trips_exactly_when_the_threshold_is_crossed(
    statuses: list[str], max_bad: int, share: float, min_attempted: int
) -> None:
    """For any outcomes, the tally trips at the first tenant where the documented rule holds."""
    config = SafeModeConfig(
        max_bad_tenants=max_bad, max_bad_share=share, min_attempted=min_attempted
    )
    tally = FleetTally(config)
    actual = [tally.add(f"t{i}", status) for i, status in enumerate(statuses)]
    expected = []
    bad = attempted = 0
    for status in statuses:
        counted = status != "skipped"
        attempted += counted
        bad += status in {"refused", "failed"}
        crossed = bad >= max_bad or (attempted >= min_attempted and bad / attempted >= share)
        expected.append(counted and crossed)
    assert expected == actual
    counted_statuses = [s for s in statuses if s != "skipped"]
    assert {s: counted_statuses.count(s) for s in counted_statuses} == tally.statuses


class _ServerStore(arbiter.SqliteStore):
    """The real store, with the clock of its own a database server would have."""

    server_now: datetime = NOW

    def store_clock(self) -> datetime | None:
        return self.server_now


@pytest.mark.parametrize("skew", [timedelta(hours=-3), timedelta(hours=3)])
def test_a_runner_far_from_the_stores_clock_trips_safe_mode(
    tmp_path: Path, skew: timedelta
) -> None:
    """A runner clock hours from the store's own clock, either way, trips; within tolerance not."""
    created = create(tmp_path / "ws")
    with reopen(created) as ws:
        store = _ServerStore(ws.config.directory / "primary.sqlite3")
        safe_mode = SafeMode(store, ws.audit, ws.alerter, ws.config.safe_mode, lambda: NOW + skew)
        near = SafeMode(store, ws.audit, ws.alerter, ws.config.safe_mode, lambda: NOW)
        assert near.check_clock(format_instant(NOW), actor="test") is None
        trip = safe_mode.check_clock(format_instant(NOW + skew), actor="test")
        store.close()
    assert ("clock", True) == (
        trip.kind if trip else None,
        "from the store's clock" in (trip.reason if trip else ""),
    )


def test_a_trip_by_another_runner_stops_this_run_before_its_next_tenant(tmp_path: Path) -> None:
    """Safe mode tripped elsewhere mid-run: the tenants after it are not started, nor deleted."""
    created = create(tmp_path / "ws")
    with reopen(created) as ws, reopen(created) as other:

        def trip_after_the_first(tenant: str) -> None:
            if tenant == "t0":
                other.safe_mode.trip("manual", "an operator", (), {}, as_of=AS_OF, actor="ops")

        report = ws.purger.run_due(AS_OF, progress=trip_after_the_first)
        assert (["executed"], ("t1", "t2", "t3", "t4", "t5")) == (
            [o.status for o in report.outcomes],
            report.not_started,
        )
        assert report.safe_mode is not None
        assert ("manual", dict.fromkeys(TENANTS[1:], 2)) == (report.safe_mode.kind, remaining(ws))


def test_a_run_records_the_retention_service_as_its_actor_by_default(tmp_path: Path) -> None:
    """The purger's run, asked by nobody in particular, is the retention service's in the log."""
    created = create(tmp_path / "ws")
    with reopen(created) as ws:
        ws.purger.run_due(AS_OF)
        actors = {r.actor for r in ws.audit.records() if r.kind in {"plan", "executed", "run-due"}}
    assert {"retention-service"} == actors
