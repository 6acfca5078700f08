"""What every backup purge, dry run and refusal writes to the site's audit log and to the alerts.

The backup purge reports like the primary purge (tests/arbiter/purge/test_reporting.py), in its
own credential domain: its records go to the backup site's audit log, its alerts to every sink
of the workspace, marked ``"domain": "backup"``. Each test compares everything one backup purge
reported, whole, with what it must report.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import arbiter
import deleter_a
from arbiter import (
    BackupSite,
    BackupTamperedError,
    InputError,
    Planner,
    PrimaryReader,
    RefusedError,
    RetentionLockError,
    open_site,
)
from tests.arbiter.backup.backup_support import BACKUP_DUE, PRIMARY_DUE, Site, site
from tests.reporting import Entry, reported

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from tests.webhook_server import Webhook

ACTOR = "backup-service"
A, B = arbiter.default_planners()
VERSIONS = {"a": A.version, "b": B.version}
SINKS = ["jsonl", "report-file", "webhook"]


def execute_sql(s: Site, sql: str) -> None:
    """A write to the primary store behind the tools' back (a concurrent service)."""
    db = sqlite3.connect(s.directory / "primary.sqlite3")
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()


def generations(s: Site, tenant: str = "t") -> list[str]:
    """The tenant's generation ids in the site."""
    return [g.generation for g in open_site(s.config, s.backup()).generations(tenant)]


def mark(s: Site) -> int:
    """How many records the site's audit log holds now."""
    return len(list(open_site(s.config, s.backup()).audit.records()))


def report(s: Site, start: int, webhook: Webhook) -> tuple[list[Entry], list[dict[str, Any]]]:
    """The site's audit entries since record ``start`` and every alert (the log verifies)."""
    audit = open_site(s.config, s.backup()).audit
    audit.verify()
    return reported(list(audit.records())[start:], s.directory, webhook)


def agreement(
    s: Site, tenant: str, as_of: str, planners: tuple[Planner, Planner] | None = None
) -> Entry:
    """The ``backup-agreement`` record of the tenant's slice as stored now."""
    with PrimaryReader.of(s.config) as reader:
        current = reader.read_slice(tenant)
    verdict = arbiter.arbitrate(current, s.config.policy, tenant, as_of, planners=planners)
    data = {
        "tenant": tenant,
        "as_of": as_of,
        "eligible": verdict.verdict.eligible,
        "reason": verdict.verdict.reason,
        "primary_due": verdict.verdict.primary_due,
        "backup_due": verdict.verdict.backup_due,
        "versions": dict(verdict.versions),
        "slice": arbiter.fingerprint(current),
    }
    return ("backup-agreement", ACTOR, data)


def run(as_of: str, counts: dict[str, int], *, dry_run: bool = False, purged: int = 0) -> Entry:
    """The ``backup-purge-run`` record (nothing was unfinished, so nothing recovered)."""
    data = {
        "as_of": as_of,
        "dry_run": dry_run,
        "counts": counts,
        "purged": purged,
        "recovered": {},
    }
    return ("backup-purge-run", ACTOR, data)


def started(purge_id: str, generations: list[str], as_of: str = BACKUP_DUE) -> Entry:
    """The ``backup-purge-started`` record of t's journal."""
    data = {
        "purge_id": purge_id,
        "tenant": "t",
        "as_of": as_of,
        "backup_due": BACKUP_DUE,
        "primary_purged_at": PRIMARY_DUE,
        "generations": generations,
    }
    return ("backup-purge-started", ACTOR, data)


def deleted_record(purge_id: str, generation: str) -> Entry:
    """The ``backup-generation-deleted`` record of one of t's generations."""
    data = {"purge_id": purge_id, "tenant": "t", "generation": generation}
    return ("backup-generation-deleted", ACTOR, data)


def alert_record(kind: str, message: str) -> Entry:
    """The audit record of the first alert, delivered to every sink."""
    data = {
        "alert_id": "alert-0",
        "kind": kind,
        "tenant": "t",
        "message": message,
        "delivered": SINKS,
        "failed": [],
    }
    return ("alert", ACTOR, data)


