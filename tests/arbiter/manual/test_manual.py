"""Manual purges: nobody purges alone; bound plans, staleness, rehearsal, archive and restore."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbiter
from arbiter import ObjectId, PrimaryCredentials, Workspace
from arbiter.auth.approvals import generate_key, load_private_key, sign_approval
from arbiter.core.config import OperatorConfig, StoreConfig
from arbiter.manual.execute import ExecuteResult, execute_plan, restore_plan
from arbiter.manual.plans import approve_plan, create_plan, read_plan, register_plan, write_plan
from arbiter.manual.status import plan_status
from tests.builders import event, obj, sqlite_of, tenant
from tests.conftest import examples
from tests.faults import state
from tests.postgres import store_url

# Tenant t: cancelled 2026-01-01, primary due 2026-02-01, backup due 2026-02-15 (UTC).
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
AS_OF = "2026-02-05T00:00:00Z"
INVENTORY = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [
        obj("r1"),
        obj("r2", refs=[("blob", "t/f1")]),
        obj("t/f1", store="blob"),
        obj("shared"),
        obj("u1", "u", refs=[("db", "shared")]),
    ],
}
PAYLOADS = {ObjectId("db", "r1"): b"\x00row one", ObjectId("blob", "t/f1"): b"blob bytes"}


@attrs.define
class Clock:
    """A settable clock for the workspace."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        """The current instant."""
        return self.now


@attrs.define
class Setup:
    """A workspace with three registered operators and their keys."""

    directory: Path
    keys: dict[str, Path]
    clock: Clock
    credentials: PrimaryCredentials | None

    def open(self) -> Workspace:
        """Open the workspace with the settable clock and its primary credentials."""
        return Workspace.open(self.directory, clock=self.clock, credentials=self.credentials)


def make_setup(directory: Path, admin_url: str | None = None) -> Setup:
    """Operators alice, bob and carol registered; mallory has a key but is not registered.

    The workspace is ``directory / "ws"``: on SQLite, or on the PostgreSQL database
    ``admin_url`` (a superuser URL) names.
    """
    keys = {
        name: directory / "keys" / f"{name}.key" for name in ("alice", "bob", "carol", "mallory")
    }
    public = {name: generate_key(path) for name, path in keys.items()}
    config = arbiter.WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=arbiter.LimitsConfig(batch_size=2),
        operators={name: OperatorConfig(public[name]) for name in ("alice", "bob", "carol")},
        manual=arbiter.ManualConfig(rehearsal_required_above=2),
        store=StoreConfig() if admin_url is None else StoreConfig(url=store_url(admin_url)),
    )
    clock = Clock()
    with Workspace.create(directory / "ws", config, admin_url=admin_url) as ws:
        ws.import_inventory(INVENTORY, PAYLOADS)
    return Setup(directory / "ws", keys, clock, ws.credentials)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    """``make_setup`` on SQLite."""
    return make_setup(tmp_path)


@pytest.fixture
def setup_on_both(tmp_path: Path, workspace_admin_url: str | None) -> Setup:
    """``make_setup`` on each store in turn (``store_kind``, ``tests/arbiter/conftest.py``)."""
    return make_setup(tmp_path, workspace_admin_url)


def new_plan(setup: Setup, author: str = "alice") -> Path:
    """A registered plan file for tenant t."""
    path = (
        setup.directory.parent
        / f"plan-{author}-{len(list(setup.directory.parent.glob('plan-*')))}.json"
    )
    with setup.open() as ws:
        register_plan(ws, create_plan(ws, "t", AS_OF, author=author), path)
    return path


def approve(setup: Setup, path: Path, *names: str, action: Any = "execute") -> None:
    """Each named operator approves with their own key."""
    with setup.open() as ws:
        for name in names:
            approve_plan(ws, path, operator=name, key_path=setup.keys[name], action=action)


def snapshot(setup: Setup) -> tuple[list[str], dict[str, bytes]]:
    """The data tables dumped row by row (sorted: row ids may differ), every blob file's bytes.

    The bookkeeping tables (audit head, plans, archives, receipts, journals) are left out, and
    the change counters: a restore is a write, so they move on, never back.
    """
    db = sqlite3.connect(setup.directory / "primary.sqlite3")
    rows = sorted(
        line
        for line in db.iterdump()
        if not line.startswith(
            (
                'INSERT INTO "change_counters"',
                'INSERT INTO "meta"',
                'INSERT INTO "plans"',
                'INSERT INTO "archives"',
                'INSERT INTO "receipts"',
                'INSERT INTO "journals"',
                'INSERT INTO "journal_steps"',
            )
        )
    )
    db.close()
    blobs = {
        str(p.relative_to(setup.directory)): p.read_bytes()
        for p in (setup.directory / "blobs").rglob("*")
        if p.is_file()
    }
    return rows, blobs


def execute(setup: Setup, path: Path, operator: str = "alice", **options: Any) -> ExecuteResult:
    """Execute a plan as ``operator``."""
    with setup.open() as ws:
        return execute_plan(ws, path, operator=operator, **options)


# -- the two-person rule -------------------------------------------------------------------------


def test_two_operators_can_purge(setup: Setup) -> None:
    """Alice and bob approve; carol (or either of them) executes; the plan's purge set goes."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    before = snapshot(setup)
    result = execute(setup, path, operator="carol")
    assert (3, ["alice", "bob"], 3) == (
        result.rehearsed,
        sorted(result.approvers),
        result.purged,
    )
    with setup.open() as ws:
        assert ["shared", "u1"] == sorted(o["key"] for o in ws.export_inventory()["objects"])
        assert "manual-executed" in [r.kind for r in ws.audit.records()]
    assert before != snapshot(setup)


