"""A workspace driven through its life by a hypothesis state machine, with invariants after every step.

The machine places lifecycle events, tenant and object holds, imports new objects, moves the clock
and runs the due purges (dry and real), as a retention service and its operators would; a run can
crash at any journal step (simulated in-process: the crash point raises instead of killing, the
real SIGKILL is tests/arbiter/purge/test_fault_injection.py's), and a later run or an explicit
recovery completes it. After every step (once recovery has run after a crash): nothing of a tenant that is not eligible is gone, nothing kept (held, of a kept
category, or needed by another tenant's object) is gone, everything purged is in a verified
restore archive until its backup_due, no blob file lacks its row and no row of a blob store lacks
its file, and the audit log verifies.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import arbiter
from arbiter import ObjectId, Workspace
from arbiter.core.instants import format_instant
from arbiter.stores.rows import insert_object
from tests import tally
from tests.builders import event, obj, sqlite_of, tenant
from tests.conftest import examples

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

TENANTS = ("t0", "t1", "t2", "t3")
# The journal's crash points a purge passes (arbiter/purge/purger.py, arbiter/durable/files.py).
CRASH_POINTS = (
    "journal-after-plan",
    "files-temporary-written",
    "journal-after-archive",
    "journal-after-batch",
    "journal-between-files",
    "journal-before-complete",
    "journal-after-complete",
    "journal-before-receipt",
    "journal-before-done",
)


class SimulatedCrash(BaseException):
    """A crash at a journal step, in-process: nothing after the point runs in that call."""


@contextlib.contextmanager
def crashing_at(point: str, nth: int) -> Iterator[None]:
    """Make the ``nth`` pass through ``point`` raise ``SimulatedCrash`` (a fake of the seam)."""
    seen = [0]

    def crash_point(name: str) -> None:
        if name == point:
            seen[0] += 1
            if seen[0] == nth:
                raise SimulatedCrash(point)

    modules = [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("arbiter.") and hasattr(m, "crash_point")
    ]
    originals = {m: m.crash_point for m in modules}
    for module in modules:
        module.crash_point = crash_point  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, original in originals.items():
            module.crash_point = original  # type: ignore[attr-defined]


START = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.define
class Clock:
    """The workspace's clock, moved by the machine."""

    now: datetime = START

    def __call__(self) -> datetime:
        """The current instant."""
        return self.now


def initial_inventory() -> tuple[dict[str, Any], dict[ObjectId, bytes]]:
    """Four subscribed tenants, each with records, a blob file, an audit record; t1 refs t0."""
    objects: list[dict[str, Any]] = []
    payloads: dict[ObjectId, bytes] = {}
    for name in TENANTS:
        objects += [obj(f"{name}/r{i}", name) for i in range(3)]
        objects.append(obj(f"{name}/audit", name, category="audit"))
        objects.append(obj(f"{name}/f", name, store="blob"))
        payloads[ObjectId("blob", f"{name}/f")] = f"file of {name}".encode()
    objects.append(obj("t1/uses-t0", "t1", refs=[("db", "t0/r0")]))
    tenants = [tenant(name, event("subscribed", "2025-01-01T00:00:00Z")) for name in TENANTS]
    return {"tenants": tenants, "objects": objects}, payloads


