"""Real processes killed at every journal step, then run again: the purge ends exactly as planned.

Each scenario runs the installed ``twinpurge`` with ``TWINPURGE_CRASH_AT`` (``tests/faults.py``),
expects it killed by SIGKILL, and runs it again. Afterwards: the tenant's deleted objects are
exactly the plan's; no blob file outlives its row; no temporary file is left; the kept object
and the other tenant are byte-identical; the audit log verifies; the archives hold everything
deleted, and a manual plan's restore brings the whole store back.

Every scenario runs on both stores (fixture ``store_kind``, ``tests/arbiter/conftest.py``): a
SQLite workspace, and a PostgreSQL workspace on a database of its own in the session's cluster,
created as ``twinpurge init --store`` creates one. The snapshots
are read through the store's port, so both stores are held to the same assertions. The number of
crash points injected, per store, is printed at the end of the run (``tests/conftest.py``).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from arbiter.auth.approvals import generate_key
from arbiter.core.config import LimitsConfig, OperatorConfig, StoreConfig, WorkspaceConfig
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.verdict import ObjectId
from arbiter.manual.plans import approve_plan, create_plan, register_plan, write_plan
from arbiter.workspace.workspace import Workspace
from tests.arbiter.conftest import store_url
from tests.builders import event, obj, tenant
from tests.faults import (
    State,
    archived,
    crashed,
    journals,
    objects_of,
    opened,
    orphan_files,
    receipts,
    state,
    stray_files,
    twinpurge,
    without,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Cancelled long enough ago to be due now, recently enough that backup_due (when the restore
# archives expire) is still ahead.
CANCELLED = format_instant(utc_now() - timedelta(days=37))
BLOBS = [ObjectId("blob", f"t/b{i:02}") for i in range(6)]
RECORDS = [ObjectId("db", f"d{i:02}") for i in range(14)]
PLANNED = {*BLOBS, *RECORDS}
KEPT = ObjectId("db", "k1")
INVENTORY = {
    "tenants": [tenant("t", event("cancelled", CANCELLED)), tenant("u")],
    "objects": [
        *[obj(o.key, store="blob") for o in BLOBS],
        *[obj(o.key) for o in RECORDS],
        obj(KEPT.key, legal_hold=True),
        obj("u1", "u"),
        obj("u2", "u", refs=[("db", "u1")]),
        obj("u/f1", "u", store="blob"),
    ],
}
PAYLOADS = {
    **{o: f"file {o.key}".encode() * 40 for o in BLOBS},
    **{o: f"row {o.key}".encode() for o in RECORDS},
    KEPT: b"kept row",
    ObjectId("db", "u1"): b"u row",
    ObjectId("blob", "u/f1"): b"u file",
}

# Automated purges (``run-due``): each crash point, with the N-th time it is reached.
RUN_DUE_POINTS = [
    "journal-after-plan",
    "files-temporary-written:2",  # the archive's temporary file (the plan file is the first)
    "journal-after-archive",
    "journal-after-batch",
    "journal-after-batch:3",
    "journal-between-files",
    "journal-between-files:3",
    "journal-before-complete",
    "journal-after-complete",
    "journal-before-receipt",
    "journal-before-done",
]
# Manual plans: (execute crash point, restore crash point).
MANUAL_POINTS = [
    ("journal-after-batch:2", "restore-after-rows"),
    ("journal-between-files:2", "restore-between-files:2"),
    ("files-temporary-written:2", "files-temporary-written"),
    ("journal-before-receipt", "restore-after-rows"),
]


@pytest.fixture
def admin_url(workspace_admin_url: str | None) -> str | None:
    """None for SQLite; a database of the scenario's own for PostgreSQL (``store_kind``)."""
    return workspace_admin_url


def build(
    directory: Path,
    keys: Path | None = None,
    *,
    admin_url: str | None = None,
    streamed: bool = False,
) -> None:
    """The workspace of INVENTORY, batches of 3; with alice and bob when ``keys`` is given.

    On SQLite without ``admin_url``; on PostgreSQL, in the database ``admin_url`` names (the
    reviewed script run there as ``twinpurge init --store`` runs it). ``streamed`` plans every
    tenant by streaming (``limits.stream_from = 0``, purger rule 15).
    """
    operators = {}
    if keys is not None:
        for name in ("alice", "bob"):
            operators[name] = OperatorConfig(generate_key(keys / f"{name}.key"))
    store = StoreConfig() if admin_url is None else StoreConfig(url=store_url(admin_url))
    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        store=store,
        limits=LimitsConfig(batch_size=3, stream_from=0 if streamed else 20_000),
        operators=operators,
    )
    with Workspace.create(directory, config, admin_url=admin_url) as created:
        created.import_inventory(INVENTORY, PAYLOADS)


