"""The PostgreSQL primary store: the ``PrimaryStore`` port over the schema of ``schema.SCRIPT``.

It behaves as the SQLite store (``arbiter.stores.sqlite``) does, method by method: the same
return shapes, errors, ordering and instants-as-text; the conformance suite
(``tests/arbiter/stores/test_conformance.py``) runs the same tests against both. Rules:

1. Two roles, two connections, both opened lazily on first use through
   ``connection.connect``: ``twinpurge_purge`` reads, deletes and keeps the books;
   ``twinpurge_import`` inserts data (``add_inventory``, ``restore_rows``). Their passwords are
   derived from the primary credentials (``PrimaryCredentials.role_password``), so a store
   without them cannot even read (``CredentialError`` naming ``TWINPURGE_PRIMARY_CREDENTIALS``)
   and backup credentials are refused as ``require_primary`` words it.
2. Write transactions mirror SQLite's ``BEGIN IMMEDIATE``: READ COMMITTED, and the first
   statement is ``LOCK TABLE twinpurge.objects, twinpurge.refs IN SHARE ROW EXCLUSIVE MODE``. No
   other writer of objects or refs runs until the commit (an insert waits), readers go on, and
   every read after the lock sees all that committed before it. ``record_run`` and ``add_trip``
   lock their own table the same way and read and write inside that transaction. Any
   exception rolls back; the block's normal end commits.
3. Snapshots (``snapshot``, ``read_target``), ``read_slice``, ``export_inventory`` and
   ``already_stored`` read in ``REPEATABLE READ READ ONLY`` transactions: one consistent state,
   and the server refuses a write in them.
4. Set-based: identity lists travel as two ``text[]`` parameters joined through
   ``unnest(%s::text[], %s::text[])``, one statement per call, each identity looked up by the
   primary key. ``delete`` is one statement per batch whose predicate holds the ownership
   (``... AND o.tenant = %s``); it finds the batch's rows by key and deletes them by ``ctid``, so
   a batch costs its own size, not its tenant's; it returns its rowcount, objects only (refs go
   by the foreign key's cascade). Slices and exports read their objects in one query and their
   refs in another, ordered, through server-side (named) cursors: the read SQL is ``rows``',
   which the backup domain's reader shares, so both read the same slice.
5. Orders are SQLite's: text sorts by ``COLLATE "C"`` (code points, as SQLite's ``BINARY`` and
   Python's ``sorted``), whatever the database's collation.
6. Deleting is a capability (rule 4 of ``arbiter.stores.ports``). The fingerprint of the primary
   credentials lives in ``twinpurge.primary_credentials``, which the purge role may insert once
   and never update or delete (``record_primary_credentials``; ``set_meta`` refuses its name).
   ``transaction``, ``purge_target`` and ``restore_rows`` check the credentials against it at
   every use, before anything is opened.
7. The driver's connection failures become the project's errors (``connection.store_errors``:
   ``StoreUnavailableError`` ...); a broken connection is closed and dropped, and the next call
   opens a new one. Statement errors (a permission refused, a constraint) pass through
   unchanged, except a unique violation in ``add_inventory``, which is ``InputError`` as in SQLite.
8. ``store_clock`` is the server's ``now()``: a database server has a clock of its own.
9. The per-tenant change counter (rule 7 of ``arbiter.stores.ports``) is kept by the server's
   triggers (rule 6 of ``schema``). Snapshots, ``read_counted_slice`` and ``change_counter``
   read ``twinpurge.change_counters``; a write transaction reads it through
   ``twinpurge.hold_change_counter``, which locks the tenant's counter row until the commit, so
   a concurrent change to the tenant (its row, events, objects, or a ref into it) waits for the
   batch: the objects and refs lock of rule 2 does not cover tenants and events. A writer that
   already changed the tenant and then waits for the objects lock deadlocks with the batch; the
   server aborts one of the two transactions, and an aborted batch deletes nothing.
10. A store provisioned by a script older than the counter (no ``change_counters`` table or no
    ``hold_change_counter`` function) is a ``UsageError`` at the first counter read, which
    comes before anything is deleted: it says to run the reviewed script again.
11. A streamed slice (``stream_counted_slice``, rule 8 of ``arbiter.stores.ports``) is read as
    the purge role, on the connection ``read_counted_slice`` uses, in one ``REPEATABLE READ
    READ ONLY`` transaction held for the block (writers go on; the block sees none of their
    commits): the counter, the tenant's record and ``shared`` first, then each pass over the
    objects through two server-side cursors of its own (rule 5 of ``rows``), ``FETCH`` rows per
    round trip. The cursors are closed before the transaction ends. While the block runs, that
    connection is in the transaction: the store's other reads made meanwhile read in it, and its
    writes refuse (``UsageError``: the transaction is open already).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from arbiter.auth.credentials import (
    PRIMARY_ENV,
    PrimaryCredentials,
    require_primary,
    verify_primary,
)
from arbiter.core.errors import CredentialError, InputError, StoreConnectionError, UsageError
from arbiter.core.verdict import ObjectId
from arbiter.stores.access import PurgeAccess, ReadAccess
from arbiter.stores.ports import CountedSlice, ObjectState, StreamedSlice
from arbiter.stores.postgres.connection import connect, redact, store_errors
from arbiter.stores.postgres.rows import (
    read_objects,
    read_receipts,
    read_shared,
    read_slice,
    read_tenant,
    read_tenant_ids,
    read_tenants,
    stream_objects,
    tenant_state,
)
from arbiter.stores.sqlite import CREDENTIALS_META
from arbiter.stores.streams import streamed_slice

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime
    from typing import LiteralString

__all__ = ["IMPORT_ROLE", "PURGE_ROLE", "PostgresStore", "PurgeAccess", "ReadAccess"]

PURGE_ROLE = "twinpurge_purge"
IMPORT_ROLE = "twinpurge_import"

_Db: TypeAlias = "psycopg.Connection[tuple[Any, ...]]"

_BEGIN_WRITE: LiteralString = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
_BEGIN_READ: LiteralString = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_LOCK_DATA: LiteralString = (
    "LOCK TABLE twinpurge.objects, twinpurge.refs IN SHARE ROW EXCLUSIVE MODE"
)
_LOCK_RUNS: LiteralString = "LOCK TABLE twinpurge.runs IN SHARE ROW EXCLUSIVE MODE"
_LOCK_TRIPS: LiteralString = "LOCK TABLE twinpurge.safe_mode_trips IN SHARE ROW EXCLUSIVE MODE"

_OBJECT_KEYS = ("store", "key", "tenant", "category", "created_at", "legal_hold")


def _pairs(ids: Iterable[ObjectId]) -> tuple[list[str], list[str]]:
    """Identities as the two ``text[]`` parameters of ``unnest`` (rule 4)."""
    stores: list[str] = []
    keys: list[str] = []
    for obj in ids:
        stores.append(obj.store)
        keys.append(obj.key)
    return stores, keys


@contextmanager
def _counter_provisioned() -> Iterator[None]:
    """Rule 10."""
    try:
        yield
    except (pgerrors.UndefinedTable, pgerrors.UndefinedFunction) as exc:
        raise UsageError(
            f"{exc.diag.message_primary}: the store was provisioned before the per-tenant change"
            " counter existed; run the reviewed script again as the administrator"
            " (docs/postgresql.md)"
        ) from exc


def _counter(db: _Db, tenant: str) -> int:
    """The tenant's change counter (rule 9): one row by its key, 0 when there is none."""
    with _counter_provisioned():
        row = db.execute(
            "SELECT n FROM twinpurge.change_counters WHERE tenant = %s", (tenant,)
        ).fetchone()
    return 0 if row is None else int(row[0])


