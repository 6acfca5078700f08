"""Backups outlive a deletion program gone wrong: the primary purge cannot reach them.

Shown four ways: a deliberately runaway purge leaves every backup byte untouched; the primary
purge modules have no import path to the backup site; mypy --strict rejects a credentials swap;
the backup domain reads the primary store through a type that cannot write.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grimp
import pytest

import arbiter
import deleter_a
from arbiter import (
    BackupConfig,
    LimitsConfig,
    ObjectId,
    Planner,
    PrimaryReader,
    WorkspaceConfig,
    list_backups,
    load_config,
    open_site,
)
from tests.arbiter.backup.backup_support import Site, at, site
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parents[3]
PRIMARY_PURGE = (
    "arbiter.purge.purger",
    "arbiter.manual",
    "arbiter.workspace",
    "arbiter.stores.sqlite",
    "arbiter.stores.blobs",
    "arbiter.stores.postgres.store",
    "arbiter.cli.manual",
)
BACKUP_SITE = ("arbiter.backup", "arbiter.cli.backup")


def _everything(
    inventory: Mapping[str, Any], policy: Mapping[str, object], tenant_id: str, as_of: str
) -> object:
    """A runaway planner: the tenant is due now, and every one of its objects goes."""
    verdict: dict[str, Any] = deleter_a.plan(inventory, policy, tenant_id, "2999-01-01T00:00:00Z")
    own = sorted((o["store"], o["key"]) for o in inventory["objects"] if o["tenant"] == tenant_id)
    verdict.update(
        as_of=as_of,
        eligible=True,
        reason=None,
        purge=[{"store": store, "key": key} for store, key in own],
        kept=[],
    )
    return verdict


def test_runaway_purge_leaves_every_backup_untouched(tmp_path: Path) -> None:
    """Both planners replaced by one that purges every object of every tenant: backups survive."""
    inventory = {
        "tenants": [
            tenant(
                f"t{i}",
                event("subscribed", "2025-01-01T00:00:00Z"),
                event("cancelled", "2026-01-10T00:00:00Z"),
            )
            for i in range(3)
        ],
        "objects": [
            *(obj(f"t{i}/r{j}", f"t{i}") for i in range(3) for j in range(3)),
            *(obj(f"t{i}/f", f"t{i}", store="blob") for i in range(3)),
        ],
    }
    payloads = {ObjectId("blob", f"t{i}/f"): f"file {i}".encode() for i in range(3)}
    s = site(
        tmp_path,
        inventory=inventory,
        payloads=payloads,
        limits=LimitsConfig(max_store_fraction=1.0),
    )
    s.snapshot("2026-01-14T00:00:00Z")
    before = s.files()
    runaway = (
        Planner("a", "runaway", _everything, deleter_a.PlanInputError),
        Planner("b", "runaway", _everything, deleter_a.PlanInputError),
    )
    s.clock.now = at("2026-01-15T00:00:00Z")  # weeks before any tenant is due
    with s.workspace(planners=runaway) as ws:
        report = ws.run_due("2026-01-15T00:00:00Z")
        assert {"executed": 3} == report.counts()
        assert (0, []) == (
            ws.store.total_objects(),
            [p for p in Path(ws.blobs.root).rglob("*") if p.is_file()],
        )
    assert before == s.files()
    listed = list_backups(s.config, s.backup())
    assert [("t0", 4), ("t1", 4), ("t2", 4)] == [(g["tenant"], g["objects"]) for g in listed]
    backup_site = open_site(s.config, s.backup())
    files = {
        row["key"]: row["blob"]
        for name in backup_site.tenants()
        for row in backup_site.read(backup_site.generations(name)[0]).objects
        if row["store"] == "blob"
    }
    assert {f"t{i}/f": f"file {i}".encode() for i in range(3)} == files


@functools.cache
def import_graph() -> grimp.ImportGraph:
    """The arbiter's import graph, as import-linter builds it (imports inside functions too)."""
    return grimp.build_graph("arbiter")


def modules_under(*packages: str) -> set[str]:
    """Every module of the given packages (themselves included); fails if one has none."""
    graph = import_graph()
    found: set[str] = set()
    for package in packages:
        modules = {package} | graph.find_descendants(package)
        assert len(modules) > 1 or package in graph.modules, package
        found |= modules
    return found


@pytest.mark.parametrize("source", PRIMARY_PURGE)
def test_primary_purge_has_no_import_path_to_the_backup_site(source: str) -> None:
    """No chain of imports leads from a primary purge module to a backup module."""
    graph = import_graph()
    sources = modules_under(source)
    targets = modules_under(*BACKUP_SITE)
    assert {
        "arbiter.backup.store",
        "arbiter.backup.site_access",
        "arbiter.backup.snapshot",
        "arbiter.backup.purge",
        "arbiter.backup.restore",
        "arbiter.cli.backup",
    } <= targets
    found = [
        (s, t)
        for s in sorted(sources)
        for t in sorted(targets)
        if graph.chain_exists(s, t, as_packages=False)
    ]
    assert [] == found


@pytest.mark.parametrize("source", sorted(BACKUP_SITE))
def test_backup_domain_has_no_import_path_to_primary_deletion(source: str) -> None:
    """No chain of imports leads from a backup-domain module to code that deletes primary data."""
    graph = import_graph()
    sources = modules_under(source)
    targets = modules_under(*PRIMARY_PURGE)
    assert sources
    assert "arbiter.purge.purger" in targets
    found = [
        (s, t)
        for s in sorted(sources)
        for t in sorted(targets)
        if graph.chain_exists(s, t, as_packages=False)
    ]
    assert [] == found


