"""A backup purge killed at every journal step, then run again: it ends exactly as planned.

Each scenario runs ``twinpurge backup purge`` in a real process of the backup domain with
``TWINPURGE_CRASH_AT`` (``arbiter.durable.crash``), expects it killed by SIGKILL, and runs it
again. Afterwards exactly the planned generations are gone, every other file of the site is
byte-identical, no temporary file is left, the site's audit log verifies, recovery is on the
record, and a third run finds nothing unfinished. Each crash point is killed on both primary
stores (``store_kind``, ``tests/arbiter/conftest.py``): the backup domain reads a PostgreSQL
store's receipts and journals as its own role. The in-process tests show the omission check
(a stray temporary file) and that recovery re-checks the guards. The number of crash points
injected, per store, is printed at the end of the run (``tests/conftest.py``).

The subprocesses run the installed ``twinpurge`` console script (``installed_executable``) with
``PYTHONPATH`` set to the checkout these tests import ``arbiter`` from, so that they run the code
under test even where the installed package points at another checkout.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import arbiter
from arbiter import BackupPurgeReport, open_site
from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV
from arbiter.durable.crash import CRASH_ENV
from tests.arbiter.backup.backup_support import BACKUP_DUE, PRIMARY_DUE, Site, site
from tests.arbiter.cli.test_cli import installed_executable
from tests.faults import crashed

if TYPE_CHECKING:
    from collections.abc import Callable

CODE = Path(arbiter.__file__).resolve().parents[1]
# Before the start record (the agreement's append, killed past its fsync), the start record
# itself killed before its head moved, after it, between generations, before the finish record.
CRASH_POINTS = [
    "audit-after-fsync:1",
    "audit-after-fsync:2",
    "backup-after-start",
    "backup-between-generations",
    "backup-between-generations:2",
    "backup-between-generations:3",
    "backup-before-finish",
]
BEFORE_START = {"audit-after-fsync:1"}


def backup_purge(
    s: Site, *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``twinpurge backup purge`` as of BACKUP_DUE, in a process holding only the backup key."""
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV, CRASH_ENV}}
    env[BACKUP_ENV] = str(s.backup_file)
    env["PYTHONPATH"] = os.pathsep.join([str(CODE), *filter(None, [env.get("PYTHONPATH")])])
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    command = ["backup", "purge", "--workspace", str(s.directory), "--as-of", BACKUP_DUE, *args]
    return subprocess.run(
        [installed_executable(), *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def three_due(tmp_path: Path, admin_url: str | None = None) -> tuple[Site, list[str]]:
    """Three generations of t written before its primary purge (due), one after (kept).

    On SQLite, or on the PostgreSQL database ``admin_url`` names.

    Returns:
        The site and t's due generation ids.
    """
    s = site(tmp_path, admin_url=admin_url)
    due = [
        next(g.generation for g in s.snapshot(moment).generations if g.tenant == "t")
        for moment in ("2026-01-29T00:00:00Z", "2026-01-30T00:00:00Z", "2026-01-31T00:00:00Z")
    ]
    assert {"executed": 1, "not-eligible": 1} == s.primary_purge(PRIMARY_DUE).counts()
    s.snapshot("2026-02-05T00:00:00Z")
    return s, due


def without(files: dict[str, str], generations: list[str]) -> dict[str, str]:
    """The site's files with ``generations`` taken out (what their purge must leave)."""
    return {k: v for k, v in files.items() if Path(k).name not in {f"{g}.gen" for g in generations}}


def audit_kinds(s: Site) -> list[str]:
    """The kinds of the site's audit records; the log verifies first."""
    audit = open_site(s.config, s.backup()).audit
    audit.verify()
    return [r.kind for r in audit.records()]


def alert_kinds(s: Site) -> list[str]:
    """The kinds of every alert of the workspace's JSON-lines sink, in order."""
    log = s.config.path(s.config.alerts.log)
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [json.loads(line)["kind"] for line in lines]


def strays(s: Site) -> list[Path]:
    """Temporary files anywhere in the backup site."""
    return sorted(s.config.path(s.config.backup.site).rglob(".*.tmp"))


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_backup_purge_killed_at_a_crash_point_ends_as_planned_when_run_again(
    tmp_path: Path,
    point: str,
    workspace_admin_url: str | None,
    store_kind: str,
    record_property: Callable[[str, object], None],
) -> None:
    """Killed at the point, run again: exactly the planned generations gone, recovery recorded."""
    s, due = three_due(tmp_path, workspace_admin_url)
    before = s.files()
    first = backup_purge(s, crash_at=point)
    assert crashed(first), (first.returncode, first.stdout, first.stderr)
    again = backup_purge(s, "--format", "json")
    assert 0 == again.returncode, again.stdout + again.stderr
    recovered = json.loads(again.stdout)["recovered"]
    expected = [] if point in BEFORE_START else [("t", "completed")]
    assert expected == [(r["tenant"], r["status"]) for r in recovered]
    assert without(before, due) == s.files()
    assert [] == strays(s)
    kinds = audit_kinds(s)
    assert (point not in BEFORE_START) == ("backup-purge-recovered" in kinds)
    assert 1 == kinds.count("backup-purge-started") == kinds.count("backup-purged")
    assert () == s.unfinished()
    third = backup_purge(s, "--format", "json")
    assert (0, []) == (third.returncode, json.loads(third.stdout)["recovered"]), third.stderr
    assert without(before, due) == s.files()
    record_property("backup_crash_point", f"{point} @{store_kind}")


def test_recovery_is_printed_and_its_deletions_are_recorded(tmp_path: Path) -> None:
    """Text output names the recovered purge; the crashed run's deletions are each on record."""
    s, due = three_due(tmp_path)
    first = backup_purge(s, crash_at="backup-between-generations:2")
    assert crashed(first)
    (unfinished,) = s.unfinished()
    assert ("t", tuple(due), tuple(due[:2])) == (
        unfinished.tenant,
        unfinished.generations,
        unfinished.deleted,
    )
    dry = backup_purge(s, "--dry-run")
    assert 0 == dry.returncode, dry.stderr
    assert f"unfinished backup purge {unfinished.purge_id} of t (as of {BACKUP_DUE}): pending:" in (
        dry.stdout
    )
    assert (unfinished,) == s.unfinished()  # a dry run recovers nothing
    again = backup_purge(s)
    assert 0 == again.returncode, again.stderr
    assert f"recovered backup purge {unfinished.purge_id} of t" in again.stdout
    assert f"deleted {due[2]}" in again.stdout
    assert ": completed: completed: 1 more deleted, 2 already gone" in again.stdout
    assert ["recovery"] == [k for k in alert_kinds(s) if k == "recovery"]


def test_a_snapshot_killed_mid_write_leaves_a_stray_that_the_purge_reports_and_recovery_removes(
    tmp_path: Path,
) -> None:
    """A generation's temporary file from a killed snapshot: an omission (exit 3), then removed."""
    s, due = three_due(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV}}
    env |= {BACKUP_ENV: str(s.backup_file), CRASH_ENV: "files-temporary-written:1"}
    env["PYTHONPATH"] = os.pathsep.join([str(CODE), *filter(None, [os.environ.get("PYTHONPATH")])])
    killed = subprocess.run(
        [installed_executable(), "backup", "snapshot", "--workspace", str(s.directory)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert crashed(killed), killed.stderr
    (stray,) = strays(s)
    assert open_site(s.config, s.backup()).tenant_directory("t") == stray.parent
    before = s.files()
    first = backup_purge(s, "--format", "json")
    assert 3 == first.returncode, first.stderr
    (outcome,) = [o for o in json.loads(first.stdout)["outcomes"] if o["tenant"] == "t"]
    assert (
        "executed",
        [f"stray temporary file {stray.name} in t's site directory"],
    ) == (outcome["status"], outcome["omissions"])
    assert ["omission"] == [k for k in alert_kinds(s) if k == "omission"]
    again = backup_purge(s, "--format", "json")
    assert 0 == again.returncode, again.stderr
    (recovered,) = json.loads(again.stdout)["recovered"]
    assert ("completed", [stray.name], [], 3) == (
        recovered["status"],
        recovered["strays_removed"],
        recovered["deleted"],
        len(recovered["already_gone"]),
    )
    expected = {k: v for k, v in without(before, due).items() if Path(k).name != stray.name}
    assert (expected, [], ()) == (s.files(), strays(s), s.unfinished())


def outcome_of(report: BackupPurgeReport, tenant: str = "t") -> Any:
    """The tenant's outcome in a report."""
    return next(o for o in report.outcomes if o.tenant == tenant)


def test_a_stray_temporary_file_is_an_omission_and_the_next_run_removes_it(
    tmp_path: Path,
) -> None:
    """In-process: a stray in t's directory keeps the journal open, alerted; the next run ends it."""
    s, due = three_due(tmp_path)
    directory = open_site(s.config, s.backup()).tenant_directory("t")
    stray = directory / f".{due[0]}.gen.x1y2z3.tmp"
    stray.write_bytes(b"half a generation of t")
    before = s.files()
    report = s.backup_purge(BACKUP_DUE)
    outcome = outcome_of(report)
    assert (
        "executed",
        tuple(due),
        (f"stray temporary file {stray.name} in t's site directory",),
    ) == (
        outcome.status,
        outcome.generations,
        outcome.omissions,
    )
    assert report.left_unfinished
    assert [outcome.purge_id] == [j.purge_id for j in s.unfinished()]
    assert ["omission"] == alert_kinds(s)
    assert "backup-purged" not in audit_kinds(s)
    again = s.backup_purge(BACKUP_DUE)
    (recovered,) = again.recovered
    assert (outcome.purge_id, "completed", (stray.name,), ()) == (
        recovered.purge_id,
        recovered.status,
        recovered.strays_removed,
        recovered.deleted,
    )
    assert ("kept", False, ()) == (outcome_of(again).status, again.left_unfinished, s.unfinished())
    expected = {k: v for k, v in without(before, due).items() if Path(k).name != stray.name}
    assert expected == s.files()
    assert ["omission", "recovery"] == alert_kinds(s)
    assert ["backup-purge-recovered", "backup-purged"] == [
        k for k in audit_kinds(s) if k in {"backup-purge-recovered", "backup-purged"}
    ]


CHANGES = {
    # A reactivation after as_of: the planners still agree, the tenant guard refuses.
    "reactivated": (
        "INSERT INTO events VALUES ('t', 9, 'reactivated', '2026-03-01T00:00:00Z')",
        "tenant-not-cancelled",
        ("refused", "tenant-not-cancelled"),
        ["guard", "recovery", "guard"],
    ),
    # A hold: the planners keep the backups now, so recovery refuses (no-longer-due).
    "held": (
        "UPDATE tenants SET legal_hold = 1 WHERE id = 't'",
        "no-longer-due",
        ("kept", None),
        ["guard", "recovery"],
    ),
}


@pytest.mark.parametrize(("sql", "guard", "then", "alerts"), CHANGES.values(), ids=CHANGES.keys())
def test_recovery_re_checks_the_guards_and_closes_a_refused_journal(
    tmp_path: Path, sql: str, guard: str, then: tuple[str, str | None], alerts: list[str]
) -> None:
    """Killed after a first delete, then t changed in the primary store: refused and closed."""
    s, due = three_due(tmp_path)
    first = backup_purge(s, crash_at="backup-between-generations")
    assert crashed(first)
    (journal,) = s.unfinished()
    after_crash = s.files()
    db = sqlite3.connect(s.directory / "primary.sqlite3")
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()
    report = s.backup_purge(BACKUP_DUE)
    (recovered,) = report.recovered
    assert (journal.purge_id, "refused", guard, (), (due[0],)) == (
        recovered.purge_id,
        recovered.status,
        recovered.guard,
        recovered.deleted,
        journal.deleted,
    )
    assert after_crash == s.files()  # nothing more deleted, by recovery or by the purge
    assert then == (outcome_of(report).status, outcome_of(report).guard)
    assert alerts == alert_kinds(s)
    assert () == s.unfinished()
    kinds = audit_kinds(s)
    closing = kinds.index("backup-purge-closed")
    assert ["backup-purge-closed", "guard"] == kinds[closing : closing + 2]
    again = s.backup_purge(BACKUP_DUE)
    assert ((), after_crash) == (again.recovered, s.files())  # not retried forever
