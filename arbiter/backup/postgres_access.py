"""What the backup domain may do to a PostgreSQL primary store: read it, and put missing data back.

The PostgreSQL counterpart of ``primary_access`` (SQLite): the same two capabilities, each
connected as a role of the backup domain that the server lets do that and nothing else.

1. Each logs in as the backup domain's own role with the password the backup key derives
   (``BackupCredentials.role_password``, rule 6 of ``arbiter.auth.credentials``): never the
   primary credentials, never ``twinpurge.toml``. ``twinpurge backup init-roles``
   (``arbiter.backup.roles``) gives the roles those passwords. A refused password is a
   ``StoreLoginError`` (exit 7), one line naming the role and that command.
2. ``PostgresPrimaryReader`` logs in as ``twinpurge_snapshot``, which may read the primary data
   and the primary purges' receipts, nothing else (``arbiter.stores.postgres.schema`` rule 4).
   Every read runs in a ``REPEATABLE READ READ ONLY`` transaction: one consistent state, and the
   server refuses any write in it. ``consistent()`` keeps one such transaction across calls, so
   that a snapshot of every tenant reads one state of the store. Its SQL is
   ``arbiter.stores.postgres.rows``, the primary store's own: both domains read the same slice.
3. ``PostgresPrimaryRestorer`` logs in as ``twinpurge_restore``, which may insert the primary
   data and nothing else; it cannot even read a row. In one transaction it inserts the tenant
   and its events if the tenant is missing, then each object ``ON CONFLICT DO NOTHING`` (one
   statement each, pipelined: which rows went in is each statement's row count, since the role
   may not read them back), then the refs of the objects it inserted. A row already present is
   left exactly as it is, by the server. Blob files follow as for SQLite (``blob_files``).
4. The restore's record in the primary audit log: the head lives in ``twinpurge.meta``, on
   which the restore role has no privilege. It reads the head with ``twinpurge.audit_head()``
   and moves it with ``twinpurge.advance_audit_head(seq, hash)`` (``stores.postgres.heads``),
   two ``SECURITY DEFINER`` functions that the server lets move it forward by one or
   two records only (an append, or a crashed append's record and its ``audit-recovered``
   record): never back, never elsewhere. The restorer reads the head when it logs in, so a store
   whose script predates the functions is a ``UsageError`` before anything is inserted.
5. Neither this module nor anything it imports deletes primary data: it reaches the server
   through ``arbiter.stores.postgres.connection``, ``rows`` and ``heads`` only, never the
   primary store (``arbiter.stores.postgres.store``), which import-linter forbids. Connection
   failures are the project's errors (``StoreConnectionError``: exit 7, 8 or 9), one line each.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self, cast

from arbiter.audit.log import AuditHead, AuditLog
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.blob_files import blob_paths, read_blobs, write_missing_blobs
from arbiter.core.errors import StoreLoginError, UsageError
from arbiter.stores.postgres.connection import connect, store_errors
from arbiter.stores.postgres.heads import advance_head, read_head
from arbiter.stores.postgres.rows import (
    read_objects,
    read_receipts,
    read_slice,
    read_tenant_ids,
    read_tenants,
    tenant_state,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import LiteralString

    from arbiter.core.config import WorkspaceConfig
    from arbiter.stores.postgres.rows import Db

__all__ = [
    "RESTORE_ROLE",
    "SNAPSHOT_ROLE",
    "PostgresPrimaryReader",
    "PostgresPrimaryRestorer",
]

SNAPSHOT_ROLE = "twinpurge_snapshot"
RESTORE_ROLE = "twinpurge_restore"

_BEGIN_READ: LiteralString = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_BEGIN_WRITE: LiteralString = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
# ON CONFLICT without a conflict target: naming one (``ON CONFLICT (store, key)``) needs SELECT
# on its columns, which the restore role does not have; the primary key is the only unique index.
_INSERT_OBJECT: LiteralString = (
    "INSERT INTO twinpurge.objects"
    " (store, key, tenant, category, created_at, legal_hold, payload)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


def store_url(config: WorkspaceConfig) -> str:
    """The workspace's PostgreSQL store URL.

    Raises:
        UsageError: the workspace's primary store is SQLite (``primary_access`` reads it).
    """
    if config.store.url is None:
        raise UsageError(
            f"the primary store of {config.directory} is SQLite, not PostgreSQL"
            " ([store] url is not set)"
        )
    return config.store.url


def _login(url: str, credentials: BackupCredentials, role: str) -> Db:
    """An autocommit connection as ``role``, its password from the backup key (rule 1)."""
    try:
        db = cast("Db", connect(url, role=role, password=credentials.role_password(role)))
    except StoreLoginError as exc:
        raise StoreLoginError(
            store=exc.store,
            role=role,
            reason=f"{exc.reason}; the backup key sets the backup roles' passwords:"
            " twinpurge backup init-roles --admin-url ...",
        ) from exc
    db.autocommit = True  # transactions are begun explicitly, with their isolation level
    return db


class _Session:
    """One role's connection, and its explicit transactions (rules 2 and 3)."""

    def __init__(self, url: str, credentials: BackupCredentials, role: str) -> None:
        self.url = url
        self.role = role
        self.db = _login(url, credentials, role)

    @contextmanager
    def inside(self, begin: LiteralString) -> Iterator[Db]:
        """``begin``, then commit at the end; any exception rolls back."""
        with store_errors(self.url, role=self.role):
            self.db.execute(begin)
            try:
                yield self.db
            except BaseException:
                self._abort()
                raise
            self.db.execute("COMMIT")

    def _abort(self) -> None:
        """Roll back; a connection that cannot is closed (the server rolls its work back)."""
        if self.db.closed or self.db.broken:
            return
        try:
            self.db.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 -- the first error is the one to report
            self.db.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