class WorkspaceLife(RuleBasedStateMachine):
    """Lifecycle events, holds, imports, clock moves and purges on one workspace."""

    def __init__(self) -> None:
        """No workspace until ``start``."""
        super().__init__()
        self.directory: Path | None = None
        self.clock = Clock()
        self.credentials: arbiter.PrimaryCredentials | None = None
        self.added = 0
        self.purged_total = 0
        # Set by crashed runs: the state before each, until a run or a recovery completes them.
        # A run after a crash recovers the old purge and then plans its own, which may crash
        # too: recovery may then complete a plan made from any of these states.
        self.crashed: list[dict[str, Any]] = []

    @initialize(cancelled=st.sets(st.sampled_from(TENANTS)))
    def start(self, cancelled: set[str]) -> None:
        """A fresh workspace; the ``cancelled`` tenants cancelled long enough ago to be due."""
        import tempfile  # noqa: PLC0415 -- one directory per run of the machine

        self.directory = Path(tempfile.mkdtemp(prefix="twinpurge-stateful-")) / "ws"
        config = arbiter.WorkspaceConfig(
            policy={
                "timezone": "UTC",
                "grace_days": 30,
                "backup_lag_days": 14,
                "categories": {"audit": {"keep": True}},
            },
            limits=arbiter.LimitsConfig(batch_size=2, max_store_fraction=1.0),
        )
        inventory, payloads = initial_inventory()
        for record in inventory["tenants"]:
            if record["id"] in cancelled:
                record["events"].append(event("cancelled", "2025-11-01T00:00:00Z"))
        with Workspace.create(self.directory, config) as ws:
            self.credentials = ws.credentials
        with self.open() as ws:
            ws.import_inventory(inventory, payloads)

    def open(self) -> Workspace:
        """The workspace, opened with its credentials and the machine's clock."""
        assert self.directory is not None
        return Workspace.open(self.directory, clock=self.clock, credentials=self.credentials)

    def write(self, sql: str, parameters: tuple[object, ...]) -> None:
        """A change the operator's service makes to its own store."""
        with self.open() as ws, sqlite_of(ws).transaction(ws.require_credentials("a change")) as tx:
            tx._db.execute(sql, parameters)  # noqa: SLF001 -- the service writes its own store

    def at(self) -> str:
        """The clock's instant as text."""
        return format_instant(self.clock.now)

    # -- what happens to tenants ----------------------------------------------------------------

    @rule(name=st.sampled_from(TENANTS), kind=st.sampled_from(["cancelled", "reactivated"]))
    def lifecycle(self, name: str, kind: str) -> None:
        """A tenant cancels or comes back, now."""
        self.write(
            "INSERT INTO events VALUES (?, (SELECT COALESCE(MAX(pos), 0) + 1 FROM events), ?, ?)",
            (name, kind, self.at()),
        )
        tally.COUNTS[f"stateful.{kind}"] += 1

    @rule(name=st.sampled_from(TENANTS), on=st.booleans())
    def tenant_hold(self, name: str, on: bool) -> None:  # noqa: FBT001 -- hypothesis passes it
        """A legal hold is placed on a tenant, or lifted."""
        self.write("UPDATE tenants SET legal_hold = ? WHERE id = ?", (int(on), name))

    @rule(name=st.sampled_from(TENANTS), index=st.integers(0, 2))
    def object_hold(self, name: str, index: int) -> None:
        """A legal hold is placed on one record."""
        self.write("UPDATE objects SET legal_hold = 1 WHERE key = ?", (f"{name}/r{index}",))

    @rule(name=st.sampled_from(TENANTS), blob=st.booleans())
    def new_object(self, name: str, blob: bool) -> None:  # noqa: FBT001 -- hypothesis passes it
        """The service creates an object for a tenant (a file, or a record)."""
        self.added += 1
        key = f"{name}/new{self.added}"
        store = "blob" if blob else "db"
        created = format_instant(self.clock.now - timedelta(seconds=1))
        # The service writes its own store: the row, and for a file the file first.
        with self.open() as ws:
            if blob:
                ws.blobs.write(ObjectId(store, key), f"new {key}".encode())
            with sqlite_of(ws).transaction(ws.require_credentials("a change")) as tx:
                insert_object(
                    tx._db,  # noqa: SLF001 -- the service writes its own store
                    {"store": store, "key": key, "tenant": name, "created_at": created},
                    None if blob else f"new {key}".encode(),
                )

    @rule(days=st.sampled_from([1, 10, 31, 45]))
    def time_passes(self, days: int) -> None:
        """Days go by."""
        self.clock.now += timedelta(days=days)

    # -- purges ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Each object's tenant, holds, category and refs, and each tenant's state, as stored."""
        assert self.directory is not None
        db = sqlite3.connect(self.directory / "primary.sqlite3")
        try:
            objects = {
                (store, key): {"tenant": owner, "hold": bool(hold), "category": category}
                for store, key, owner, hold, category in db.execute(
                    "SELECT store, key, tenant, legal_hold, category FROM objects"
                )
            }
            refs = set(db.execute("SELECT from_store, from_key, to_store, to_key FROM refs"))
            held = {name for (name,) in db.execute("SELECT id FROM tenants WHERE legal_hold = 1")}
            last = dict(
                db.execute(
                    # spec §5: by instant; at one instant a cancellation counts as earlier
                    "SELECT tenant, kind FROM events WHERE kind IN"
                    " ('subscribed', 'cancelled', 'reactivated')"
                    " ORDER BY at, CASE kind WHEN 'cancelled' THEN 0 ELSE 1 END, pos"
                )
            )
        finally:
            db.close()
        return {"objects": objects, "refs": refs, "held": held, "last": last}

    @rule(dry=st.booleans())
    def run_due(self, dry: bool) -> None:  # noqa: FBT001 -- hypothesis passes it
        """The retention service runs (a dry run deletes nothing; a real one recovers first)."""
        before = self.state()
        with self.open() as ws:
            report = ws.run_due(dry_run=dry)
        statuses = {o.tenant: o.status for o in report.outcomes}
        tally.COUNTS["stateful.run-due"] += 1
        for outcome in report.outcomes:
            tally.COUNTS[f"stateful.outcome.{outcome.status}"] += 1
        self.check_purged(before, statuses, dry=dry)

    @rule(point=st.sampled_from(CRASH_POINTS), nth=st.sampled_from([1, 2]))
    def crashing_run(self, point: str, nth: int) -> None:
        """A run crashes at a journal step (or ends normally if it never gets there)."""
        before = self.state()
        with self.open() as ws, crashing_at(point, nth):
            try:
                report = ws.run_due()
            except SimulatedCrash:
                tally.COUNTS["stateful.crashed"] += 1
                self.crashed.append(before)
                return
        self.check_purged(before, {o.tenant: o.status for o in report.outcomes}, dry=False)

    @precondition(lambda self: bool(self.crashed))
    @rule()
    def recover(self) -> None:
        """An operator runs the recovery on its own (``twinpurge recover``)."""
        before = self.state()
        with self.open() as ws:
            ws.recover_purges()
        tally.COUNTS["stateful.recovered"] += 1
        self.check_purged(before, {}, dry=False)

    def check_purged(
        self, before: dict[str, Any], statuses: Mapping[str, str], *, dry: bool
    ) -> None:
        """What went is only what a purge (or the recovery of a crashed one) may delete."""
        after = self.state()
        gone = set(before["objects"]) - set(after["objects"])
        tally.COUNTS[f"stateful.purged-objects>0={bool(gone)}"] += 1
        if dry:
            assert set() == gone
            return
        for identity in gone:
            was = before["objects"][identity]
            owner = was["tenant"]
            if statuses.get(owner) != "executed":
                # Only the recovery of a purge planned before the crash deletes otherwise: the
                # object was planned then (its tenant cancelled and not held at that time).
                planned = [
                    crash
                    for crash in self.crashed
                    if identity in crash["objects"]
                    and "cancelled" == crash["last"].get(owner)
                    and owner not in crash["held"]
                ]
                assert planned, (identity, statuses)
            else:
                assert "cancelled" == before["last"].get(owner), identity
                assert owner not in before["held"], identity
            # Never a held object, never a kept category, whoever deletes it.
            assert not was["hold"], identity
            assert "audit" != was["category"], identity
        # Never an object another tenant's surviving object needs.
        for from_store, from_key, to_store, to_key in before["refs"]:
            if (from_store, from_key) in after["objects"]:
                source = before["objects"][(from_store, from_key)]["tenant"]
                target = before["objects"].get((to_store, to_key))
                if target is not None and target["tenant"] != source:
                    assert (to_store, to_key) in after["objects"]
        self.purged_total += len(gone)
        self.crashed = []

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def files_and_rows_match(self) -> None:
        """Every blob row has its file, and every file its row: no orphan, no omission.

        Between a crash and the run (or recovery) that completes it, files of deleted rows may
        remain: that is what recovery removes, so the check waits for it.
        """
        if self.directory is None or self.crashed:
            return
        rows = {key for (store, key) in self.state()["objects"] if store == "blob"}
        root = self.directory / "blobs" / "blob"
        files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        assert rows == files

    @invariant()
    def purged_objects_are_archived(self) -> None:
        """Until backup_due, everything deleted is in a verified restore archive."""
        if self.directory is None:
            return
        with self.open() as ws:
            archived = 0
            for record in ws.store.archives():
                if record["removed_at"]:
                    continue
                path = Path(record["path"])
                if not path.is_absolute():
                    path = ws.config.path(ws.config.manual.archives) / path
                archived += len(arbiter.read_archive(path, record["sha256"]).objects)
            assert self.purged_total <= archived or any(
                r["removed_at"] for r in ws.store.archives()
            )

    @invariant()
    def audit_log_verifies(self) -> None:
        """The hash chain verifies after every step."""
        if self.directory is None:
            return
        with self.open() as ws:
            assert ws.verify_audit() > 0

    @precondition(lambda self: self.directory is not None)
    @invariant()
    def steps_are_counted(self) -> None:
        """Each step counts towards the printed total."""
        tally.COUNTS["stateful.steps"] += 1


