"""What every primary purge, dry run and refusal writes to the audit log, the alerts and progress.

Logging every operation is a promise: each test runs one purge on a real workspace and compares
everything it reported, whole, with what it must report: the audit records appended (kind, actor
and every field), the alerts delivered to every sink (the JSON-lines log, the report files, the
webhook; one alert id across them, also named by the audit log's ``alert`` record), and the
progress callbacks. Instants and ids are checked for form and consistency (tests/reporting.py).
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import arbiter
import deleter_a
from arbiter import (
    InputError,
    LimitsConfig,
    ObjectId,
    Planner,
    PrimaryCredentials,
    PurgeOutcome,
    Purger,
    RefusedError,
    Workspace,
)
from tests.builders import event, obj, tenant, workspace
from tests.reporting import Entry, reported

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from tests.webhook_server import Webhook

AS_OF = "2026-03-01T00:00:00Z"
NOW = datetime(2026, 3, 2, tzinfo=UTC)
NOW_TEXT = "2026-03-02T00:00:00Z"
ACTOR = "alice"
A, B = arbiter.default_planners()
POLICY = {"timezone": "UTC", "categories": {"audit": {"keep": True}}}
INVENTORY = {
    "tenants": [
        tenant(
            "t",
            event("subscribed", "2025-01-01T00:00:00Z"),
            event("cancelled", "2026-01-01T00:00:00Z"),
        ),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
    ],
    "objects": [
        obj("r1"),
        obj("r2", refs=[("blob", "t/f1")]),
        obj("t/f1", store="blob"),
        obj("t/f2", store="blob"),
        obj("u1", "u"),
    ],
}
PAYLOADS = {ObjectId("blob", "t/f1"): b"file one", ObjectId("blob", "t/f2"): b"file two"}
FIRST_BATCH = [["blob", "t/f1"], ["blob", "t/f2"]]
SECOND_BATCH = [["db", "r1"], ["db", "r2"]]
SINKS = ["jsonl", "report-file", "webhook"]


def open_workspace(
    directory: Path,
    webhook: Webhook,
    *,
    limits: LimitsConfig | None = None,
    planners: tuple[Planner, Planner] | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
) -> Workspace:
    """A workspace of ``INVENTORY`` (batches of two), alerting to the webhook; caller closes."""
    opened: Workspace = workspace(
        directory,
        copy.deepcopy(INVENTORY),
        policy=POLICY,
        limits=limits or LimitsConfig(batch_size=2),
        webhook_url=webhook.url,
        planners=planners,
        payloads=PAYLOADS,
        clock=clock,
    )
    return opened


@attrs.frozen
class Plan:
    """What the purge of a tenant must record about its plan, computed beside it."""

    slice: str
    digest: str
    verdict: arbiter.Verdict
    versions: dict[str, str]

    def planned(self, tenant: str, as_of: str) -> Entry:
        """The ``plan`` record."""
        return ("plan", ACTOR, {"tenant": tenant, "as_of": as_of, "slice": self.slice})

    def agreement(self, tenant: str, as_of: str) -> Entry:
        """The ``agreement`` record."""
        kept: dict[str, int] = {}
        for k in self.verdict.kept:
            kept[k.reason] = kept.get(k.reason, 0) + 1
        data = {
            "tenant": tenant,
            "as_of": as_of,
            "plan_digest": self.digest,
            "eligible": self.verdict.eligible,
            "reason": self.verdict.reason,
            "purge": len(self.verdict.purge),
            "kept": kept,
            "versions": self.versions,
            "slice": self.slice,
        }
        return ("agreement", ACTOR, data)


def plan_of(
    ws: Workspace, tenant: str, as_of: str, planners: tuple[Planner, Planner] | None = None
) -> Plan:
    """The plan the arbiter makes of the tenant's slice as stored now."""
    current = ws.store.read_slice(tenant)
    agreement = arbiter.arbitrate(current, ws.config.policy, tenant, as_of, planners=planners)
    return Plan(
        arbiter.fingerprint(current),
        arbiter.plan_digest(agreement.verdict),
        agreement.verdict,
        dict(agreement.versions),
    )


def alert_record(n: int, kind: str, message: str, tenant: str = "t") -> Entry:
    """The audit record of the n-th alert, delivered to every sink."""
    data = {
        "alert_id": f"alert-{n}",
        "kind": kind,
        "tenant": tenant,
        "message": message,
        "delivered": SINKS,
        "failed": [],
    }
    return ("alert", ACTOR, data)


