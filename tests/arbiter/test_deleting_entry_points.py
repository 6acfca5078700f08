"""Every public entry point that can delete is found from the code, and refuses without credentials.

``tests.arbiter.deleting_graph`` walks the package's call graph from every public callable of
``arbiter.__all__`` (functions, constructors, public methods and properties) down to the
deletion primitives (its docstring states the rules, including the one exclusion: removing a
temporary file the same function created). The set it finds must equal the set of scenarios
below, so a new deleting entry point without a scenario fails here. Each scenario calls its
entry point without credentials, with another workspace's primary credentials and with backup
credentials (backup entry points: none, primary credentials, another site's key); every call
must raise ``CredentialError`` or ``CredentialDomainError`` and leave every row and every file
of the store, the blob directory, the archives and the backup site byte-identical.

The backup site's own deletions count: they need the backup key, in the same way.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import arbiter
from arbiter import (
    BackupCredentials,
    BackupPurger,
    BackupSite,
    CredentialDomainError,
    CredentialError,
    ObjectId,
    PrimaryCredentials,
    PrimaryReader,
    Purger,
    Workspace,
)
from arbiter.auth.credentials import reset_credential_domains_for_tests
from arbiter.backup.store import GenerationInfo
from tests.arbiter.deleting_graph import Graph
from tests.arbiter.stores.test_conformance import CREDENTIAL_OPERATIONS
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Callable

    from arbiter.core.verdict import Verdict
    from arbiter.purge.purger import PlannedSlice

AS_OF = "2026-03-01T00:00:00Z"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
BLOB = ObjectId("blob", "t/f1")


def _forged(cls: type[Any], field: str) -> Any:
    """Credentials of the other domain, as a caller that holds them would pass them.

    One process holds one domain, so the other's object is built without claiming it.
    """
    forged = object.__new__(cls)
    object.__setattr__(forged, field, bytes(32))
    object.__setattr__(forged, "source", "forged-for-test")
    return forged


@attrs.define
class Primary:
    """A workspace with a due tenant, a blob file, an executed-looking plan path."""

    tmp: Path
    ws: Workspace
    other: PrimaryCredentials

    def fingerprint(self) -> list[object]:
        """Every row of every table and every file under the workspace, except the audit trail."""
        database = self.ws.config.path(self.ws.config.store.database)
        with sqlite3.connect(database) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows: list[object] = [
                (t, sorted(map(repr, db.execute(f"SELECT * FROM {t}"))))  # noqa: S608 -- sqlite_master names
                for t in sorted(tables)
                if t != "meta"
            ]
        files = sorted(
            (str(p), hashlib.sha256(p.read_bytes()).hexdigest())
            for p in Path(self.ws.config.directory).rglob("*")
            if p.is_file() and "sqlite3" not in p.name and "audit" not in p.name
        )
        return [rows, files]

    def variants(self) -> list[Any]:
        """No credentials, another workspace's, backup credentials."""
        return [None, self.other, _forged(BackupCredentials, "key")]

    def opened(self, credentials: Any) -> Workspace:
        """The workspace as a caller holding ``credentials`` has it (checks skipped on purpose)."""
        ws = Workspace.open(self.ws.config.directory)
        ws.credentials = credentials
        return ws

    def purger(self, credentials: Any) -> Purger:
        """A purger built with ``credentials`` over the workspace's own stores."""
        return Purger(
            reader=self.ws.store,
            target=(
                self.ws.store.read_target()
                if credentials is None
                else self.ws.store.purge_target(credentials)
            ),
            policy=self.ws.config.policy,
            limits=self.ws.config.limits,
            audit=self.ws.audit,
            alerter=self.ws.alerter,
            blobs=self.ws.blobs,
            credentials=credentials,
        )

    def verdict(self) -> tuple[Verdict, PlannedSlice]:
        """The agreed verdict on tenant t and what it was planned from."""
        agreement, planned = self.ws.planner.agree("t", AS_OF)
        return agreement.verdict, planned


