"""The embedded primary store: tenants, events, objects (with payloads) and refs in SQLite.

Rules:

1. The database runs in WAL mode, so readers see a consistent snapshot while a writer works, and
   every multi-statement read happens inside one explicit transaction (``read_slice``).
2. Write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken before the first
   read, so what a purge transaction reads cannot change before it commits.
3. Deletes match identity *and* tenant (``DELETE ... WHERE store = ? AND key = ? AND tenant = ?``).
4. Instants are stored as given, so that an export gives back what was imported.
5. The audit log's head lives here (table ``meta``): the log alone cannot rewrite it.
6. Deleting is a capability (rule 4 of ``arbiter.stores.ports``). The store records the SHA-256
   of its primary credentials once (``record_primary_credentials``; ``set_meta`` cannot touch
   it). A write transaction, the only place rows are deleted (``DELETE FROM`` appears in
   ``_Transaction.delete`` alone), is opened only by ``transaction(credentials)`` and
   ``purge_target(credentials)``, which check the credentials against that record at every
   use and raise ``CredentialError`` before ``BEGIN``. Restoring archived rows (inserts) goes
   through the same transaction, so it needs the credentials too. Without credentials the store
   reads (``read_target``: snapshots on a ``query_only`` connection state, whose ``delete``
   raises ``CredentialError``), imports nothing (``add_inventory`` inserts only, and
   ``Workspace.import_inventory`` asks for the credentials) and keeps its bookkeeping (plans,
   archive records, receipts, the audit head), none of which deletes a row.
7. The per-tenant change counter (rule 7 of ``arbiter.stores.ports``) is table
   ``change_counters``, kept by row triggers on ``tenants``, ``events``, ``objects`` and
   ``refs`` (``count_*``): every inserted, updated or deleted row adds one to each tenant it
   concerns (a tenant row or an event its tenant; an object its owner, old and new; a ref the
   owners of both its ends, of those that exist: a source the cascade deletes was counted by
   its own deletion). ``SCHEMA`` creates them ``IF NOT EXISTS``, so a workspace created before
   the counter gets it when it is next opened; its tenants have no row yet and read 0. A write
   transaction holds the counter by ``BEGIN IMMEDIATE`` (rule 2).
8. Identity lists are looked up, never scanned for: a batch's reads and its delete join the
   identities (``VALUES`` rows, a chunk at a time) to the table's index with the identities as
   the outer loop (``_joined``), so a batch costs its own size whatever the store's.
9. A streamed slice (``stream_counted_slice``, rule 8 of ``arbiter.stores.ports``) holds a read
   transaction (``BEGIN``, rule 1) for its block: WAL lets writers commit meanwhile, unseen by
   it (a long block only keeps the WAL from being checkpointed past its snapshot). Its objects
   are read in order through the unique index ``objects_by_tenant_identity`` (``tenant, store,
   key``; rule 4 of ``arbiter.stores.rows``), which ``SCHEMA`` creates ``IF NOT EXISTS``: a
   store created before it gets it when next opened (building it then takes a moment on a
   large store). While the block runs, the store's connection is in that transaction: a write
   through this same store object fails (SQLite refuses ``BEGIN IMMEDIATE`` inside it); other
   connections write as usual.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from arbiter.auth.credentials import PrimaryCredentials, require_primary, verify_primary
from arbiter.core.errors import CredentialError, InputError, UsageError
from arbiter.core.verdict import ObjectId
from arbiter.stores.access import PurgeAccess, ReadAccess
from arbiter.stores.ports import CountedSlice, ObjectState, StreamedSlice
from arbiter.stores.rows import (
    insert_object,
    insert_objects,
    insert_tenant,
    object_exists,
    read_objects,
    read_shared,
    read_slice,
    read_tenant,
    read_tenants,
    stream_objects,
)
from arbiter.stores.streams import streamed_slice

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

__all__ = ["CREDENTIALS_META", "PurgeAccess", "ReadAccess", "SqliteStore"]

# The meta row holding the SHA-256 of the store's primary credentials (rule 6).
CREDENTIALS_META = "primary_credentials_sha256"

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    legal_hold INTEGER NOT NULL CHECK (legal_hold IN (0, 1)),
    has_hold_field INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS events (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    pos INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (tenant, pos)
);
CREATE TABLE IF NOT EXISTS objects (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    tenant TEXT NOT NULL REFERENCES tenants(id),
    category TEXT NOT NULL,
    created_at TEXT NOT NULL,
    legal_hold INTEGER NOT NULL CHECK (legal_hold IN (0, 1)),
    payload BLOB,
    PRIMARY KEY (store, key)
);
CREATE INDEX IF NOT EXISTS objects_by_tenant ON objects(tenant);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_tenant_identity ON objects(tenant, store, key);
CREATE TABLE IF NOT EXISTS refs (
    from_store TEXT NOT NULL,
    from_key TEXT NOT NULL,
    pos INTEGER NOT NULL,
    to_store TEXT NOT NULL,
    to_key TEXT NOT NULL,
    PRIMARY KEY (from_store, from_key, pos),
    FOREIGN KEY (from_store, from_key) REFERENCES objects(store, key) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refs_by_target ON refs(to_store, to_key);
CREATE TABLE IF NOT EXISTS change_counters (tenant TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS count_tenant_inserts AFTER INSERT ON tenants BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (NEW.id, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_tenant_updates AFTER UPDATE ON tenants BEGIN
    INSERT INTO change_counters (tenant, n) SELECT id, 1 FROM (SELECT OLD.id AS id UNION
        SELECT NEW.id) WHERE true ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_tenant_deletes AFTER DELETE ON tenants BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (OLD.id, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_event_inserts AFTER INSERT ON events BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_event_updates AFTER UPDATE ON events BEGIN
    INSERT INTO change_counters (tenant, n) SELECT tenant, 1 FROM (SELECT OLD.tenant AS tenant
        UNION SELECT NEW.tenant) WHERE true ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_event_deletes AFTER DELETE ON events BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_object_inserts AFTER INSERT ON objects BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_object_updates AFTER UPDATE ON objects BEGIN
    INSERT INTO change_counters (tenant, n) SELECT tenant, 1 FROM (SELECT OLD.tenant AS tenant
        UNION SELECT NEW.tenant) WHERE true ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_object_deletes AFTER DELETE ON objects BEGIN
    INSERT INTO change_counters (tenant, n) VALUES (OLD.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_ref_inserts AFTER INSERT ON refs BEGIN
    INSERT INTO change_counters (tenant, n)
        SELECT tenant, 1 FROM objects WHERE store = NEW.from_store AND key = NEW.from_key
        UNION SELECT tenant, 1 FROM objects WHERE store = NEW.to_store AND key = NEW.to_key
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_ref_updates AFTER UPDATE ON refs BEGIN
    INSERT INTO change_counters (tenant, n)
        SELECT tenant, 1 FROM objects WHERE store = OLD.from_store AND key = OLD.from_key
        UNION SELECT tenant, 1 FROM objects WHERE store = OLD.to_store AND key = OLD.to_key
        UNION SELECT tenant, 1 FROM objects WHERE store = NEW.from_store AND key = NEW.from_key
        UNION SELECT tenant, 1 FROM objects WHERE store = NEW.to_store AND key = NEW.to_key
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS count_ref_deletes AFTER DELETE ON refs BEGIN
    INSERT INTO change_counters (tenant, n)
        SELECT tenant, 1 FROM objects WHERE store = OLD.from_store AND key = OLD.from_key
        UNION SELECT tenant, 1 FROM objects WHERE store = OLD.to_store AND key = OLD.to_key
        ON CONFLICT (tenant) DO UPDATE SET n = n + 1;
END;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS archives (
    archive_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    plan_digest TEXT NOT NULL,
    plan_id TEXT,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    objects INTEGER NOT NULL,
    backup_due TEXT,
    created_at TEXT NOT NULL,
    restored_at TEXT,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS plans (
    plan_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    executed_at TEXT,
    executed_by TEXT,
    archive_id TEXT,
    restored_at TEXT,
    restored_by TEXT
);
CREATE TABLE IF NOT EXISTS receipts (
    tenant TEXT NOT NULL,
    plan_digest TEXT NOT NULL,
    as_of TEXT NOT NULL,
    executed_at TEXT NOT NULL,
    purged INTEGER NOT NULL,
    backup_due TEXT,
    PRIMARY KEY (tenant, plan_digest)
);
CREATE TABLE IF NOT EXISTS safe_mode_trips (
    trip_id TEXT PRIMARY KEY,
    tripped_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    as_of TEXT,
    tenants TEXT NOT NULL,
    counts TEXT NOT NULL,
    reset_at TEXT,
    reset_by TEXT,
    reset_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_trip ON safe_mode_trips(reset_at IS NULL)
    WHERE reset_at IS NULL;
CREATE TABLE IF NOT EXISTS journals (
    purge_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    plan_id TEXT,
    plan_digest TEXT NOT NULL,
    plan_path TEXT NOT NULL,
    plan_sha256 TEXT NOT NULL,
    as_of TEXT NOT NULL,
    backup_due TEXT,
    actor TEXT NOT NULL,
    started_at TEXT NOT NULL,
    state TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS unfinished_journals ON journals(state);
CREATE TABLE IF NOT EXISTS journal_steps (
    purge_id TEXT NOT NULL REFERENCES journals(purge_id),
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (purge_id, seq)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    as_of TEXT NOT NULL,
    as_of_epoch REAL NOT NULL,
    ran_at TEXT NOT NULL,
    ran_at_epoch REAL NOT NULL,
    sane INTEGER NOT NULL CHECK (sane IN (0, 1))
);
"""


