"""Workspaces on the PostgreSQL store: init, purges, one-line connection errors, many workers.

Each test gets a database of its own in the session's cluster (``fresh_database``,
``tests/arbiter/conftest.py``), created by ``twinpurge init --store`` as a new deployment would
be. Login roles are cluster-wide, so the session's role passwords (``postgres_roles``) are set
back afterwards for the other tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from arbiter import LimitsConfig, ObjectId, Workspace, WorkspaceConfig
from arbiter.auth.credentials import PRIMARY_ENV, generate_primary_credentials
from arbiter.core.config import StoreConfig
from arbiter.core.errors import CredentialError
from arbiter.stores.postgres.locks import PostgresTenantLocks, lock_key
from arbiter.stores.postgres.schema import provision
from arbiter.stores.postgres.store import PostgresStore
from tests.arbiter.cli.test_cli import installed_executable
from tests.arbiter.conftest import Provisioned, store_url, with_database
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from pathlib import Path

    from tests.postgres import ThrowawayCluster

AS_OF = "2026-03-01T00:00:00Z"


def fleet(tenants: int, objects: int) -> dict[str, Any]:
    """``tenants`` due tenants of ``objects`` records each, one held object each, one active."""
    due = [tenant(f"t{i:02}", event("cancelled", "2026-01-01T00:00:00Z")) for i in range(tenants)]
    return {
        "tenants": [*due, tenant("active")],
        "objects": [
            obj(f"{t['id']}-{k:03}", t["id"], legal_hold=k == 0)
            for t in due
            for k in range(objects)
        ]
        + [obj("a-1", "active", refs=[("db", "t00-001")])],
    }


def init(directory: Path, admin_url: str) -> subprocess.CompletedProcess[str]:
    """``twinpurge init --store`` through the installed executable."""
    return subprocess.run(
        [
            installed_executable(),
            "init",
            str(directory),
            "--timezone",
            "UTC",
            "--store",
            store_url(admin_url),
            "--admin-url",
            admin_url,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def twinpurge(directory: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """The installed executable, holding the workspace's primary credentials."""
    environment = {**os.environ, PRIMARY_ENV: str(directory / "credentials" / "primary.toml")}
    environment.update(env)
    return subprocess.Popen(
        [installed_executable(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait for a process: (exit code, stdout, stderr)."""
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def created(directory: Path, admin_url: str, inventory: dict[str, Any]) -> Path:
    """A PostgreSQL workspace made by ``twinpurge init --store``, holding ``inventory``."""
    completed = init(directory, admin_url)
    assert 0 == completed.returncode, completed.stderr
    config = directory / "twinpurge.toml"
    config.write_text(
        config.read_text("utf-8").replace("batch_size = 2000", "batch_size = 7"), "utf-8"
    )
    (directory / "inventory.json").write_text(json.dumps(inventory), "utf-8")
    code, _out, err = finish(
        twinpurge(
            directory, "import", "--workspace", str(directory), str(directory / "inventory.json")
        )
    )
    assert 0 == code, err
    return directory


def remaining(directory: Path) -> dict[str, list[str]]:
    """What the store holds now, per tenant: its object keys, sorted."""
    code, out, err = finish(twinpurge(directory, "export", "--workspace", str(directory)))
    assert 0 == code, err
    held: dict[str, list[str]] = {}
    for o in json.loads(out)["objects"]:
        held.setdefault(o["tenant"], []).append(o["key"])
    return held


def batch_records(directory: Path) -> list[tuple[str, str]]:
    """Every object a committed batch deleted, as the audit log records them, repeats kept."""
    lines = (directory / "audit.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    return [
        (store, key) for r in records if r["kind"] == "batch" for store, key in r["data"]["objects"]
    ]


def test_init_creates_a_postgresql_workspace_that_purges_exactly_the_plan(
    tmp_path: Path, fresh_database: str
) -> None:
    """Init --store, import, run-due on PostgreSQL: the due tenants' unheld objects go, no more."""
    directory = created(tmp_path / "ws", fresh_database, fleet(3, 10))
    code, out, err = finish(
        twinpurge(
            directory,
            "run-due",
            "--workspace",
            str(directory),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        )
    )
    assert 0 == code, err
    report = json.loads(out)
    assert {"executed": 3, "not-eligible": 1} == report["counts"]
    # t00-001 is referenced by the active tenant: kept as shared; each held object is kept.
    expected = {
        "active": ["a-1"],
        "t00": ["t00-000", "t00-001"],
        "t01": ["t01-000"],
        "t02": ["t02-000"],
    }
    assert expected == remaining(directory)
    code, _out, err = finish(twinpurge(directory, "audit", "verify", "--workspace", str(directory)))
    assert 0 == code, err


def test_a_postgresql_workspace_reads_only_with_the_primary_credentials(
    tmp_path: Path, fresh_database: str
) -> None:
    """Without credentials a dry run cannot even read: exit 7 naming the credentials variable."""
    directory = created(tmp_path / "ws", fresh_database, fleet(1, 3))
    environment = {k: v for k, v in os.environ.items() if k != PRIMARY_ENV}
    completed = subprocess.run(
        [installed_executable(), "run-due", "--workspace", str(directory), "--dry-run"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )
    assert (7, 1) == (completed.returncode, len(completed.stderr.strip().splitlines()))
    assert PRIMARY_ENV in completed.stderr
    store = PostgresStore(store_url(fresh_database), None)
    with pytest.raises(CredentialError):
        store.tenant_ids()


READ_ONLY_COMMANDS = [
    ("purge", "status"),
    ("safe-mode", "status"),
    ("export",),
    ("run-due", "--dry-run", "--as-of", AS_OF),
]


def test_read_only_commands_log_in_with_the_primary_credentials(
    tmp_path: Path, fresh_database: str
) -> None:
    """Status, export and dry runs read a PostgreSQL store with the credentials; without: exit 7."""
    directory = created(tmp_path / "ws", fresh_database, fleet(1, 3))
    given = [
        finish(twinpurge(directory, *command, "--workspace", str(directory)))
        for command in READ_ONLY_COMMANDS
    ]
    assert [0] * len(READ_ONLY_COMMANDS) == [code for code, _o, _e in given], given
    environment = {k: v for k, v in os.environ.items() if k != PRIMARY_ENV}
    missing = [
        subprocess.run(
            [installed_executable(), *command, "--workspace", str(directory)],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
            timeout=120,
        )
        for command in READ_ONLY_COMMANDS
    ]
    assert [(7, 1, True)] * len(READ_ONLY_COMMANDS) == [
        (c.returncode, len(c.stderr.strip().splitlines()), PRIMARY_ENV in c.stderr) for c in missing
    ]


def test_the_api_creates_and_purges_a_postgresql_workspace(
    tmp_path: Path, fresh_database: str
) -> None:
    """Workspace.create with a store URL and the admin's URL; the purge through the API."""
    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        store=StoreConfig(url=store_url(fresh_database)),
        limits=LimitsConfig(batch_size=3),
    )
    with Workspace.create(tmp_path / "ws", config, admin_url=fresh_database) as ws:
        assert isinstance(ws.store, PostgresStore)
        ws.import_inventory(fleet(2, 5))
        outcome = ws.purge_tenant("t01", AS_OF)
        assert ("executed", 4) == (outcome.status, outcome.purged)
        assert {ObjectId("db", "t01-000")} == {
            o
            for o, owner in ws.store.object_rows(
                [ObjectId("db", f"t01-{k:03}") for k in range(5)]
            ).items()
            if owner == "t01"
        }


@pytest.mark.parametrize(
    ("store", "admin", "expected"),
    [
        ("postgresql://someone:secret@127.0.0.1:1/db", None, 2),  # a password in the store URL
        ("postgresql://127.0.0.1:1/db", "postgresql://postgres@127.0.0.1:1/db", 9),  # no server
    ],
)
def test_init_with_a_bad_store_says_so_in_one_line_and_writes_nothing(
    tmp_path: Path, store: str, admin: str | None, expected: int
) -> None:
    """A malformed store URL exits 2, an unreachable server 9: one line, no workspace left."""
    command = [installed_executable(), "init", str(tmp_path / "ws"), "--timezone", "UTC"]
    command += ["--store", store, *(["--admin-url", admin] if admin else [])]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert (expected, 1) == (completed.returncode, len(completed.stderr.strip().splitlines()))
    assert not (tmp_path / "ws" / "twinpurge.toml").exists()
    assert not (tmp_path / "ws" / "credentials" / "primary.toml").exists()


def test_a_missing_database_exits_8(tmp_path: Path, fresh_database: str) -> None:
    """A workspace whose database was dropped: one line, exit 8, nothing else."""
    directory = created(tmp_path / "ws", fresh_database, fleet(1, 3))
    config = directory / "twinpurge.toml"
    gone = with_database(store_url(fresh_database), "no_such_database")
    text = config.read_text("utf-8").replace(store_url(fresh_database), gone)
    config.write_text(text, "utf-8")
    code, _out, err = finish(twinpurge(directory, "run-due", "--workspace", str(directory)))
    assert (8, 1) == (code, len(err.strip().splitlines())), err
    assert "no_such_database" in err


def test_an_advisory_lock_holds_one_tenant_fleet_wide_until_its_session_ends(
    postgres_roles: Provisioned,
) -> None:
    """Held: a second runner cannot take it; another tenant can; a killed holder frees it."""
    locks = PostgresTenantLocks(lambda: psycopg.connect(postgres_roles.admin_url, autocommit=True))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time, psycopg\n"
                "db = psycopg.connect(sys.argv[1], autocommit=True)\n"
                "db.execute('SELECT pg_advisory_lock(%s)', (int(sys.argv[2]),))\n"
                "print('held', flush=True)\n"
                "time.sleep(600)\n"
            ),
            postgres_roles.admin_url,
            str(lock_key("t")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert "held" == holder.stdout.readline().strip()
        with locks.hold("t") as mine, locks.hold("u") as other:
            assert (False, True) == (mine, other)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 30
    taken = False
    while not taken and time.monotonic() < deadline:  # the server notices the dead session
        with locks.hold("t") as taken:
            pass
    assert taken


@pytest.mark.parametrize("mode", ["sharded", "unsharded"])
def test_three_workers_purge_one_fleet_each_object_once(
    tmp_path: Path, fresh_database: str, mode: str
) -> None:
    """Three run-due processes on one server: every due object deleted once, no refusal."""
    directory = created(tmp_path / "ws", fresh_database, fleet(9, 30))
    workers = [
        twinpurge(
            directory,
            "run-due",
            "--workspace",
            str(directory),
            "--as-of",
            AS_OF,
            "--format",
            "json",
            *(["--shard", f"{k}/3"] if mode == "sharded" else []),
        )
        for k in range(3)
    ]
    results = [finish(w) for w in workers]
    refusals = [
        (o["tenant"], o["guard"], o["message"])
        for _c, out, _e in results
        for o in json.loads(out)["outcomes"]
        if o["status"] in {"refused", "failed"}
    ]
    assert [0, 0, 0] == [code for code, _o, _e in results], refusals
    reports = [json.loads(out) for _c, out, _e in results]
    executed = [o for r in reports for o in r["outcomes"] if o["status"] == "executed"]
    # A worker that reaches a tenant after another purged it finds nothing left to purge.
    assert {f"t{i:02}" for i in range(9)} == {o["tenant"] for o in executed}
    assert 9 * 29 - 1 == sum(o["purged"] for o in executed)
    assert [] == [o for r in reports for o in r["outcomes"] if o["status"] in {"refused", "failed"}]
    deleted = batch_records(directory)
    assert len(deleted) == len(set(deleted)) == 9 * 29 - 1  # all but the held and the shared
    assert {"active": ["a-1"], "t00": ["t00-000", "t00-001"]} == {
        t: keys for t, keys in remaining(directory).items() if t in {"active", "t00"}
    }


def test_a_worker_killed_mid_purge_is_completed_by_the_next_run(
    tmp_path: Path, fresh_database: str
) -> None:
    """SIGKILL after the second batch; the next run recovers and completes the purge."""
    directory = created(tmp_path / "ws", fresh_database, fleet(1, 30))
    killed = twinpurge(
        directory,
        "run-due",
        "--workspace",
        str(directory),
        "--as-of",
        AS_OF,
        TWINPURGE_CRASH_AT="journal-after-batch:2",
    )
    code, _out, _err = finish(killed)
    assert -signal.SIGKILL == code
    code, _out, err = finish(
        twinpurge(directory, "run-due", "--workspace", str(directory), "--as-of", AS_OF)
    )
    assert 0 == code, err
    assert {"active": ["a-1"], "t00": ["t00-000", "t00-001"]} == remaining(directory)
    # The killed run's second batch committed before its audit record was written (the crash
    # point sits between them); no object appears in two batches.
    deleted = batch_records(directory)
    assert len(deleted) == len(set(deleted))


def test_another_workspaces_credentials_cannot_log_in(tmp_path: Path, fresh_database: str) -> None:
    """Credentials of another secret: the server refuses the login; exit 7, nothing deleted."""
    directory = created(tmp_path / "ws", fresh_database, fleet(1, 3))
    before = remaining(directory)
    other = tmp_path / "other" / "primary.toml"
    generate_primary_credentials(other)
    code, _out, err = finish(
        twinpurge(directory, "run-due", "--workspace", str(directory), **{PRIMARY_ENV: str(other)})
    )
    assert (7, 1) == (code, len(err.strip().splitlines())), err
    assert "twinpurge_purge" in err
    assert before == remaining(directory)


def test_a_server_that_goes_away_mid_purge_ends_it_with_exit_9_and_the_next_run_completes(
    tmp_path: Path, own_cluster: ThrowawayCluster
) -> None:
    """The server crashes after the first batches: one line, exit 9; restarted, the rerun finishes."""
    directory = created(tmp_path / "ws", own_cluster.admin_url, fleet(1, 2000))
    config = directory / "twinpurge.toml"  # the one due tenant is the whole store here
    config.write_text(
        config.read_text("utf-8").replace("max_store_fraction = 0.25", "max_store_fraction = 1.0"),
        "utf-8",
    )
    audit = directory / "audit.jsonl"
    start = len(audit.read_text("utf-8").splitlines())
    worker = twinpurge(
        directory, "run-due", "--workspace", str(directory), "--as-of", AS_OF, "--format", "json"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        records = [json.loads(line) for line in audit.read_text("utf-8").splitlines()[start:]]
        if any(r["kind"] == "batch" for r in records):
            break
        time.sleep(0.01)
    own_cluster.halt()
    code, out, err = finish(worker)
    own_cluster.restart()
    assert (9, 1) == (code, len(err.strip().splitlines())), out[-1500:]
    assert "went away" in err or "cannot be reached" in err
    code, _out, err = finish(
        twinpurge(directory, "run-due", "--workspace", str(directory), "--as-of", AS_OF)
    )
    assert 0 == code, err
    assert {"active": ["a-1"], "t00": ["t00-000", "t00-001"]} == remaining(directory)
    deleted = batch_records(directory)
    assert len(deleted) == len(set(deleted))


def test_a_store_provisioned_before_the_counter_refuses_until_the_script_runs_again(
    tmp_path: Path, fresh_database: str
) -> None:
    """Without the change counter: the purge fails saying so, nothing deleted; after the script, done."""
    config = WorkspaceConfig(
        policy={"timezone": "UTC"}, store=StoreConfig(url=store_url(fresh_database))
    )
    with Workspace.create(tmp_path / "ws", config, admin_url=fresh_database) as ws:
        ws.import_inventory(fleet(1, 5))
        with psycopg.connect(fresh_database) as admin:
            admin.execute("DROP FUNCTION twinpurge.hold_change_counter(text)")
            admin.execute("DROP TABLE twinpurge.change_counters")
        refused = ws.purge_tenant("t00", AS_OF)
        assert ("failed", 0) == (refused.status, refused.purged)
        assert (
            'UsageError: relation "twinpurge.change_counters" does not exist: the store was'
            " provisioned before the per-tenant change counter existed; run the reviewed script"
            " again as the administrator (docs/postgresql.md)"
        ) == refused.message
        assert 6 == ws.store.total_objects()
        provision(fresh_database)
        outcome = ws.purge_tenant("t00", AS_OF)
        assert ("executed", 3) == (outcome.status, outcome.purged)  # one held, one shared
