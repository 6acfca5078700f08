"""Staleness by the change counter (purger rule 4), on SQLite and on PostgreSQL alike.

A write by anyone else between planning and deleting refuses the purge as ``stale`` with nothing
deleted; one between two batches refuses the next batch, the earlier batches staying deleted;
the purge's own deletes (and their refs' cascade) never refuse it; a write to a tenant whose
verdict it cannot change does not refuse it. The writes are made beside the store, as a
retention service writing its tables would (``direct_writer``): on PostgreSQL as the
administrator, since none of twinpurge's roles may update the data.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import arbiter
import deleter_a
from arbiter import (
    AlertsConfig,
    LimitsConfig,
    ObjectId,
    Planner,
    PurgeOutcome,
    WebhookConfig,
    Workspace,
    WorkspaceConfig,
)
from arbiter.core.config import StoreConfig
from arbiter.purge.streaming import StreamPlanner
from tests.arbiter.conftest import DirectWriter, direct_writer, store_url
from tests.arbiter.purge import writing_stream_planner
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from tests.webhook_server import Webhook

AS_OF = "2026-03-01T00:00:00Z"
A, B = arbiter.default_planners()
# t is due: r1..r6 in batches of two (r2 refs r1, r4 refs u's u2); r0 is held and u1 refs sh.
INVENTORY: dict[str, Any] = {
    "tenants": [
        tenant(
            "t",
            event("subscribed", "2025-01-01T00:00:00Z"),
            event("cancelled", "2026-01-01T00:00:00Z"),
        ),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
    ],
    "objects": [
        obj("r0", legal_hold=True),
        obj("r1"),
        obj("r2", refs=[("db", "r1")]),
        obj("r3"),
        obj("r4", refs=[("db", "u2")]),
        obj("r5"),
        obj("r6"),
        obj("sh"),
        obj("u1", "u", refs=[("db", "sh")]),
        obj("u2", "u"),
        obj("u3", "u"),
    ],
}
PLANNED = {ObjectId("db", f"r{i}") for i in range(1, 7)}
NEW = ObjectId("db", "new")  # the object one of the writes adds

# Writes that change t's verdict. Those marked ``unguarded`` trip no guard of a batch (rule 6):
# only the counter notices them.
WRITES: dict[str, tuple[str, tuple[object, ...], bool]] = {
    "new-object": (
        (
            "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
            " VALUES ('db', 'new', 't', 'default', '2020-01-01T00:00:00Z', ?)"
        ),
        (False,),
        True,
    ),
    "object-moved-in": ("UPDATE objects SET tenant = 't' WHERE key = ?", ("u3",), True),
    "erasure-request": (
        "INSERT INTO events (tenant, pos, kind, at) VALUES ('t', 98, 'erasure_requested', ?)",
        ("2026-01-05T00:00:00Z",),
        True,
    ),
    "object-hold": ("UPDATE objects SET legal_hold = ? WHERE key = 'r1'", (True,), False),
    "tenant-hold": ("UPDATE tenants SET legal_hold = ? WHERE id = 't'", (True,), False),
    "reactivation": (
        "INSERT INTO events (tenant, pos, kind, at) VALUES ('t', 99, 'reactivated', ?)",
        ("2026-02-15T00:00:00Z",),
        False,
    ),
    "ref-from-another-tenant": ("INSERT INTO refs VALUES ('db', 'u2', 0, 'db', ?)", ("r5",), False),
}
UNGUARDED = [name for name, (_, _, unguarded) in WRITES.items() if unguarded]


@attrs.frozen
class Opened:
    """A workspace of INVENTORY on one kind of store, and a writer beside its store."""

    kind: str
    directory: Path
    credentials: arbiter.PrimaryCredentials
    write: DirectWriter
    where: str
    streamed: bool

    def open(
        self,
        planners: tuple[Planner, Planner] | None = None,
        stream_planners: tuple[StreamPlanner, StreamPlanner] | None = None,
    ) -> Workspace:
        """The workspace, opened with its credentials (and substitute planners)."""
        return Workspace.open(
            self.directory,
            planners=planners,
            credentials=self.credentials,
            stream_planners=stream_planners,
        )

    @contextlib.contextmanager
    def open_writing(
        self, statement: str, params: tuple[object, ...], monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[tuple[Workspace, Callable[[], bool]]]:
        """The workspace, its planner A writing once beside the store before it plans t.

        Planning in memory, A is wrapped in the test's process; streamed, A's process runs
        ``writing_stream_planner``. Yields the workspace and whether the write was made.
        """
        writer = _WritingPlanner(self.write, statement, params)
        marker = self.directory.parent / "written"
        write: dict[str, object] = {"kind": self.kind, "where": self.where}
        write |= {"statement": statement, "params": params, "marker": str(marker)}
        monkeypatch.setenv(writing_stream_planner.ENV, json.dumps(write))
        streamed_a = StreamPlanner("a", A.version, writing_stream_planner.__name__)
        with self.open(
            (Planner("a", A.version, writer.plan, deleter_a.PlanInputError), B),
            (streamed_a, arbiter.default_stream_planners()[1]),
        ) as ws:
            yield ws, (marker.exists if self.streamed else lambda: writer.done)


@pytest.fixture(params=["memory", "streamed"])
def planning(request: pytest.FixtureRequest) -> str:
    """How t is planned: from its slice in memory, or streamed (purger rule 15)."""
    return str(request.param)


@pytest.fixture
def opened(
    store_kind: str,
    workspace_admin_url: str | None,
    tmp_path: Path,
    webhook: Webhook,
    planning: str,
) -> Opened:
    """INVENTORY in a new workspace on each store, batches of two, alerting to the webhook."""
    directory = tmp_path / "ws"
    admin_url = workspace_admin_url
    streamed = planning == "streamed"
    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=LimitsConfig(batch_size=2, **({"stream_from": 0} if streamed else {})),
        alerts=AlertsConfig(webhooks=(WebhookConfig(webhook.url, timeout_seconds=2.0, retries=1),)),
        store=StoreConfig(url=None if admin_url is None else store_url(admin_url)),
    )
    with Workspace.create(directory, config, admin_url=admin_url) as ws:
        ws.import_inventory(INVENTORY)
        credentials = ws.require_credentials("the staleness tests")
    where = str(directory / "primary.sqlite3") if admin_url is None else admin_url
    return Opened(
        store_kind, directory, credentials, direct_writer(store_kind, where), where, streamed
    )


class _WritingPlanner:
    """Planner A, after writing once beside the store: the slice it plans was read before."""

    def __init__(self, write: DirectWriter, statement: str, params: tuple[object, ...]) -> None:
        self.write, self.statement, self.params, self.done = write, statement, params, False

    def plan(self, inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
        if not self.done and (t, at) == ("t", AS_OF):
            self.done = True
            self.write(self.statement, self.params)
        return deleter_a.plan(inv, pol, t, at)


def objects_left(ws: Workspace) -> set[ObjectId]:
    """Every object identity in the store."""
    return {ObjectId(o["store"], o["key"]) for o in ws.export_inventory()["objects"]}


def guards_recorded(ws: Workspace) -> list[tuple[str, dict[str, Any], int]]:
    """The guard records of the audit log: (guard, details, purged_before)."""
    return [
        (r.data["guard"], r.data["details"], r.data["purged_before"])
        for r in ws.audit.records()
        if r.kind == "guard"
    ]


def alerts(webhook: Webhook) -> list[tuple[str, str | None]]:
    """The alerts the webhook received: (kind, guard)."""
    received = [r.json() for r in webhook.received]
    return [(a["kind"], a["details"].get("guard")) for a in received]


def refused(outcome: PurgeOutcome) -> tuple[str, str | None, int]:
    """What a refusal says: status, guard, objects deleted before it."""
    return outcome.status, outcome.guard, outcome.purged


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_while_planning_makes_the_plan_stale(
    opened: Opened, webhook: Webhook, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written after the slice was read: refused as stale before anything is deleted, alerted."""
    statement, params, _ = WRITES[name]
    with opened.open_writing(statement, params, monkeypatch) as (ws, _written):
        before = objects_left(ws)
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("refused", "stale", 0) == refused(outcome)
        assert "the tenant's data changed since planning" in outcome.message
        assert (before, [("stale", {}, 0)]) == (objects_left(ws) - {NEW}, guards_recorded(ws))
        assert [("guard", "stale")] == alerts(webhook)
        report = json.loads(Path(outcome.report_path or "").read_text(encoding="utf-8"))
        assert ("guard", "stale") == (report["kind"], report["details"]["guard"])
        # No journal opened: no plan file is left, streamed or not (streamed rule 2).
        assert [] == sorted(ws.journal_dir.glob("*"))


