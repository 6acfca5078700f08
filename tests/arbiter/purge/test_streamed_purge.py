"""The streamed purge (purger rule 15, ``arbiter.purge.streamed``): the in-memory purge's equal.

A tenant of at least ``limits.stream_from`` objects is planned with each planner in its own
process and purged from the plan file. For drawn inventories, a streamed purge ends exactly as
the purge of the same verdict held in memory: the same outcome, the same store, the same audit
record kinds and journal states, whatever the batch size. Its own promises are checked on
fixed stores: the journal resumes from a format-2 plan file; no plan file outlives a purge that
opened no journal; a divergence of the streams refuses with nothing deleted; the purge set is
known to the shared-ref guard through the objects that carry refs; and the arbiter's memory does
not grow with the tenant (200,000 objects under a bound no purge held in memory can meet).
"""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbiter
from arbiter import LimitsConfig, ObjectId, PurgeOutcome, StreamPlanner, Workspace
from arbiter.purge.journal import read_plan_file
from arbiter.purge.streaming import PlannerProcesses
from tests import tally
from tests.builders import event, obj, tenant, workspace
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.webhook_server import Webhook

AS_OF = "2026-03-01T00:00:00Z"
CANCELLED = [
    event("subscribed", "2025-01-01T00:00:00Z"),
    event("cancelled", "2026-01-01T00:00:00Z"),
]
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # one clock for both purges: their messages say it
MEMORY = 1_000_000  # a stream_from no test store reaches: planned in memory
WRONG_A = StreamPlanner("a", "wrong", "tests.arbiter.purge.wrong_stream_planner")


@pytest.fixture(scope="module")
def processes() -> Iterator[PlannerProcesses]:
    """Planners A and B in their processes, for the whole module."""
    with PlannerProcesses() as pool:
        yield pool


@attrs.frozen
class Ended:
    """How a purge ended, without what differs by construction (ids, paths, fingerprints)."""

    outcome: PurgeOutcome
    objects: frozenset[ObjectId]
    audit: tuple[str, ...]
    journals: tuple[tuple[str, str], ...]
    receipts: int


def ended(ws: Workspace, outcome: PurgeOutcome, tenant_id: str) -> Ended:
    """The purge's ending as ``Ended`` compares it."""
    ws.verify_audit()
    return Ended(
        attrs.evolve(outcome, archive_id=None, purge_id=None, report_path=None),
        frozenset(ObjectId(o["store"], o["key"]) for o in ws.export_inventory()["objects"]),
        tuple(r.kind for r in ws.audit.records()),
        tuple((j["kind"], j["state"]) for j in ws.store.journals()),
        len(ws.store.receipts(tenant_id)),
    )


def purge(
    directory: Path,
    scenario: Scenario,
    *,
    stream_from: int,
    batch_size: int,
    processes: PlannerProcesses,
) -> tuple[Ended, Workspace]:
    """The scenario's tenant purged in a new workspace; the workspace stays open."""
    inventory, policy, tid, as_of = scenario.args()
    limits = LimitsConfig(batch_size=batch_size, stream_from=stream_from)
    ws = workspace(directory, inventory, policy=policy, limits=limits, clock=lambda: NOW)
    purger = ws.purger
    with purger.planning_session(processes):
        outcome = purger.purge_tenant(tid, as_of)
    return ended(ws, outcome, tid), ws