@pytest.mark.parametrize(
    ("approvers", "executor"),
    [
        ((), "alice"),
        (("alice",), "alice"),
        (("alice",), "bob"),
        (("alice", "alice"), "alice"),
        (("alice", "alice", "alice"), "bob"),
    ],
    ids=["none", "self-only", "one-other", "same-twice", "same-thrice"],
)
def test_one_operator_alone_cannot_execute(
    setup: Setup, approvers: tuple[str, ...], executor: str
) -> None:
    """Fewer than two distinct operators: ApprovalError; nothing deleted."""
    path = new_plan(setup)
    approve(setup, path, *approvers)
    before = snapshot(setup)
    for options in ({}, {"rehearse_only": True}, {"skip_rehearsal": True}):
        with pytest.raises(arbiter.ApprovalError) as info:
            execute(setup, path, operator=executor, **options)
        assert len(info.value.valid) <= 1
    assert before == snapshot(setup)


def test_an_operator_cannot_sign_as_another(setup: Setup) -> None:
    """Alice's key under bob's name is refused at approval and never counts if forged in."""
    path = new_plan(setup)
    with setup.open() as ws, pytest.raises(arbiter.UsageError):
        approve_plan(ws, path, operator="bob", key_path=setup.keys["alice"])
    approve(setup, path, "alice")
    plan = read_plan(path)
    forged = sign_approval(
        load_private_key(setup.keys["alice"]),
        action="execute",
        plan_id=plan.body.plan_id,
        plan_digest=plan.digest,
        operator="bob",
        approved_at="2026-02-10T12:00:00Z",
    )
    write_plan(path, attrs.evolve(plan, approvals=(*plan.approvals, forged)))
    with pytest.raises(arbiter.ApprovalError) as info:
        execute(setup, path)
    assert (("alice",), True) == (
        info.value.valid,
        any("bob: signature does not verify" in p for p in info.value.problems),
    )


def test_unregistered_key_never_counts(setup: Setup) -> None:
    """Mallory (not registered) cannot approve, and an approval written in by hand is ignored."""
    path = new_plan(setup)
    with setup.open() as ws, pytest.raises(arbiter.UsageError):
        approve_plan(ws, path, operator="mallory", key_path=setup.keys["mallory"])
    approve(setup, path, "alice")
    plan = read_plan(path)
    mallory = sign_approval(
        load_private_key(setup.keys["mallory"]),
        action="execute",
        plan_id=plan.body.plan_id,
        plan_digest=plan.digest,
        operator="mallory",
        approved_at="2026-02-10T12:00:00Z",
    )
    write_plan(path, attrs.evolve(plan, approvals=(*plan.approvals, mallory)))
    with pytest.raises(arbiter.ApprovalError) as info:
        execute(setup, path)
    assert any("mallory: not a registered operator" in p for p in info.value.problems)