@pytest.fixture
def primary(tmp_path: Path) -> Any:
    """A primary workspace and another workspace's credentials."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [obj("r1"), obj("t/f1", store="blob")],
    }
    ws = workspace(tmp_path / "ws", inventory, payloads={BLOB: b"file one"})
    other = arbiter.generate_primary_credentials(tmp_path / "other" / "primary.toml")
    yield Primary(tmp_path, ws, other)
    ws.close()


def _purger_built(p: Primary, c: Any) -> None:
    """Building a purger with these credentials is refused; without any it may not delete."""
    if c is not None:
        p.purger(c)
    p.purger(None).purge_tenant("t", AS_OF)


def _execute_verdict(p: Primary, c: Any) -> None:
    verdict, planned = p.verdict()
    if c is not None:
        p.purger(c)
    p.purger(None).execute_verdict("t", verdict, planned, actor="test")


def _delete_batches(p: Primary, c: Any) -> None:
    if c is not None:
        p.purger(c)
    ids = [ObjectId("db", "r1")]
    p.purger(None).delete_batches("t", ids, frozenset(ids), "test", None, done=(0, 0))


def _delete_files(p: Primary, c: Any) -> None:
    if c is not None:
        p.purger(c)
    p.purger(None).delete_files("t", [BLOB], "test")


def _rehearse(p: Primary, c: Any) -> None:
    verdict, planned = p.verdict()
    if c is not None:
        p.purger(c)
    p.purger(None).rehearse("t", verdict, planned, actor="test")


def _run_due(p: Primary, c: Any) -> None:
    if c is not None:
        p.purger(c)
    p.purger(None).run_due(AS_OF)


def _transaction(p: Primary, c: Any) -> None:
    with p.ws.store.transaction(c) as tx:
        tx.delete("t", [ObjectId("db", "r1")])


def _purge_target(p: Primary, c: Any) -> None:
    with p.ws.store.purge_target(c).transaction() as tx:
        tx.delete("t", [ObjectId("db", "r1")])


def _restore_rows(p: Primary, c: Any) -> None:
    row = {
        "store": "db",
        "key": "brought-back",
        "tenant": "t",
        "category": "default",
        "created_at": "2020-01-01T00:00:00Z",
        "legal_hold": False,
        "payload": None,
        "refs": [],
    }
    p.ws.store.restore_rows(c, [row])


def _blob_delete(p: Primary, c: Any) -> None:
    blobs = p.ws.blobs if c is None else p.ws.blobs.authorize(c, p.ws.store)
    blobs.delete(BLOB)


def _blob_delete_many(p: Primary, c: Any) -> None:
    blobs = p.ws.blobs if c is None else p.ws.blobs.authorize(c, p.ws.store)
    blobs.delete_many([BLOB])


def _ws(method: Callable[[Workspace], object]) -> Callable[[Primary, Any], None]:
    def scenario(p: Primary, c: Any) -> None:
        with p.opened(c) as ws:
            method(ws)

    return scenario


def _manual(function: Callable[..., object]) -> Callable[[Primary, Any], None]:
    def scenario(p: Primary, c: Any) -> None:
        with p.opened(c) as ws:
            function(ws, p.tmp / "missing-plan.json", operator="alice")

    return scenario


PRIMARY: dict[str, Callable[[Primary, Any], object]] = {
    "Purger.purge_tenant": _purger_built,
    "Purger.execute_verdict": _execute_verdict,
    "Purger.delete_batches": _delete_batches,
    "Purger.delete_files": _delete_files,
    "Purger.rehearse": _rehearse,
    "Purger.run_due": _run_due,
    "SqliteStore.transaction": _transaction,
    "SqliteStore.purge_target": _purge_target,
    # Inserts only, through the delete-capable write transaction: refused all the same.
    "SqliteStore.restore_rows": _restore_rows,
    "BlobDirectory.delete": _blob_delete,
    "BlobDirectory.delete_many": _blob_delete_many,
    "Workspace.purge_tenant": _ws(lambda ws: ws.purge_tenant("t", AS_OF)),
    "Workspace.run_due": _ws(lambda ws: ws.run_due(AS_OF)),
    "Workspace.expire_archives": _ws(lambda ws: ws.expire_archives()),
    "Workspace.purger": _ws(lambda ws: ws.purger),
    "Workspace.recover_purges": _ws(lambda ws: ws.recover_purges()),
    "execute_plan": _manual(arbiter.execute_plan),
    "restore_plan": _manual(arbiter.restore_plan),
}


@attrs.define
class Backup:
    """A workspace's backup site holding one generation, seen from the backup domain."""

    ws: Workspace
    site_path: Path
    key: BackupCredentials
    other: BackupCredentials
    info: GenerationInfo

    def fingerprint(self) -> list[tuple[str, str]]:
        """Every file of the site."""
        return sorted(
            (str(p), hashlib.sha256(p.read_bytes()).hexdigest())
            for p in self.site_path.rglob("*")
            if p.is_file() and "audit" not in p.name
        )

    def variants(self) -> list[Any]:
        """No credentials, primary credentials, another site's key."""
        return [None, _forged(PrimaryCredentials, "secret"), self.other]

    def site(self, credentials: Any) -> BackupSite:
        """The site as a caller holding ``credentials`` gets it."""
        if isinstance(credentials, BackupCredentials):
            return BackupSite.open(self.site_path, credentials)
        return BackupSite(self.site_path, credentials, lambda: NOW)


