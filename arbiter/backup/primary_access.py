"""What the backup domain may do to the primary store: read it, and put missing data back.

The backup domain's processes hold the backup key and never the primary credentials
(``arbiter.auth.credentials``), so they reach the primary store only through two capabilities,
``PrimaryReading`` and ``PrimaryInserting``, each with one implementation per store:

1. ``PrimaryReader`` opens the SQLite database read-only (``mode=ro`` and ``query_only``) and the
   blob directory for reading. It has no method that writes or deletes, and SQLite refuses a write
   on its connection. ``backup snapshot`` and ``backup purge`` use it. On PostgreSQL,
   ``PostgresPrimaryReader`` (``postgres_access``) reads as ``twinpurge_snapshot``.
2. ``PrimaryRestorer`` (``backup restore``, two operators' approvals) only inserts: rows and blob
   files that are missing, the tenant if it is missing, and a record in the primary audit log.
   Anything already present is left exactly as it is; it has no method that deletes. On
   PostgreSQL, ``PostgresPrimaryRestorer`` inserts as ``twinpurge_restore``.
3. Neither this module nor anything it imports can delete primary data: it does not import the
   primary stores, the purger, the manual purge or the blob directory (import-linter enforces
   it). Blob paths are checked on their own (``blob_files``): a key that could escape the blob
   root is refused.
4. ``open_primary_reader`` and ``open_primary_restorer`` choose by the workspace's store
   (``[store] url`` set: PostgreSQL) and take the backup credentials, which a PostgreSQL store
   needs to log in (they derive the backup roles' passwords); SQLite needs none. The SQLite
   types refuse a PostgreSQL workspace (``UsageError``) instead of looking for a file.
5. ``consistent()``: every read inside the block sees one state of the store (one read
   transaction); a snapshot reads all its tenants in one.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, Self

from arbiter.audit.log import AuditHead, AuditLog
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.blob_files import blob_paths, read_blobs, write_missing_blobs
from arbiter.backup.postgres_access import PostgresPrimaryReader, PostgresPrimaryRestorer
from arbiter.core.errors import InputError, UsageError
from arbiter.stores.rows import (
    insert_object,
    insert_tenant,
    object_exists,
    read_objects,
    read_slice,
    read_tenants,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager
    from pathlib import Path

    from arbiter.core.config import WorkspaceConfig

__all__ = [
    "PrimaryInserting",
    "PrimaryReader",
    "PrimaryReading",
    "PrimaryRestorer",
    "open_primary_reader",
    "open_primary_restorer",
]

_HEAD = "audit_head"  # the meta row the primary audit log's head lives in


class PrimaryReading(Protocol):
    """Read-only access to the primary store and its blob files (rules 1 and 5)."""

    def tenant_ids(self) -> list[str]:
        """Every tenant id, sorted."""
        ...

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice, as the primary store gives it, in one snapshot."""
        ...

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        """(legal_hold, [(kind, at), ...]) of the tenant as stored now, or None."""
        ...

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's primary purge receipts, oldest first."""
        ...

    def tenant_content(self, tenant: str) -> dict[str, Any] | None:
        """Everything of one tenant (record, full rows, blob bytes), or None."""
        ...

    def consistent(self) -> AbstractContextManager[None]:
        """A block whose reads all see one state of the store."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        ...

    def __exit__(self, *_exc: object) -> None:
        """Close the connection."""
        ...


class PrimaryInserting(Protocol):
    """Insert-only access to the primary store, and its audit log (rule 2)."""

    audit: AuditLog

    def insert_missing(self, tenant: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
        """Insert what is missing (tenant, rows, blob files); ``store/key`` of each row inserted."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        ...

    def __exit__(self, *_exc: object) -> None:
        """Close the connection."""
        ...