# About 1,000 steps under the ci profile (the tally prints the count), 500 locally.
WorkspaceLife.TestCase.settings = settings(
    max_examples=examples(ci=40, dev=20), stateful_step_count=25, deadline=None
)
TestWorkspaceLife = WorkspaceLife.TestCase


def test_recovery_completes_a_plan_made_after_an_earlier_crash() -> None:
    """Runs crashing one after another each leave a plan; recovery may finish any of them.

    Found by CI: an object added after the first crash was planned by the second crashed run,
    and the model had only remembered the first crash's state.
    """
    machine = WorkspaceLife()
    try:
        machine.start(cancelled={"t0", "t1"})
        machine.run_due(dry=False)
        machine.new_object(blob=False, name="t1")
        machine.crashing_run(nth=1, point="journal-after-plan")
        machine.time_passes(days=1)
        machine.recover()
        machine.lifecycle(kind="reactivated", name="t0")
        machine.crashing_run(nth=1, point="journal-before-complete")
        machine.new_object(blob=True, name="t1")
        machine.crashing_run(nth=1, point="journal-before-done")
        machine.crashing_run(nth=1, point="journal-after-archive")
        machine.lifecycle(kind="cancelled", name="t3")
        machine.recover()
        machine.audit_log_verifies()
        machine.files_and_rows_match()
        machine.purged_objects_are_archived()
        assert [] == machine.crashed
    finally:
        machine.teardown()
