"""The backup purge: at backup_due exactly, after the primary purge, never held or reactivated.

Every refusal deletes nothing, alerts every sink and is recorded in the site's audit log.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import arbiter
import deleter_a
from arbiter import (
    BackupOutcome,
    BackupPurgeReport,
    BackupSite,
    Planner,
    RetentionLockError,
    list_backups,
    open_site,
)
from tests.arbiter.backup.backup_support import BACKUP_DUE, PRIMARY_DUE, Site, at, site

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tests.webhook_server import Webhook

B = arbiter.default_planners()[1]


def outcome(report: BackupPurgeReport, tenant: str = "t") -> BackupOutcome:
    """The tenant's outcome in a backup purge report."""
    return next(o for o in report.outcomes if o.tenant == tenant)


def generations(s: Site, tenant: str = "t") -> list[str]:
    """The tenant's generation ids, each authenticated."""
    return [g["generation"] for g in list_backups(s.config, s.backup(), tenant=tenant)]


def site_audit(s: Site) -> list[str]:
    """The kinds of the site's audit records (the log verifies first)."""
    audit = open_site(s.config, s.backup()).audit
    audit.verify()
    return [r.kind for r in audit.records()]


def execute_sql(s: Site, sql: str, *args: str) -> None:
    """A write to the primary store behind the tools' back (a concurrent service)."""
    db = sqlite3.connect(s.directory / "primary.sqlite3")
    db.execute(sql, args)
    db.commit()
    db.close()


@pytest.fixture
def purged(tmp_path: Path) -> Site:
    """A snapshot the day before t's primary_due, then t's primary purge at primary_due."""
    s = site(tmp_path)
    s.snapshot("2026-01-31T00:00:00Z")
    report = s.primary_purge(PRIMARY_DUE)
    assert {"executed": 1, "not-eligible": 1} == report.counts()
    return s


def test_snapshot_writes_a_generation_per_tenant_and_lists_it(tmp_path: Path) -> None:
    """A snapshot writes one generation per tenant: every row, payload and file, locked 3 days."""
    s = site(tmp_path)
    report = s.snapshot("2026-01-31T00:00:00Z")
    assert (2, 6) == (len(report.generations), report.objects)
    listed = list_backups(s.config, s.backup())
    assert [("t", 4, "2026-02-03T00:00:00Z"), ("u", 2, "2026-02-03T00:00:00Z")] == [
        (g["tenant"], g["objects"], g["locked_until"]) for g in listed
    ]
    backup_site = open_site(s.config, s.backup())
    content = backup_site.read(backup_site.generations("t")[0])
    rows = {row["key"]: row for row in content.objects}
    assert (b"\x00row one", b"file of t", [["blob", "t/f1"]]) == (
        rows["t/r1"]["payload"],
        rows["t/f1"]["blob"],
        rows["t/r2"]["refs"],
    )
    assert "t" == content.tenant_record["id"]


@pytest.mark.parametrize("early", ["2026-02-14T23:59:59Z", "2026-02-14T23:59:59.999999Z"])
def test_backups_go_at_backup_due_exactly(purged: Site, early: str) -> None:
    """One second, or one microsecond, before backup_due: kept; at backup_due: deleted."""
    kept = generations(purged)
    before = purged.files()
    report = purged.backup_purge(early)
    assert ("kept", f"backups not due until {BACKUP_DUE}") == (
        outcome(report).status,
        outcome(report).message,
    )
    assert (before, kept) == (purged.files(), generations(purged))
    report = purged.backup_purge(BACKUP_DUE)
    assert ("executed", tuple(kept), "2026-02-01T00:00:00Z") == (
        outcome(report).status,
        outcome(report).generations,
        outcome(report).primary_purged_at,
    )
    assert ([], 1) == (generations(purged), len(generations(purged, "u")))
    assert "backup-purged" in site_audit(purged)