def _require_sqlite(config: WorkspaceConfig) -> None:
    """Rule 4: the SQLite types never look for a file beside a PostgreSQL store."""
    if config.store.url is not None:
        raise UsageError(
            f"the primary store of {config.directory} is PostgreSQL: the backup domain reaches"
            " it with the backup key (open_primary_reader, open_primary_restorer)"
        )


def open_primary_reader(config: WorkspaceConfig, credentials: BackupCredentials) -> PrimaryReading:
    """The read-only reader of the workspace's primary store, whichever it is (rule 4).

    Args:
        config: the workspace configuration.
        credentials: the backup key (a PostgreSQL store's snapshot role logs in with it).

    Returns:
        ``PrimaryReader`` (SQLite) or ``PostgresPrimaryReader`` (PostgreSQL); the caller closes it.

    Raises:
        CredentialError: not backup credentials.
        InputError: there is no SQLite primary store.
        StoreConnectionError: the PostgreSQL login failed (``StoreLoginError``: exit 7).
    """
    credentials = require_backup(credentials, purpose="reading the primary store")
    if config.store.url is not None:
        return PostgresPrimaryReader.of(config, credentials)
    return PrimaryReader.of(config)


def open_primary_restorer(
    config: WorkspaceConfig, credentials: BackupCredentials
) -> PrimaryInserting:
    """The insert-only restorer of the workspace's primary store, whichever it is (rule 4).

    Args:
        config: the workspace configuration.
        credentials: the backup key (a PostgreSQL store's restore role logs in with it).

    Returns:
        ``PrimaryRestorer`` (SQLite) or ``PostgresPrimaryRestorer`` (PostgreSQL); the caller
        closes it.

    Raises:
        CredentialError: not backup credentials.
        InputError: there is no SQLite primary store.
        StoreConnectionError: the PostgreSQL login failed (``StoreLoginError``: exit 7).
    """
    credentials = require_backup(credentials, purpose="restoring into the primary store")
    if config.store.url is not None:
        return PostgresPrimaryRestorer(config, credentials)
    return PrimaryRestorer(config)


def _connect_read_only(database: Path) -> sqlite3.Connection:
    if not database.is_file():
        raise InputError(
            source="config", field="store.database", message=f"no primary store at {database}"
        )
    db = sqlite3.connect(
        database.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=30.0
    )
    db.execute("PRAGMA query_only = ON")
    return db