def test_the_import_graph_is_walked() -> None:
    """The graph walk sees the chains that do exist (so the tests above cannot pass vacuously)."""
    graph = import_graph()
    assert graph.chain_exists("arbiter.workspace.workspace", "arbiter.purge.purger")
    assert graph.chain_exists("arbiter.cli.backup", "arbiter.backup.store")
    assert graph.chain_exists("arbiter.manual.execute", "arbiter.stores.sqlite")
    # The backup domain does reach the server, through the connection and the shared read SQL.
    assert graph.chain_exists("arbiter.backup.snapshot", "arbiter.stores.postgres.rows")
    assert graph.chain_exists("arbiter.workspace.workspace", "arbiter.stores.postgres.store")


def test_import_linter_keeps_the_separation_contracts() -> None:
    """pyproject.toml holds the import-linter contracts both ways (tox's lint env checks them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    primary = contracts["The primary purge code has no import path to the backup domain"]
    backup = contracts[
        "The backup domain's code has no import path to code that deletes primary data"
    ]
    assert {"arbiter.purge", "arbiter.manual", "arbiter.workspace", "arbiter.stores"} <= set(
        primary["source_modules"]
    )
    assert {"arbiter.backup", "arbiter.cli.backup"} <= set(primary["forbidden_modules"])
    assert {"arbiter.backup", "arbiter.cli.backup"} <= set(backup["source_modules"])
    assert {
        "arbiter.purge.purger",
        "arbiter.manual",
        "arbiter.workspace",
        "arbiter.stores.postgres.store",
    } <= set(backup["forbidden_modules"])
    layers = [c for c in contracts.values() if c["type"] == "layers"]
    assert ["arbiter"] == [name for c in layers for name in c["containers"]]


@pytest.mark.static
def test_mypy_catches_a_credentials_swap(tmp_path: Path) -> None:
    """A type check (mypy --strict) rejects each swapped call as arg-type, accepts the right ones."""
    source = Path(__file__).parent / "data" / "typecheck_swap.py.txt"
    checked = tmp_path / "swap.py"
    shutil.copyfile(source, checked)
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.devnull, str(checked)],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = source.read_text(encoding="utf-8").splitlines()
    swaps = [number for number, line in enumerate(lines, start=1) if "# SWAP" in line]
    errors = [line for line in completed.stdout.splitlines() if ": error: " in line]
    assert 1 == completed.returncode, completed.stdout + completed.stderr
    assert [f"{checked}:{n}" for n in swaps] == [e.split(": error: ")[0] for e in errors]
    assert all(e.endswith("[arg-type]") for e in errors)
    assert 4 == len(swaps)


def test_the_primary_reader_cannot_write(tmp_path: Path) -> None:
    """The backup domain's reader has no writing method, and its connection refuses writes."""
    s: Site = site(tmp_path)
    names = {n for n in dir(PrimaryReader) if not n.startswith("__")}
    assert not {n for n in names if any(w in n for w in ("write", "delete", "insert", "purge"))}
    with PrimaryReader.of(s.config) as reader:
        assert ["t", "u"] == reader.tenant_ids()
        db = reader._db  # noqa: SLF001 -- the test tries what the type does not offer
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("DELETE FROM objects")
    with arbiter.Workspace.open(s.directory) as ws:
        assert 6 == ws.store.total_objects()
        assert reader_slice(s, "t") == ws.store.read_slice("t")


def reader_slice(s: Site, tenant_id: str) -> dict[str, Any]:
    """The tenant's slice as the backup domain reads it."""
    with PrimaryReader.of(s.config) as reader:
        return reader.read_slice(tenant_id)


@pytest.mark.parametrize(("lock", "lag"), [(14, 14), (20, 14), (1, 0)])
def test_a_lock_outlasting_backup_due_is_refused_at_load(
    tmp_path: Path, lock: int, lag: int
) -> None:
    """retention_lock_days >= backup_lag_days is refused at load, explaining both fields."""
    path = tmp_path / "twinpurge.toml"
    path.write_text(
        f'[policy]\ntimezone = "UTC"\nbackup_lag_days = {lag}\n\n'
        f"[backup]\nretention_lock_days = {lock}\n",
        encoding="utf-8",
    )
    with pytest.raises(arbiter.InputError) as info:
        load_config(tmp_path)
    assert ("backup.retention_lock_days", str(path)) == (info.value.field, info.value.file)
    assert "policy.backup_lag_days" in info.value.message
    assert "would outlast backup_due" in info.value.message
    with pytest.raises(ValueError, match="would outlast backup_due"):
        WorkspaceConfig(
            policy={"timezone": "UTC", "backup_lag_days": lag},
            backup=BackupConfig(retention_lock_days=lock),
        )


def test_a_lock_shorter_than_the_lag_is_accepted(tmp_path: Path) -> None:
    """A lock one day shorter than backup_lag_days loads."""
    path = tmp_path / "twinpurge.toml"
    path.write_text(
        '[policy]\ntimezone = "UTC"\n\n[backup]\nretention_lock_days = 13\n', encoding="utf-8"
    )
    assert 13 == load_config(tmp_path).backup.retention_lock_days
