"""Recovery of a crashed purge: re-checked guards, a verified archive, strays, omissions retried.

The crash itself is real (``tests/faults.py``: the installed ``twinpurge`` killed by SIGKILL at a
journal step); what happens to the data afterwards (a hold, a damaged archive) is done the way
the retention service or an accident would do it, directly to the store or the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from arbiter.auth.credentials import load_primary_credentials
from arbiter.core.errors import CredentialError
from arbiter.core.instants import utc_now
from arbiter.core.verdict import ObjectId
from arbiter.stores.blobs import BlobDirectory
from arbiter.workspace.workspace import Workspace
from tests.arbiter.purge.test_fault_injection import BLOBS, KEPT, PLANNED, build
from tests.faults import (
    age_strays,
    crashed,
    journals,
    objects_of,
    orphan_files,
    stray_files,
    twinpurge,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


def crashed_workspace(tmp_path: Path, point: str) -> Path:
    """A workspace whose run-due was killed at ``point``."""
    directory = tmp_path / "ws"
    build(directory)
    completed = twinpurge(directory, "run-due", "--workspace", str(directory), crash_at=point)
    assert crashed(completed), completed.stderr
    age_strays(directory)  # the next run comes later: recovery takes only quiet strays
    return directory


def opened(directory: Path) -> Workspace:
    """The workspace, opened with its primary credentials."""
    credentials = load_primary_credentials(directory / "credentials" / "primary.toml")
    return Workspace.open(directory, credentials=credentials)


def alert_kinds(ws: Workspace) -> list[str]:
    """The kinds of the alerts recorded in the audit log, in order."""
    return [r.data["kind"] for r in ws.audit.records() if r.kind == "alert"]


def unfinished(directory: Path) -> int:
    """How many journals are unfinished."""
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        return int(
            db.execute("SELECT COUNT(*) FROM journals WHERE finished_at IS NULL").fetchone()[0]
        )
    finally:
        db.close()


def test_an_object_put_on_hold_after_the_crash_is_left_alone_and_reported(tmp_path: Path) -> None:
    """Recovery rule 5: the held object stays, is reported and alerted; the rest is deleted."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    db = sqlite3.connect(directory / "primary.sqlite3")
    with db:
        db.execute("UPDATE objects SET legal_hold = 1 WHERE store = 'db' AND key = 'd05'")
    db.close()
    with opened(directory) as ws:
        report = ws.recover_purges()
        kinds = alert_kinds(ws)
    [journal] = report.journals
    assert ("completed", ("db/d05: object-hold",)) == (journal.status, journal.left_alone)
    assert {KEPT, ObjectId("db", "d05")} == objects_of(directory, "t")
    assert ["recovery-left-alone", "recovery"] == kinds[-2:]
    assert ([], 0) == (orphan_files(directory), unfinished(directory))


def test_what_a_left_alone_object_refs_is_left_alone_too_to_a_fixpoint(tmp_path: Path) -> None:
    """Rule 5: d05 held refs d04, which refs d03: all three stay (the shared guard), in that order."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    db = sqlite3.connect(directory / "primary.sqlite3")
    with db:
        db.execute("UPDATE objects SET legal_hold = 1 WHERE store = 'db' AND key = 'd05'")
        db.execute("INSERT INTO refs VALUES ('db', 'd05', 0, 'db', 'd04')")
        db.execute("INSERT INTO refs VALUES ('db', 'd04', 0, 'db', 'd03')")
    db.close()
    with opened(directory) as ws:
        report = ws.recover_purges()
    [journal] = report.journals
    stayed = ("db/d05: object-hold", "db/d04: shared", "db/d03: shared")
    assert ("completed", stayed) == (journal.status, journal.left_alone)
    expected = {KEPT, *(ObjectId("db", f"d0{i}") for i in (3, 4, 5))}
    assert (expected, []) == (objects_of(directory, "t"), orphan_files(directory))


def orphan_plan_file(directory: Path, name: str, header: bytes, age: float = 3600.0) -> Path:
    """A plan file in the journal directory that no journal names, ``age`` seconds old."""
    path = directory / "journal" / f"{name}.plan.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(header + b'{"purge":{"key":"d00","store":"db"}}\n')
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_plan_file_no_journal_names_is_removed_once_no_runner_uses_it(tmp_path: Path) -> None:
    """Rule 2: an old orphan of t goes, reported; young, locked, unreadable and owned ones stay."""
    directory = tmp_path / "ws"
    build(directory)
    with opened(directory) as ws:
        assert "executed" == ws.purge_tenant("t").status
    [journal] = journals(directory)
    own = Path(journal["plan_path"])
    os.utime(own, (time.time() - 3600, time.time() - 3600))
    header = b'{"format":"twinpurge-purge-plan-2","purge_id":"x","tenant":"%s"}\n'
    orphan = orphan_plan_file(directory, "orphan", header % b"t")
    young = orphan_plan_file(directory, "young", header % b"t", age=0.0)
    locked = orphan_plan_file(directory, "locked", header % b"u")
    unreadable = orphan_plan_file(directory, "unreadable", b"not json\n")
    with opened(directory) as ws, ws.locks.hold("u") as held:
        assert held  # another runner, purging u
        report = ws.recover_purges()
    assert ((str(orphan),), False) == (report.strays_removed, orphan.exists())
    assert [True] * 4 == [p.exists() for p in (young, locked, unreadable, own)]


def test_a_damaged_archive_stops_recovery_with_nothing_more_deleted(tmp_path: Path) -> None:
    """Recovery rule 3: the archive is checked first; damaged, nothing more is deleted."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    before = objects_of(directory, "t")
    [archive] = list((directory / "archives").glob("*.jsonl.gz"))
    archive.write_bytes(archive.read_bytes()[:-5])
    with opened(directory) as ws:
        report = ws.recover_purges()
        kinds = alert_kinds(ws)
    [journal] = report.journals
    assert ("stopped", before) == (journal.status, objects_of(directory, "t"))
    assert ["recovery-stopped", "recovery"] == kinds[-2:]
    assert 1 == unfinished(directory)
    again = twinpurge(directory, "recover", "--workspace", str(directory))
    assert (3, before) == (again.returncode, objects_of(directory, "t"))
    run_due = twinpurge(directory, "run-due", "--workspace", str(directory), "--format", "json")
    outcomes = {o["tenant"]: o for o in json.loads(run_due.stdout)["outcomes"]}
    assert ("refused", "unfinished-journal", before) == (
        outcomes["t"]["status"],
        outcomes["t"]["guard"],
        objects_of(directory, "t"),
    )


