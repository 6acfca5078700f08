"""The safe-mode commands and one runner per tenant, through the installed executable.

Two runners at once run on both stores (``store_kind``, ``tests/arbiter/conftest.py``): on
SQLite a tenant's lock is a lock file, on PostgreSQL a server advisory lock.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING, Any

from arbiter.auth.credentials import PRIMARY_ENV
from tests.arbiter.cli.test_cli import installed_executable
from tests.arbiter.purge.test_safemode import create, keys_of, reopen, trip_by_divergence
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from pathlib import Path

    from arbiter import Workspace


def twinpurge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed executable."""
    return subprocess.run(
        [installed_executable(), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_status_approve_and_reset_through_the_cli(tmp_path: Path) -> None:
    """Status shows the trip; reset with one approval exits 5; with two it resets (exit 0)."""
    created = trip_by_divergence(tmp_path)
    ws, keys, request = (
        str(created.config.directory),
        keys_of(created.config.directory),
        str(tmp_path / "r.json"),
    )
    status = json.loads(
        twinpurge("safe-mode", "status", "--workspace", ws, "--format", "json").stdout
    )
    assert (True, ["t0", "t1", "t2"]) == (status["safe_mode"], status["active"]["tenants"])
    made = twinpurge(
        "safe-mode",
        "reset-request",
        "--workspace",
        ws,
        "--operator",
        "alice",
        "--reason",
        "fixed",
        "--out",
        request,
    )
    assert 0 == made.returncode, made.stderr
    approve = ("safe-mode", "approve", request, "--workspace", ws)
    assert 0 == twinpurge(*approve, "--operator", "alice", "--key", str(keys["alice"])).returncode
    assert (
        5
        == twinpurge(
            "safe-mode", "reset", request, "--workspace", ws, "--operator", "alice"
        ).returncode
    )
    assert 0 == twinpurge(*approve, "--operator", "bob", "--key", str(keys["bob"])).returncode
    done = twinpurge("safe-mode", "reset", request, "--workspace", ws, "--operator", "bob")
    assert (0, "safe mode reset") == (done.returncode, done.stdout[:15])
    off = json.loads(twinpurge("safe-mode", "status", "--workspace", ws, "--format", "json").stdout)
    assert False is off["safe_mode"]


def test_run_due_in_safe_mode_exits_3_deleting_nothing(tmp_path: Path) -> None:
    """run-due on a tripped fleet exits 3 with a SafeModeError; nothing is deleted."""
    created = trip_by_divergence(tmp_path)
    env = {PRIMARY_ENV: str(created.config.directory / "credentials" / "primary.toml")}
    result = twinpurge(
        "run-due", "--workspace", str(created.config.directory), "--format", "json", env=env
    )
    assert (3, "SafeModeError") == (result.returncode, json.loads(result.stderr)["kind"])
    with reopen(created) as ws:
        assert 12 == len(ws.export_inventory()["objects"])


def big_workspace(directory: Path, size: int, admin_url: str | None = None) -> Workspace:
    """One due tenant with ``size`` objects, small batches: a purge that takes a while.

    On SQLite, or on the PostgreSQL database ``admin_url`` (a superuser URL) names.
    """
    created = create(directory, admin_url=admin_url)
    with reopen(created) as ws:
        ws.import_inventory(
            {
                "tenants": [tenant("big", event("cancelled", "2026-01-01T00:00:00Z"))],
                "objects": [obj(f"big-{i:05}", "big") for i in range(size)],
            }
        )
    return created


def test_two_concurrent_runners_purge_each_object_once(
    tmp_path: Path, workspace_admin_url: str | None
) -> None:
    """Two run-due processes at once: one purges, the other skips; each object deleted once."""
    created = big_workspace(tmp_path / "ws", 3000, workspace_admin_url)
    directory = created.config.directory
    config = directory / "twinpurge.toml"
    config.write_text(
        config.read_text("utf-8").replace("batch_size = 2000", "batch_size = 20"), "utf-8"
    )
    env = {**os.environ, PRIMARY_ENV: str(directory / "credentials" / "primary.toml")}
    args = [
        installed_executable(),
        "run-due",
        "--workspace",
        str(directory),
        "--as-of",
        "2026-03-01T00:00:00Z",
        "--format",
        "json",
    ]
    runners = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    results: list[Any] = [r.communicate(timeout=600) for r in runners]
    assert [0, 0] == [r.returncode for r in runners], results
    outcomes = sorted(
        (o["status"], o["purged"])
        for out, _e in results
        for o in json.loads(out)["outcomes"]
        if o["tenant"] == "big"
    )
    with reopen(created) as ws:
        assert [] == [o for o in ws.export_inventory()["objects"] if o["tenant"] == "big"]
        big_archives = [a for a in ws.store.archives() if a["tenant"] == "big"]
        assert [3000] == [a["objects"] for a in big_archives]
        records = [r for r in ws.audit.records() if r.kind == "batch" and r.data["tenant"] == "big"]
        deleted = [tuple(o) for r in records for o in r.data["objects"]]
        assert len(deleted) == len(set(deleted)) == 3000
        assert [] == [r for r in ws.audit.records() if r.kind in {"guard", "refusal", "error"}]
        assert arbiter_status(ws) is None
    # One runner purged everything. The other found the tenant's lock held and skipped it, or
    # (started after the first had finished) found nothing left to purge.
    assert outcomes in ([("executed", 3000), ("skipped", 0)], [("executed", 0), ("executed", 3000)])


def arbiter_status(ws: Workspace) -> object:
    """The active trip, if any."""
    return ws.safe_mode.active()