def test_approval_of_another_plan_does_not_count(setup: Setup) -> None:
    """Bob's approval copied from another plan signs another digest: it does not count."""
    first, second = new_plan(setup), new_plan(setup)
    approve(setup, first, "bob")
    approve(setup, second, "alice")
    copied = read_plan(first).approvals
    plan = read_plan(second)
    write_plan(second, attrs.evolve(plan, approvals=(*plan.approvals, *copied)))
    with pytest.raises(arbiter.ApprovalError):
        execute(setup, second)


def test_restore_approval_does_not_authorise_execution(setup: Setup) -> None:
    """Approvals are for one action: two restore approvals do not allow execution."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob", action="restore")
    with pytest.raises(arbiter.ApprovalError):
        execute(setup, path)


def test_expired_approval_is_refused(setup: Setup) -> None:
    """An approval older than the expiry (24 h) no longer counts."""
    path = new_plan(setup)
    approve(setup, path, "alice")
    setup.clock.now = NOW + timedelta(hours=23)
    approve(setup, path, "bob")
    setup.clock.now = NOW + timedelta(hours=24, seconds=1)
    with pytest.raises(arbiter.ApprovalError) as info:
        execute(setup, path)
    assert any("alice: approval of" in p and "expired" in p for p in info.value.problems)


def test_approval_from_the_future_is_refused(setup: Setup) -> None:
    """An approval stamped later than now (beyond clock skew) does not count."""
    path = new_plan(setup)
    setup.clock.now = NOW + timedelta(hours=2)
    approve(setup, path, "alice", "bob")
    setup.clock.now = NOW
    with pytest.raises(arbiter.ApprovalError):
        execute(setup, path)


def _same_json(text: str, changed: str) -> bool:
    """Whether two texts hold the same JSON value (a change of layout only)."""
    try:
        return bool(json.loads(text) == json.loads(changed))
    except ValueError:
        return False


@settings(
    max_examples=examples(ci=60, dev=15),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(data=st.data())
def test_a_plan_changed_after_signing_is_refused(setup: Setup, data: st.DataObject) -> None:
    """Changing any one byte of a signed plan's body refuses execution; nothing is deleted."""
    path = setup.directory.parent / "signed.json"
    if not path.exists():
        original = new_plan(setup)
        approve(setup, original, "alice", "bob")
        original.rename(path)
    text = path.read_text(encoding="utf-8")
    body_start = text.index('"body"')
    body_end = text.index('"approvals"') if text.index('"approvals"') > body_start else len(text)
    position = data.draw(st.integers(body_start, min(body_end, len(text)) - 1))
    replacement = data.draw(st.sampled_from('0123456789abcdefz:{}",. '))
    changed = text[:position] + replacement + text[position + 1 :]
    if text[position] == replacement or _same_json(text, changed):
        return  # the same plan (e.g. a newline between fields replaced by a space)
    tampered = setup.directory.parent / "tampered.json"
    tampered.write_text(changed, encoding="utf-8")
    before = snapshot(setup)
    with pytest.raises((arbiter.InputError, arbiter.ApprovalError, arbiter.UsageError)):
        execute(setup, tampered)
    assert before == snapshot(setup)


# -- stale plans, rehearsal ----------------------------------------------------------------------


def _hold(ws: Workspace) -> None:
    with sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx:
        tx._db.execute("UPDATE tenants SET legal_hold = 1 WHERE id = 't'")  # noqa: SLF001 -- a concurrent change


def _reactivate(ws: Workspace) -> None:
    with sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx:
        tx._db.execute("INSERT INTO events VALUES ('t', 9, 'reactivated', '2026-02-03T00:00:00Z')")  # noqa: SLF001 -- a concurrent change


def _new_object(ws: Workspace) -> None:
    ws.import_inventory({"tenants": [tenant("w")], "objects": [obj("w1", "w")]})
    with sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx:
        tx._db.execute("UPDATE objects SET tenant = 't' WHERE key = 'w1'")  # noqa: SLF001 -- a concurrent change