def test_backups_wait_for_the_primary_purge_receipt(tmp_path: Path, webhook: Webhook) -> None:
    """Past backup_due without a primary purge: refused and alerted; then after the receipt only."""
    s = site(tmp_path, webhook_url=webhook.url)
    s.snapshot("2026-01-31T00:00:00Z")
    before = s.files()
    report = s.backup_purge("2026-02-16T00:00:00Z")
    assert ("refused", "no-primary-receipt") == (outcome(report).status, outcome(report).guard)
    assert before == s.files()
    assert ["guard"] == [r.json()["kind"] for r in webhook.received]
    assert "backup" == webhook.received[0].json()["details"]["domain"]
    assert ["guard", "alert"] == [k for k in site_audit(s) if k in {"guard", "alert"}]
    s.primary_purge("2026-02-20T00:00:00Z")  # late: the receipt is dated 2026-02-20
    report = s.backup_purge("2026-02-19T23:59:59Z")
    assert ("refused", "no-primary-receipt") == (outcome(report).status, outcome(report).guard)
    assert before == s.files()
    report = s.backup_purge("2026-02-20T00:00:00Z")
    assert ("executed", []) == (outcome(report).status, generations(s))


def test_generations_after_the_primary_purge_are_kept(purged: Site) -> None:
    """Only generations written up to the primary purge can hold purged data; later ones stay."""
    first = generations(purged)
    purged.snapshot("2026-02-05T00:00:00Z")
    later = [g for g in generations(purged) if g not in first]
    report = purged.backup_purge(BACKUP_DUE)
    assert (tuple(first), later) == (outcome(report).generations, generations(purged))
    again = purged.backup_purge("2026-03-01T00:00:00Z")
    assert ("kept", later) == (outcome(again).status, generations(purged))


def test_a_primary_purge_that_deleted_nothing_keeps_the_backups(tmp_path: Path) -> None:
    """Every object of t kept by the primary purge: its receipt deletes nothing from backups."""
    s = site(tmp_path)
    s.snapshot("2026-01-31T00:00:00Z")
    execute_sql(s, "UPDATE objects SET legal_hold = 1 WHERE tenant = 't'")
    assert 0 == s.primary_purge(PRIMARY_DUE).outcomes[0].purged
    before = s.files()
    report = s.backup_purge(BACKUP_DUE)
    assert ("kept", before) == (outcome(report).status, s.files())
    assert "deleted nothing" in outcome(report).message


def test_held_tenant_keeps_its_backups(purged: Site, webhook: Webhook) -> None:
    """A hold placed after the primary purge: the planners keep the backups; so does the guard."""
    execute_sql(purged, "UPDATE tenants SET legal_hold = 1 WHERE id = 't'")
    before = purged.files()
    report = purged.backup_purge(BACKUP_DUE)
    assert ("kept", "not eligible (tenant-hold)") == (
        outcome(report).status,
        outcome(report).message,
    )
    blind = (
        Planner("a", "blind", _no_tenant_hold, deleter_a.PlanInputError),
        Planner("b", "blind", _no_tenant_hold, deleter_a.PlanInputError),
    )
    report = purged.backup_purge(BACKUP_DUE, planners=blind)
    assert ("refused", "tenant-hold") == (outcome(report).status, outcome(report).guard)
    assert before == purged.files()


def _no_tenant_hold(
    inventory: Mapping[str, Any], policy: Mapping[str, object], tenant: str, as_of: str
) -> object:
    tenants = [{**t, "legal_hold": False} for t in inventory["tenants"]]
    return deleter_a.plan({**inventory, "tenants": tenants}, policy, tenant, as_of)


@pytest.mark.parametrize(
    ("reactivated", "status", "guard"),
    [
        ("2026-02-10T00:00:00Z", "kept", None),
        ("2026-03-01T00:00:00Z", "refused", "tenant-not-cancelled"),
    ],
    ids=["before-as-of", "after-as-of"],
)
def test_reactivated_tenant_keeps_its_backups(
    purged: Site, reactivated: str, status: str, guard: str | None
) -> None:
    """Reactivated before as_of: the planners keep the backups; after as_of: the guard does."""
    execute_sql(purged, "INSERT INTO events VALUES ('t', 9, 'reactivated', ?)", reactivated)
    before = purged.files()
    report = purged.backup_purge(BACKUP_DUE)
    assert (status, guard, before) == (
        outcome(report).status,
        outcome(report).guard,
        purged.files(),
    )