def test_a_crash_mid_archive_deletes_nothing_and_its_temporary_file_is_removed(
    tmp_path: Path,
) -> None:
    """Recovery rules 2 and 4: the archive's temporary file goes; the journal is abandoned."""
    directory = crashed_workspace(tmp_path, "files-temporary-written:2")
    strays = stray_files(directory)
    assert 1 == len(strays)
    with opened(directory) as ws:
        report = ws.recover_purges()
    assert (["abandoned"], (strays[0],)) == (
        [j.status for j in report.journals],
        report.strays_removed,
    )
    assert ([], len(PLANNED) + 1) == (stray_files(directory), len(objects_of(directory, "t")))


def _fail(
    self: BlobDirectory, targets: Iterable[ObjectId]
) -> tuple[list[ObjectId], list[tuple[ObjectId, Exception]]]:
    return [], [(t, OSError(f"disk says no to {t.key}")) for t in targets]


def test_an_omission_keeps_the_journal_unfinished_until_recovery_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Completeness: a file left behind is an omission, no receipt; the next recovery retries."""
    directory = tmp_path / "ws"
    build(directory)
    with opened(directory) as ws:
        monkeypatch.setattr(BlobDirectory, "delete_many", _fail)
        outcome = ws.purge_tenant("t")
        monkeypatch.undo()
        receipts = ws.store.receipts("t")
        assert (len(BLOBS), [], 1) == (len(outcome.omissions), receipts, unfinished(directory))
        report = ws.recover_purges()
        assert ["completed"] == [j.status for j in report.journals]
        assert 1 == len(ws.store.receipts("t"))
    assert ([], 0) == (orphan_files(directory), unfinished(directory))


def _delete_with_a_step_that_fails(ws: Workspace) -> None:
    assert ws.credentials is not None
    with ws.store.transaction(ws.credentials) as tx:
        tx.delete("t", [ObjectId("db", "d00")])
        tx.journal_step("no-such-purge", "batch", {"index": 1})  # no such journal: refused


def test_a_batch_and_its_journal_step_commit_together(tmp_path: Path) -> None:
    """Journal rule 3: a step that cannot be written rolls its batch's delete back."""
    directory = tmp_path / "ws"
    build(directory)
    with opened(directory) as ws, pytest.raises(sqlite3.IntegrityError):
        _delete_with_a_step_that_fails(ws)
    assert len(PLANNED) + 1 == len(objects_of(directory, "t"))


def test_recovery_needs_the_primary_credentials(tmp_path: Path) -> None:
    """Recovering deletes: without credentials it is refused and nothing changes."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    before = objects_of(directory, "t")
    with Workspace.open(directory) as ws, pytest.raises(CredentialError):
        ws.recover_purges()
    assert (before, 1) == (objects_of(directory, "t"), unfinished(directory))


def test_an_unfinished_purge_keeps_its_archive_past_backup_due(tmp_path: Path) -> None:
    """Expiry leaves alone the archive an unfinished journal still needs; recovery then finishes."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    credentials = load_primary_credentials(directory / "credentials" / "primary.toml")
    later = utc_now() + timedelta(days=400)
    with Workspace.open(directory, credentials=credentials, clock=lambda: later) as ws:
        assert [] == ws.expire_archives()
    with opened(directory) as ws:
        report = ws.recover_purges()
    assert (["completed"], {KEPT}) == (
        [j.status for j in report.journals],
        objects_of(directory, "t"),
    )


def test_a_changed_plan_file_stops_recovery_with_nothing_more_deleted(tmp_path: Path) -> None:
    """Recovery rule 3: the plan file must match its journal's SHA-256 before anything is done."""
    directory = crashed_workspace(tmp_path, "journal-after-batch")
    before = objects_of(directory, "t")
    [plan] = list((directory / "journal").glob("*.plan.jsonl"))
    lines = plan.read_text(encoding="utf-8").splitlines()
    assert {"purge": ["blob", "t/b00"]} == json.loads(lines[1])
    plan.write_text("\n".join([*lines, json.dumps({"purge": ["db", "k1"]})]) + "\n")
    with opened(directory) as ws:
        report = ws.recover_purges()
    assert (["stopped"], before) == (
        [j.status for j in report.journals],
        objects_of(directory, "t"),
    )