def _object_hold(ws: Workspace) -> None:
    with sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx:
        tx._db.execute("UPDATE objects SET legal_hold = 1 WHERE key = 'r1'")  # noqa: SLF001 -- a concurrent change


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_hold, "eligible"),
        (_reactivate, "eligible"),
        (_new_object, "newly to purge"),
        (_object_hold, "newly kept"),
    ],
    ids=["tenant-hold", "reactivation", "new-object", "object-hold"],
)
def test_stale_plan_is_refused_saying_what_changed(setup: Setup, change: Any, says: str) -> None:
    """A change between approval and execution makes the plan stale; nothing is deleted."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    with setup.open() as ws:
        change(ws)
    before = snapshot(setup)
    with pytest.raises(arbiter.StalePlanError) as info:
        execute(setup, path)
    assert any(says in line for line in info.value.changes), info.value.changes
    assert before == snapshot(setup)


def test_rehearsal_leaves_the_store_unchanged(setup: Setup) -> None:
    """--rehearse deletes in a rolled-back transaction: rows and blob files byte-for-byte equal."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    before = snapshot(setup)
    result = execute(setup, path, rehearse_only=True)
    assert (3, 0) == (result.rehearsed, result.purged)
    assert before == snapshot(setup)
    with setup.open() as ws:
        assert "rehearsal" in [r.kind for r in ws.audit.records()]
        archives = Path(ws.config.path("archives"))
        assert [] == (list(archives.iterdir()) if archives.exists() else [])


def test_large_plan_cannot_skip_rehearsal(setup: Setup) -> None:
    """Above rehearsal_required_above (2 here), --skip-rehearsal is a usage error."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    before = snapshot(setup)
    with pytest.raises(arbiter.UsageError):
        execute(setup, path, skip_rehearsal=True)
    assert before == snapshot(setup)


def test_a_plan_executes_once(setup: Setup) -> None:
    """A second execution of the same plan is refused."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    with pytest.raises((arbiter.UsageError, arbiter.StalePlanError)):
        execute(setup, path)


def test_a_manual_purge_is_journalled_and_archived_under_its_plan(setup: Setup) -> None:
    """The journal and the archive of an executed plan name the plan, and each other."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    result = execute(setup, path)
    plan_id = read_plan(path).body.plan_id
    with setup.open() as ws:
        journals = ws.store.journals()
        archive = ws.store.archive(result.archive_id or "")
        purge_ids = [j["purge_id"] for j in journals]
        steps = [s for p in purge_ids for s in ws.store.journal_steps(p) if s["step"] == "archive"]
    assert (
        [("manual", plan_id, "done")],
        (plan_id, True),
        [result.archive_id],
    ) == (
        [(j["kind"], j["plan_id"], j["state"]) for j in journals],
        ((archive or {}).get("plan_id"), result.archive_id is not None),
        [s["data"]["archive_id"] for s in steps],
    )


# -- archive and restore -------------------------------------------------------------------------


def test_restore_brings_back_exactly_what_was_deleted(setup: Setup) -> None:
    """Two restore approvals: rows, payloads, refs and blob bytes come back exactly."""
    before = snapshot(setup)
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    assert before != snapshot(setup)
    with pytest.raises(arbiter.ApprovalError), setup.open() as ws:
        restore_plan(ws, path, operator="alice")
    approve(setup, path, "bob", "carol", action="restore")
    with setup.open() as ws:
        result = restore_plan(ws, path, operator="alice")
        assert 3 == result.restored
        assert b"\x00row one" == ws.store.payload(ObjectId("db", "r1"))
    assert before == snapshot(setup)
    with setup.open() as ws, pytest.raises(arbiter.UsageError):
        restore_plan(ws, path, operator="alice")


def test_archive_is_removed_at_backup_due(setup: Setup) -> None:
    """The archive is kept until the tenant's backup_due, then removed; restore is then refused."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    with setup.open() as ws:
        archive = ws.store.archives()[0]
        assert ("2026-02-15T00:00:00Z", True) == (
            archive["backup_due"],
            Path(archive["path"]).is_file(),
        )
    setup.clock.now = datetime(2026, 2, 15, tzinfo=UTC)
    approve(setup, path, "alice", "bob", action="restore")
    with setup.open() as ws:
        assert [archive["archive_id"]] == ws.expire_archives()
        assert not Path(archive["path"]).exists()
        with pytest.raises(arbiter.ArchiveError):
            restore_plan(ws, path, operator="carol")
        status = plan_status(ws, path)
    assert (None, archive["archive_id"]) == (status.archive_kept_until, status.archive_id)