class _Reads:
    """The primitive reads of a transaction on one connection (``PurgeReads``)."""

    def __init__(self, connection: _Db) -> None:
        self._db = connection

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter in this snapshot (rule 9)."""
        return _counter(self._db, tenant)

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        """(legal_hold, [(kind, at), ...]) of the tenant, or None if it does not exist."""
        return tenant_state(self._db, tenant)

    def objects(self, ids: list[ObjectId]) -> dict[ObjectId, ObjectState]:
        """The state of each object that exists among ``ids``, in one statement."""
        rows = self._db.execute(
            "SELECT o.store, o.key, o.tenant, o.category, o.legal_hold FROM twinpurge.objects o"
            " JOIN unnest(%s::text[], %s::text[]) AS i (store, key)"
            " ON o.store = i.store AND o.key = i.key",
            _pairs(ids),
        )
        return {
            ObjectId(store, key): ObjectState(owner, category, bool(hold))
            for store, key, owner, category, hold in rows
        }

    def referrers(self, ids: list[ObjectId]) -> set[ObjectId]:
        """Every object holding a ref to one of ``ids``, in one statement."""
        rows = self._db.execute(
            "SELECT r.from_store, r.from_key FROM twinpurge.refs r"
            " JOIN unnest(%s::text[], %s::text[]) AS i (store, key)"
            " ON r.to_store = i.store AND r.to_key = i.key",
            _pairs(ids),
        )
        return {ObjectId(store, key) for store, key in rows}

    def rows(self, ids: list[ObjectId]) -> list[dict[str, Any]]:
        """Full rows of the objects, in the order asked for, without those that are gone."""
        params = _pairs(ids)
        by_id: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self._db.execute(
            "SELECT o.store, o.key, o.tenant, o.category, o.created_at, o.legal_hold, o.payload"
            " FROM twinpurge.objects o"
            " JOIN (SELECT DISTINCT * FROM unnest(%s::text[], %s::text[])) AS i (store, key)"
            " ON o.store = i.store AND o.key = i.key",
            params,
        ):
            record = dict(zip((*_OBJECT_KEYS, "payload"), row, strict=True))
            record["legal_hold"] = bool(record["legal_hold"])
            record["refs"] = []
            by_id[(record["store"], record["key"])] = record
        for store, key, to_store, to_key in self._db.execute(
            "SELECT r.from_store, r.from_key, r.to_store, r.to_key FROM twinpurge.refs r"
            " JOIN (SELECT DISTINCT * FROM unnest(%s::text[], %s::text[])) AS i (store, key)"
            " ON r.from_store = i.store AND r.from_key = i.key"
            ' ORDER BY r.from_store COLLATE "C", r.from_key COLLATE "C", r.pos',
            params,
        ):
            by_id[(store, key)]["refs"].append([to_store, to_key])
        return [by_id[i] for i in ((o.store, o.key) for o in ids) if i in by_id]


class _Snapshot(_Reads):
    """A read-only snapshot for dry runs: REPEATABLE READ READ ONLY (rules 3 and 6)."""

    def delete(self, tenant: str, ids: list[ObjectId]) -> int:
        """Never deletes: a snapshot opened without credentials cannot.

        Raises:
            CredentialError: always.
        """
        del tenant, ids
        raise CredentialError(
            "primary", "deleting needs the primary credentials; this snapshot only reads"
        )

    def journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Never writes: a snapshot records no journal step.

        Raises:
            CredentialError: always.
        """
        del purge_id, step, data
        raise CredentialError(
            "primary", "journal steps are written with a delete; this snapshot only reads"
        )