def _counter(db: sqlite3.Connection, tenant: str) -> int:
    """The tenant's change counter (rule 7): one row by its key, 0 when there is none."""
    row = db.execute("SELECT n FROM change_counters WHERE tenant = ?", (tenant,)).fetchone()
    return 0 if row is None else int(row[0])


class _Reads:
    """The primitive reads of a transaction on one connection (``PurgeReads``)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter in this transaction (held by a write transaction)."""
        return _counter(self._db, tenant)

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        row = self._db.execute("SELECT legal_hold FROM tenants WHERE id = ?", (tenant,)).fetchone()
        if row is None:
            return None
        events = self._db.execute(
            "SELECT kind, at FROM events WHERE tenant = ? ORDER BY pos", (tenant,)
        ).fetchall()
        return bool(row[0]), [(kind, at) for kind, at in events]

    def objects(self, ids: list[ObjectId]) -> dict[ObjectId, ObjectState]:
        found: dict[ObjectId, ObjectState] = {}
        for chunk, values in _identity_chunks(ids):
            columns = "o.store, o.key, o.tenant, o.category, o.legal_hold"
            rows = self._db.execute(f"SELECT {columns} {_in_objects(values)}", chunk)
            for store, key, owner, category, hold in rows:
                found[ObjectId(store, key)] = ObjectState(owner, category, bool(hold))
        return found

    def referrers(self, ids: list[ObjectId]) -> set[ObjectId]:
        found: set[ObjectId] = set()
        for chunk, values in _identity_chunks(ids):
            joined = _joined(values, "refs r", "r.to_store", "r.to_key")
            rows = self._db.execute(f"SELECT r.from_store, r.from_key {joined}", chunk)
            found.update(ObjectId(s, k) for s, k in rows)
        return found

    def rows(self, ids: list[ObjectId]) -> list[dict[str, Any]]:
        keys = ("store", "key", "tenant", "category", "created_at", "legal_hold", "payload")
        by_id: dict[tuple[str, str], dict[str, Any]] = {}
        refs: dict[tuple[str, str], dict[int, list[str]]] = {}
        for chunk, values in _identity_chunks(ids):
            columns = ", ".join(f"o.{k}" for k in keys)
            for row in self._db.execute(f"SELECT {columns} {_in_objects(values)}", chunk):
                record = dict(zip(keys, row, strict=True))
                record["legal_hold"] = bool(record["legal_hold"])
                by_id[(record["store"], record["key"])] = record
            joined = _joined(values, "refs r", "r.from_store", "r.from_key")
            sql = f"SELECT r.from_store, r.from_key, r.pos, r.to_store, r.to_key {joined}"
            for store, key, pos, to_store, to_key in self._db.execute(sql, chunk):
                refs.setdefault((store, key), {})[pos] = [to_store, to_key]
        for identity, record in by_id.items():
            found = refs.get(identity, {})
            record["refs"] = [found[pos] for pos in sorted(found)]
        # In the order asked for, without the identities that are gone.
        return [by_id[i] for i in ((o.store, o.key) for o in ids) if i in by_id]