class PostgresPrimaryReader:
    """Read-only access to a PostgreSQL primary store and its blob files (rule 2)."""

    def __init__(
        self,
        url: str,
        credentials: BackupCredentials,
        blobs: Path,
        blob_stores: tuple[str, ...],
    ) -> None:
        """Log in as ``twinpurge_snapshot`` with the backup key's password for it.

        Args:
            url: the store URL, without user or password.
            credentials: the backup key.
            blobs: the blob directory.
            blob_stores: the stores whose objects are files under ``blobs``.

        Raises:
            CredentialError: not backup credentials.
            StoreConnectionError: the login failed (``StoreLoginError``: exit 7; the others say
                why).
        """
        credentials = require_backup(credentials, purpose="reading the primary store")
        self._session = _Session(url, credentials, SNAPSHOT_ROLE)
        self._blobs = blobs
        self._blob_stores = frozenset(blob_stores)
        self._held = False
        self.url = url

    @classmethod
    def of(cls, config: WorkspaceConfig, credentials: BackupCredentials) -> PostgresPrimaryReader:
        """The reader of a PostgreSQL workspace's primary store.

        Raises:
            UsageError: the workspace's store is SQLite.
            CredentialError: not backup credentials.
            StoreConnectionError: the login failed.
        """
        return cls(
            store_url(config),
            credentials,
            config.path(config.store.blobs),
            config.store.blob_stores,
        )

    def close(self) -> None:
        """Close the connection."""
        self._session.close()

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the connection."""
        self.close()

    @contextmanager
    def consistent(self) -> Iterator[None]:
        """Every read inside the block sees one state of the store (one transaction)."""
        if self._held:
            yield
            return
        with self._session.inside(_BEGIN_READ):
            self._held = True
            try:
                yield
            finally:
                self._held = False

    @contextmanager
    def _read(self) -> Iterator[Db]:
        """A read-only transaction, or the one ``consistent`` holds."""
        if self._held:
            with store_errors(self.url, role=SNAPSHOT_ROLE):
                yield self._session.db
            return
        with self._session.inside(_BEGIN_READ) as db:
            yield db

    def tenant_ids(self) -> list[str]:
        """Every tenant id, sorted."""
        with self._read() as db:
            return read_tenant_ids(db)

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice, exactly as ``PostgresStore.read_slice`` gives it, in one snapshot."""
        with self._read() as db:
            return read_slice(db, tenant)

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        """(legal_hold, [(kind, at), ...]) of the tenant as stored now, or None."""
        with self._read() as db:
            return tenant_state(db, tenant)

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's primary purge receipts (``PostgresStore.receipts``), oldest first."""
        with self._read() as db:
            return read_receipts(db, tenant)

    def tenant_content(self, tenant: str) -> dict[str, Any] | None:
        """Everything of one tenant, for a backup generation; None if there is no such tenant.

        Returns:
            ``tenant``: the tenant record (id, events, legal_hold); ``objects``: its full rows
            (payload as bytes or None, refs, and ``blob``: the file's bytes for blob stores).
        """
        with self._read() as db:
            found = read_tenants(db, [tenant])
            if not found:
                return None
            rows = read_objects(db, "tenant", {"tenant": tenant}, payloads=True)
        read_blobs(rows, self._blobs, self._blob_stores)
        return {"tenant": found[0], "objects": rows}


