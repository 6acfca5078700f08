"""Agreement-gated execution on the real SQLite store: every guard, every refusal path.

Each refusal test checks the four things a refusal promises: nothing (more) deleted — rows and
blob files —, an alert at the real local webhook, a report file, and an audit record.
"""

from __future__ import annotations

import copy
import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import arbiter
import deleter_a
from arbiter import LimitsConfig, ObjectId, Planner, PrimaryCredentials, PurgeOutcome, Workspace
from tests.builders import event, obj, sqlite_of, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tests.webhook_server import Webhook

AS_OF = "2026-03-01T00:00:00Z"
A, B = arbiter.default_planners()


def inventory() -> dict[str, Any]:
    """Tenant t is due; u is active and shares one of t's objects; blobs and records mixed."""
    return {
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
            obj("held", legal_hold=True),
            obj("shared"),
            obj("u1", "u", refs=[("db", "shared")]),
            obj("u2", "u", store="blob"),
        ],
    }


PAYLOADS = {
    ObjectId("blob", "t/f1"): b"file one",
    ObjectId("blob", "t/f2"): b"file two",
    ObjectId("blob", "u2"): b"file of u",
    ObjectId("db", "r1"): b"record one",
}
EXPECTED_PURGE = {
    ObjectId("db", "r1"),
    ObjectId("db", "r2"),
    ObjectId("blob", "t/f1"),
    ObjectId("blob", "t/f2"),
}


@pytest.fixture
def ws(tmp_path: Path, webhook: Webhook) -> Iterator[Workspace]:
    """A workspace of ``inventory()`` alerting to the test webhook."""
    opened = workspace(tmp_path / "ws", inventory(), webhook_url=webhook.url, payloads=PAYLOADS)
    try:
        yield opened
    finally:
        opened.close()


def reopen(ws: Workspace, planners: tuple[Planner, Planner]) -> Workspace:
    """The same workspace opened with substitute planners."""
    ws.close()
    return Workspace.open(ws.config.directory, planners=planners, credentials=ws.credentials)


def ids(ws: Workspace) -> set[ObjectId]:
    """Every object identity in the store."""
    return {ObjectId(o["store"], o["key"]) for o in ws.export_inventory()["objects"]}


def files(ws: Workspace) -> set[Path]:
    """Every blob file on disk."""
    return {p for p in Path(ws.blobs.root).rglob("*") if p.is_file()}


def audit_kinds(ws: Workspace) -> list[str]:
    """The kinds of the audit records, in order (the log verifies first)."""
    ws.verify_audit()
    return [r.kind for r in ws.audit.records()]


def purger_over(
    ws: Workspace, target: Any, credentials: PrimaryCredentials, **extra: Any
) -> arbiter.Purger:
    """A purger over the workspace's stores with a substitute target (and ``extra`` fields)."""
    return arbiter.Purger(
        reader=ws.store,
        target=target,
        policy=ws.config.policy,
        limits=ws.config.limits,
        audit=ws.audit,
        alerter=ws.alerter,
        blobs=ws.blobs.authorize(credentials, ws.store),
        credentials=credentials,
        **extra,
    )


def assert_refused_cleanly(
    ws: Workspace,
    outcome: PurgeOutcome,
    webhook: Webhook,
    before: tuple[set[ObjectId], set[Path]],
    kind: str,
) -> None:
    """Refused; nothing deleted; alert at the webhook; report file; audit record."""
    assert "refused" == outcome.status
    assert before == (ids(ws), files(ws))
    assert [kind] == [r.json()["kind"] for r in webhook.received]
    assert outcome.report_path is not None
    # The report file, not the alert log the first sink wrote: it is the one people should read.
    assert ws.config.path(ws.config.alerts.reports) == Path(outcome.report_path).parent
    assert json.loads(Path(outcome.report_path).read_text(encoding="utf-8"))["kind"] == kind
    assert "alert" in audit_kinds(ws)


def test_agreed_purge_deletes_exactly_the_plan(ws: Workspace, webhook: Webhook) -> None:
    """Agreement: the purge set's rows and blob files go; everything else stays; no alert."""
    before = ids(ws)
    outcome = ws.purge_tenant("t", AS_OF)
    assert ("executed", 4, 2) == (outcome.status, outcome.purged, outcome.batches)
    assert before - EXPECTED_PURGE == ids(ws)
    assert {ws.blobs.path(ObjectId("blob", "u2"))} == files(ws)
    assert [] == webhook.received
    assert ["import", "plan", "agreement", "archive", "batch", "batch", "executed"] == audit_kinds(
        ws
    )
    assert 1 == len(ws.store.receipts("t"))