def plan_format(path: Path) -> str:
    """The format its header gives a plan file (journal rule 1)."""
    with path.open("rb") as handle:
        return str(json.loads(handle.readline())["format"])


def check_purged(directory: Path, before: State) -> None:
    """The invariants after a purge that crashed and was run again."""
    assert {KEPT} == objects_of(directory, "t")
    assert without(before, PLANNED) == state(directory)
    assert ([], []) == (orphan_files(directory), stray_files(directory))
    assert PLANNED <= archived(directory)
    verified = twinpurge(directory, "audit", "verify", "--workspace", str(directory))
    assert 0 == verified.returncode, verified.stderr
    unfinished = journals(directory, unfinished=True)
    assert (0, True) == (len(unfinished), len(receipts(directory, "t")) >= 1)


@pytest.mark.parametrize("planning", ["memory", "streamed"])
@pytest.mark.parametrize("point", RUN_DUE_POINTS)
def test_run_due_killed_at_a_crash_point_ends_as_planned_when_run_again(  # noqa: PLR0913, PLR0917 -- the point, the planning and the fixtures
    tmp_path: Path,
    point: str,
    planning: str,
    admin_url: str | None,
    store_kind: str,
    record_property: Callable[[str, object], None],
) -> None:
    """run-due killed at the point, then run again: exactly the plan deleted, nothing left.

    Planned in memory or streamed: a streamed plan's journal resumes from its format-2 plan file.
    """
    directory = tmp_path / "ws"
    build(directory, admin_url=admin_url, streamed=planning == "streamed")
    before = state(directory)
    run_due = ("run-due", "--workspace", str(directory))
    first = twinpurge(directory, *run_due, crash_at=point)
    assert crashed(first), (first.returncode, first.stderr)
    again = twinpurge(directory, *run_due, "--format", "json")
    assert 0 == again.returncode, again.stdout + again.stderr
    recovered = [j["status"] for j in json.loads(again.stdout)["recovered"]]
    assert recovered in (["completed"], ["abandoned"]), recovered
    check_purged(directory, before)
    formats = [plan_format(Path(j["plan_path"])) for j in journals(directory)]
    assert [f"twinpurge-purge-plan-{2 if planning == 'streamed' else 1}"] == formats[-1:]
    record_property("journal_crash_point", f"run-due:{point}:{planning} @{store_kind}")


@pytest.mark.parametrize(("execute_point", "restore_point"), MANUAL_POINTS)
def test_manual_plan_killed_then_resumed_and_restore_killed_then_completed(  # noqa: PLR0913, PLR0917 -- the two points and the fixtures
    tmp_path: Path,
    execute_point: str,
    restore_point: str,
    admin_url: str | None,
    store_kind: str,
    record_property: Callable[[str, object], None],
) -> None:
    """Purge execute killed, executed again; purge restore killed, run again: all comes back."""
    directory = tmp_path / "ws"
    build(directory, tmp_path, admin_url=admin_url)
    before = state(directory)
    path = tmp_path / "t.plan.json"
    with opened(directory) as ws:
        plan = create_plan(ws, "t", None, author="alice")
        write_plan(path, plan)
        register_plan(ws, plan, path)
        for name in ("alice", "bob"):
            approve_plan(ws, path, operator=name, key_path=tmp_path / f"{name}.key")
    execute = ("purge", "execute", str(path), "--workspace", str(directory), "--operator", "alice")
    first = twinpurge(directory, *execute, crash_at=execute_point)
    assert crashed(first), (first.returncode, first.stderr)
    status = twinpurge(
        directory, "purge", "status", str(path), "--workspace", str(directory), "--format", "json"
    )
    assert 0 == status.returncode, status.stderr
    again = twinpurge(directory, *execute)
    assert 0 == again.returncode, again.stdout + again.stderr
    check_purged(directory, before)
    with opened(directory) as ws:
        for name in ("alice", "bob"):
            approve_plan(
                ws, path, operator=name, key_path=tmp_path / f"{name}.key", action="restore"
            )
    restore = ("purge", "restore", str(path), "--workspace", str(directory), "--operator", "bob")
    killed = twinpurge(directory, *restore, crash_at=restore_point)
    assert crashed(killed), (killed.returncode, killed.stderr)
    restored = twinpurge(directory, *restore, "--format", "json")
    assert 0 == restored.returncode, restored.stdout + restored.stderr
    assert json.loads(restored.stdout)["restored"] > 0
    assert before == state(directory)
    assert [] == stray_files(directory)
    record_property("journal_crash_point", f"execute:{execute_point} @{store_kind}")
    record_property("journal_crash_point", f"restore:{restore_point} @{store_kind}")