def test_a_finished_purges_plan_file_goes_with_its_archive(setup: Setup) -> None:
    """The journal's plan file stays until backup_due, then goes, with an audit record."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    with setup.open() as ws:
        journal = ws.store.journals()[0]
        ws.expire_archives()
        kept = Path(journal["plan_path"]).is_file()
    setup.clock.now = datetime(2026, 2, 15, tzinfo=UTC)
    with setup.open() as ws:
        ws.expire_archives()
        removals = [r.data for r in ws.audit.records() if r.kind == "plan-file-removed"]
    assert (True, False, [{"purge_id": journal["purge_id"], "tenant": "t"}]) == (
        kept,
        Path(journal["plan_path"]).exists(),
        [{k: r[k] for k in ("purge_id", "tenant")} for r in removals],
    )


def test_archive_kept_before_backup_due(tmp_path: Path) -> None:
    """An automated purge's archive survives runs before backup_due and goes at backup_due."""
    clock = Clock(datetime(2026, 2, 2, tzinfo=UTC))
    with Workspace.create(
        tmp_path / "ws", arbiter.WorkspaceConfig(policy={"timezone": "UTC"})
    ) as ws:
        ws.import_inventory(INVENTORY, PAYLOADS)
    with Workspace.open(tmp_path / "ws", clock=clock, credentials=ws.credentials) as ws:
        outcome = ws.run_due("2026-02-02T00:00:00Z")
        archive_id = next(o.archive_id for o in outcome.outcomes if o.tenant == "t")
        record = ws.store.archive(archive_id or "")
        assert record is not None
        assert "2026-02-15T00:00:00Z" == record["backup_due"]
        clock.now = datetime(2026, 2, 14, 23, 59, 59, tzinfo=UTC)
        assert [] == ws.expire_archives()
        clock.now = datetime(2026, 2, 15, tzinfo=UTC)
        assert [archive_id] == ws.expire_archives()


def test_damaged_archive_is_refused(setup: Setup) -> None:
    """A changed byte in the archive is detected before anything is restored."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    with setup.open() as ws:
        archive = Path(ws.store.archives()[0]["path"])
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    approve(setup, path, "alice", "bob", action="restore")
    before = snapshot(setup)
    with setup.open() as ws, pytest.raises(arbiter.ArchiveError):
        restore_plan(ws, path, operator="carol")
    assert before == snapshot(setup)


def test_private_keys_never_reach_plans_logs_or_output(setup: Setup) -> None:
    """No byte of a private key appears in the plan file, the audit log or the alerts."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    secrets = [p.read_text(encoding="utf-8").splitlines()[1] for p in setup.keys.values()]
    texts = [
        path.read_text(encoding="utf-8"),
        (setup.directory / "audit.jsonl").read_text(encoding="utf-8"),
    ]
    assert not any(secret in text for secret in secrets for text in texts)


def test_key_readable_by_others_is_refused(setup: Setup) -> None:
    """A private key file with group or other permissions is refused before it is read."""
    path = new_plan(setup)
    setup.keys["alice"].chmod(0o644)
    with setup.open() as ws, pytest.raises(arbiter.InputError) as info:
        approve_plan(ws, path, operator="alice", key_path=setup.keys["alice"])
    assert "accessible by others" in info.value.message


def test_status_reports_approvals_expiry_execution(setup: Setup) -> None:
    """Status: valid approvals, why others do not count, expiry, execution."""
    path = new_plan(setup)
    approve(setup, path, "alice", "alice", "bob")
    with setup.open() as ws:
        status = plan_status(ws, path)
    assert (["alice", "bob"], "2026-02-11T12:00:00Z", None) == (
        status.approvals["execute"],
        status.expires_at,
        status.executed_at,
    )
    assert ["alice: approved more than once; counts once"] == status.problems["execute"]