def _longer_lag(
    inventory: Mapping[str, object], policy: Mapping[str, Any], tenant: str, as_of: str
) -> object:
    return deleter_a.plan(inventory, {**policy, "backup_lag_days": 15}, tenant, as_of)


def test_divergence_refuses_alerts_and_audits(tmp_path: Path, webhook: Webhook) -> None:
    """Planner A off by one day of lag: refused, nothing deleted, webhook and report, audited."""
    s = site(tmp_path, webhook_url=webhook.url)
    s.snapshot("2026-01-31T00:00:00Z")
    s.primary_purge(PRIMARY_DUE)
    before = s.files()
    wrong = (Planner("a", "wrong", _longer_lag, deleter_a.PlanInputError), B)
    report = s.backup_purge(BACKUP_DUE, planners=wrong)
    refused = outcome(report)
    assert ("refused", before) == (refused.status, s.files())
    assert ["divergence"] == [r.json()["kind"] for r in webhook.received]
    assert refused.report_path is not None
    assert "divergence" == json.loads(Path(refused.report_path).read_text(encoding="utf-8"))["kind"]
    assert {"refusal", "alert"} <= set(site_audit(s))
    assert "executed" == outcome(s.backup_purge(BACKUP_DUE)).status  # the real pair agrees


def test_future_as_of_is_only_a_dry_run(purged: Site) -> None:
    """Executing as of a future instant is refused; a dry run looks ahead and deletes nothing."""
    before = purged.files()
    future = purged.backup_purge("2026-02-20T00:00:00Z", now="2026-02-16T00:00:00Z")
    assert ("refused", "future-as-of") == (outcome(future).status, outcome(future).guard)
    look = purged.backup_purge("2026-02-20T00:00:00Z", now="2026-02-16T00:00:00Z", dry_run=True)
    assert ("dry-run", 1) == (outcome(look).status, len(outcome(look).generations))
    assert before == purged.files()


def test_retention_lock_holds_a_late_generation(tmp_path: Path, webhook: Webhook) -> None:
    """A generation written just before a late primary purge stays until its lock ends."""
    s = site(tmp_path, webhook_url=webhook.url, lock_days=7)
    s.snapshot("2026-02-13T00:00:00Z")
    s.primary_purge("2026-02-13T12:00:00Z")
    locked = s.backup_purge(BACKUP_DUE, now="2026-02-19T23:59:59Z")
    assert ("refused", "retention-lock") == (outcome(locked).status, outcome(locked).guard)
    assert ["guard"] == [r.json()["kind"] for r in webhook.received]
    backup_site = open_site(s.config, s.backup())
    with pytest.raises(RetentionLockError):
        backup_site.delete(backup_site.generations("t")[0], now=at("2026-02-19T23:59:59Z"))
    assert 1 == len(generations(s))
    done = s.backup_purge(BACKUP_DUE, now="2026-02-20T00:00:00Z")
    assert ("executed", []) == (outcome(done).status, generations(s))


def test_tampered_generation_is_refused(purged: Site) -> None:
    """A changed byte in a generation due for deletion: refused with the tampered guard."""
    path = open_site(purged.config, purged.backup()).generations("t")[0].path
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    before = purged.files()
    report = purged.backup_purge(BACKUP_DUE)
    assert ("refused", "tampered", before) == (
        outcome(report).status,
        outcome(report).guard,
        purged.files(),
    )


def test_count_mismatch_is_refused(purged: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deletion that silently removes nothing is caught by the count check."""

    def keep(_self: BackupSite, _info: object, *, now: object) -> None:
        del now  # deletes nothing, and says nothing

    monkeypatch.setattr(BackupSite, "delete", keep)
    report = purged.backup_purge(BACKUP_DUE)
    assert ("refused", "count-mismatch") == (outcome(report).status, outcome(report).guard)