class _Transaction(_Reads):
    """A delete-capable write transaction (``PurgeTransaction``), opened for checked credentials."""

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter, held until this transaction ends (rule 9)."""
        with _counter_provisioned():
            row = self._db.execute("SELECT twinpurge.hold_change_counter(%s)", (tenant,)).fetchone()
        return 0 if row is None else int(row[0])

    def journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a journal step in this transaction: it commits with the delete, or neither."""
        _add_step(self._db, purge_id, step, data)

    def delete(self, tenant: str, ids: list[ObjectId]) -> int:
        """Delete the rows matching identity *and* tenant in one statement; how many went.

        Args:
            tenant: the owner every deleted row must have (rule 4).
            ids: the identities of the batch.

        Returns:
            The number of objects deleted (their refs go by the cascade, uncounted).
        """
        stores, keys = _pairs(ids)
        # The rows are found by their key first, then deleted by their ctid (objects are locked
        # against every other writer, rule 2): joined directly, the planner hashes all of the
        # tenant's objects for every batch, so a batch would cost the tenant's size.
        cursor = self._db.execute(
            "DELETE FROM twinpurge.objects o WHERE o.ctid = ANY(ARRAY("
            "SELECT x.ctid FROM unnest(%s::text[], %s::text[]) AS i (store, key)"
            " JOIN twinpurge.objects x ON x.store = i.store AND x.key = i.key))"
            " AND o.tenant = %s",
            (stores, keys, tenant),
        )
        return cursor.rowcount