@pytest.fixture
def backup(tmp_path: Path) -> Any:
    """A workspace, then (as another process would) its backup site with one generation."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2020-01-01T00:00:00Z"))],
        "objects": [obj("r1")],
    }
    ws = workspace(tmp_path / "ws", inventory)
    ws.close()
    reset_credential_domains_for_tests()
    key = arbiter.generate_backup_credentials(tmp_path / "backup" / "backup.toml")
    other = arbiter.generate_backup_credentials(tmp_path / "other" / "backup.toml")
    site = arbiter.init_site(ws.config, key)
    arbiter.snapshot(ws.config, key)
    (info,) = site.generations("t")
    return Backup(ws, site.directory, key, other, info)


def _backup_purger(b: Backup, c: Any) -> BackupPurger:
    reader = PrimaryReader.of(b.ws.config)
    return BackupPurger(b.site(c), reader, b.ws.config.policy, b.ws.alerter)


BACKUP: dict[str, Callable[[Backup, Any], object]] = {
    "BackupSite.delete": lambda b, c: b.site(c).delete(b.info, now=NOW),
    "BackupPurger.purge_tenant": lambda b, c: _backup_purger(b, c).purge_tenant("t", AS_OF),
    "BackupPurger.run": lambda b, c: _backup_purger(b, c).run(AS_OF),
    "purge_backups": lambda b, c: arbiter.purge_backups(b.ws.config, c, clock=lambda: NOW),
}


@pytest.mark.static
def test_the_walker_finds_known_deleting_entry_points() -> None:
    """Sanity: the walker sees the purge, the manual execution and the backup purge delete."""
    found = Graph().deleting_entry_points()
    known = {"Workspace.purge_tenant", "execute_plan", "BlobDirectory.delete", "purge_backups"}
    assert known == known & found


@pytest.mark.static
def test_the_walker_ignores_reading_and_insert_only_entry_points() -> None:
    """Sanity the other way: export, dry-run planning and the backup restorer reach no deletion."""
    found = Graph().deleting_entry_points()
    readers = {"Workspace.export_inventory", "Workspace.planner", "PrimaryRestorer.insert_missing"}
    assert set() == readers & found


# The PostgreSQL store's deleting entry points need a server: the conformance suite proves on
# it that each refuses missing, other and backup credentials with nothing deleted
# (``test_other_credentials_are_refused``, parametrised over the operation and both stores).
SERVER = {
    "PostgresStore.transaction": "transaction",
    "PostgresStore.purge_target": "purge_target",
}


@pytest.mark.static
def test_every_deleting_entry_point_has_a_without_credentials_scenario() -> None:
    """The deleting entry points found from the code are exactly those with a scenario."""
    assert set(PRIMARY) | set(BACKUP) | set(SERVER) == set(Graph().deleting_entry_points())


@pytest.mark.static
def test_the_server_stores_scenarios_are_in_the_conformance_suite() -> None:
    """Each PostgreSQL entry point is an operation of the conformance suite's refusal test."""
    assert set(SERVER.values()) <= set(CREDENTIAL_OPERATIONS)


@pytest.mark.parametrize("name", sorted(PRIMARY))
def test_primary_deleting_entry_point_refuses_without_credentials(
    primary: Primary, name: str
) -> None:
    """Without, with another workspace's or with backup credentials: refused, nothing changed."""
    before = primary.fingerprint()
    for variant in primary.variants():
        with pytest.raises((CredentialError, CredentialDomainError)):
            PRIMARY[name](primary, variant)
        assert before == primary.fingerprint(), (name, variant)


@pytest.mark.parametrize("name", sorted(BACKUP))
def test_backup_deleting_entry_point_refuses_without_backup_credentials(
    backup: Backup, name: str
) -> None:
    """Without, with primary or with another site's credentials: refused, no backup file changed."""
    before = backup.fingerprint()
    for variant in backup.variants():
        with pytest.raises((CredentialError, CredentialDomainError)):
            BACKUP[name](backup, variant)
        assert before == backup.fingerprint(), (name, variant)


def test_the_scenarios_can_fail_with_the_right_credentials(primary: Primary) -> None:
    """Control: with the workspace's own credentials the same purge does delete."""
    outcome = primary.ws.purge_tenant("t", AS_OF)
    assert ("executed", 2) == (outcome.status, outcome.purged)