def alert(kind: str, message: str, details: dict[str, Any], as_of: str) -> dict[str, Any]:
    """The first alert as every sink holds it (without its instant)."""
    return {
        "alert_id": "alert-0",
        "kind": kind,
        "tenant": "t",
        "as_of": as_of,
        "message": message,
        "details": {"domain": "backup", **details},
    }


@pytest.fixture
def purged(tmp_path: Path, webhook: Webhook) -> Site:
    """A snapshot before t's primary_due, t's primary purge at primary_due; alerts to the hook."""
    s = site(tmp_path, webhook_url=webhook.url)
    s.snapshot("2026-01-31T00:00:00Z")
    s.primary_purge(PRIMARY_DUE)
    return s


# -- backup purges that agree -----------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True], ids=["executed", "dry-run"])
def test_a_backup_purge_records_the_agreements_the_deletion_and_the_run(
    purged: Site,
    webhook: Webhook,
    dry_run: bool,  # noqa: FBT001 -- a parameter of the table
) -> None:
    """Each tenant's agreement, t's journal (started, each deletion, purged; not in a dry run)."""
    due = generations(purged)
    start = mark(purged)
    done = purged.backup_purge(BACKUP_DUE, dry_run=dry_run)
    purge_id = done.outcomes[0].purge_id
    journal: list[Entry] = []
    if purge_id is not None:
        journal = [
            started(purge_id, due),
            deleted_record(purge_id, due[0]),
            ("backup-purged", ACTOR, started(purge_id, due)[2]),
        ]
    expected = [
        agreement(purged, "t", BACKUP_DUE),
        *journal,
        agreement(purged, "u", BACKUP_DUE),
        run(
            BACKUP_DUE,
            {"dry-run" if dry_run else "executed": 1, "kept": 1},
            dry_run=dry_run,
            purged=1 - dry_run,
        ),
    ]
    assert (expected, []) == report(purged, start, webhook)
    assert (tuple(due), 1 - dry_run, dry_run) == (
        done.outcomes[0].generations,
        done.purged,
        purge_id is None,
    )


def test_backups_that_are_not_due_record_the_agreements_only(
    purged: Site, webhook: Webhook
) -> None:
    """Before backup_due: each tenant's agreement and the run; nothing deleted, no alert."""
    early = "2026-02-14T23:59:59Z"
    expected = [
        agreement(purged, "t", early),
        agreement(purged, "u", early),
        run(early, {"kept": 2}),
    ]
    start = mark(purged)
    purged.backup_purge(early)
    assert (expected, []) == report(purged, start, webhook)


# -- guards -----------------------------------------------------------------------------------


def _no_tenant_hold(
    inventory: Mapping[str, Any], policy: Mapping[str, object], tenant: str, as_of: str
) -> object:
    tenants = [{**t, "legal_hold": False} for t in inventory["tenants"]]
    return deleter_a.plan({**inventory, "tenants": tenants}, policy, tenant, as_of)


BLIND = (
    Planner("a", "blind", _no_tenant_hold, deleter_a.PlanInputError),
    Planner("b", "blind", _no_tenant_hold, deleter_a.PlanInputError),
)


def _flip_a_byte(s: Site) -> dict[str, Any]:
    """Change one byte of t's generation; what the tampered guard must say about it."""
    backup = open_site(s.config, s.backup())
    info = backup.generations("t")[0]
    data = bytearray(info.path.read_bytes())
    data[-5] ^= 0x01
    info.path.write_bytes(bytes(data))
    with pytest.raises(BackupTamperedError) as tampered:
        backup.read(info)
    return {"words": str(tampered.value), "path": tampered.value.path}


@attrs.frozen
class Guard:
    """A backup purge guard: how to trip it, and what it must report beside its name."""

    guard: str
    words: Callable[[list[str]], str]
    details: Callable[[list[str]], dict[str, Any]]
    setup: Callable[[Site, pytest.MonkeyPatch], dict[str, Any]] = lambda _s, _m: {}
    as_of: str = BACKUP_DUE
    now: str = "2026-06-01T00:00:00Z"
    planners: tuple[Planner, Planner] | None = None
    agreed: bool = True
    journalled: tuple[str, ...] | None = None  # tripped mid-purge: the generations recorded deleted