def _add_step(db: _Db, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
    db.execute(
        "INSERT INTO twinpurge.journal_steps (purge_id, seq, step, data)"
        " SELECT %s, COALESCE(MAX(seq), 0) + 1, %s, %s FROM twinpurge.journal_steps"
        " WHERE purge_id = %s",
        (purge_id, step, json.dumps(dict(data), sort_keys=True), purge_id),
    )


def _records(cursor: psycopg.Cursor[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every row of a ``SELECT *`` as a dict of its columns."""
    names = [column.name for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _trip(record: dict[str, Any]) -> dict[str, Any]:
    record["tenants"] = json.loads(record["tenants"])
    record["counts"] = json.loads(record["counts"])
    record["reset_by"] = json.loads(record["reset_by"]) if record["reset_by"] else None
    return record


class PostgresStore:
    """The PostgreSQL primary store (``PrimaryStore``): rules in the module docstring."""

    def __init__(self, url: str, credentials: PrimaryCredentials | None) -> None:
        """A store on the database ``url`` names; nothing is opened until first used (rule 1).

        Args:
            url: the store URL, without user or password (``postgresql://host:port/db``).
            credentials: the primary credentials its roles log in with, or None (then every
                method that needs the server raises ``CredentialError``).

        Raises:
            CredentialError: ``credentials`` are backup credentials.
        """
        self.url = url
        self._credentials = (
            None
            if credentials is None
            else require_primary(credentials, purpose="opening the PostgreSQL primary store")
        )
        self._connections: dict[str, _Db] = {}
        self._opened: list[_Db] = []

    # -- connections (rules 1 and 7) -----------------------------------------------------------

    def _password(self, role: str) -> str:
        if self._credentials is None:
            raise CredentialError(
                "primary",
                f"a PostgreSQL store needs the primary credentials to log in, even to read"
                f" ({redact(self.url)} as {role}): set {PRIMARY_ENV} to the primary credentials"
                " file (mode 600)",
            )
        return self._credentials.role_password(role)

    def _connection(self, role: str) -> _Db:
        """The open connection of ``role`` (autocommit), opened on first use."""
        db = self._connections.get(role)
        if db is not None and (db.closed or db.broken):
            self._drop(role)
            db = None
        if db is None:
            db = cast("_Db", connect(self.url, role=role, password=self._password(role)))
            db.autocommit = True
            self._connections[role] = db
        return db

    def _drop(self, role: str) -> None:
        db = self._connections.pop(role, None)
        if db is not None:
            db.close()

    @contextmanager
    def _errors(self, role: str) -> Iterator[None]:
        """The driver's connection failures as the project's errors; a broken connection goes."""
        try:
            with store_errors(self.url, role=role):
                yield
        except StoreConnectionError:
            db = self._connections.get(role)
            if db is not None and (db.closed or db.broken):
                self._drop(role)
            raise

    @contextmanager
    def _session(self, role: str = PURGE_ROLE) -> Iterator[_Db]:
        """``role``'s connection for statements that each commit on their own (autocommit)."""
        db = self._connection(role)
        with self._errors(role):
            yield db

    @contextmanager
    def _begin(self, role: str, begin: LiteralString, *first: LiteralString) -> Iterator[_Db]:
        """A transaction on ``role``'s connection: commit at the end, roll back on any exception."""
        db = self._connection(role)
        if db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise UsageError(f"{role}'s transaction on {redact(self.url)} is open already")
        with self._errors(role):
            db.execute(begin)
            try:
                for statement in first:
                    db.execute(statement)
                yield db
            except BaseException:
                self._rollback(role, db)
                raise
            db.execute("COMMIT")

    def _rollback(self, role: str, db: _Db) -> None:
        """Roll back; a connection that cannot is closed (the server rolls its work back)."""
        try:
            db.execute("ROLLBACK")
        except psycopg.Error:
            self._drop(role)

    def _write(self, *locks: LiteralString) -> AbstractContextManager[_Db]:
        """A write transaction as the purge role, locking objects and refs first (rule 2)."""
        return self._begin(PURGE_ROLE, _BEGIN_WRITE, *(locks or (_LOCK_DATA,)))

    def _read(self) -> AbstractContextManager[_Db]:
        """A consistent read-only transaction as the purge role (rule 3)."""
        return self._begin(PURGE_ROLE, _BEGIN_READ)

    def _idle(self) -> None:
        """Refuse to insert while this store's own purge transaction holds the lock (rule 2).

        The import connection would wait for that lock forever.
        """
        db = self._connections.get(PURGE_ROLE)
        if db is not None and db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise UsageError(f"a transaction of {redact(self.url)} is open; insert after it ends")

    def open_connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A new autocommit connection as the purge role (e.g. for advisory locks).

        Returns:
            The connection; ``close`` closes it too if the caller has not.

        Raises:
            CredentialError: the store has no credentials to log in with.
            StoreConnectionError: the server refused or cannot be reached.
        """
        db = cast("_Db", connect(self.url, role=PURGE_ROLE, password=self._password(PURGE_ROLE)))
        db.autocommit = True
        self._opened = [c for c in self._opened if not c.closed]
        self._opened.append(db)
        return db

    def close(self) -> None:
        """Close every connection the store opened."""
        for role in list(self._connections):
            self._drop(role)
        for db in self._opened:
            db.close()
        self._opened = []

    # -- the primary credentials (rule 6) ------------------------------------------------------

    def _recorded(self) -> str | None:
        with self._session() as db:
            row = db.execute(
                "SELECT value FROM twinpurge.primary_credentials WHERE name = %s",
                (CREDENTIALS_META,),
            ).fetchone()
        return None if row is None else str(row[0])

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
            cursor = db.execute(
                "INSERT INTO twinpurge.primary_credentials (name, value) VALUES (%s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (CREDENTIALS_META, credentials.fingerprint),
            )
            if cursor.rowcount != 1:
                raise UsageError(
                    f"{redact(self.url)} records primary credentials already; they are never"
                    " replaced"
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
        verify_primary(checked, self._recorded(), store=redact(self.url))
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

    # -- loading (the import role) -------------------------------------------------------------

    def add_inventory(
        self, inventory: Mapping[str, Any], payloads: Mapping[ObjectId, bytes] | None = None
    ) -> None:
        """Insert a validated portable inventory (spec §4.1) in one transaction, set-based.

        Args:
            inventory: plain data already accepted by both planners.
            payloads: record payloads by object identity (blob bytes go to the blob directory).

        Raises:
            InputError: an identity already exists; nothing is inserted.
            CredentialError: the store has no credentials to log in with.
            UsageError: this store's own transaction is open.
        """
        with self.loading() as load:
            load.add_tenants(inventory["tenants"])
            load.add_objects(inventory["objects"], payloads or {})

    @contextmanager
    def loading(self) -> Iterator[_Load]:
        """One import's write transaction as the import role, filled chunk by chunk (ports 9).

        Yields:
            The load: ``add_tenants``, ``add_objects`` and ``held`` in this transaction, which
            commits when the block ends and rolls back on any exception.

        Raises:
            CredentialError: the store has no credentials to log in with.
            UsageError: this store's own transaction is open.
        """
        self._idle()
        with self._begin(IMPORT_ROLE, _BEGIN_WRITE) as db:
            yield _Load(db)

    def restore_rows(
        self, credentials: PrimaryCredentials, rows: list[dict[str, Any]]
    ) -> list[ObjectId]:
        """Insert the archived rows that are missing, in one transaction of the import role.

        Args:
            credentials: the store's primary credentials (inserting is a primary-domain act).
            rows: archived rows (``PurgeReads.rows``' shape).

        Returns:
            The identities inserted, in the rows' order; a row whose identity exists is left
            exactly as it is (``ON CONFLICT DO NOTHING``).

        Raises:
            CredentialError: not this store's primary credentials; nothing was inserted.
            UsageError: this store's own transaction is open.
        """
        self.verify_credentials(credentials)
        self._idle()
        first: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            first.setdefault((row["store"], row["key"]), row)
        with self._begin(IMPORT_ROLE, _BEGIN_WRITE) as db:
            inserted = _insert_objects(
                db, [(row, row["payload"]) for row in first.values()], skip_existing=True
            )
        return [ObjectId(*identity) for identity in first if identity in inserted]

    def already_stored(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Which of these tenant ids and object identities the store holds already.

        One indexed statement for the objects and one for the tenants, in one snapshot.
        """
        with self._read() as db:
            return _held(db, tenants, objects)

    # -- reading -------------------------------------------------------------------------------

    def tenant_ids(self) -> list[str]:
        """Every tenant id, sorted."""
        with self._session() as db:
            return read_tenant_ids(db)

    def total_objects(self) -> int:
        """How many objects the store holds."""
        with self._session() as db:
            row = db.execute("SELECT count(*) FROM twinpurge.objects").fetchone()
        return int(row[0]) if row else 0

    def object_count(self, tenant: str) -> int:
        """How many objects the tenant owns now (0 for no such tenant)."""
        with self._session() as db:
            row = db.execute(
                "SELECT count(*) FROM twinpurge.objects WHERE tenant = %s", (tenant,)
            ).fetchone()
        return int(row[0]) if row else 0

    def payload(self, obj: ObjectId) -> bytes | None:
        """A record's payload, or None."""
        with self._session() as db:
            row = db.execute(
                "SELECT payload FROM twinpurge.objects WHERE store = %s AND key = %s",
                (obj.store, obj.key),
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def export_inventory(self) -> dict[str, Any]:
        """The whole store as a portable inventory (spec §4.1), in one snapshot."""
        with self._read() as db:
            return {
                "tenants": read_tenants(db, read_tenant_ids(db)),
                "objects": read_objects(db, "export", {}),
            }

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice (``InventoryReader.read_slice``), in one snapshot (rule 3).

        Its objects, then other tenants' objects holding a ref to one of them (each part ordered
        by identity), and those objects' tenants with the tenant, sorted.
        """
        with self._read() as db:
            return read_slice(db, tenant)

    def read_counted_slice(self, tenant: str) -> CountedSlice:
        """The tenant's slice and its change counter, in one snapshot (rules 3 and 9)."""
        with self._read() as db:
            return CountedSlice(read_slice(db, tenant), _counter(db, tenant))

    @contextmanager
    def stream_counted_slice(self, tenant: str) -> Iterator[StreamedSlice]:
        """The tenant's slice as a stream and its counter, in one snapshot (rule 11).

        Args:
            tenant: the tenant's id.

        Yields:
            The streamed slice (``StreamedSlice``), valid until the block ends.

        Raises:
            UsageError: this store's transaction is open already, or the store was provisioned
                before the counter (rule 10).
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
        """The tenant's change counter now (rule 9): one row read, 0 when it has none."""
        with self._session() as db:
            return _counter(db, tenant)

    # -- purging -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, credentials: PrimaryCredentials) -> Iterator[_Transaction]:
        """A delete-capable write transaction; rolls back on any exception (rules 2 and 6).

        Args:
            credentials: the store's primary credentials, checked before ``BEGIN``.

        Yields:
            The transaction, objects and refs locked against every other writer.

        Raises:
            CredentialError: not this store's primary credentials; nothing was opened.
        """
        self.verify_credentials(credentials)
        with self._write() as db:
            yield _Transaction(db)

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        """A read-only snapshot (rules 3 and 6): the server refuses writes while it lasts."""
        with self._read() as db:
            yield _Snapshot(db)

    # -- receipts ------------------------------------------------------------------------------

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
                "INSERT INTO twinpurge.receipts VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (tenant, plan_digest) DO UPDATE SET as_of = excluded.as_of,"
                " executed_at = excluded.executed_at, purged = excluded.purged,"
                " backup_due = excluded.backup_due",
                (tenant, plan_digest, as_of, executed_at, purged, backup_due),
            )

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The primary-purge receipts of a tenant, oldest first."""
        with self._session() as db:
            return read_receipts(db, tenant)

    # -- restore archives and manual plans -----------------------------------------------------

    def add_archive(self, record: dict[str, Any]) -> None:
        """Record a restore archive."""
        with self._write() as db:
            db.execute(_insert("archives", record), tuple(record.values()))

    def archives(self) -> list[dict[str, Any]]:
        """Every archive record, oldest first."""
        with self._session() as db:
            return _records(
                db.execute(
                    'SELECT * FROM twinpurge.archives ORDER BY created_at COLLATE "C",'
                    ' archive_id COLLATE "C"'
                )
            )

    def archive(self, archive_id: str) -> dict[str, Any] | None:
        """One archive record."""
        with self._session() as db:
            found = _records(
                db.execute("SELECT * FROM twinpurge.archives WHERE archive_id = %s", (archive_id,))
            )
        return found[0] if found else None

    def mark_archive(self, archive_id: str, **changes: str) -> None:
        """Set ``restored_at`` or ``removed_at`` of an archive, one transaction per column.

        Raises:
            ValueError: another column (the columns before it are set, as in SQLite).
        """
        for column, value in changes.items():
            if column not in {"restored_at", "removed_at"}:
                msg = f"unknown archive column {column}"
                raise ValueError(msg)
            with self._write() as db:
                db.execute(
                    sql.SQL("UPDATE twinpurge.archives SET {} = %s WHERE archive_id = %s").format(
                        sql.Identifier(column)
                    ),
                    (value, archive_id),
                )

    def add_plan(self, record: dict[str, Any]) -> None:
        """Record a manual plan."""
        with self._write() as db:
            db.execute(
                "INSERT INTO twinpurge.plans (plan_id, tenant, path, digest, author, created_at)"
                " VALUES (%(plan_id)s, %(tenant)s, %(path)s, %(digest)s, %(author)s,"
                " %(created_at)s)",
                record,
            )

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        """One manual plan's record."""
        with self._session() as db:
            found = _records(
                db.execute("SELECT * FROM twinpurge.plans WHERE plan_id = %s", (plan_id,))
            )
        return found[0] if found else None

    def plans(self) -> list[dict[str, Any]]:
        """Every manual plan's record, oldest first."""
        with self._session() as db:
            return _records(
                db.execute(
                    'SELECT * FROM twinpurge.plans ORDER BY created_at COLLATE "C",'
                    ' plan_id COLLATE "C"'
                )
            )

    def mark_plan(self, plan_id: str, **changes: str) -> None:
        """Record a plan's execution or restore (who, when, which archive), in one transaction.

        Raises:
            ValueError: an unknown column; nothing is changed.
        """
        allowed = {"executed_at", "executed_by", "archive_id", "restored_at", "restored_by"}
        with self._write() as db:
            for column, value in changes.items():
                if column not in allowed:
                    msg = f"unknown plan column {column}"
                    raise ValueError(msg)
                db.execute(
                    sql.SQL("UPDATE twinpurge.plans SET {} = %s WHERE plan_id = %s").format(
                        sql.Identifier(column)
                    ),
                    (value, plan_id),
                )

    # -- fleet safe mode and runs (``arbiter.purge.safemode``) -------------------------------

    def active_trip(self) -> dict[str, Any] | None:
        """The safe-mode trip that holds the fleet, or None (``SafeModeStore``)."""
        with self._session() as db:
            found = _records(
                db.execute("SELECT * FROM twinpurge.safe_mode_trips WHERE reset_at IS NULL")
            )
        return _trip(found[0]) if found else None

    def trips(self) -> list[dict[str, Any]]:
        """Every safe-mode trip, oldest first (``SafeModeStore``)."""
        with self._session() as db:
            found = _records(
                db.execute(
                    'SELECT * FROM twinpurge.safe_mode_trips ORDER BY tripped_at COLLATE "C",'
                    ' trip_id COLLATE "C"'
                )
            )
        return [_trip(record) for record in found]

    def add_trip(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Record a trip unless one is active; return the active trip (``SafeModeStore``).

        The trips' table is locked first (rule 2), so two runners never both record one.
        """
        with self._write(_LOCK_TRIPS) as db:
            found = _records(
                db.execute("SELECT * FROM twinpurge.safe_mode_trips WHERE reset_at IS NULL")
            )
            if found:
                return _trip(found[0])
            db.execute(
                "INSERT INTO twinpurge.safe_mode_trips (trip_id, tripped_at, kind, reason, as_of,"
                " tenants, counts) VALUES (%s, %s, %s, %s, %s, %s, %s)",
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
        with self._write(_LOCK_TRIPS) as db:
            cursor = db.execute(
                "UPDATE twinpurge.safe_mode_trips SET reset_at = %s, reset_by = %s,"
                " reset_reason = %s WHERE trip_id = %s AND reset_at IS NULL",
                (reset_at, json.dumps(reset_by), reason, trip_id),
            )
            return cursor.rowcount == 1

    def record_run(
        self, as_of: str, as_of_epoch: float, ran_at: str, ran_at_epoch: float, *, sane: bool
    ) -> tuple[int, float | None, float | None]:
        """Record a run; return its id and the latest as_of and ran_at of the sane runs before it.

        Read and written in one transaction that locks the runs first (rule 2), so two runners
        see each other's runs.
        """
        with self._write(_LOCK_RUNS) as db:
            row = db.execute(
                "SELECT max(as_of_epoch), max(ran_at_epoch) FROM twinpurge.runs WHERE sane"
            ).fetchone()
            inserted = db.execute(
                "INSERT INTO twinpurge.runs (as_of, as_of_epoch, ran_at, ran_at_epoch, sane)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING run_id",
                (as_of, as_of_epoch, ran_at, ran_at_epoch, sane),
            ).fetchone()
        latest_as_of, latest_ran_at = row or (None, None)
        return int(inserted[0] if inserted else 0), latest_as_of, latest_ran_at

    def mark_run_insane(self, run_id: int) -> None:
        """A run tripped the clock check: no later run is compared with it."""
        with self._write(_LOCK_RUNS) as db:
            db.execute("UPDATE twinpurge.runs SET sane = false WHERE run_id = %s", (run_id,))

    def store_clock(self) -> datetime | None:
        """The server's ``now()``, an aware datetime (rule 8; ``SafeModeStore.store_clock``)."""
        with self._session() as db:
            row = db.execute("SELECT now()").fetchone()
        return None if row is None else cast("datetime", row[0])

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        with self._session() as db:
            rows = db.execute(
                "SELECT run_id, as_of, ran_at, sane FROM twinpurge.runs ORDER BY run_id"
            ).fetchall()
        return [
            {"run_id": int(r[0]), "as_of": r[1], "ran_at": r[2], "sane": bool(r[3])} for r in rows
        ]

    # -- purge journals (``arbiter.purge.journal``) -------------------------------------------

    def open_journal(self, record: Mapping[str, Any]) -> None:
        """Record a new purge journal (state ``open``)."""
        with self._write() as db:
            db.execute(_insert("journals", record), tuple(record.values()))

    def add_journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a journal step in its own durable transaction."""
        with self._write() as db:
            _add_step(db, purge_id, step, data)

    def close_journal(self, purge_id: str, state: str, finished_at: str) -> None:
        """Finish a journal (``done``, ``refused``, ``abandoned``, ``restored``...)."""
        with self._write() as db:
            db.execute(
                "UPDATE twinpurge.journals SET state = %s, finished_at = %s WHERE purge_id = %s",
                (state, finished_at, purge_id),
            )

    def journals(self, *, unfinished: bool = False) -> list[dict[str, Any]]:
        """Journal records, oldest first; only the unfinished ones when asked."""
        with self._session() as db:
            return _records(
                db.execute(
                    "SELECT * FROM twinpurge.journals WHERE %s OR finished_at IS NULL"
                    ' ORDER BY started_at COLLATE "C", purge_id COLLATE "C"',
                    (not unfinished,),
                )
            )

    def journal_steps(
        self, purge_id: str, *, only: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """A journal's steps, in order: ``{"step": ..., "data": {...}}``; only ``only``'s."""
        with self._session() as db:
            rows = db.execute(
                "SELECT step, data FROM twinpurge.journal_steps WHERE purge_id = %s"
                " AND (%s::text[] IS NULL OR step = ANY(%s::text[])) ORDER BY seq",
                (
                    purge_id,
                    None if only is None else list(only),
                    None if only is None else list(only),
                ),
            ).fetchall()
        return [{"step": step, "data": json.loads(data)} for step, data in rows]

    def object_rows(self, ids: list[ObjectId]) -> dict[ObjectId, str]:
        """The owning tenant of each of ``ids`` that has a row now."""
        with self._session() as db:
            return {obj: state.tenant for obj, state in _Reads(db).objects(ids).items()}

    # -- the audit head ------------------------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        """A value of the meta table (the credentials' fingerprint comes from its own table)."""
        if name == CREDENTIALS_META:
            return self._recorded()
        with self._session() as db:
            row = db.execute("SELECT value FROM twinpurge.meta WHERE name = %s", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        """Set a value of the meta table, durably.

        Raises:
            UsageError: ``name`` is the credentials record (``record_primary_credentials``).
        """
        if name == CREDENTIALS_META:
            raise UsageError(f"{name} is set once, by record_primary_credentials")
        with self._write() as db:
            db.execute(
                "INSERT INTO twinpurge.meta (name, value) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


def _insert(table: str, record: Mapping[str, Any]) -> sql.Composed:
    """``INSERT INTO twinpurge.<table> (<the record's keys>) VALUES (%s, ...)``."""
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier("twinpurge", table),
        sql.SQL(", ").join(sql.Identifier(column) for column in record),
        sql.SQL(", ").join(sql.Placeholder() for _ in record),
    )


def _held(
    db: _Db, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Which of these tenant ids and identities ``db`` holds: one indexed statement each."""
    ids = [ObjectId(store, key) for store, key in objects]
    found_objects = {
        (s, k)
        for s, k in db.execute(
            "SELECT o.store, o.key FROM twinpurge.objects o"
            " JOIN unnest(%s::text[], %s::text[]) AS i (store, key)"
            " ON o.store = i.store AND o.key = i.key",
            _pairs(ids),
        )
    }
    found_tenants = {
        r[0]
        for r in db.execute(
            "SELECT id FROM twinpurge.tenants WHERE id = ANY(%s::text[])", (list(tenants),)
        )
    }
    return frozenset(found_tenants), frozenset(found_objects)


@contextmanager
def _conflicts() -> Iterator[None]:
    """A repeated identity, found by the server, as bad input (the transaction rolls back)."""
    try:
        yield
    except pgerrors.UniqueViolation as exc:
        reason = exc.diag.message_detail or exc.diag.message_primary or str(exc)
        raise InputError(
            source="inventory", field="", message=f"conflicts with the store: {reason}"
        ) from None


class _Load:
    """One import's write transaction as the import role (``InventoryLoad``, ports rule 9)."""

    def __init__(self, db: _Db) -> None:
        self._db = db

    def add_tenants(self, tenants: Sequence[Mapping[str, Any]]) -> None:
        """Insert tenant records and their events, set-based (``InputError`` on a repeat)."""
        with _conflicts():
            self._db.execute(
                "INSERT INTO twinpurge.tenants (id, legal_hold, has_hold_field)"
                " SELECT * FROM unnest(%s::text[], %s::boolean[], %s::boolean[])",
                (
                    [t["id"] for t in tenants],
                    [bool(t.get("legal_hold", False)) for t in tenants],
                    ["legal_hold" in t for t in tenants],
                ),
            )
            events = [(t["id"], i, e) for t in tenants for i, e in enumerate(t["events"])]
            self._db.execute(
                "INSERT INTO twinpurge.events (tenant, pos, kind, at)"
                " SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[])",
                (
                    [tid for tid, _, _ in events],
                    [pos for _, pos, _ in events],
                    [e["kind"] for _, _, e in events],
                    [e["at"] for _, _, e in events],
                ),
            )

    def add_objects(
        self, objects: Sequence[Mapping[str, Any]], payloads: Mapping[ObjectId, bytes]
    ) -> None:
        """Insert objects, their refs and record payloads, set-based (``InputError``: a repeat)."""
        with _conflicts():
            _insert_objects(
                self._db,
                [(o, payloads.get(ObjectId(o["store"], o["key"]))) for o in objects],
                skip_existing=False,
            )

    def held(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """What the store holds as this transaction sees it (its own rows included)."""
        return _held(self._db, tenants, objects)


def _insert_objects(
    db: _Db, rows: list[tuple[Mapping[str, Any], bytes | None]], *, skip_existing: bool
) -> set[tuple[str, str]]:
    """Insert objects and then the refs of those inserted, set-based; the identities inserted.

    With ``skip_existing`` an existing identity is left as it is (``ON CONFLICT DO NOTHING``);
    without, it is a unique violation.
    """
    statement: LiteralString = (
        "INSERT INTO twinpurge.objects"
        " (store, key, tenant, category, created_at, legal_hold, payload)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::boolean[], %s::bytea[])"
    )
    if skip_existing:
        statement += " ON CONFLICT (store, key) DO NOTHING"
    cursor = db.execute(
        statement + " RETURNING store, key",
        (
            [o["store"] for o, _ in rows],
            [o["key"] for o, _ in rows],
            [o["tenant"] for o, _ in rows],
            [o.get("category", "default") for o, _ in rows],
            [o["created_at"] for o, _ in rows],
            [bool(o.get("legal_hold", False)) for o, _ in rows],
            [payload for _, payload in rows],
        ),
    )
    inserted = {(store, key) for store, key in cursor.fetchall()}
    refs = [
        (o["store"], o["key"], pos, to_store, to_key)
        for o, _ in rows
        if (o["store"], o["key"]) in inserted
        for pos, (to_store, to_key) in enumerate(o.get("refs", []))
    ]
    db.execute(
        "INSERT INTO twinpurge.refs (from_store, from_key, pos, to_store, to_key)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[])",
        tuple([ref[i] for ref in refs] for i in range(5)),
    )
    return inserted