def test_plan_file_is_strict(setup: Setup) -> None:
    """An unknown field in a plan file is bad input naming it."""
    path = new_plan(setup)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["body"]["extra"] = 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(arbiter.InputError) as info:
        read_plan(path)
    assert "body.extra" == info.value.field


def test_archive_written_before_any_delete(setup: Setup) -> None:
    """The audit log shows the archive before the first batch of every purge."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    execute(setup, path)
    with setup.open() as ws:
        kinds = [r.kind for r in ws.audit.records()]
        archive = ws.store.archives()[0]
        sha = hashlib.sha256(Path(archive["path"]).read_bytes()).hexdigest()
    assert kinds.index("archive") < kinds.index("batch")
    assert archive["sha256"] == sha


def test_reactivation_after_as_of_is_refused_by_the_guard(setup: Setup) -> None:
    """A reactivation recorded after the plan's as_of: the planners still agree, the guard refuses."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    with (
        setup.open() as ws,
        sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx,
    ):
        tx._db.execute("INSERT INTO events VALUES ('t', 9, 'reactivated', '2026-02-08T00:00:00Z')")  # noqa: SLF001 -- a concurrent change
    before = snapshot(setup)
    with pytest.raises(arbiter.GuardError) as info:
        execute(setup, path)
    assert ("tenant-not-cancelled", before) == (info.value.guard, snapshot(setup))


def test_guard_refusal_at_execution_alerts_every_sink_once(setup: Setup) -> None:
    """A guard tripping at execution sends one alert naming guard, tenant and plan; nothing goes."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    with (
        setup.open() as ws,
        sqlite_of(ws).transaction(ws.require_credentials("a test write")) as tx,
    ):
        tx._db.execute("INSERT INTO events VALUES ('t', 9, 'reactivated', '2026-02-08T00:00:00Z')")  # noqa: SLF001 -- a concurrent change
    plan_id = read_plan(path).body.plan_id
    before = snapshot(setup)
    with pytest.raises(arbiter.GuardError):
        execute(setup, path)
    with setup.open() as ws:
        log = ws.config.path(ws.config.alerts.log)
        alerts = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        reports = sorted(ws.config.path(ws.config.alerts.reports).iterdir())
        deliveries = [r.data for r in ws.audit.records() if r.kind == "alert"]
    report = json.loads(reports[0].read_text(encoding="utf-8")) if len(reports) == 1 else {}
    assert (
        [("guard", "tenant-not-cancelled", "t", AS_OF, plan_id)],
        [alerts[0]["alert_id"]],
        [["jsonl", "report-file"]],
        before,
    ) == (
        [
            (a["kind"], a["details"]["guard"], a["tenant"], a["as_of"], a["details"]["plan_id"])
            for a in alerts
        ],
        [report.get("alert_id")],
        [sorted(d["delivered"]) for d in deliveries],
        snapshot(setup),
    )


# -- safe mode and the tenant lock ---------------------------------------------------------------


def test_safe_mode_stops_a_manual_purge(setup: Setup) -> None:
    """An approved plan is refused while the fleet is in safe mode; nothing is deleted."""
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    with setup.open() as ws:
        ws.safe_mode.trip("threshold", "test trip", ["t"], {"bad": 3}, as_of=AS_OF, actor="test")
    before = snapshot(setup)
    with pytest.raises(arbiter.SafeModeError):
        execute(setup, path)
    assert before == snapshot(setup)


def test_a_manual_purge_waits_for_the_runner_holding_the_tenant(setup_on_both: Setup) -> None:
    """While another runner holds the tenant's lock, execution is refused and deletes nothing.

    On both stores: the lock is a lock file on SQLite, a server advisory lock on PostgreSQL
    (held here by another session); the whole data is read by each store's own reader.
    """
    setup = setup_on_both
    path = new_plan(setup)
    approve(setup, path, "alice", "bob")
    before = state(setup.directory)
    with setup.open() as ws, ws.locks.hold("t") as held:
        assert held
        with pytest.raises(arbiter.UsageError, match="another runner"):
            execute(setup, path)
        assert before == state(setup.directory)
    assert 3 == execute(setup, path).purged