@settings(
    max_examples=examples(ci=30, dev=10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios(max_objects=10), batch_size=st.integers(1, 4))
def test_a_streamed_purge_ends_as_the_purge_of_the_verdict_in_memory(
    tmp_path_factory: pytest.TempPathFactory,
    processes: PlannerProcesses,
    scenario: Scenario,
    batch_size: int,
) -> None:
    """Outcome, store, audit kinds, journals, receipts: alike for every drawn store and batch size."""
    base = tmp_path_factory.mktemp("pair")
    memory, ws_m = purge(
        base / "memory", scenario, stream_from=MEMORY, batch_size=batch_size, processes=processes
    )
    streamed, ws_s = purge(
        base / "streamed", scenario, stream_from=0, batch_size=batch_size, processes=processes
    )
    try:
        assert memory == streamed
        # A plan file stays only with the journal that owns it, streamed or not.
        assert len(memory.journals) == len(sorted(ws_s.journal_dir.glob("*.plan.jsonl")))
        assert [] == sorted((processes.work_dir or Path()).iterdir())
    finally:
        ws_m.close()
        ws_s.close()
    tally.COUNTS[f"streamed-purge-{memory.outcome.status}"] += 1


def inventory_of(tid: str, keys: int, *, refs: bool = False) -> dict[str, Any]:
    """A cancelled tenant ``tid`` of ``keys`` records; each refs the one before when ``refs``."""
    objects = [
        obj(f"{tid}{i}", tid, refs=[("db", f"{tid}{i - 1}")] if refs and i else None)
        for i in range(keys)
    ]
    return {"tenants": [tenant(tid, *CANCELLED)], "objects": objects}


@pytest.fixture
def streamed_ws(tmp_path: Path, webhook: Webhook) -> Iterator[Workspace]:
    """Tenant t: five records, each after the first refs the one before; batches of one."""
    ws = workspace(
        tmp_path / "ws",
        inventory_of("t", 5, refs=True),
        limits=LimitsConfig(batch_size=1, stream_from=0),
        webhook_url=webhook.url,
    )
    try:
        yield ws
    finally:
        ws.close()


def test_a_streamed_purge_is_journalled_with_its_plan_file_of_format_2(
    streamed_ws: Workspace,
) -> None:
    """Executed in five batches; the journal's plan file is the streamed spill, and done."""
    outcome = streamed_ws.purge_tenant("t", AS_OF)
    assert ("executed", 5, 5) == (outcome.status, outcome.purged, outcome.batches)
    [journal] = streamed_ws.store.journals()
    plan = read_plan_file(Path(journal["plan_path"]), journal["plan_sha256"])
    expected = tuple(ObjectId("db", f"t{i}") for i in range(5))
    assert ("twinpurge-purge-plan-2", expected, "done") == (
        plan.header["format"],
        plan.purge,
        journal["state"],
    )
    assert (outcome.plan_digest, []) == (
        journal["plan_digest"],
        streamed_ws.export_inventory()["objects"],
    )


def test_referrers_inside_the_purge_set_do_not_stop_a_batch(streamed_ws: Workspace) -> None:
    """t1 refs t0 (an earlier batch): the carriers of refs make it a member of the purge set."""
    outcome = streamed_ws.purge_tenant("t", AS_OF)
    assert (None, "executed") == (outcome.guard, outcome.status)
    batches = [r.data["objects"] for r in streamed_ws.audit.records() if r.kind == "batch"]
    assert [[["db", f"t{i}"]] for i in range(5)] == batches


@pytest.mark.parametrize("mode", ["executed", "dry-run"])
def test_no_plan_file_outlives_a_purge_that_opened_no_journal(tmp_path: Path, mode: str) -> None:
    """Not eligible, or a dry run: agreed and spilled, then removed; no journal."""
    dry_run = mode == "dry-run"
    active = {"tenants": [tenant("u")], "objects": [obj("u0", "u")]}
    inventory = {"tenants": [*active["tenants"], *inventory_of("t", 2)["tenants"]]}
    inventory["objects"] = [*active["objects"], *inventory_of("t", 2)["objects"]]
    with workspace(tmp_path / "ws", inventory, limits=LimitsConfig(stream_from=0)) as ws:
        outcomes = [ws.purge_tenant(t, AS_OF, dry_run=dry_run) for t in ("u", "t")]
        status = "dry-run" if dry_run else "executed"
        assert [("not-eligible", 0), (status, 2)] == [(o.status, o.purged) for o in outcomes]
        # The executed purge's journal keeps its plan file; nothing else is left.
        left = 0 if dry_run else 1
        assert (left, left) == (
            len(ws.store.journals()),
            len(sorted(ws.journal_dir.glob("*"))),
        )


def test_diverging_streams_refuse_with_nothing_deleted_and_no_plan_file(
    tmp_path: Path, webhook: Webhook
) -> None:
    """Tenant ``flip`` (A keeps one object B purges): refused, alerted, reported, nothing gone."""
    directory = tmp_path / "ws"
    with workspace(
        directory,
        inventory_of("flip", 4),
        limits=LimitsConfig(stream_from=0),
        webhook_url=webhook.url,
    ) as ws:
        credentials = ws.credentials
    stream_planners = (WRONG_A, arbiter.default_stream_planners()[1])
    with Workspace.open(directory, credentials=credentials, stream_planners=stream_planners) as ws:
        before = ws.export_inventory()
        outcome = ws.purge_tenant("flip", AS_OF)
        assert ("refused", 0) == (outcome.status, outcome.purged)
        message = "planners diverge for tenant 'flip' at 2026-03-01T00:00:00Z: purge only in b: 1"
        assert f"{message}; kept only in a: 1" == outcome.message
        assert (before, [], []) == (
            ws.export_inventory(),
            ws.store.journals(),
            sorted(ws.journal_dir.glob("*")),
        )
        assert ["divergence"] == [r.json()["kind"] for r in webhook.received]
        report = json.loads(Path(outcome.report_path or "").read_text(encoding="utf-8"))
        assert "divergence" == report["kind"]


def test_a_tenant_the_store_lacks_is_refused_as_bad_input_as_in_memory(tmp_path: Path) -> None:
    """Streamed or not, purging an unknown tenant is the same bad-input refusal."""
    messages = []
    for stream_from in (0, MEMORY):
        with workspace(
            tmp_path / f"ws{stream_from}",
            inventory_of("t", 1),
            limits=LimitsConfig(stream_from=stream_from),
        ) as ws:
            outcome = ws.purge_tenant("nobody", AS_OF)
            messages.append((outcome.status, outcome.message))
    assert messages[0] == messages[1]
    assert ("refused", "bad input: tenant: the inventory lists no tenant 'nobody'") == messages[0]


def test_run_due_plans_each_tenant_by_its_size(tmp_path: Path) -> None:
    """stream_from 3: t (four objects) streamed, v (two) in memory, in one run; both purged."""
    inventory = inventory_of("t", 4)
    inventory["tenants"] += inventory_of("v", 2)["tenants"]
    inventory["objects"] += inventory_of("v", 2)["objects"]
    with workspace(tmp_path / "ws", inventory, limits=LimitsConfig(stream_from=3)) as ws:
        report = ws.purger.run_due(AS_OF)  # the workspace's would expire the plan files
        assert [("t", "executed", 4), ("v", "executed", 2)] == [
            (o.tenant, o.status, o.purged) for o in report.outcomes
        ]
        formats = {}
        for journal in ws.store.journals():
            with Path(journal["plan_path"]).open("rb") as handle:
                formats[journal["tenant"]] = json.loads(handle.readline())["format"]
        assert {"t": "twinpurge-purge-plan-2", "v": "twinpurge-purge-plan-1"} == formats


LARGE = 200_000


def large_workspace(directory: Path) -> Workspace:
    """A due tenant of LARGE records (1% carrying a ref), written by SQL as a service would."""
    limits = LimitsConfig(max_objects_per_purge=LARGE, max_store_fraction=1.0, stream_from=0)
    ws: Workspace = workspace(directory, inventory_of("t", 0), limits=limits)
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        with db:
            db.executemany(
                "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
                " VALUES ('db', ?, 't', 'default', '2020-01-01T00:00:00Z', 0)",
                ((f"k{i:07}",) for i in range(LARGE)),
            )
            db.executemany(
                "INSERT INTO refs VALUES ('db', ?, 0, 'db', ?)",
                ((f"k{i:07}", f"k{i + 1:07}") for i in range(0, LARGE, 100)),
            )
    finally:
        db.close()
    return ws


def test_the_arbiters_memory_does_not_grow_with_the_tenant(tmp_path: Path) -> None:
    """200,000 objects purged streamed under 16 MiB traced (in memory: 72 MiB at 50,000, growing)."""
    with large_workspace(tmp_path / "ws") as ws:
        purger = ws.purger
        tracemalloc.start()
        try:
            outcome = purger.purge_tenant("t", AS_OF)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert ("executed", LARGE, 0) == (
            outcome.status,
            outcome.purged,
            ws.store.object_count("t"),
        )
        assert peak < 16 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"


def test_nothing_to_purge_still_meets_the_tenants_guards_as_in_memory(tmp_path: Path) -> None:
    """Eligible as of March, reactivated since, nothing to purge: refused alike, no receipt."""
    inventory = {
        "tenants": [tenant("t", *CANCELLED, event("reactivated", "2026-06-01T00:00:00Z"))],
        "objects": [],
    }
    ended_as = []
    for stream_from in (0, MEMORY):
        limits = LimitsConfig(stream_from=stream_from)
        with workspace(tmp_path / f"ws{stream_from}", inventory, limits=limits) as ws:
            outcome = ws.purge_tenant("t", AS_OF)
            ended_as.append((outcome.status, outcome.guard, len(ws.store.receipts("t"))))
    assert [("refused", "tenant-not-cancelled", 0)] * 2 == ended_as