# Identities per statement: a chunk's parameters stay well inside SQLite's limit (32,766).
_CHUNK = 4096


def _identity_chunks(ids: list[ObjectId], size: int = _CHUNK) -> Iterator[tuple[list[str], str]]:
    """``ids`` as flat (store, key, ...) parameter lists with their ``VALUES`` placeholders.

    One set-based statement per chunk instead of one per object; a chunk stays well inside
    SQLite's limit on parameters (32,766).
    """
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        params = [part for obj in chunk for part in (obj.store, obj.key)]
        yield params, _values(len(chunk))


@functools.lru_cache(maxsize=64)
def _values(count: int) -> str:
    return "VALUES " + ",".join(["(?, ?)"] * count)


def _joined(values: str, table: str, store: str, key: str) -> str:
    """``FROM`` the identities of ``values`` looked up in ``table`` by its index (rule 8).

    ``CROSS JOIN`` makes the identities the outer loop: each is one index search, so a batch
    costs its own size, never the table's (``(store, key) IN (VALUES ...)`` scans the table).
    """
    return f"FROM ({values}) AS i CROSS JOIN {table} ON {store} = i.column1 AND {key} = i.column2"


def _in_objects(values: str) -> str:
    """``FROM`` the identities of ``values`` found in ``objects`` (as ``o``), by its key."""
    return _joined(values, "objects o", "o.store", "o.key")