@pytest.mark.parametrize("name", UNGUARDED)
def test_a_write_after_the_preflight_refuses_the_first_batch(
    opened: Opened, webhook: Webhook, name: str
) -> None:
    """Written while the archive is made: the first batch compares the counter; nothing goes."""
    statement, params, _ = WRITES[name]
    with opened.open() as ws:
        before = objects_left(ws)

        def progress(phase: str, _done: int, _total: int) -> None:
            if phase == "archiving":
                opened.write(statement, params)

        ws.on_progress = progress
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("refused", "stale", 0) == refused(outcome)
        assert (before, [("stale", {}, 0)]) == (
            objects_left(ws) - {NEW},
            guards_recorded(ws),
        )
        assert [("guard", "stale")] == alerts(webhook)


@pytest.mark.parametrize("name", UNGUARDED)
def test_a_write_between_batches_refuses_the_next_batch(
    opened: Opened, webhook: Webhook, name: str
) -> None:
    """Written after the first batch: the second refuses as stale; the first stays deleted."""
    statement, params, _ = WRITES[name]
    with opened.open() as ws:
        before = objects_left(ws)
        batches: list[int] = []

        def progress(phase: str, done: int, _total: int) -> None:
            if phase == "deleting":
                batches.append(done)
                if len(batches) == 1:
                    opened.write(statement, params)

        ws.on_progress = progress
        outcome = ws.purge_tenant("t", AS_OF)
        first = {ObjectId("db", "r1"), ObjectId("db", "r2")}
        assert ("refused", "stale", 2, [2]) == (*refused(outcome), batches)
        # The batch's guard names the tenant it refused (in the message, the alert and the report).
        message = (
            "guard stale refused the purge of tenant 't': the tenant's data changed since planning"
        )
        assert message == outcome.message
        assert before - first == objects_left(ws) - {NEW}
        assert ([("stale", {}, 2)], [("guard", "stale")]) == (guards_recorded(ws), alerts(webhook))
        journals = ws.store.journals()
        assert [("automated", "refused")] == [(j["kind"], j["state"]) for j in journals]