def alert(
    n: int, kind: str, message: str, details: dict[str, Any], *, as_of: str = AS_OF
) -> dict[str, Any]:
    """The n-th alert as every sink holds it (without its instant)."""
    return {
        "alert_id": f"alert-{n}",
        "kind": kind,
        "tenant": "t",
        "as_of": as_of,
        "message": message,
        "details": details,
    }


def guard_message(guard: str, words: str) -> str:
    """A guard's message for people."""
    return f"guard {guard} refused the purge of tenant 't': {words}"


def report(ws: Workspace, mark: int, webhook: Webhook) -> tuple[list[Entry], list[dict[str, Any]]]:
    """The audit entries appended since record ``mark`` and every alert (the log verifies)."""
    ws.verify_audit()
    return reported(list(ws.audit.records())[mark:], Path(ws.config.directory), webhook)


def mark(ws: Workspace) -> int:
    """How many records the audit log holds now."""
    return len(list(ws.audit.records()))


# -- purges that agree --------------------------------------------------------------------------


def test_an_executed_purge_records_each_step_and_alerts_nobody(
    tmp_path: Path, webhook: Webhook
) -> None:
    """Plan, agreement, archive, one record per batch, executed; progress per phase; no alert."""
    ws = open_workspace(tmp_path / "ws", webhook)
    progress: list[tuple[str, int, int]] = []
    ws.on_progress = lambda phase, done, total: progress.append((phase, done, total))
    try:
        plan, start = plan_of(ws, "t", AS_OF), mark(ws)
        outcome = ws.purge_tenant("t", AS_OF, actor=ACTOR)
        expected = [
            plan.planned("t", AS_OF),
            plan.agreement("t", AS_OF),
            (
                "archive",
                ACTOR,
                {"tenant": "t", "archive_id": outcome.archive_id, "objects": 4, "blobs": 2},
            ),
            ("batch", ACTOR, {"tenant": "t", "index": 1, "objects": FIRST_BATCH}),
            ("batch", ACTOR, {"tenant": "t", "index": 2, "objects": SECOND_BATCH}),
            (
                "executed",
                ACTOR,
                {
                    "tenant": "t",
                    "as_of": AS_OF,
                    "plan_digest": plan.digest,
                    "purged": 4,
                    "at": NOW_TEXT,
                },
            ),
        ]
        assert (expected, []) == report(ws, start, webhook)
        assert [("archiving", 4, 4), ("deleting", 2, 4), ("deleting", 4, 4)] == progress
        assert ("executed", 4, 2, plan.digest) == (
            outcome.status,
            outcome.purged,
            outcome.batches,
            outcome.plan_digest,
        )
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("tenant_id", "dry_run", "status"),
    [("t", True, "dry-run"), ("u", False, "not-eligible"), ("u", True, "not-eligible")],
    ids=["dry-run", "not-eligible", "not-eligible-dry-run"],
)
def test_a_purge_that_deletes_nothing_records_its_plan_and_agreement_only(
    tmp_path: Path,
    webhook: Webhook,
    tenant_id: str,
    dry_run: bool,  # noqa: FBT001 -- a parameter of the table
    status: str,
) -> None:
    """A dry run or a tenant that is not due: plan and agreement records, no progress, no alert."""
    ws = open_workspace(tmp_path / "ws", webhook)
    progress: list[tuple[str, int, int]] = []
    ws.on_progress = lambda phase, done, total: progress.append((phase, done, total))
    try:
        plan, start = plan_of(ws, tenant_id, AS_OF), mark(ws)
        outcome = ws.purge_tenant(tenant_id, AS_OF, dry_run=dry_run, actor=ACTOR)
        expected = [plan.planned(tenant_id, AS_OF), plan.agreement(tenant_id, AS_OF)]
        assert (expected, [], []) == (*report(ws, start, webhook), progress)
        assert status == outcome.status
    finally:
        ws.close()