class PrimaryReader:
    """Read-only access to the primary store and its blob files (rule 1)."""

    def __init__(self, database: Path, blobs: Path, blob_stores: tuple[str, ...]) -> None:
        """Open the database read-only.

        Raises:
            InputError: there is no database at ``database``.
        """
        self._db = _connect_read_only(database)
        self._blobs = blobs.resolve()
        self._blob_stores = frozenset(blob_stores)
        self._held = False
        self.path = database

    @classmethod
    def of(cls, config: WorkspaceConfig) -> PrimaryReader:
        """The reader of a SQLite workspace's primary store.

        Raises:
            UsageError: the workspace's store is PostgreSQL (``open_primary_reader``).
            InputError: there is no primary store.
        """
        _require_sqlite(config)
        return cls(
            config.path(config.store.database),
            config.path(config.store.blobs),
            config.store.blob_stores,
        )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the connection."""
        self.close()

    @contextmanager
    def consistent(self) -> Iterator[None]:
        """Every read inside the block sees one state of the store (rule 5)."""
        if self._held:
            yield
            return
        with self._snapshot():
            self._held = True
            try:
                yield
            finally:
                self._held = False

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        if self._held:  # inside ``consistent``: its transaction
            yield self._db
            return
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    def tenant_ids(self) -> list[str]:
        """Every tenant id, sorted."""
        return [row[0] for row in self._db.execute("SELECT id FROM tenants ORDER BY id")]

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice, exactly as ``SqliteStore.read_slice`` gives it, in one snapshot."""
        with self._snapshot() as db:
            return read_slice(db, tenant)

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        """(legal_hold, [(kind, at), ...]) of the tenant as stored now, or None."""
        with self._snapshot() as db:
            row = db.execute("SELECT legal_hold FROM tenants WHERE id = ?", (tenant,)).fetchone()
            if row is None:
                return None
            events = db.execute(
                "SELECT kind, at FROM events WHERE tenant = ? ORDER BY pos", (tenant,)
            ).fetchall()
        return bool(row[0]), [(kind, at) for kind, at in events]

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's primary purge receipts (``SqliteStore.record_receipt``), oldest first."""
        rows = self._db.execute(
            "SELECT plan_digest, as_of, executed_at, purged, backup_due FROM receipts"
            " WHERE tenant = ? ORDER BY executed_at",
            (tenant,),
        ).fetchall()
        keys = ("plan_digest", "as_of", "executed_at", "purged", "backup_due")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def tenant_content(self, tenant: str) -> dict[str, Any] | None:
        """Everything of one tenant, for a backup generation; None if there is no such tenant.

        Returns:
            ``tenant``: the tenant record (id, events, legal_hold); ``objects``: its full rows
            (payload as bytes or None, refs, and ``blob``: the file's bytes for blob stores).
        """
        with self._snapshot() as db:
            if db.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant,)).fetchone() is None:
                return None
            record = read_tenants(db, [tenant])[0]
            rows = read_objects(db, "tenant = ?", (tenant,))
            for row in rows:
                payload = db.execute(
                    "SELECT payload FROM objects WHERE store = ? AND key = ?",
                    (row["store"], row["key"]),
                ).fetchone()
                row["payload"] = payload[0] if payload else None
        read_blobs(rows, self._blobs, self._blob_stores)
        return {"tenant": record, "objects": rows}


class _MetaHeads:
    """The primary audit log's head, in the store's meta table (as the workspace keeps it)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def read_audit_head(self) -> AuditHead | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (_HEAD,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return AuditHead(seq=int(data["seq"]), hash=str(data["hash"]))

    def write_audit_head(self, head: AuditHead) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                (_HEAD, json.dumps({"seq": head.seq, "hash": head.hash})),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


class PrimaryRestorer:
    """Insert-only access to the primary store, for restoring a backup generation (rule 2)."""

    def __init__(self, config: WorkspaceConfig) -> None:
        """Open a SQLite workspace's primary store for inserting.

        Raises:
            UsageError: the workspace's store is PostgreSQL (``open_primary_restorer``).
            InputError: there is no primary store.
        """
        _require_sqlite(config)
        database = config.path(config.store.database)
        if not database.is_file():
            raise InputError(
                source="config", field="store.database", message=f"no primary store at {database}"
            )
        self._db = sqlite3.connect(database, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA synchronous = FULL")
        self._blobs = config.path(config.store.blobs)
        self._blob_stores = frozenset(config.store.blob_stores)
        self.audit = AuditLog(config.path(config.audit.log), _MetaHeads(self._db))

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the connection."""
        self.close()

    def insert_missing(self, tenant: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
        """Insert the tenant if missing, then every row whose identity is missing; one transaction.

        Args:
            tenant: the tenant record (id, events, legal_hold).
            rows: full object rows (store, key, tenant, category, created_at, legal_hold,
                payload, refs, blob).

        Returns:
            ``store/key`` of each row inserted. Blob files of inserted rows are written after
            the transaction commits, never over an existing file.
        """
        files = blob_paths(rows, self._blobs, self._blob_stores)  # checked before any insert
        inserted: list[dict[str, Any]] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            exists = self._db.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant["id"],))
            if exists.fetchone() is None:
                insert_tenant(self._db, tenant)
            for row in rows:
                if object_exists(self._db, row["store"], row["key"]):
                    continue
                insert_object(self._db, row, row["payload"])
                inserted.append(row)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        write_missing_blobs(inserted, files)
        return [f"{row['store']}/{row['key']}" for row in inserted]
