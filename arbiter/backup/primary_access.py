"""What the backup domain may do to the primary store: read it, and put missing data back.

The backup domain's processes hold the backup key and never the primary credentials
(``arbiter.auth.credentials``), so they reach the primary store only through these two types:

1. ``PrimaryReader`` opens the SQLite database read-only (``mode=ro`` and ``query_only``) and the
   blob directory for reading. It has no method that writes or deletes, and SQLite refuses a write
   on its connection. ``backup snapshot`` and ``backup purge`` use it.
2. ``PrimaryRestorer`` (``backup restore``, two operators' approvals) only inserts: rows and blob
   files that are missing, the tenant if it is missing, and a record in the primary audit log.
   Anything already present is left exactly as it is; it has no method that deletes.
3. Neither this module nor anything it imports can delete primary data: it does not import the
   primary store, the purger, the manual purge or the blob directory (import-linter enforces it).
   Blob paths are checked here, on their own: a key that could escape the blob root is refused.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from arbiter.audit.log import AuditHead, AuditLog
from arbiter.core.errors import InputError
from arbiter.durable.files import create
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
    from pathlib import Path

    from arbiter.core.config import WorkspaceConfig

__all__ = ["PrimaryReader", "PrimaryRestorer"]

_HEAD = "audit_head"  # the meta row the primary audit log's head lives in


def _blob_path(root: Path, store: str, key: str) -> Path:
    """Rule 3: the file of a blob object, only if it cannot leave the root."""
    parts = [store, *key.split("/")]
    bad = (
        not store
        or "/" in store
        or any(p in {"", ".", ".."} for p in parts)
        or any("\\" in p or "\x00" in p for p in parts)
        or key.startswith("/")
    )
    path = (root / store / key).resolve()
    if bad or not path.is_relative_to(root):
        raise InputError(
            source="inventory",
            field="key",
            message=f"blob {store}/{key} escapes the blob directory",
        )
    return path


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
        self.path = database

    @classmethod
    def of(cls, config: WorkspaceConfig) -> PrimaryReader:
        """The reader of a workspace's primary store."""
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
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
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
        for row in rows:
            row["blob"] = None
            if row["store"] in self._blob_stores:
                path = _blob_path(self._blobs, row["store"], row["key"])
                row["blob"] = path.read_bytes() if path.is_file() else None
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
        """Open the workspace's primary store for inserting.

        Raises:
            InputError: there is no primary store.
        """
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
        root = self._blobs.resolve()
        files = {
            (row["store"], row["key"]): _blob_path(root, row["store"], row["key"])
            for row in rows
            if row["store"] in self._blob_stores and row["blob"] is not None
        }  # every path is checked before the first insert
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
        for row in inserted:
            path = files.get((row["store"], row["key"]))
            if path is not None:
                self._write_new_file(path, row["blob"])
        return [f"{row['store']}/{row['key']}" for row in inserted]

    @staticmethod
    def _write_new_file(path: Path, data: bytes) -> None:
        # Insert-only: a file already there stays as it is (``create`` never replaces one).
        with contextlib.suppress(FileExistsError):
            create(path, data)
