"""Fault injection with real processes: run ``twinpurge`` killed at a crash point, then rerun.

The crash points are the one shared seam ``arbiter.durable.crash``: ``TWINPURGE_CRASH_AT`` makes
the process kill itself with SIGKILL there. This module runs the installed executable and takes
the whole-state snapshots the fault tests compare, on a workspace of either store (SQLite or
PostgreSQL), opened as ``Workspace.open`` opens it, with the workspace's primary credentials (a
PostgreSQL store cannot even read without them; the test process holds the primary credential
domain once it has looked).

- ``state`` reads every row of every data table, each store with its own reader (``sqlite3`` on
  the database file; the purge role's session, ``PostgresStore.open_connection``, on a server),
  into one store-neutral form: (table, column values as text). It reads the tables themselves,
  not the port's exports, because the port shows only what hangs off a live row: a ref whose
  object is gone (a broken cascade) or an event or ref at another position would pass unseen.
- Everything else (``objects_of``, ``orphan_files``, ``archived``, ``journals``, ``receipts``)
  reads through the workspace's ``PrimaryStore`` port (``arbiter.stores.ports``).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg import sql

from arbiter.auth.credentials import PRIMARY_ENV, load_primary_credentials
from arbiter.core.verdict import ObjectId
from arbiter.durable.crash import CRASH_ENV
from arbiter.durable.files import TEMPORARY_SUFFIX
from arbiter.purge.archive import read_archive
from arbiter.stores.postgres.schema import BOOKKEEPING_TABLES, COUNTER_TABLE, CREDENTIALS_TABLE
from arbiter.stores.postgres.store import PostgresStore
from arbiter.workspace.workspace import Workspace
from tests.arbiter.cli.test_cli import installed_executable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from arbiter.stores.ports import PrimaryStore

__all__ = [
    "Row",
    "State",
    "age_strays",
    "archived",
    "crashed",
    "credentials_path",
    "journals",
    "objects_of",
    "opened",
    "opened_store",
    "orphan_files",
    "receipts",
    "state",
    "stray_files",
    "twinpurge",
    "without",
]


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


# One row of a data table: its table's name, then its columns as text (``_text``). The data
# tables are every table but the bookkeeping ones, which change with every run: a purge may change
# the data tables only by deleting the plan's objects (and their refs).
Row = tuple[str, ...]
State = tuple[frozenset[Row], dict[str, str]]

# The bookkeeping tables, as both stores name them, and SQLite's own sequence table. PostgreSQL
# keeps the credentials' fingerprint in a table of its own (SQLite in a row of ``meta``). The
# change counters count the data's writes, the purge's own deletes included (ports rule 7).
_BOOKKEEPING = frozenset({*BOOKKEEPING_TABLES, CREDENTIALS_TABLE, COUNTER_TABLE, "sqlite_sequence"})


def credentials_path(directory: Path) -> Path:
    """Where the workspace keeps its primary credentials (as ``Workspace.create`` writes them)."""
    return directory / "credentials" / "primary.toml"


@contextmanager
def opened(directory: Path) -> Iterator[Workspace]:
    """The workspace (either store), opened with its primary credentials."""
    credentials = load_primary_credentials(credentials_path(directory))
    with Workspace.open(directory, credentials=credentials) as ws:
        yield ws


@contextmanager
def opened_store(directory: Path) -> Iterator[PrimaryStore]:
    """The workspace's primary store (either kind), opened with its primary credentials."""
    with opened(directory) as ws:
        yield ws.store


