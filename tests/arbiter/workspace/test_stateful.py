"""A workspace driven through its life by a hypothesis state machine, with invariants after every step.

The machine places lifecycle events, tenant and object holds, imports new objects, moves the clock
and runs the due purges (dry and real), as a retention service and its operators would. After
every step: nothing of a tenant that is not eligible is gone, nothing kept (held, of a kept
category, or needed by another tenant's object) is gone, everything purged is in a verified
restore archive until its backup_due, no blob file lacks its row and no row of a blob store lacks
its file, and the audit log verifies.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import arbiter
from arbiter import ObjectId, Workspace
from arbiter.core.instants import format_instant
from arbiter.stores.rows import insert_object
from tests import tally
from tests.builders import event, obj, tenant
from tests.conftest import examples

TENANTS = ("t0", "t1", "t2", "t3")
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
        with self.open() as ws, ws.store.transaction(ws.require_credentials("a change")) as tx:
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
            with ws.store.transaction(ws.require_credentials("a change")) as tx:
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
        """The retention service runs (a dry run deletes nothing)."""
        before = self.state()
        with self.open() as ws:
            report = ws.run_due(dry_run=dry)
        after = self.state()
        gone = set(before["objects"]) - set(after["objects"])
        statuses = {o.tenant: o.status for o in report.outcomes}
        tally.COUNTS["stateful.run-due"] += 1
        for outcome in report.outcomes:
            tally.COUNTS[f"stateful.outcome.{outcome.status}"] += 1
        tally.COUNTS[f"stateful.purged-objects>0={bool(gone)}"] += 1
        if dry:
            assert set() == gone
            return
        for identity in gone:
            was = before["objects"][identity]
            owner = was["tenant"]
            # Only a cancelled tenant, not held, whose purge was executed loses objects.
            assert "executed" == statuses.get(owner), (identity, statuses)
            assert "cancelled" == before["last"].get(owner), identity
            assert owner not in before["held"], identity
            # Never a held object, never a kept category.
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

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def files_and_rows_match(self) -> None:
        """Every blob row has its file, and every file its row: no orphan, no omission."""
        if self.directory is None:
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
