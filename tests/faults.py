"""Fault injection with real processes: run ``twinpurge`` killed at a crash point, then rerun.

The crash points are the one shared seam ``arbiter.durable.crash``: ``TWINPURGE_CRASH_AT`` makes
the process kill itself with SIGKILL there. This module builds small workspaces, runs the
installed executable, and takes the whole-state snapshots the fault tests compare.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from arbiter.auth.credentials import PRIMARY_ENV
from arbiter.core.verdict import ObjectId
from arbiter.durable.crash import CRASH_ENV
from arbiter.durable.files import TEMPORARY_SUFFIX
from arbiter.purge.archive import read_archive
from tests.arbiter.cli.test_cli import installed_executable

__all__ = [
    "State",
    "age_strays",
    "archived",
    "crashed",
    "objects_of",
    "orphan_files",
    "state",
    "stray_files",
    "twinpurge",
    "without",
]

# The bookkeeping tables: they change with every run, the data tables must not. The change
# counters count the data's writes, the purge's own deletes included (ports rule 7).
_BOOKKEEPING = (
    'INSERT INTO "change_counters"',
    'INSERT INTO "meta"',
    'INSERT INTO "plans"',
    'INSERT INTO "archives"',
    'INSERT INTO "receipts"',
    'INSERT INTO "journals"',
    'INSERT INTO "journal_steps"',
    'INSERT INTO "runs"',
    'INSERT INTO "safe_mode_trips"',
    'INSERT INTO "sqlite_sequence"',
)


def twinpurge(
    directory: Path, *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed executable on the workspace ``directory``, crashing at ``crash_at``.

    Temporary files an earlier crash left are aged by an hour first: the next run comes later
    than the crash, and recovery takes only strays nobody has written to for a while.
    """
    age_strays(directory)
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env[PRIMARY_ENV] = str(directory / "credentials" / "primary.toml")
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    return subprocess.run(
        [installed_executable(), *args], capture_output=True, text=True, env=env, check=False
    )


def age_strays(directory: Path, seconds: float = 3600.0) -> None:
    """Make every temporary file under ``directory`` look ``seconds`` old (no writer is left)."""
    then = time.time() - seconds
    for path in directory.rglob(f".*{TEMPORARY_SUFFIX}"):
        os.utime(path, (then, then))


def crashed(completed: subprocess.CompletedProcess[str]) -> bool:
    """Whether the process was killed by SIGKILL (the crash point fired)."""
    return completed.returncode == -signal.SIGKILL


State = tuple[frozenset[str], dict[str, str]]


def state(directory: Path, tenant: str | None = None) -> State:
    """The data tables row by row and every blob file's SHA-256; one tenant's or all.

    Args:
        directory: the workspace.
        tenant: only this tenant's rows (tenants, events, objects, their refs) and files.

    Returns:
        (rows as SQL lines, {file: sha256}).
    """
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        owners = {
            (store, key): owner
            for store, key, owner in db.execute("SELECT store, key, tenant FROM objects")
        }
        rows = frozenset(
            line
            for line in db.iterdump()
            if line.startswith("INSERT") and not line.startswith(_BOOKKEEPING)
            if tenant is None or _belongs(line, tenant, owners)
        )
    finally:
        db.close()
    root = directory / "blobs"
    files = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".tmp")
    }
    if tenant is not None:
        files = {
            k: v
            for k, v in files.items()
            if owners.get((k.split("/", 1)[0], k.split("/", 1)[-1])) == tenant
        }
    return rows, files


def _belongs(line: str, tenant: str, owners: dict[tuple[str, str], str]) -> bool:
    """Whether an INSERT line is ``tenant``'s (by the owner of the object it names)."""
    quoted = f"'{tenant}'"
    if line.startswith(('INSERT INTO "tenants"', 'INSERT INTO "events"')):
        return line.split("VALUES(", 1)[1].startswith(quoted)
    values = line.split("VALUES(", 1)[1]
    parts = [p.strip("'") for p in values.split(",")[:2]]
    return owners.get((parts[0], parts[1])) == tenant


def orphan_files(directory: Path) -> list[str]:
    """Blob files whose row is gone."""
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        ids = {ObjectId(s, k) for s, k in db.execute("SELECT store, key FROM objects")}
    finally:
        db.close()
    root = directory / "blobs"
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and not p.name.endswith(".tmp")
        and ObjectId(*str(p.relative_to(root)).split("/", 1)) not in ids
    )


def stray_files(directory: Path) -> list[str]:
    """Temporary files anywhere in the workspace (a crashed write's leftovers)."""
    return sorted(str(p) for p in directory.rglob(".*.tmp"))


def objects_of(directory: Path, tenant: str) -> set[ObjectId]:
    """The identities of ``tenant``'s objects now."""
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        return {
            ObjectId(s, k)
            for s, k in db.execute("SELECT store, key FROM objects WHERE tenant = ?", (tenant,))
        }
    finally:
        db.close()


def archived(directory: Path) -> set[ObjectId]:
    """Every object held by the workspace's restore archives."""
    db = sqlite3.connect(directory / "primary.sqlite3")
    try:
        records: list[Any] = list(db.execute("SELECT path, sha256 FROM archives"))
    finally:
        db.close()
    found: set[ObjectId] = set()
    for path, sha in records:
        content = read_archive(Path(path), sha)
        found.update(ObjectId(o["store"], o["key"]) for o in content.objects)
    return found


def without(snapshot: State, ids: set[ObjectId]) -> State:
    """``snapshot`` with the rows and files of ``ids`` taken out (what a purge of them leaves)."""
    rows, files = snapshot
    prefixes = tuple(f"VALUES('{o.store}','{o.key}'," for o in ids)
    kept_rows = frozenset(
        line
        for line in rows
        if not (
            line.startswith(('INSERT INTO "objects"', 'INSERT INTO "refs"'))
            and any(p in line for p in prefixes)
        )
    )
    names = {f"{o.store}/{o.key}" for o in ids}
    return kept_rows, {k: v for k, v in files.items() if k not in names}