def _text(value: object) -> str:
    """A column's value as text, alike on both stores: a payload by its SHA-256."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"sha256:{hashlib.sha256(bytes(value)).hexdigest()}"
    if isinstance(value, bool):  # PostgreSQL's booleans are SQLite's 0 and 1
        return str(int(value))
    return str(value)


def _sqlite_rows(database: Path) -> set[Row]:
    """Every row of every data table of a SQLite store."""
    db = sqlite3.connect(database)
    try:
        with db:  # one read transaction: one state
            db.execute("BEGIN")
            tables = [
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if name not in _BOOKKEEPING
            ]
            return {
                (table, *(_text(v) for v in row))
                for table in tables
                for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 -- the store's own table names
            }
    finally:
        db.close()


def _postgres_rows(store: PostgresStore) -> set[Row]:
    """Every row of every data table of a PostgreSQL store, read as the purge role."""
    with store.open_connection() as db:
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one state
        tables = [
            name
            for (name,) in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'twinpurge'"
            )
            if name not in _BOOKKEEPING
        ]
        rows = {
            (table, *(_text(v) for v in row))
            for table in tables
            for row in db.execute(
                sql.SQL("SELECT * FROM twinpurge.{}").format(sql.Identifier(table))
            )
        }
        db.execute("COMMIT")
    return rows


def _rows(directory: Path) -> tuple[frozenset[Row], dict[ObjectId, str]]:
    """Every data row of the workspace's store; and each object's owner."""
    with opened(directory) as ws:
        if isinstance(ws.store, PostgresStore):
            rows = _postgres_rows(ws.store)
        else:
            rows = _sqlite_rows(ws.config.path(ws.config.store.database))
    owners = {ObjectId(r[1], r[2]): r[3] for r in rows if r[0] == "objects"}
    return frozenset(rows), owners


def _owner(row: Row, owners: dict[ObjectId, str]) -> str | None:
    """The tenant a data row belongs to: its own, or its object's owner's."""
    if row[0] in {"tenants", "events"}:
        return row[1]
    return owners.get(ObjectId(row[1], row[2]))


def state(directory: Path, tenant: str | None = None) -> State:
    """The data tables row by row and every blob file's SHA-256; one tenant's or all.

    Every column of every data table, from either store (see the module docstring); a payload
    by its SHA-256.

    Args:
        directory: the workspace.
        tenant: only this tenant's rows (tenants, events, objects, their refs) and files.

    Returns:
        (rows, {file: sha256}).
    """
    rows, owners = _rows(directory)
    if tenant is not None:
        rows = frozenset(r for r in rows if _owner(r, owners) == tenant)
    root = directory / "blobs"
    files = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".tmp")
    }
    if tenant is not None:
        files = {k: v for k, v in files.items() if owners.get(ObjectId(*k.split("/", 1))) == tenant}
    return rows, files


def orphan_files(directory: Path) -> list[str]:
    """Blob files whose row is gone."""
    with opened_store(directory) as store:
        inventory = store.export_inventory()
    ids = {ObjectId(o["store"], o["key"]) for o in inventory["objects"]}
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
    with opened_store(directory) as store:
        inventory = store.read_slice(tenant)
    return {ObjectId(o["store"], o["key"]) for o in inventory["objects"] if o["tenant"] == tenant}


def archived(directory: Path) -> set[ObjectId]:
    """Every object held by the workspace's restore archives."""
    with opened_store(directory) as store:
        records: list[dict[str, Any]] = store.archives()
    found: set[ObjectId] = set()
    for record in records:
        content = read_archive(Path(record["path"]), record["sha256"])
        found.update(ObjectId(o["store"], o["key"]) for o in content.objects)
    return found


def journals(directory: Path, *, unfinished: bool = False) -> list[dict[str, Any]]:
    """The workspace's purge journals (only the unfinished ones when asked), oldest first."""
    with opened_store(directory) as store:
        return store.journals(unfinished=unfinished)


def receipts(directory: Path, tenant: str) -> list[dict[str, Any]]:
    """The primary-purge receipts of ``tenant``, oldest first."""
    with opened_store(directory) as store:
        return store.receipts(tenant)


def without(snapshot: State, ids: set[ObjectId]) -> State:
    """``snapshot`` with the rows and files of ``ids`` taken out (what a purge of them leaves)."""
    rows, files = snapshot
    kept_rows = frozenset(
        row
        for row in rows
        if not (row[0] in {"objects", "refs"} and ObjectId(row[1], row[2]) in ids)
    )
    names = {f"{o.store}/{o.key}" for o in ids}
    return kept_rows, {k: v for k, v in files.items() if k not in names}