class _HeadFunctions:
    """The primary audit log's head, through the two functions the restore role may run (rule 4)."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    def read_audit_head(self) -> AuditHead | None:
        with store_errors(self._session.url, role=RESTORE_ROLE):
            found = read_head(self._session.db)
        return None if found is None else AuditHead(seq=found[0], hash=found[1])

    def write_audit_head(self, head: AuditHead) -> None:
        # Autocommit: the new head is committed (durable) when the call returns.
        with store_errors(self._session.url, role=RESTORE_ROLE):
            advance_head(self._session.db, head.seq, head.hash)


class PostgresPrimaryRestorer:
    """Insert-only access to a PostgreSQL primary store, for restoring a generation (rule 3)."""

    def __init__(self, config: WorkspaceConfig, credentials: BackupCredentials) -> None:
        """Log in as ``twinpurge_restore`` with the backup key's password for it.

        Raises:
            UsageError: the workspace's store is SQLite, or its script predates the audit head
                functions (``arbiter.stores.postgres.heads``); nothing was inserted.
            CredentialError: not backup credentials.
            StoreConnectionError: the login failed (``StoreLoginError``: exit 7).
        """
        credentials = require_backup(credentials, purpose="restoring into the primary store")
        self._session = _Session(store_url(config), credentials, RESTORE_ROLE)
        self._blobs = config.path(config.store.blobs)
        self._blob_stores = frozenset(config.store.blob_stores)
        heads = _HeadFunctions(self._session)
        try:
            heads.read_audit_head()  # a store without the head functions fails before inserting
        except BaseException:
            self._session.close()
            raise
        self.audit = AuditLog(config.path(config.audit.log), heads)

    def close(self) -> None:
        """Close the connection."""
        self._session.close()

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
            ``store/key`` of each row inserted, in the rows' order (a repeated identity counts
            once, its first row). Blob files of inserted rows are written after the transaction
            commits, never over an existing file.

        Raises:
            InputError: a blob key could escape the blob directory (nothing inserted).
        """
        files = blob_paths(rows, self._blobs, self._blob_stores)  # checked before any insert
        first: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            first.setdefault((row["store"], row["key"]), row)
        with self._session.inside(_BEGIN_WRITE) as db:
            _insert_tenant(db, tenant)
            with db.pipeline():
                sent = [
                    (row, db.execute(_INSERT_OBJECT, _object_params(row))) for row in first.values()
                ]
            inserted = [row for row, cursor in sent if cursor.rowcount == 1]
            _insert_refs(db, inserted)
        write_missing_blobs(inserted, files)
        return [f"{row['store']}/{row['key']}" for row in inserted]


def _insert_tenant(db: Db, tenant: dict[str, Any]) -> None:
    """The tenant and its events, if the tenant is missing; a present one stays as it is."""
    added = db.execute(
        "INSERT INTO twinpurge.tenants (id, legal_hold, has_hold_field) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (tenant["id"], bool(tenant.get("legal_hold", False)), "legal_hold" in tenant),
    ).rowcount
    if added != 1:
        return
    events = list(enumerate(tenant["events"]))
    db.execute(
        "INSERT INTO twinpurge.events (tenant, pos, kind, at)"
        " SELECT %s::text, * FROM unnest(%s::bigint[], %s::text[], %s::text[])",
        (
            tenant["id"],
            [pos for pos, _ in events],
            [e["kind"] for _, e in events],
            [e["at"] for _, e in events],
        ),
    )


def _object_params(row: dict[str, Any]) -> tuple[object, ...]:
    return (
        row["store"],
        row["key"],
        row["tenant"],
        row.get("category", "default"),
        row["created_at"],
        bool(row.get("legal_hold", False)),
        row["payload"],
    )


def _insert_refs(db: Db, inserted: list[dict[str, Any]]) -> None:
    """The refs of the objects just inserted, in their order, in one statement."""
    refs = [
        (row["store"], row["key"], pos, to_store, to_key)
        for row in inserted
        for pos, (to_store, to_key) in enumerate(row.get("refs", []))
    ]
    db.execute(
        "INSERT INTO twinpurge.refs (from_store, from_key, pos, to_store, to_key)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[])",
        tuple([ref[i] for ref in refs] for i in range(5)),
    )
