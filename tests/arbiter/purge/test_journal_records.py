"""What a purge writes to its journal, where it can crash, and what the completeness check finds.

Recovery (``arbiter.purge.recovery``) reads these records back; the fault-injection tests kill a
real process at each crash point. These tests pin the records and the points themselves, in
process, so that a renamed point or a lost step fails here rather than only in a subprocess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import pytest

import arbiter.purge.purger as purger_module
from arbiter import LimitsConfig, ObjectId, Workspace
from arbiter.core.errors import CredentialError
from arbiter.durable.files import TEMPORARY_SUFFIX
from arbiter.purge.journal import check_completeness
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from pathlib import Path

AS_OF = "2026-03-01T00:00:00Z"
FILE = ObjectId("blob", "f1")
INVENTORY = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [obj(f"k{i}") for i in range(3)] + [obj("f1", store="blob"), obj("other", "u")],
}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """Tenant t due with three records and one file, in batches of two; tenant u active."""
    opened: Workspace = workspace(
        tmp_path / "ws",
        INVENTORY,
        limits=LimitsConfig(batch_size=2),
        payloads={FILE: b"file bytes"},
    )
    return opened


def test_an_executed_purge_journals_its_archive_each_batch_and_its_files(ws: Workspace) -> None:
    """The journal: the archive, then per batch its objects and its files, then complete."""
    outcome = ws.purge_tenant("t", AS_OF)
    [journal] = ws.store.journals()
    steps = ws.store.journal_steps(journal["purge_id"])
    expected = [
        "archive",
        ("batch", {"index": 1, "objects": [["blob", "f1"], ["db", "k0"]]}),
        ("files", {"index": 1}),
        ("batch", {"index": 2, "objects": [["db", "k1"], ["db", "k2"]]}),
        ("files", {"index": 2}),
        ("complete", {}),
        ("receipt", {}),
    ]
    actual = [s["step"] if s["step"] == "archive" else (s["step"], s["data"]) for s in steps]
    assert ("executed", 4, "done") == (outcome.status, outcome.purged, journal["state"])
    assert expected == actual


def test_a_purge_passes_its_crash_points_in_order(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash points the fault-injection tests kill at are reached, in this order."""
    reached: list[str] = []
    monkeypatch.setattr(purger_module, "crash_point", reached.append)
    ws.purge_tenant("t", AS_OF)
    expected = [
        "journal-after-plan",
        "journal-after-archive",
        "journal-after-batch",
        "journal-after-batch",
        "journal-before-complete",
        "journal-after-complete",
        "journal-before-receipt",
        "journal-before-done",
    ]
    assert expected == reached


def test_batches_without_a_journal_delete_and_count_on_from_what_was_done(ws: Workspace) -> None:
    """delete_batches with no journal id: deleted, no step written, progress counts on."""
    progress: list[tuple[str, int, int]] = []
    purger = ws.purger
    purger.on_progress = lambda phase, done, total: progress.append((phase, done, total))
    ids = [ObjectId("db", "k0"), ObjectId("db", "k1"), ObjectId("db", "k2")]
    result = purger.delete_batches("t", ids, frozenset(ids), "test", None, done=(5, 1))
    assert (8, 3) == result
    assert [("deleting", 7, 8), ("deleting", 8, 8)] == progress
    assert [] == ws.store.journals()
    assert {} == ws.store.object_rows(ids)


@pytest.mark.parametrize(
    ("call", "purpose"),
    [
        (
            lambda p, ids: p.delete_batches("t", ids, frozenset(ids), "x", None, done=(0, 0)),
            "deleting batches",
        ),
        (lambda p, ids: p.delete_files("t", ids, "x"), "removing the files of a committed batch"),
        (lambda p, _ids: p.run_due(AS_OF), "running the due purges"),
    ],
)
def test_deleting_without_credentials_says_what_needed_them(
    ws: Workspace,
    call: Any,
    purpose: str,
) -> None:
    """A purger without credentials refuses and names what it was asked to do."""
    planner = ws.planner
    ids = [ObjectId("db", "k0"), FILE]
    with pytest.raises(CredentialError) as refused:
        call(planner, ids)
    assert f"{purpose} needs primary credentials" in str(refused.value)
    assert set(ids) == set(ws.store.object_rows(ids))


def test_the_completeness_check_names_every_kind_of_omission(ws: Workspace) -> None:
    """A row still there, a file left after its row, a stray temporary file: all three named."""
    purger = ws.purger
    purger.delete_batches("t", [FILE], frozenset({FILE}), "test", None, done=(0, 0))
    ws.blobs.write(FILE, b"came back")  # its row is gone, its file is not
    stray = ws.blobs.root / "blob" / f".f1.x1{TEMPORARY_SUFFIX}"
    stray.write_bytes(b"half written")
    # Another runner's file being written is not this purge's omission.
    (ws.blobs.root / "blob" / f".f9.x2{TEMPORARY_SUFFIX}").write_bytes(b"someone else's")
    targets = [ObjectId("db", "k0"), FILE, ObjectId("db", "k1"), ObjectId("db", "other")]
    actual = check_completeness(
        ws.store,
        ws.blobs,
        "t",
        purged=targets,
        skipped=[ObjectId("db", "k1")],
        temp_dirs=[ws.blobs.root],
    )
    expected = [
        "row db/k0 of t remains",
        "file of blob/f1 remains after its row was deleted",
        f"stray temporary file {stray}",
    ]
    assert expected == actual


def test_a_purger_built_without_safe_mode_runs_the_fleet(ws: Workspace) -> None:
    """Safe mode is optional for a purger built by hand: run_due purges without a tally."""
    report = attrs.evolve(ws.purger, safe_mode=None).run_due(AS_OF)
    assert {"executed": 1, "not-eligible": 1} == report.counts()
    assert (None, 4) == (report.safe_mode, report.purged)