def test_an_interrupted_plan_is_shown_interrupted_and_restores_whole(
    tmp_path: Path,
    admin_url: str | None,
    store_kind: str,
    record_property: Callable[[str, object], None],
) -> None:
    """Killed after batch 2: status says interrupted with its archive; restore brings all back."""
    directory = tmp_path / "ws"
    build(directory, tmp_path, admin_url=admin_url)
    before = state(directory)
    path = tmp_path / "t.plan.json"
    with opened(directory) as ws:
        plan = create_plan(ws, "t", None, author="alice")
        write_plan(path, plan)
        register_plan(ws, plan, path)
        for name in ("alice", "bob"):
            for action in ("execute", "restore"):
                approve_plan(
                    ws, path, operator=name, key_path=tmp_path / f"{name}.key", action=action
                )
    execute = ("purge", "execute", str(path), "--workspace", str(directory), "--operator", "alice")
    first = twinpurge(directory, *execute, crash_at="journal-after-batch:2")
    assert crashed(first), (first.returncode, first.stderr)
    status = twinpurge(
        directory, "purge", "status", str(path), "--workspace", str(directory), "--format", "json"
    )
    shown = json.loads(status.stdout)
    assert (True, 6, None) == (shown["interrupted"], shown["deleted_so_far"], shown["executed_at"])
    assert shown["archive_id"] is not None
    text = twinpurge(directory, "purge", "status", str(path), "--workspace", str(directory))
    assert "executed: interrupted (6 deleted so far" in text.stdout, text.stdout
    restore = ("purge", "restore", str(path), "--workspace", str(directory), "--operator", "bob")
    restored = twinpurge(directory, *restore)
    assert 0 == restored.returncode, restored.stdout + restored.stderr
    assert before == state(directory)
    # Restored means finished: no later run deletes the rest of the interrupted plan.
    run_due = twinpurge(directory, "recover", "--workspace", str(directory), "--format", "json")
    assert ([], 0) == (json.loads(run_due.stdout)["journals"], run_due.returncode)
    assert before == state(directory)
    record_property("journal_crash_point", f"partial-restore:journal-after-batch:2 @{store_kind}")


# Changes to each data table, then to a bookkeeping table, as (SQL with %s parameters and {t}
# before each table's name, parameters): each data change must show in the snapshot.
DATA_CHANGES = [
    ("UPDATE {t}objects SET payload = %s WHERE key = %s", (b"another row", KEPT.key)),
    ("UPDATE {t}objects SET category = %s WHERE key = %s", ("other", "u1")),
    ("UPDATE {t}refs SET pos = %s WHERE from_key = %s", (5, "u2")),
    ("UPDATE {t}events SET at = %s WHERE tenant = %s", ("2020-01-01T00:00:00Z", "t")),
    ("UPDATE {t}tenants SET legal_hold = %s WHERE id = %s", (True, "u")),
    # A ref whose object is gone (a broken cascade): no read of the port would show it.
    ("INSERT INTO {t}refs VALUES (%s, %s, %s, %s, %s)", ("db", "gone", 0, "db", "u1")),
]
BOOKKEEPING_CHANGE = ("INSERT INTO {t}meta VALUES (%s, %s)", ("unrelated", "value"))


def change(
    directory: Path, admin_url: str | None, statement: str, params: tuple[object, ...]
) -> None:
    """Change the store behind the workspace's back, as its administrator (no foreign keys)."""
    if admin_url is None:
        db = sqlite3.connect(directory / "primary.sqlite3")  # foreign keys are off by default
        try:
            with db:
                db.execute(statement.format(t="").replace("%s", "?"), params)
        finally:
            db.close()
        return
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SET session_replication_role = replica")  # foreign keys off
        admin.execute(statement.format(t="twinpurge.").encode(), params)


def test_the_snapshot_sees_every_data_table_on_both_stores(
    tmp_path: Path, admin_url: str | None
) -> None:
    """Each change to a data row changes the snapshot, an orphaned ref too; bookkeeping does not."""
    directory = tmp_path / "ws"
    build(directory, admin_url=admin_url)
    seen = [state(directory)]
    for statement, params in DATA_CHANGES:
        change(directory, admin_url, statement, params)
        seen.append(state(directory))
    change(directory, admin_url, *BOOKKEEPING_CHANGE)
    assert seen[-1] == state(directory)
    assert len(DATA_CHANGES) + 1 == len({rows for rows, _files in seen})
    assert [1] * len(DATA_CHANGES) == [
        len(after[0] - before[0]) for before, after in itertools.pairwise(seen)
    ]