def test_the_purges_own_batches_never_make_it_stale(opened: Opened, webhook: Webhook) -> None:
    """Three batches whose deletes bump t (and u, through r4's ref): executed, all of them."""
    with opened.open() as ws:
        before = objects_left(ws)
        counter = ws.store.change_counter("t")
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("executed", 6, 3) == (outcome.status, outcome.purged, outcome.batches)
        assert (before - PLANNED, []) == (objects_left(ws), webhook.received)
        assert ws.store.change_counter("t") > counter


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        ("UPDATE tenants SET legal_hold = ? WHERE id = 'u'", (True,)),
        ("INSERT INTO events (tenant, pos, kind, at) VALUES ('u', 7, 'cancelled', ?)", (AS_OF,)),
        ("INSERT INTO refs VALUES ('db', 'u3', 0, 'db', ?)", ("u2",)),
    ],
    ids=["u-hold", "u-cancelled", "ref-among-u"],
)
def test_a_write_to_another_tenant_alone_leaves_the_plan_fresh(
    opened: Opened, statement: str, params: tuple[object, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that cannot change t's verdict (u's own rows) does not bump t: t is purged."""
    with opened.open_writing(statement, params, monkeypatch) as (ws, written):
        outcome = ws.purge_tenant("t", AS_OF)
        assert ("executed", 6, True) == (outcome.status, outcome.purged, written())