def _keep_everything(_self: BackupSite, _info: object, *, now: object) -> None:
    del now  # deletes nothing, and says nothing


def _locked(_self: BackupSite, info: Any, *, now: object) -> None:
    del now
    raise RetentionLockError(info.generation, "2026-07-01T00:00:00Z")


def _broken(_self: BackupSite, _info: object, *, now: object) -> None:
    del now
    raise OSError("disk failure")


Setup = Callable[[Site, pytest.MonkeyPatch], dict[str, Any]]


def _sql(sql: str) -> Setup:
    """A setup that writes to the primary store."""

    def setup(s: Site, _monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        execute_sql(s, sql)
        return {}

    return setup


def _deleting(delete: Callable[..., None]) -> Setup:
    """A setup that replaces the site's deletion of a generation."""

    def setup(_s: Site, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setattr(BackupSite, "delete", delete)
        return {}

    return setup


DUE = {"backup_due": BACKUP_DUE}
GUARDS = {
    "future-as-of": Guard(
        "future-as-of",
        lambda _g: (
            "as_of 2026-02-20T00:00:00Z is after now (2026-02-16T00:00:00Z); only a dry"
            " run may look ahead"
        ),
        lambda _g: {**DUE, "now": "2026-02-16T00:00:00Z"},
        as_of="2026-02-20T00:00:00Z",
        now="2026-02-16T00:00:00Z",
    ),
    "tenant-hold": Guard(
        "tenant-hold",
        lambda _g: "the tenant is under legal hold now",
        lambda _g: DUE,
        setup=_sql("UPDATE tenants SET legal_hold = 1 WHERE id = 't'"),
        planners=BLIND,
    ),
    "tenant-not-cancelled": Guard(
        "tenant-not-cancelled",
        lambda _g: "the tenant's latest lifecycle event is not a cancellation",
        lambda _g: DUE,
        setup=_sql("INSERT INTO events VALUES ('t', 9, 'reactivated', '2026-03-01T00:00:00Z')"),
    ),
    "tenant-missing": Guard(
        "tenant-missing",
        lambda _g: "the tenant is not in the primary store",
        lambda _g: {},
        setup=_sql("DELETE FROM tenants WHERE id = 't'"),
        agreed=False,
    ),
    "tampered": Guard(
        "tampered",
        lambda _g: "",  # from the setup: the site's own words
        lambda _g: DUE,
        setup=lambda s, _m: _flip_a_byte(s),
    ),
    "retention-lock": Guard(
        "retention-lock",
        lambda g: f"backup generation {g[0]} is locked until 2026-07-01T00:00:00Z",
        lambda g: {"generation": g[0], "locked_until": "2026-07-01T00:00:00Z", "deleted_before": 0},
        setup=_deleting(_locked),
        journalled=(),
    ),
    "count-mismatch": Guard(
        "count-mismatch",
        lambda _g: "deleted 1 generations of 1",
        lambda _g: {"deleted": 1, "planned": 1},
        setup=_deleting(_keep_everything),
        journalled=("first",),
    ),
}


@pytest.mark.parametrize("case", GUARDS.values(), ids=GUARDS.keys())
def test_a_backup_guard_is_recorded_and_alerted_with_its_details(
    purged: Site, webhook: Webhook, monkeypatch: pytest.MonkeyPatch, case: Guard
) -> None:
    """The agreement, the guard (name, details), one alert; mid-purge, the journal closed first."""
    gens = generations(purged)
    found = case.setup(purged, monkeypatch)
    words = found.get("words") or case.words(gens)
    details = {**case.details(gens), **({"path": found["path"]} if "path" in found else {})}
    message = f"guard {case.guard} refused the purge of tenant 't': {words}"
    start = mark(purged)
    done = purged.backup_purge(case.as_of, now=case.now, planners=case.planners)
    monkeypatch.undo()
    outcome = done.outcomes[0]
    journal: list[Entry] = []
    context: dict[str, Any] = {}
    if case.journalled is not None:
        assert outcome.purge_id is not None
        context = {"purge_id": outcome.purge_id}
        closed = {
            "purge_id": outcome.purge_id,
            "tenant": "t",
            "as_of": case.as_of,
            "status": "refused",
            "guard": case.guard,
            "reason": message,
        }
        journal = [
            started(outcome.purge_id, gens, case.as_of),
            *[deleted_record(outcome.purge_id, g) for g in gens[: len(case.journalled)]],
            ("backup-purge-closed", ACTOR, closed),
        ]
    expected_audit = [
        *([agreement(purged, "t", case.as_of, case.planners)] if case.agreed else []),
        *journal,
        (
            "guard",
            ACTOR,
            {
                "tenant": "t",
                "as_of": case.as_of,
                "guard": case.guard,
                "details": details,
                "purged_before": 0,
                **context,
            },
        ),
        alert_record("guard", f"backup purge: {message}"),
        agreement(purged, "u", case.as_of, case.planners),
        run(case.as_of, {"refused": 1, "kept": 1}),
    ]
    expected_alerts = [
        alert(
            "guard",
            f"backup purge: {message}",
            {"guard": case.guard, **details, **context},
            case.as_of,
        )
    ]
    assert (expected_audit, expected_alerts) == report(purged, start, webhook)
    # Tripped mid-purge, the outcome keeps the agreed backup_due; before, the guard's details say.
    backup_due = BACKUP_DUE if case.journalled is not None else details.get("backup_due")
    assert ("refused", case.guard, message, backup_due, gens) == (
        outcome.status,
        outcome.guard,
        outcome.message,
        outcome.backup_due,
        generations(purged),
    )


def test_backups_without_a_primary_purge_are_refused_and_alerted(
    tmp_path: Path, webhook: Webhook
) -> None:
    """No receipt of the primary purge by as_of: the no-primary-receipt guard, alerted."""
    s = site(tmp_path, webhook_url=webhook.url)
    s.snapshot("2026-01-31T00:00:00Z")
    as_of = "2026-02-16T00:00:00Z"
    words = (
        f"backup_due {BACKUP_DUE} has passed but no primary purge of this cancellation completed"
        f" by {as_of}; the backups wait for it"
    )
    message = f"guard no-primary-receipt refused the purge of tenant 't': {words}"
    expected_audit = [
        agreement(s, "t", as_of),
        (
            "guard",
            ACTOR,
            {
                "tenant": "t",
                "as_of": as_of,
                "guard": "no-primary-receipt",
                "details": DUE,
                "purged_before": 0,
            },
        ),
        alert_record("guard", f"backup purge: {message}"),
        agreement(s, "u", as_of),
        run(as_of, {"refused": 1, "kept": 1}),
    ]
    details = {"guard": "no-primary-receipt", **DUE}
    start = mark(s)
    s.backup_purge(as_of)
    expected_alerts = [alert("guard", f"backup purge: {message}", details, as_of)]
    assert (expected_audit, expected_alerts) == report(s, start, webhook)


# -- refusals by the planners, and errors -----------------------------------------------------


def _longer_lag(
    inventory: Mapping[str, object], policy: Mapping[str, Any], tenant: str, as_of: str
) -> object:
    return deleter_a.plan(inventory, {**policy, "backup_lag_days": 15}, tenant, as_of)


def _crash(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    if t == "t":
        raise RuntimeError("planner crashed")
    return deleter_a.plan(inv, pol, t, at)


def _reject(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    if t == "t":
        raise deleter_a.PlanInputError("inventory", "objects[0].key", "not a key")
    return deleter_a.plan(inv, pol, t, at)


PLANNERS = {
    "divergence": (Planner("a", "wrong", _longer_lag, deleter_a.PlanInputError), B),
    "failure": (Planner("a", "crashing", _crash, deleter_a.PlanInputError), B),
    "one-rejects": (Planner("a", "picky", _reject, deleter_a.PlanInputError), B),
}


@pytest.mark.parametrize("planners", PLANNERS.values(), ids=PLANNERS.keys())
def test_planners_that_do_not_agree_on_the_backups_are_recorded_and_alerted(
    purged: Site, webhook: Webhook, planners: tuple[Planner, Planner]
) -> None:
    """A refusal record with the summary, one backup divergence alert with the full report."""
    with PrimaryReader.of(purged.config) as reader, pytest.raises(RefusedError) as refused:
        arbiter.arbitrate(
            reader.read_slice("t"), purged.config.policy, "t", BACKUP_DUE, planners=planners
        )
    summary = refused.value.report.summary()
    expected_audit = [
        ("refusal", ACTOR, {"tenant": "t", "as_of": BACKUP_DUE, "summary": summary}),
        alert_record("divergence", f"backup purge refused: {summary}"),
        agreement(purged, "u", BACKUP_DUE, planners),
        run(BACKUP_DUE, {"refused": 1, "kept": 1}),
    ]
    details = json.loads(json.dumps(refused.value.report.to_json()))
    message = f"backup purge refused: {summary}"
    expected_alerts = [alert("divergence", message, details, BACKUP_DUE)]
    start = mark(purged)
    done = purged.backup_purge(BACKUP_DUE, planners=planners)
    assert (expected_audit, expected_alerts) == report(purged, start, webhook)
    assert ("refused", summary) == (done.outcomes[0].status, done.outcomes[0].message)


def test_input_both_planners_reject_is_recorded_and_alerted_as_bad_input(
    purged: Site, webhook: Webhook
) -> None:
    """Both planners reject: a refusal record (bad_input), one backup bad-input alert."""
    both = (
        Planner("a", "picky", _reject, deleter_a.PlanInputError),
        Planner("b", "picky", _reject, deleter_a.PlanInputError),
    )
    error = InputError(source="inventory", field="objects[0].key", message="not a key")
    message = f"bad input: {error}"
    expected_audit = [
        ("refusal", ACTOR, {"tenant": "t", "as_of": BACKUP_DUE, "bad_input": str(error)}),
        alert_record("bad-input", f"backup purge refused: {message}"),
        agreement(purged, "u", BACKUP_DUE, both),
        run(BACKUP_DUE, {"refused": 1, "kept": 1}),
    ]
    details = {"source": "inventory", "field": "objects[0].key", "message": "not a key"}
    expected_alerts = [alert("bad-input", f"backup purge refused: {message}", details, BACKUP_DUE)]
    start = mark(purged)
    done = purged.backup_purge(BACKUP_DUE, planners=both)
    assert (expected_audit, expected_alerts) == report(purged, start, webhook)
    assert ("refused", message) == (done.outcomes[0].status, done.outcomes[0].message)


def test_an_unexpected_error_of_the_backup_purge_is_recorded_and_alerted(
    purged: Site, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing deletion: an error record, one backup error alert; failed, its journal unfinished."""
    monkeypatch.setattr(BackupSite, "delete", _broken)
    error = "OSError: disk failure"
    due = generations(purged)
    start = mark(purged)
    done = purged.backup_purge(BACKUP_DUE)
    purge_id = done.outcomes[0].purge_id
    assert purge_id is not None
    expected_audit = [
        agreement(purged, "t", BACKUP_DUE),
        started(purge_id, due),
        ("error", ACTOR, {"tenant": "t", "as_of": BACKUP_DUE, "error": error}),
        alert_record("error", f"backup purge failed: {error}"),
        agreement(purged, "u", BACKUP_DUE),
        run(BACKUP_DUE, {"failed": 1, "kept": 1}),
    ]
    expected_alerts = [
        alert("error", f"backup purge failed: {error}", {"error": error}, BACKUP_DUE)
    ]
    assert (expected_audit, expected_alerts) == report(purged, start, webhook)
    assert ("failed", error) == (done.outcomes[0].status, done.outcomes[0].message)
    assert [purge_id] == [j.purge_id for j in purged.unfinished()]