class _Snapshot(_Reads):
    """A read-only snapshot for dry runs: the connection is ``query_only`` (rule 6)."""

    def delete(self, tenant: str, ids: list[ObjectId]) -> int:
        """Never deletes: a snapshot opened without credentials cannot."""
        del tenant, ids
        raise CredentialError(
            "primary", "deleting needs the primary credentials; this snapshot only reads"
        )

    def journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Never writes: a snapshot records no journal step."""
        del purge_id, step, data
        raise CredentialError(
            "primary", "journal steps are written with a delete; this snapshot only reads"
        )


class _Transaction(_Reads):
    """A delete-capable write transaction (``PurgeTransaction``), opened for checked credentials."""

    def restore(self, rows: list[dict[str, Any]]) -> list[ObjectId]:
        """Insert archived rows that are missing; return the identities inserted."""
        restored = []
        for row in rows:
            if object_exists(self._db, row["store"], row["key"]):
                continue
            insert_object(self._db, row, row["payload"])
            restored.append(ObjectId(row["store"], row["key"]))
        return restored

    def journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a journal step in this transaction: it commits with the delete, or neither."""
        _add_step(self._db, purge_id, step, data)

    def delete(self, tenant: str, ids: list[ObjectId]) -> int:
        # Set-based, with the ownership predicate in the statement itself (spec §11 rule 6);
        # rowcount counts the objects only, never their refs going by ON DELETE CASCADE.
        deleted = 0
        for chunk, values in _identity_chunks(ids):
            cursor = self._db.execute(
                f"DELETE FROM objects WHERE tenant = ? AND rowid IN (SELECT o.rowid {_in_objects(values)})",  # noqa: E501, S608 -- placeholders only
                [tenant, *chunk],
            )
            deleted += cursor.rowcount
        return deleted