def test_dry_run_deletes_nothing(ws: Workspace) -> None:
    """--dry-run plans and reports, deletes nothing."""
    before = (ids(ws), files(ws))
    outcome = ws.purge_tenant("t", AS_OF, dry_run=True)
    assert ("dry-run", 4, before) == (outcome.status, outcome.purged, (ids(ws), files(ws)))


def _grace_plus_one(inv: Mapping[str, object], pol: Mapping[str, Any], t: str, at: str) -> object:
    return deleter_a.plan(inv, {**pol, "grace_days": pol.get("grace_days", 30) + 1}, t, at)


def _no_holds(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    stripped = copy.deepcopy(dict(inv))
    for record in [*stripped["tenants"], *stripped["objects"]]:
        record["legal_hold"] = False
    return deleter_a.plan(stripped, pol, t, at)


def _drop_one(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    verdict["purge"] = verdict["purge"][1:]
    return verdict


def _add_foreign(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    verdict["purge"] = sorted(
        [*verdict["purge"], {"store": "db", "key": "u1"}], key=lambda o: (o["store"], o["key"])
    )
    return verdict


def _ignore_reactivation(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    stripped = copy.deepcopy(dict(inv))
    for record in stripped["tenants"]:
        record["events"] = [e for e in record["events"] if e["kind"] != "reactivated"]
    return deleter_a.plan(stripped, pol, t, at)


@pytest.mark.parametrize(
    "plan",
    [_grace_plus_one, _no_holds, _drop_one, _add_foreign],
    ids=["off-by-one-day", "ignores-hold", "loses-object", "adds-foreign-object"],
)
def test_one_wrong_planner_refuses_the_purge(ws: Workspace, webhook: Webhook, plan: Any) -> None:
    """A subtly wrong planner A: refused, nothing deleted, webhook alerted, audit records it."""
    before = (ids(ws), files(ws))
    ws = reopen(ws, (Planner("a", "wrong", plan, deleter_a.PlanInputError), B))
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert_refused_cleanly(ws, outcome, webhook, before, "divergence")
        assert "refusal" in audit_kinds(ws)
    finally:
        ws.close()


def test_wrong_planner_ignoring_reactivation_is_refused(tmp_path: Path, webhook: Webhook) -> None:
    """A planner that ignores a reactivation: refused, nothing deleted."""
    inv = inventory()
    inv["tenants"][0]["events"].append(event("reactivated", "2026-02-01T00:00:00Z"))
    ws = workspace(
        tmp_path / "ws",
        inv,
        webhook_url=webhook.url,
        payloads=PAYLOADS,
        planners=(Planner("a", "wrong", _ignore_reactivation, deleter_a.PlanInputError), B),
    )
    try:
        before = (ids(ws), files(ws))
        assert_refused_cleanly(ws, ws.purge_tenant("t", AS_OF), webhook, before, "divergence")
    finally:
        ws.close()


def same_wrong_pair(plan: Any) -> tuple[Planner, Planner]:
    """Both planners replaced by the same wrong one: they agree, and are wrong together."""
    # Both wrap planner A, so both raise A's input error.
    return (
        Planner("a", "wrong", plan, deleter_a.PlanInputError),
        Planner("b", "wrong", plan, deleter_a.PlanInputError),
    )


@pytest.mark.parametrize(
    ("plan", "guard"),
    [
        (_add_foreign, "foreign-object"),
        (_no_holds, "object-hold"),
    ],
    ids=["foreign-object", "held-object"],
)
def test_guards_refuse_what_both_planners_agree_on_wrongly(
    ws: Workspace, webhook: Webhook, plan: Any, guard: str
) -> None:
    """Both planners wrong the same way: the arbiter's own guards refuse; nothing deleted."""
    before = (ids(ws), files(ws))
    ws = reopen(ws, same_wrong_pair(plan))
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert guard == outcome.guard
        assert_refused_cleanly(ws, outcome, webhook, before, "guard")
        assert "guard" in audit_kinds(ws)
    finally:
        ws.close()


def _purge_everything(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    own = sorted((o["store"], o["key"]) for o in inv["objects"] if o["tenant"] == t)
    verdict["purge"] = [{"store": s, "key": k} for s, k in own]
    verdict["kept"] = []
    return verdict


def _ignore_sharing(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    shared = [
        {"store": k["store"], "key": k["key"]} for k in verdict["kept"] if k["reason"] == "shared"
    ]
    verdict["purge"] = sorted([*verdict["purge"], *shared], key=lambda o: (o["store"], o["key"]))
    verdict["kept"] = [k for k in verdict["kept"] if k["reason"] != "shared"]
    return verdict


def test_shared_guard_refuses_a_plan_that_ignores_sharing(ws: Workspace, webhook: Webhook) -> None:
    """Both planners ignoring sharing agree; the shared guard refuses before anything is deleted."""
    before = (ids(ws), files(ws))
    ws = reopen(ws, same_wrong_pair(_ignore_sharing))
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert "shared" == outcome.guard
        assert_refused_cleanly(ws, outcome, webhook, before, "guard")
    finally:
        ws.close()


def test_category_keep_guard(tmp_path: Path, webhook: Webhook) -> None:
    """An object in a kept category is never deleted, even if both planners say so."""
    inv = inventory()
    inv["objects"].append(obj("audit-1", category="audit"))
    policy = {"timezone": "UTC", "categories": {"audit": {"keep": True}}}
    ws = workspace(
        tmp_path / "ws",
        inv,
        policy=policy,
        webhook_url=webhook.url,
        limits=LimitsConfig(batch_size=100),
    )
    ws = reopen(ws, same_wrong_pair(_purge_everything))
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert "refused" == outcome.status
        assert ObjectId("db", "audit-1") in ids(ws)
        assert 0 == outcome.purged
    finally:
        ws.close()


def test_blast_radius_by_count(tmp_path: Path, webhook: Webhook) -> None:
    """A purge larger than max_objects_per_purge is refused before anything is deleted."""
    ws = workspace(
        tmp_path / "ws",
        inventory(),
        webhook_url=webhook.url,
        limits=LimitsConfig(max_objects_per_purge=3),
    )
    try:
        before = (ids(ws), files(ws))
        outcome = ws.purge_tenant("t", AS_OF)
        assert "blast-radius" == outcome.guard
        assert_refused_cleanly(ws, outcome, webhook, before, "guard")
    finally:
        ws.close()


def test_blast_radius_by_share_of_the_store(tmp_path: Path, webhook: Webhook) -> None:
    """A purge above max_store_fraction of all objects (past the floor) is refused."""
    limits = LimitsConfig(max_store_fraction=0.25, fraction_floor=1)
    ws = workspace(tmp_path / "ws", inventory(), webhook_url=webhook.url, limits=limits)
    try:
        before = (ids(ws), files(ws))
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("blast-radius", True) == (outcome.guard, "of 8 objects" in outcome.message)
        assert_refused_cleanly(ws, outcome, webhook, before, "guard")
    finally:
        ws.close()


class _Writer:
    """A planner wrapper that lets a second connection write while planning is under way."""

    def __init__(
        self, directory: Path, sql: str, args: tuple[Any, ...], credentials: PrimaryCredentials
    ) -> None:
        self.directory, self.sql, self.args, self.done = directory, sql, args, False
        self.credentials = credentials

    def plan(self, inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
        if not self.done and (t, at) == ("t", AS_OF):
            self.done = True
            store = arbiter.SqliteStore(self.directory / "primary.sqlite3")
            with store.transaction(self.credentials) as tx:
                tx_db = tx._db  # noqa: SLF001 -- the test writes the way a concurrent service would
                tx_db.execute(self.sql, self.args)
            store.close()
        return deleter_a.plan(inv, pol, t, at)


@pytest.mark.parametrize(
    ("sql", "args"),
    [
        ("UPDATE objects SET legal_hold = 1 WHERE key = ?", ("r1",)),
        ("UPDATE tenants SET legal_hold = 1 WHERE id = ?", ("t",)),
        (
            "INSERT INTO events (tenant, pos, kind, at) VALUES (?, 99, 'reactivated', '2026-02-15T00:00:00Z')",
            ("t",),
        ),
        ("INSERT INTO refs VALUES ('db', 'u1', 5, 'db', ?)", ("r1",)),
    ],
    ids=["object-hold", "tenant-hold", "reactivation", "new-ref"],
)
def test_concurrent_write_during_planning_is_noticed(
    ws: Workspace, webhook: Webhook, sql: str, args: tuple[Any, ...]
) -> None:
    """A write committed while the planners run: the plan is stale; nothing is deleted."""
    credentials = ws.require_credentials("a concurrent writer")
    writer = _Writer(Path(ws.config.directory), sql, args, credentials)
    ws = reopen(ws, (Planner("a", A.version, writer.plan, deleter_a.PlanInputError), B))
    try:
        before = (ids(ws), files(ws))
        outcome = ws.purge_tenant("t", AS_OF)
        assert "stale" == outcome.guard
        assert_refused_cleanly(ws, outcome, webhook, before, "guard")
    finally:
        ws.close()


class _HoldBetweenBatches:
    """A purge target that places a hold on an object right after the first batch committed."""

    def __init__(self, store: arbiter.SqliteStore, credentials: PrimaryCredentials) -> None:
        self.store, self.deletes, self.credentials = store, 0, credentials

    def total_objects(self) -> int:
        return self.store.total_objects()

    def verify_credentials(self, credentials: PrimaryCredentials) -> None:
        self.store.verify_credentials(credentials)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.store.transaction(self.credentials) as tx:
            real = tx.delete

            def counting(tenant: str, batch: list[ObjectId]) -> int:
                self.deletes += 1
                return real(tenant, batch)

            tx.delete = counting  # type: ignore[method-assign, assignment]
            yield tx
        if self.deletes == 1:
            with self.store.transaction(self.credentials) as other:
                other._db.execute("UPDATE objects SET legal_hold = 1 WHERE key = 'r2'")  # noqa: SLF001 -- a concurrent writer


def test_hold_placed_between_batches_stops_the_purge(ws: Workspace, webhook: Webhook) -> None:
    """Holds are re-read in each batch's transaction: a hold placed mid-purge stops it there."""
    credentials = ws.require_credentials("a test purger")
    purger = purger_over(ws, _HoldBetweenBatches(sqlite_of(ws), credentials), credentials)
    outcome = purger.purge_tenant("t", AS_OF)
    assert ("refused", "object-hold", 2) == (outcome.status, outcome.guard, outcome.purged)
    remaining = ids(ws)
    assert {ObjectId("db", "r1"), ObjectId("db", "r2")} <= remaining
    assert not {ObjectId("blob", "t/f1"), ObjectId("blob", "t/f2")} & remaining


class _ShortDelete:
    """A purge target whose delete reports one row fewer: the count guard must roll back."""

    def __init__(self, store: arbiter.SqliteStore, credentials: PrimaryCredentials) -> None:
        self.store, self.credentials = store, credentials

    def total_objects(self) -> int:
        return self.store.total_objects()

    def verify_credentials(self, credentials: PrimaryCredentials) -> None:
        self.store.verify_credentials(credentials)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.store.transaction(self.credentials) as tx:
            real = tx.delete

            def short(tenant: str, batch: list[ObjectId]) -> int:
                return real(tenant, batch) - 1

            tx.delete = short  # type: ignore[method-assign, assignment]
            yield tx


def test_count_mismatch_rolls_the_batch_back(ws: Workspace, webhook: Webhook) -> None:
    """A delete count different from the batch rolls it back: nothing deleted, alert sent."""
    before = (ids(ws), files(ws))
    credentials = ws.require_credentials("a test purger")
    purger = purger_over(ws, _ShortDelete(sqlite_of(ws), credentials), credentials)
    outcome = purger.purge_tenant("t", AS_OF)
    assert ("count-mismatch", 0) == (outcome.guard, outcome.purged)
    assert_refused_cleanly(ws, outcome, webhook, before, "guard")


def test_ownership_is_part_of_every_delete(ws: Workspace) -> None:
    """The store's delete matches identity and tenant: another tenant's row is never deleted."""
    with ws.store.transaction(ws.require_credentials("a test delete")) as tx:
        deleted = tx.delete("t", [ObjectId("db", "u1"), ObjectId("db", "r1")])
    assert 1 == deleted
    assert ObjectId("db", "u1") in ids(ws)


def test_run_due_isolates_tenants(tmp_path: Path, webhook: Webhook) -> None:
    """One tenant's refusal does not stop the others; the fleet report counts each outcome."""
    inv = inventory()
    inv["tenants"].append(tenant("v", event("cancelled", "2025-06-01T00:00:00Z")))
    inv["objects"].append(obj("v1", "v"))

    def wrong_for_t(i: Mapping[str, object], p: Mapping[str, object], t: str, at: str) -> object:
        return (_drop_one if t == "t" else deleter_a.plan)(i, p, t, at)

    ws = workspace(
        tmp_path / "ws",
        inv,
        webhook_url=webhook.url,
        planners=(Planner("a", "x", wrong_for_t, deleter_a.PlanInputError), B),
    )
    try:
        report = ws.run_due(AS_OF)
        assert {"refused": 1, "not-eligible": 1, "executed": 1} == report.counts()
        assert ObjectId("db", "v1") not in ids(ws)
        assert ObjectId("db", "r1") in ids(ws)
        # v's backup_due passed long ago: its restore archive and its plan file are removed at
        # the end of the run.
        assert ["run-due", "archive-removed", "plan-file-removed"] == audit_kinds(ws)[-3:]
    finally:
        ws.close()


def test_failing_webhook_never_blocks_a_refusal(tmp_path: Path, webhook: Webhook) -> None:
    """A webhook answering 500 still ends in a refusal, with the failure logged."""
    from tests.webhook_server import Reply  # noqa: PLC0415 -- only this test scripts replies

    webhook.script(Reply(500), Reply(500))
    ws = workspace(
        tmp_path / "ws",
        inventory(),
        webhook_url=webhook.url,
        planners=(Planner("a", "w", _drop_one, deleter_a.PlanInputError), B),
    )
    try:
        outcome = ws.purge_tenant("t", AS_OF)
        assert "refused" == outcome.status
        failures = (Path(ws.config.directory) / "alert-failures.jsonl").read_text(encoding="utf-8")
        assert "webhook" in failures
        assert "alert" in audit_kinds(ws)
    finally:
        ws.close()


def test_future_as_of_is_never_executed(ws: Workspace, webhook: Webhook) -> None:
    """Executing 'as of' a future instant is refused; a dry run may look ahead."""
    before = (ids(ws), files(ws))
    future = "2999-01-01T00:00:00Z"
    assert ("dry-run", 4) == (
        ws.purge_tenant("t", future, dry_run=True).status,
        ws.purge_tenant("t", future, dry_run=True).purged,
    )
    outcome = ws.purge_tenant("t", future)
    assert "future-as-of" == outcome.guard
    assert_refused_cleanly(ws, outcome, webhook, before, "guard")


def test_executing_a_future_verdict_is_refused_at_execution(ws: Workspace) -> None:
    """execute_verdict checks rule 4 itself: a verdict as of a future instant deletes nothing."""
    before = (ids(ws), files(ws))
    purger = ws.purger
    agreement, slice_fingerprint = purger.agree("t", "2999-01-01T00:00:00Z")
    with pytest.raises(arbiter.GuardError) as caught:
        purger.execute_verdict("t", agreement.verdict, slice_fingerprint, actor="test")
    assert ("future-as-of", before, []) == (
        caught.value.guard,
        (ids(ws), files(ws)),
        ws.store.journals(),
    )


def test_executing_without_credentials_names_what_needed_them(ws: Workspace) -> None:
    """A purger built without credentials refuses execute_verdict, saying what needed them."""
    before = (ids(ws), files(ws))
    credentials = ws.require_credentials("a test target")
    purger = arbiter.Purger(
        reader=ws.store,
        target=ws.store.purge_target(credentials),
        policy=ws.config.policy,
        limits=ws.config.limits,
        audit=ws.audit,
        alerter=ws.alerter,
    )
    agreement, slice_fingerprint = purger.agree("t", AS_OF)
    with pytest.raises(arbiter.CredentialError) as caught:
        purger.execute_verdict("t", agreement.verdict, slice_fingerprint, actor="test")
    assert (True, before) == (
        caught.value.message.startswith("executing a verdict needs primary credentials"),
        (ids(ws), files(ws)),
    )


def test_a_guard_tripping_mid_purge_closes_its_journal_refused(
    ws: Workspace, webhook: Webhook
) -> None:
    """A batch guard's refusal closes the purge's journal 'refused': recovery never resumes it."""
    credentials = ws.require_credentials("a test purger")
    stopped = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    purger = purger_over(
        ws,
        _HoldBetweenBatches(sqlite_of(ws), credentials),
        credentials,
        clock=lambda: stopped,
        journal=ws.store,
        journal_dir=ws.journal_dir,
    )
    outcome = purger.purge_tenant("t", AS_OF)
    journals = ws.store.journals()
    assert (
        ("refused", "object-hold"),
        [("t", "refused", "2026-03-02T12:30:00Z")],
        [],
    ) == (
        (outcome.status, outcome.guard),
        [(j["tenant"], j["state"], j["finished_at"]) for j in journals],
        ws.store.journals(unfinished=True),
    )