def test_a_dry_run_of_the_fleet_records_every_tenant_then_the_run(
    tmp_path: Path, webhook: Webhook
) -> None:
    """run_due: each tenant's records in turn, then one run-due record with the counts."""
    ws = open_workspace(tmp_path / "ws", webhook)
    done: list[str] = []
    try:
        plans, start = [plan_of(ws, t, AS_OF) for t in ("t", "u")], mark(ws)
        fleet = ws.run_due(AS_OF, dry_run=True, progress=done.append, actor=ACTOR)
        expected = [
            *(plans[0].planned("t", AS_OF), plans[0].agreement("t", AS_OF)),
            *(plans[1].planned("u", AS_OF), plans[1].agreement("u", AS_OF)),
            (
                "run-due",
                ACTOR,
                {
                    "as_of": AS_OF,
                    "dry_run": True,
                    "counts": {"dry-run": 1, "not-eligible": 1},
                    "safe_mode": None,
                    "not_started": [],
                },
            ),
        ]
        assert (expected, [], ["t", "u"]) == (*report(ws, start, webhook), done)
        assert {"dry-run": 1, "not-eligible": 1} == fleet.counts()
    finally:
        ws.close()


# -- refusals before anything is deleted ------------------------------------------------------


def _add_foreign(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    if (t, at) == ("t", AS_OF):
        verdict["purge"] = sorted(
            [*verdict["purge"], {"store": "db", "key": "u1"}], key=lambda o: (o["store"], o["key"])
        )
    return verdict


def _both(plan: Any) -> tuple[Planner, Planner]:
    """Both planners replaced by the same wrong one: they agree, and are wrong together."""
    return (
        Planner("a", "wrong", plan, deleter_a.PlanInputError),
        Planner("b", "wrong", plan, deleter_a.PlanInputError),
    )


class _Writer:
    """Planner A, after writing to the primary store while planning is under way."""

    def __init__(self, database: Path, sql: str) -> None:
        self.database, self.sql, self.done = database, sql, False

    def plan(self, inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
        if not self.done and (t, at) == ("t", AS_OF):
            self.done = True
            execute_sql(self.database, self.sql)
        return deleter_a.plan(inv, pol, t, at)


def execute_sql(database: Path, sql: str) -> None:
    """A write to the primary store behind the purge's back (a concurrent service)."""
    db = sqlite3.connect(database)
    try:
        db.executescript(sql)
    finally:
        db.close()


def database(directory: Path) -> Path:
    """The primary store's database file of the workspace in ``directory``."""
    return directory / "primary.sqlite3"


@attrs.frozen
class Before:
    """A refusal before the first deletion: how to provoke it and what it must report."""

    guard: str
    words: str
    details: dict[str, Any]
    as_of: str = AS_OF
    limits: LimitsConfig | None = None
    planners: Callable[[Path], tuple[Planner, Planner]] | None = None


BEFORE = {
    "future-as-of": Before(
        "future-as-of",
        "as_of 2026-03-02T00:00:01Z is after now (2026-03-02T00:00:00Z); only a dry run may"
        " look ahead",
        {"now": NOW_TEXT},
        as_of="2026-03-02T00:00:01Z",
    ),
    "blast-radius-count": Before(
        "blast-radius",
        "4 objects exceed max_objects_per_purge 3",
        {"purge": 4},
        limits=LimitsConfig(batch_size=2, max_objects_per_purge=3),
    ),
    "blast-radius-share": Before(
        "blast-radius",
        "4 of 5 objects exceed max_store_fraction 0.25",
        {"purge": 4, "total": 5},
        limits=LimitsConfig(batch_size=2, max_store_fraction=0.25, fraction_floor=1),
    ),
    "foreign-object": Before(
        "foreign-object",
        "1 planned objects are not the tenant's, e.g. ObjectId(store='db', key='u1')",
        {"objects": [{"store": "db", "key": "u1"}]},
        planners=lambda _directory: _both(_add_foreign),
    ),
    "stale": Before(
        "stale",
        "the tenant's data changed since planning",
        {},
        planners=lambda directory: (
            Planner(
                "a",
                A.version,
                _Writer(
                    database(directory), "INSERT INTO refs VALUES ('db', 'u1', 0, 'db', 'r1')"
                ).plan,
                deleter_a.PlanInputError,
            ),
            B,
        ),
    ),
}


@pytest.mark.parametrize("case", BEFORE.values(), ids=BEFORE.keys())
def test_a_guard_before_the_first_batch_records_and_alerts_it(
    tmp_path: Path, webhook: Webhook, case: Before
) -> None:
    """Plan, agreement, the guard (name, details, digest), one alert to every sink; no progress."""
    directory = tmp_path / "ws"
    planners = case.planners(directory) if case.planners else None
    ws = open_workspace(directory, webhook, limits=case.limits, planners=planners)
    progress: list[tuple[str, int, int]] = []
    ws.on_progress = lambda phase, done, total: progress.append((phase, done, total))
    try:
        # A stale plan was made before the concurrent write, by the real planners.
        wrong = planners if case.guard != "stale" else None
        plan, start = plan_of(ws, "t", case.as_of, wrong), mark(ws)
        outcome = ws.purge_tenant("t", case.as_of, actor=ACTOR)
        message = guard_message(case.guard, case.words)
        expected_audit = [
            plan.planned("t", case.as_of),
            plan.agreement("t", case.as_of),
            (
                "guard",
                ACTOR,
                {
                    "tenant": "t",
                    "as_of": case.as_of,
                    "guard": case.guard,
                    "details": case.details,
                    "purged_before": 0,
                    "plan_digest": plan.digest,
                },
            ),
            alert_record(0, "guard", message),
        ]
        details = {"guard": case.guard, **case.details, "plan_digest": plan.digest}
        expected_alerts = [alert(0, "guard", message, details, as_of=case.as_of)]
        assert (expected_audit, expected_alerts, []) == (*report(ws, start, webhook), progress)
        assert ("refused", case.guard, message, 0) == (
            outcome.status,
            outcome.guard,
            outcome.message,
            outcome.purged,
        )
    finally:
        ws.close()


# -- refusals by the planners -----------------------------------------------------------------


def _drop_one(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    if (t, at) == ("t", AS_OF):
        verdict["purge"] = verdict["purge"][1:]
    return verdict


def _crash(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    if (t, at) == ("t", AS_OF):
        raise RuntimeError("planner crashed")
    return deleter_a.plan(inv, pol, t, at)


def _reject(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    if (t, at) == ("t", AS_OF):
        raise deleter_a.PlanInputError("inventory", "objects[0].key", "not a key")
    return deleter_a.plan(inv, pol, t, at)


PLANNERS = {
    "divergence": (Planner("a", "wrong", _drop_one, deleter_a.PlanInputError), B),
    "failure": (Planner("a", "crashing", _crash, deleter_a.PlanInputError), B),
    "one-rejects": (Planner("a", "picky", _reject, deleter_a.PlanInputError), B),
}


@pytest.mark.parametrize("planners", PLANNERS.values(), ids=PLANNERS.keys())
def test_planners_that_do_not_agree_are_recorded_and_alerted_with_the_report(
    tmp_path: Path, webhook: Webhook, planners: tuple[Planner, Planner]
) -> None:
    """Divergence, failure, one rejection: plan, refusal (summary), one divergence alert."""
    ws = open_workspace(tmp_path / "ws", webhook, planners=planners)
    try:
        slice_ = arbiter.fingerprint(ws.store.read_slice("t"))
        with pytest.raises(RefusedError) as refused:
            arbiter.arbitrate(ws.store.read_slice("t"), POLICY, "t", AS_OF, planners=planners)
        summary = refused.value.report.summary()
        start = mark(ws)
        outcome = ws.purge_tenant("t", AS_OF, actor=ACTOR)
        expected_audit = [
            ("plan", ACTOR, {"tenant": "t", "as_of": AS_OF, "slice": slice_}),
            ("refusal", ACTOR, {"tenant": "t", "as_of": AS_OF, "summary": summary}),
            alert_record(0, "divergence", summary),
        ]
        details = json.loads(json.dumps(refused.value.report.to_json()))
        expected_alerts = [alert(0, "divergence", summary, details)]
        assert (expected_audit, expected_alerts) == report(ws, start, webhook)
        assert ("refused", summary, None) == (outcome.status, outcome.message, outcome.guard)
    finally:
        ws.close()


def test_input_both_planners_reject_is_recorded_and_alerted_as_bad_input(
    tmp_path: Path, webhook: Webhook
) -> None:
    """Both planners reject: plan, refusal (bad_input), one bad-input alert naming the field."""
    ws = open_workspace(tmp_path / "ws", webhook, planners=_both(_reject))
    try:
        slice_ = arbiter.fingerprint(ws.store.read_slice("t"))
        start = mark(ws)
        outcome = ws.purge_tenant("t", AS_OF, actor=ACTOR)
        error = InputError(source="inventory", field="objects[0].key", message="not a key")
        message = f"bad input: {error}"
        expected_audit = [
            ("plan", ACTOR, {"tenant": "t", "as_of": AS_OF, "slice": slice_}),
            ("refusal", ACTOR, {"tenant": "t", "as_of": AS_OF, "bad_input": str(error)}),
            alert_record(0, "bad-input", message),
        ]
        details = {"source": "inventory", "field": "objects[0].key", "message": "not a key"}
        expected_alerts = [alert(0, "bad-input", message, details)]
        assert (expected_audit, expected_alerts) == report(ws, start, webhook)
        assert ("refused", message) == (outcome.status, outcome.message)
    finally:
        ws.close()


# -- refusals between batches, on the store as it is now ---------------------------------------


class _Concurrent:
    """The workspace's store as purge target; another service writes after the first batch.

    Counted by the deletes, not by the transactions (pre-flight checks and the journal open
    transactions of their own): ``sql`` runs once the transaction of the first batch committed.
    With ``short``, the delete of the second batch reports one row fewer than it deleted.
    """

    def __init__(self, ws: Workspace, sql: str | None, *, short: bool = False) -> None:
        self.ws, self.sql, self.short, self.deletes = ws, sql, short, 0
        self.target = ws.store.purge_target(credentials(ws))

    def total_objects(self) -> int:
        return self.target.total_objects()

    def verify_credentials(self, given: PrimaryCredentials) -> None:
        self.target.verify_credentials(given)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        before = self.deletes
        with self.target.transaction() as tx:
            real = tx.delete

            def delete(tenant: str, ids: list[ObjectId]) -> int:
                self.deletes += 1
                deleted = real(tenant, ids)
                return deleted - 1 if self.short and self.deletes == 2 else deleted

            tx.delete = delete  # type: ignore[method-assign]
            yield tx
        if before == 0 and self.deletes == 1 and self.sql is not None:  # the first batch
            execute_sql(database(Path(self.ws.config.directory)), self.sql)


def credentials(ws: Workspace) -> PrimaryCredentials:
    """The workspace's primary credentials, checked (purges need them)."""
    return ws.require_credentials("a test purger")


def purger(ws: Workspace, target: Any, progress: list[tuple[str, int, int]]) -> Purger:
    """A purger over the workspace's store and sinks, deleting through ``target``."""
    checked = credentials(ws)
    return Purger(
        reader=ws.store,
        target=target,
        policy=ws.config.policy,
        limits=ws.config.limits,
        audit=ws.audit,
        alerter=ws.alerter,
        blobs=ws.blobs.authorize(checked, ws.store),
        clock=lambda: NOW,
        on_progress=lambda phase, done, total: progress.append((phase, done, total)),
        credentials=checked,
    )


R1 = {"store": "db", "key": "r1"}
R2 = {"store": "db", "key": "r2"}
BETWEEN = {
    "tenant-missing": ("DELETE FROM tenants WHERE id = 't'", "the tenant no longer exists", {}),
    "tenant-hold": (
        "UPDATE tenants SET legal_hold = 1 WHERE id = 't'",
        "the tenant is under legal hold now",
        {},
    ),
    "tenant-not-cancelled": (
        "INSERT INTO events VALUES ('t', 99, 'reactivated', '2026-02-15T00:00:00Z')",
        "the tenant's latest lifecycle event is not a cancellation",
        {},
    ),
    "object-missing": ("DELETE FROM objects WHERE key = 'r1'", "db/r1 no longer exists", R1),
    "foreign-object": (
        "UPDATE objects SET tenant = 'u' WHERE key = 'r1'",
        "db/r1 belongs to 'u'",
        {**R1, "owner": "u"},
    ),
    "object-hold": (
        "UPDATE objects SET legal_hold = 1 WHERE key = 'r2'",
        "db/r2 is under legal hold now",
        R2,
    ),
    "category-keep": (
        "UPDATE objects SET category = 'audit' WHERE key = 'r2'",
        "db/r2 is in kept category 'audit'",
        R2,
    ),
    "shared": (
        "INSERT INTO refs VALUES ('db', 'u1', 0, 'db', 'r1')",
        "db/u1 (not purged) refs an object of the batch",
        {"referrers": [{"store": "db", "key": "u1"}]},
    ),
    "count-mismatch": (None, "deleted 1 rows for a batch of 2", {"deleted": 1, "batch": 2}),
}


@pytest.mark.parametrize(("guard", "case"), BETWEEN.items(), ids=BETWEEN.keys())
def test_a_guard_after_a_committed_batch_records_what_was_deleted_before_it(
    tmp_path: Path, webhook: Webhook, guard: str, case: tuple[str | None, str, dict[str, Any]]
) -> None:
    """The first batch is recorded and reported; the guard's record counts it (purged_before)."""
    sql, words, details = case
    ws = open_workspace(tmp_path / "ws", webhook)
    progress: list[tuple[str, int, int]] = []
    try:
        plan, start = plan_of(ws, "t", AS_OF), mark(ws)
        target = _Concurrent(ws, sql, short=sql is None)
        outcome = purger(ws, target, progress).purge_tenant("t", AS_OF, actor=ACTOR)
        message = guard_message(guard, words)
        expected_audit = [
            plan.planned("t", AS_OF),
            plan.agreement("t", AS_OF),
            ("batch", ACTOR, {"tenant": "t", "index": 1, "objects": FIRST_BATCH}),
            (
                "guard",
                ACTOR,
                {
                    "tenant": "t",
                    "as_of": AS_OF,
                    "guard": guard,
                    "details": details,
                    "purged_before": 2,
                    "plan_digest": plan.digest,
                },
            ),
            alert_record(0, "guard", message),
        ]
        alerted = {"guard": guard, **details, "purged_before": 2, "plan_digest": plan.digest}
        expected_alerts = [alert(0, "guard", message, alerted)]
        assert (expected_audit, expected_alerts, [("deleting", 2, 4)]) == (
            *report(ws, start, webhook),
            progress,
        )
        assert ("refused", guard, message, 2) == (
            outcome.status,
            outcome.guard,
            outcome.message,
            outcome.purged,
        )
    finally:
        ws.close()


# -- errors -----------------------------------------------------------------------------------


class _Broken:
    """A purge target whose store cannot be counted."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def total_objects(self) -> int:
        raise RuntimeError("the store is gone")

    def verify_credentials(self, given: PrimaryCredentials) -> None:
        self.ws.store.verify_credentials(given)

    def transaction(self) -> Any:
        raise AssertionError  # never reached: counting fails first


def test_an_unexpected_error_is_recorded_and_alerted(tmp_path: Path, webhook: Webhook) -> None:
    """An error from the store: plan, agreement, error record, one error alert; status failed."""
    ws = open_workspace(tmp_path / "ws", webhook)
    try:
        plan, start = plan_of(ws, "t", AS_OF), mark(ws)
        outcome = purger(ws, _Broken(ws), []).purge_tenant("t", AS_OF, actor=ACTOR)
        message = "RuntimeError: the store is gone"
        expected_audit = [
            plan.planned("t", AS_OF),
            plan.agreement("t", AS_OF),
            ("error", ACTOR, {"tenant": "t", "as_of": AS_OF, "error": message}),
            alert_record(0, "error", message),
        ]
        expected_alerts = [alert(0, "error", message, {"error": message})]
        assert (expected_audit, expected_alerts) == report(ws, start, webhook)
        assert ("failed", message) == (outcome.status, outcome.message)
    finally:
        ws.close()


class _StuckFiles:
    """The workspace's blob directory (authorised to delete), except one file that cannot be."""

    def __init__(self, ws: Workspace, stuck: ObjectId) -> None:
        self.blobs, self.stuck = ws.blobs.authorize(credentials(ws), ws.store), stuck

    def is_blob_store(self, store: str) -> bool:
        return self.blobs.is_blob_store(store)

    def read(self, obj: ObjectId) -> bytes | None:
        return self.blobs.read(obj)

    def delete(self, obj: ObjectId) -> bool:
        if obj == self.stuck:
            raise PermissionError("read-only file")
        return self.blobs.delete(obj)

    def delete_many(
        self, objects: Iterable[ObjectId]
    ) -> tuple[list[ObjectId], list[tuple[ObjectId, Exception]]]:
        wanted = list(objects)
        removed, failed = self.blobs.delete_many(o for o in wanted if o != self.stuck)
        if self.stuck in wanted:
            failed.append((self.stuck, PermissionError("read-only file")))
        return removed, failed


def test_a_file_that_cannot_be_deleted_is_alerted_as_an_orphan(
    tmp_path: Path, webhook: Webhook
) -> None:
    """The purge goes on; the orphan file's alert follows the record of its batch."""
    ws = open_workspace(tmp_path / "ws", webhook)
    try:
        plan, start = plan_of(ws, "t", AS_OF), mark(ws)
        orphans = attrs.evolve(
            purger(ws, ws.store.purge_target(credentials(ws)), []),
            blobs=_StuckFiles(ws, ObjectId("blob", "t/f2")),
        )
        outcome: PurgeOutcome = orphans.purge_tenant("t", AS_OF, actor=ACTOR)
        message = "could not delete the file of blob/t/f2: read-only file"
        expected_audit = [
            plan.planned("t", AS_OF),
            plan.agreement("t", AS_OF),
            ("batch", ACTOR, {"tenant": "t", "index": 1, "objects": FIRST_BATCH}),
            alert_record(0, "blob-orphan", message),
            ("batch", ACTOR, {"tenant": "t", "index": 2, "objects": SECOND_BATCH}),
            (
                "executed",
                ACTOR,
                {
                    "tenant": "t",
                    "as_of": AS_OF,
                    "plan_digest": plan.digest,
                    "purged": 4,
                    "at": NOW_TEXT,
                },
            ),
        ]
        details = {"store": "blob", "key": "t/f2"}
        expected_alerts = [alert(0, "blob-orphan", message, details, as_of="")]
        assert (expected_audit, expected_alerts) == report(ws, start, webhook)
        assert ("executed", 4) == (outcome.status, outcome.purged)
    finally:
        ws.close()


# -- long lists ---------------------------------------------------------------------------------

GHOSTS = [{"store": "db", "key": f"g{n:03d}"} for n in range(101)]
REFERRERS = [{"store": "db", "key": f"x{n:03d}"} for n in range(101)]


def _plans_ghosts(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    if (t, at) == ("t", AS_OF):
        verdict["purge"] = sorted(
            [*verdict["purge"], *GHOSTS], key=lambda o: (o["store"], o["key"])
        )
    return verdict


def test_a_guard_names_at_most_a_hundred_objects(tmp_path: Path, webhook: Webhook) -> None:
    """101 objects that are nobody's, or 101 outside referrers: the first 100, in order."""
    ws = open_workspace(tmp_path / "ws", webhook, planners=_both(_plans_ghosts))
    try:
        ghosts = plan_of(ws, "t", AS_OF, _both(_plans_ghosts)).digest
        outcome = ws.purge_tenant("t", AS_OF, actor=ACTOR)
        inserts = "".join(
            f"INSERT INTO refs VALUES ('db', '{r['key']}', 0, 'db', 'r1');"  # noqa: S608 -- fixed keys
            for r in REFERRERS
        )
        digest = plan_of(ws, "t", AS_OF).digest
        shared = purger(ws, _Concurrent(ws, inserts), []).purge_tenant("t", AS_OF, actor=ACTOR)
        entries, alerts = report(ws, 0, webhook)
        expected = [{"objects": GHOSTS[:100]}, {"referrers": REFERRERS[:100]}]
        # The record: the details, what was deleted before the guard tripped, the plan.
        recorded = [(expected[0], 0, ghosts), (expected[1], 2, digest)]
        # The alert: the details, the plan, and what was deleted once something was.
        alerted = [
            {**expected[0], "plan_digest": ghosts},
            {**expected[1], "purged_before": 2, "plan_digest": digest},
        ]
        assert (recorded, alerted) == (
            [
                (data["details"], data["purged_before"], data["plan_digest"])
                for kind, _actor, data in entries
                if kind == "guard"
            ],
            [{k: v for k, v in a["details"].items() if k != "guard"} for a in alerts],
        )
        assert [
            guard_message(
                "foreign-object",
                "101 planned objects are not the tenant's, e.g. ObjectId(store='db', key='g000')",
            ),
            guard_message("shared", "db/x000 (not purged) refs an object of the batch"),
        ] == [outcome.message, shared.message]
    finally:
        ws.close()