def _held(
    db: sqlite3.Connection, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Which of these tenant ids and identities ``db`` holds: one indexed statement a chunk."""
    found_objects: set[tuple[str, str]] = set()
    found_tenants: set[str] = set()
    ids = [ObjectId(store, key) for store, key in objects]
    for chunk, values in _identity_chunks(ids):
        sql = f"SELECT o.store, o.key {_in_objects(values)}"
        found_objects.update((s, k) for s, k in db.execute(sql, chunk))
    names = list(tenants)
    for start in range(0, len(names), _CHUNK):
        part = names[start : start + _CHUNK]
        marks = ", ".join("?" for _ in part)
        sql = f"SELECT id FROM tenants WHERE id IN ({marks})"  # noqa: S608 -- placeholders only
        found_tenants.update(r[0] for r in db.execute(sql, part))
    return frozenset(found_tenants), frozenset(found_objects)


class _Load:
    """One import's write transaction (``InventoryLoad``, ports rule 9)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add_tenants(self, tenants: Sequence[Mapping[str, Any]]) -> None:
        """Insert tenant records and their events (``InputError`` on a repeat)."""
        with _conflicts():
            for tenant in tenants:
                insert_tenant(self._db, tenant)

    def add_objects(
        self, objects: Sequence[Mapping[str, Any]], payloads: Mapping[ObjectId, bytes]
    ) -> None:
        """Insert objects, their refs and record payloads (``InputError`` on a repeat)."""
        with _conflicts():
            insert_objects(self._db, objects, payloads)

    def held(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """What the store holds as this transaction sees it (its own rows included)."""
        return _held(self._db, tenants, objects)


@contextmanager
def _conflicts() -> Iterator[None]:
    """A repeated identity, found by the database, as bad input (nothing of it commits)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise InputError(
            source="inventory", field="", message=f"conflicts with the store: {exc}"
        ) from None


class SqliteStore:
    """The SQLite primary store (``InventoryReader``, ``PurgeTarget`` and the audit head)."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the database at ``path``."""
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    # -- the primary credentials (rule 6) ------------------------------------------------------

    def record_primary_credentials(self, credentials: PrimaryCredentials) -> None:
        """Record the SHA-256 of the store's primary credentials, once.

        Args:
            credentials: the new store's primary credentials.

        Raises:
            CredentialError: ``credentials`` are not primary credentials.
            UsageError: the store records credentials already; they are never replaced.
        """
        credentials = require_primary(credentials, purpose="recording primary credentials")
        with self._write() as db:
            if self.get_meta(CREDENTIALS_META) is not None:
                raise UsageError(
                    f"{self.path} records primary credentials already; they are never replaced"
                )
            db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                (CREDENTIALS_META, credentials.fingerprint),
            )

    def verify_credentials(self, credentials: object) -> PrimaryCredentials:
        """Check credentials against the SHA-256 the store recorded (rule 6).

        Args:
            credentials: what the caller holds (``None`` or backup credentials are refused).

        Returns:
            The credentials, as primary credentials.

        Raises:
            CredentialError: missing, of the backup domain, not recorded, or another secret.
        """
        checked = require_primary(credentials, purpose="deleting from the primary store")
        verify_primary(checked, self.get_meta(CREDENTIALS_META), store=str(self.path))
        return checked

    def purge_target(self, credentials: PrimaryCredentials) -> PurgeAccess:
        """The delete-capable ``PurgeTarget`` of this store, for its primary credentials.

        Args:
            credentials: the store's primary credentials; checked now and at every transaction.

        Returns:
            The target to build a ``Purger`` with.

        Raises:
            CredentialError: not this store's primary credentials.
        """
        return PurgeAccess(self, self.verify_credentials(credentials))

    def read_target(self) -> ReadAccess:
        """A read-only ``PurgeTarget`` for dry runs: it cannot delete (rule 6)."""
        return ReadAccess(self)

    # -- loading -------------------------------------------------------------------------------

    def add_inventory(
        self, inventory: Mapping[str, Any], payloads: Mapping[ObjectId, bytes] | None = None
    ) -> None:
        """Insert a validated portable inventory (spec §4.1) in one transaction.

        Args:
            inventory: plain data already accepted by both planners.
            payloads: record payloads by object identity (blob bytes go to the blob directory).

        Raises:
            InputError: an identity already exists; nothing is inserted.
        """
        with self.loading() as load:
            load.add_tenants(inventory["tenants"])
            load.add_objects(inventory["objects"], payloads or {})

    @contextmanager
    def loading(self) -> Iterator[_Load]:
        """One import's write transaction, filled chunk by chunk (ports rule 9).

        Yields:
            The load: ``add_tenants``, ``add_objects`` and ``held`` in this transaction, which
            commits when the block ends and rolls back on any exception.
        """
        with self._write() as db:
            yield _Load(db)

    def restore_rows(
        self, credentials: PrimaryCredentials, rows: list[dict[str, Any]]
    ) -> list[ObjectId]:
        """Insert the archived rows that are missing, in one write transaction.

        Args:
            credentials: the store's primary credentials (inserting is a primary-domain act).
            rows: archived rows (``PurgeReads.rows``' shape).

        Returns:
            The identities inserted; a row whose identity exists is left exactly as it is.

        Raises:
            CredentialError: not this store's primary credentials; nothing was inserted.
        """
        with self.transaction(credentials) as tx:
            return tx.restore(rows)

    def already_stored(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Which of these tenant ids and object identities the store holds already.

        One indexed statement per chunk of identities, so an import is checked against the
        store in time proportional to the file, not to the store.
        """
        with self._read() as db:
            return _held(db, tenants, objects)

    # -- reading -------------------------------------------------------------------------------

    def tenant_ids(self) -> list[str]:
        """Every tenant id, sorted."""
        return [row[0] for row in self._db.execute("SELECT id FROM tenants ORDER BY id")]

    def total_objects(self) -> int:
        """How many objects the store holds."""
        return int(self._db.execute("SELECT COUNT(*) FROM objects").fetchone()[0])

    def object_count(self, tenant: str) -> int:
        """How many objects the tenant owns now (0 for no such tenant)."""
        row = self._db.execute("SELECT COUNT(*) FROM objects WHERE tenant = ?", (tenant,))
        return int(row.fetchone()[0])

    def payload(self, obj: ObjectId) -> bytes | None:
        """A record's payload, or None."""
        row = self._db.execute(
            "SELECT payload FROM objects WHERE store = ? AND key = ?", (obj.store, obj.key)
        ).fetchone()
        return None if row is None else row[0]

    def export_inventory(self) -> dict[str, Any]:
        """The whole store as a portable inventory (spec §4.1), in one snapshot."""
        with self._read() as db:
            return {
                "tenants": read_tenants(
                    db, [r[0] for r in db.execute("SELECT id FROM tenants ORDER BY id")]
                ),
                "objects": read_objects(db, "1 = 1", ()),
            }

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice (``InventoryReader.read_slice``), in one snapshot."""
        with self._read() as db:
            return read_slice(db, tenant)

    def read_counted_slice(self, tenant: str) -> CountedSlice:
        """The tenant's slice and its change counter, in one snapshot (rule 7)."""
        with self._read() as db:
            return CountedSlice(read_slice(db, tenant), _counter(db, tenant))

    @contextmanager
    def stream_counted_slice(self, tenant: str) -> Iterator[StreamedSlice]:
        """The tenant's slice as a stream and its counter, in one read transaction (rule 9).

        Args:
            tenant: the tenant's id.

        Yields:
            The streamed slice (``StreamedSlice``), valid until the block ends.
        """
        with self._read() as db:
            counter = _counter(db, tenant)
            record = read_tenant(db, tenant)
            shared = [] if record is None else read_shared(db, tenant)
            with streamed_slice(
                tenant, record, counter, shared, lambda: stream_objects(db, tenant)
            ) as streamed:
                yield streamed

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter now (rule 7): one row read, 0 when it has none."""
        return _counter(self._db, tenant)

    # -- purging -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, credentials: PrimaryCredentials) -> Iterator[_Transaction]:
        """A delete-capable write transaction; rolls back on any exception (rules 2 and 6).

        Args:
            credentials: the store's primary credentials, checked before ``BEGIN``.

        Yields:
            The transaction.

        Raises:
            CredentialError: not this store's primary credentials; nothing was opened.
        """
        self.verify_credentials(credentials)
        with self._write() as db:
            yield _Transaction(db)

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        """A read-only snapshot (rules 1 and 6): the connection refuses writes while it lasts."""
        self._db.execute("PRAGMA query_only = ON")
        try:
            with self._read() as db:
                yield _Snapshot(db)
        finally:
            self._db.execute("PRAGMA query_only = OFF")

    def record_receipt(  # noqa: PLR0913 -- one column each
        self,
        *,
        tenant: str,
        plan_digest: str,
        as_of: str,
        executed_at: str,
        purged: int,
        backup_due: str | None,
    ) -> None:
        """Record that a tenant's primary purge completed (the backup purge waits for it)."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO receipts VALUES (?, ?, ?, ?, ?, ?)",
                (tenant, plan_digest, as_of, executed_at, purged, backup_due),
            )

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The primary-purge receipts of a tenant."""
        rows = self._db.execute(
            "SELECT plan_digest, as_of, executed_at, purged, backup_due FROM receipts"
            " WHERE tenant = ? ORDER BY executed_at",
            (tenant,),
        ).fetchall()
        keys = ("plan_digest", "as_of", "executed_at", "purged", "backup_due")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- restore archives and manual plans -----------------------------------------------------

    def add_archive(self, record: dict[str, Any]) -> None:
        """Record a restore archive."""
        columns = ", ".join(record)
        marks = ", ".join("?" for _ in record)
        with self._write() as db:
            db.execute(
                f"INSERT INTO archives ({columns}) VALUES ({marks})",  # noqa: S608 -- our own keys
                tuple(record.values()),
            )

    def archives(self) -> list[dict[str, Any]]:
        """Every archive record, oldest first."""
        cursor = self._db.execute("SELECT * FROM archives ORDER BY created_at, archive_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def archive(self, archive_id: str) -> dict[str, Any] | None:
        """One archive record."""
        return next((a for a in self.archives() if a["archive_id"] == archive_id), None)

    def mark_archive(self, archive_id: str, **changes: str) -> None:
        """Set ``restored_at`` or ``removed_at`` of an archive."""
        for column, value in changes.items():
            if column not in {"restored_at", "removed_at"}:
                msg = f"unknown archive column {column}"
                raise ValueError(msg)
            with self._write() as db:
                db.execute(
                    f"UPDATE archives SET {column} = ? WHERE archive_id = ?",  # noqa: S608 -- checked above
                    (value, archive_id),
                )

    def add_plan(self, record: dict[str, Any]) -> None:
        """Record a manual plan."""
        with self._write() as db:
            db.execute(
                "INSERT INTO plans (plan_id, tenant, path, digest, author, created_at)"
                " VALUES (:plan_id, :tenant, :path, :digest, :author, :created_at)",
                record,
            )

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        """One manual plan's record."""
        cursor = self._db.execute("SELECT * FROM plans WHERE plan_id = ?", (plan_id,))
        row = cursor.fetchone()
        return (
            None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))
        )

    def plans(self) -> list[dict[str, Any]]:
        """Every manual plan's record, oldest first."""
        cursor = self._db.execute("SELECT * FROM plans ORDER BY created_at, plan_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def mark_plan(self, plan_id: str, **changes: str) -> None:
        """Record a plan's execution or restore (who, when, which archive)."""
        allowed = {"executed_at", "executed_by", "archive_id", "restored_at", "restored_by"}
        with self._write() as db:
            for column, value in changes.items():
                if column not in allowed:
                    msg = f"unknown plan column {column}"
                    raise ValueError(msg)
                db.execute(
                    f"UPDATE plans SET {column} = ? WHERE plan_id = ?",  # noqa: S608 -- checked above
                    (value, plan_id),
                )

    # -- fleet safe mode and runs (``arbiter.purge.safemode``) -------------------------------

    def active_trip(self) -> dict[str, Any] | None:
        """The safe-mode trip that holds the fleet, or None (``SafeModeStore``)."""
        cursor = self._db.execute("SELECT * FROM safe_mode_trips WHERE reset_at IS NULL")
        row = cursor.fetchone()
        return None if row is None else _trip(cursor, row)

    def trips(self) -> list[dict[str, Any]]:
        """Every safe-mode trip, oldest first (``SafeModeStore``)."""
        cursor = self._db.execute("SELECT * FROM safe_mode_trips ORDER BY tripped_at, trip_id")
        return [_trip(cursor, row) for row in cursor.fetchall()]

    def add_trip(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Record a trip unless one is active; return the active trip (``SafeModeStore``)."""
        with self._write() as db:
            cursor = db.execute("SELECT * FROM safe_mode_trips WHERE reset_at IS NULL")
            row = cursor.fetchone()
            if row is not None:
                return _trip(cursor, row)
            db.execute(
                "INSERT INTO safe_mode_trips (trip_id, tripped_at, kind, reason, as_of, tenants,"
                " counts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record["trip_id"],
                    record["tripped_at"],
                    record["kind"],
                    record["reason"],
                    record["as_of"],
                    json.dumps(list(record["tenants"])),
                    json.dumps(dict(record["counts"]), sort_keys=True),
                ),
            )
        return dict(record)

    def clear_trip(self, trip_id: str, *, reset_at: str, reset_by: list[str], reason: str) -> bool:
        """Mark the active trip ``trip_id`` reset; False if it is not the active trip."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE safe_mode_trips SET reset_at = ?, reset_by = ?, reset_reason = ?"
                " WHERE trip_id = ? AND reset_at IS NULL",
                (reset_at, json.dumps(reset_by), reason, trip_id),
            )
            return cursor.rowcount == 1

    def record_run(
        self, as_of: str, as_of_epoch: float, ran_at: str, ran_at_epoch: float, *, sane: bool
    ) -> tuple[int, float | None, float | None]:
        """Record a run; return its id and the latest as_of and ran_at of the sane runs before it.

        Read and written in one write transaction, so two runners see each other's runs.
        """
        with self._write() as db:
            row = db.execute(
                "SELECT MAX(as_of_epoch), MAX(ran_at_epoch) FROM runs WHERE sane = 1"
            ).fetchone()
            cursor = db.execute(
                "INSERT INTO runs (as_of, as_of_epoch, ran_at, ran_at_epoch, sane)"
                " VALUES (?, ?, ?, ?, ?)",
                (as_of, as_of_epoch, ran_at, ran_at_epoch, int(sane)),
            )
            run_id = cursor.lastrowid
        return int(run_id or 0), row[0], row[1]

    def mark_run_insane(self, run_id: int) -> None:
        """A run tripped the clock check: no later run is compared with it."""
        with self._write() as db:
            db.execute("UPDATE runs SET sane = 0 WHERE run_id = ?", (run_id,))

    def store_clock(self) -> datetime | None:
        """None: an embedded store has no clock of its own (``SafeModeStore.store_clock``)."""
        return None

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        cursor = self._db.execute("SELECT run_id, as_of, ran_at, sane FROM runs ORDER BY run_id")
        return [
            {"run_id": r[0], "as_of": r[1], "ran_at": r[2], "sane": bool(r[3])}
            for r in cursor.fetchall()
        ]

    # -- purge journals (``arbiter.purge.journal``) -------------------------------------------

    def open_journal(self, record: Mapping[str, Any]) -> None:
        """Record a new purge journal (state ``open``)."""
        columns = ", ".join(record)
        marks = ", ".join("?" for _ in record)
        with self._write() as db:
            db.execute(
                f"INSERT INTO journals ({columns}) VALUES ({marks})",  # noqa: S608 -- our own keys
                tuple(record.values()),
            )

    def add_journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a journal step in its own durable transaction."""
        with self._write() as db:
            _add_step(db, purge_id, step, data)

    def close_journal(self, purge_id: str, state: str, finished_at: str) -> None:
        """Finish a journal (``done``, ``refused``, ``abandoned``, ``restored``...)."""
        with self._write() as db:
            db.execute(
                "UPDATE journals SET state = ?, finished_at = ? WHERE purge_id = ?",
                (state, finished_at, purge_id),
            )

    def journals(self, *, unfinished: bool = False) -> list[dict[str, Any]]:
        """Journal records, oldest first; only the unfinished ones when asked."""
        where = "WHERE finished_at IS NULL" if unfinished else ""
        cursor = self._db.execute(
            f"SELECT * FROM journals {where} ORDER BY started_at, purge_id"  # noqa: S608 -- constant
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def journal_steps(
        self, purge_id: str, *, only: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """A journal's steps, in order: ``{"step": ..., "data": {...}}``; only ``only``'s."""
        steps = "" if only is None else f" AND step IN ({','.join('?' * len(only))})"
        rows = self._db.execute(
            f"SELECT step, data FROM journal_steps WHERE purge_id = ?{steps} ORDER BY seq",  # noqa: S608 -- placeholders only
            (purge_id, *(only or ())),
        ).fetchall()
        return [{"step": step, "data": json.loads(data)} for step, data in rows]

    def object_rows(self, ids: list[ObjectId]) -> dict[ObjectId, str]:
        """The owning tenant of each of ``ids`` that has a row now."""
        return {obj: state.tenant for obj, state in _Reads(self._db).objects(ids).items()}

    # -- the audit head (rule 5) ---------------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        """A value of the meta table."""
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        """Set a value of the meta table, durably.

        Raises:
            UsageError: ``name`` is the credentials record (``record_primary_credentials``).
        """
        if name == CREDENTIALS_META:
            raise UsageError(f"{name} is set once, by record_primary_credentials")
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


def _add_step(db: sqlite3.Connection, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
    seq = db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM journal_steps WHERE purge_id = ?", (purge_id,)
    ).fetchone()[0]
    db.execute(
        "INSERT INTO journal_steps (purge_id, seq, step, data) VALUES (?, ?, ?, ?)",
        (purge_id, seq, step, json.dumps(dict(data), sort_keys=True)),
    )


def _trip(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip([d[0] for d in cursor.description], row, strict=True))
    record["tenants"] = json.loads(record["tenants"])
    record["counts"] = json.loads(record["counts"])
    record["reset_by"] = json.loads(record["reset_by"]) if record["reset_by"] else None
    return record
