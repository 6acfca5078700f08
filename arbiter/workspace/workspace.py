"""A workspace: ``twinpurge.toml`` plus the embedded store, blob directory, audit log and alerts.

Rules:

1. ``Workspace.create`` writes the config and creates an empty store; it refuses a directory that
   already holds a config (nothing is overwritten).
2. Loading an inventory validates it exactly as planning does: both planners must accept the store's
   content together with the new inventory, under the workspace policy; blob keys are checked
   against path traversal; then everything is inserted in one transaction, or nothing is.
3. The workspace policy is validated by both planners when the workspace opens.
4. Every import, plan, agreement, refusal, batch, guard and alert is appended to the audit log,
   whose head is kept in the store.
5. Deleting needs the primary credentials (``arbiter.auth.credentials``): ``create`` generates them,
   writes them to their own owner-only file (never into ``twinpurge.toml``) and records their
   SHA-256 in the store; ``open`` checks credentials it is given against that record. Without
   them a workspace plans, dry-runs, exports and verifies, and every operation that can delete
   or overwrite primary data (a purge, ``run_due``, a manual execution or restore, an import,
   removing archives) raises ``CredentialError`` before touching anything. This module never
   imports the backup site (import-linter enforces it).
6. The delete-capable objects are capabilities, handed out only for checked credentials:
   ``purger`` (a ``Purger`` over ``SqliteStore.purge_target`` and ``BlobDirectory.authorize``)
   raises ``CredentialError`` without them; ``planner`` is the credential-free ``Purger`` for
   planning and dry runs, over a read-only target and a blob directory that cannot delete.
7. The audit log is checked before anything can be deleted (``check_audit``): every operation
   that needs the credentials (rule 5) and every dry run (``run_due``, ``purge_tenant``) first
   recovers a crashed append (``arbiter.audit.log``, rule 11) and then verifies the whole log.
   Dry runs too: they delete nothing, but they append records, and a log that fails
   verification is not extended. A failure raises ``AuditTamperedError`` naming the record, after
   an ``audit-tampered`` alert to every sink (not recorded in the log, which cannot be trusted);
   a recovery sends an ``audit-recovered`` alert. A log verified once is not read again while its
   file and head are unchanged (same inode, size, modification time and head).
8. Every run that can delete (``run_due``, ``purge_tenant``; manual execution and restore in
   ``arbiter.manual``) first recovers unfinished purge journals (``recover_purges``,
   ``arbiter.purge.recovery``), so a crashed purge is finished, from its own plan file, before
   anything new is planned.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.configured import alerter_for
from arbiter.alerts.model import Alert
from arbiter.audit.log import AuditHead, AuditLog
from arbiter.auth.approvals import parse_public_key
from arbiter.auth.credentials import (
    PrimaryCredentials,
    check_domain_available,
    generate_primary_credentials,
    new_primary_credentials,
    require_primary,
    write_primary_credentials,
)
from arbiter.core.arbitrate import Planner
from arbiter.core.config import CONFIG_NAME, WorkspaceConfig, load_config, render_config
from arbiter.core.errors import AuditTamperedError, InputError, RefusedError, UsageError
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.loading import InventoryStream
from arbiter.durable.files import create, remove
from arbiter.purge.archive import write_archive
from arbiter.purge.journal import JournalState
from arbiter.purge.purger import FleetReport, PurgeOutcome, Purger
from arbiter.purge.recovery import Recovery, RecoveryReport
from arbiter.purge.safemode import SafeMode
from arbiter.purge.shard import Shard, ShardedReader
from arbiter.purge.streaming import StreamPlanner
from arbiter.stores.blobs import BlobDirectory
from arbiter.stores.locks import FileTenantLocks
from arbiter.stores.ports import PrimaryStore, TenantLocks
from arbiter.stores.postgres.locks import PostgresTenantLocks
from arbiter.stores.postgres.schema import provision, role_passwords
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import CREDENTIALS_META, SqliteStore
from arbiter.workspace.importing import (
    DEFAULT_CHUNK,
    PayloadSource,
    chunked,
    directory_payloads,
    import_chunks,
    mapping_payloads,
    validate_inventory,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from arbiter.core.verdict import ObjectId

# ``validate_inventory`` is re-exported for older importers; it lives in
# ``arbiter.workspace.importing``.
__all__ = ["CREDENTIALS_META", "Workspace", "validate_inventory"]

_HEAD = "audit_head"


class _Archives:
    """Restore archives in the workspace's archive directory, recorded in the store."""

    def __init__(self, directory: Path, store: PrimaryStore, clock: Callable[[], datetime]) -> None:
        self._directory = directory
        self._store = store
        self._clock = clock

    def archive(
        self,
        *,
        tenant: str,
        plan_digest: str,
        backup_due: str | None,
        entries: Iterable[tuple[dict[str, Any], bytes | None]],
        plan_id: str | None,
    ) -> tuple[str, int]:
        archive_id = uuid.uuid4().hex[:16]
        created_at = format_instant(self._clock())
        path = self._directory / f"{archive_id}.jsonl.gz"
        header = {
            "archive_id": archive_id,
            "tenant": tenant,
            "plan_digest": plan_digest,
            "plan_id": plan_id,
            "backup_due": backup_due,
            "created_at": created_at,
        }
        written = write_archive(path, header, entries)
        self._store.add_archive(
            {
                "archive_id": archive_id,
                "tenant": tenant,
                "plan_digest": plan_digest,
                "plan_id": plan_id,
                "path": str(path),
                "sha256": written.sha256,
                "objects": written.count,
                "backup_due": backup_due,
                "created_at": created_at,
            }
        )
        return archive_id, written.count


class _StoreHeads:
    """The audit log's head, kept in the store (rule 4)."""

    def __init__(self, store: PrimaryStore) -> None:
        self._store = store

    def read_audit_head(self) -> AuditHead | None:
        raw = self._store.get_meta(_HEAD)
        if raw is None:
            return None
        data = json.loads(raw)
        return AuditHead(seq=int(data["seq"]), hash=str(data["hash"]))

    def write_audit_head(self, head: AuditHead) -> None:
        self._store.set_meta(_HEAD, json.dumps({"seq": head.seq, "hash": head.hash}))


def _open_store(config: WorkspaceConfig, credentials: PrimaryCredentials | None) -> PrimaryStore:
    """The configured primary store: PostgreSQL when the config names a URL, else SQLite."""
    if config.store.url is not None:
        # A server store logs in with roles derived from the credentials, even to read.
        return PostgresStore(config.store.url, credentials)
    return SqliteStore(config.path(config.store.database))


def _sharded(purger: Purger, shard: Shard | None) -> Purger:
    """``purger`` starting only ``shard``'s tenants (all of them without a shard)."""
    return (
        purger
        if shard is None
        else attrs.evolve(purger, reader=ShardedReader(purger.reader, shard))
    )


@attrs.define
class Workspace:
    """An opened workspace. Use ``Workspace.create`` or ``Workspace.open``; ``close`` when done."""

    config: WorkspaceConfig
    store: PrimaryStore
    blobs: BlobDirectory
    audit: AuditLog
    alerter: Alerter
    planners: tuple[Planner, Planner] | None = None
    clock: Callable[[], datetime] = utc_now
    # Called as (phase, done, total) while archiving, deleting and restoring (progress bars).
    on_progress: Callable[[str, int, int], None] | None = None
    # Delete-capable access (rule 5); None opens the workspace for reading and planning only.
    credentials: PrimaryCredentials | None = None
    # The planners of a streamed purge (purger rule 15), each in its own process; A and B if None.
    stream_planners: tuple[StreamPlanner, StreamPlanner] | None = attrs.field(
        default=None, kw_only=True
    )
    # The log's (inode, size, mtime, head) when it last verified (rule 7).
    _audit_checked: tuple[int, int, int, AuditHead | None] | None = attrs.field(
        default=None, init=False, repr=False
    )

    @classmethod
    def create(
        cls,
        directory: str | Path,
        config: WorkspaceConfig,
        *,
        credentials_path: str | Path | None = None,
        admin_url: str | None = None,
    ) -> Workspace:
        """Create a workspace: ``twinpurge.toml``, an empty store, primary credentials (rule 1, 5).

        With a PostgreSQL store (``config.store.url``), the reviewed script
        (``arbiter.stores.postgres.schema``) is run as the administrator first: schemas, tables
        and roles, and the primary domain's role passwords, derived from the new credentials.

        Args:
            directory: where to create it (created if missing).
            config: the configuration to write.
            credentials_path: where to write the new primary credentials (mode 600); by default
                ``DIRECTORY/credentials/primary.toml``. Keep the file where only the primary
                purge's account can read it.
            admin_url: a superuser URL of the PostgreSQL database (its password from the URL,
                ``PGPASSWORD`` or ``~/.pgpass``); required with a PostgreSQL store, refused with
                SQLite. Used once, never written anywhere.

        Returns:
            The opened workspace, holding its primary credentials.

        Raises:
            UsageError: the directory already holds a workspace, the credentials file exists,
                or ``admin_url`` is missing for PostgreSQL (or given for SQLite).
            InputError: the configuration's policy is rejected by the planners.
            CredentialDomainError: this process holds backup credentials (nothing is written).
            StoreConnectionError: the administrator cannot connect (a subclass says why); no
                file was written.
        """
        directory = Path(directory)
        path = directory / CONFIG_NAME
        secrets = Path(credentials_path or directory / "credentials" / "primary.toml")
        if path.exists():
            raise UsageError(f"{path} already exists; refusing to overwrite a workspace")
        if secrets.exists():
            raise UsageError(f"{secrets} already exists; refusing to overwrite credentials")
        if (config.store.url is None) != (admin_url is None):
            raise UsageError(
                "a PostgreSQL store needs the administrator's URL to create its roles"
                if admin_url is None
                else "an administrator's URL is for a PostgreSQL store; this one is SQLite"
            )
        check_domain_available("primary")
        credentials: PrimaryCredentials | None = None
        if config.store.url is not None and admin_url is not None:
            # The server first, before any file is written: a failure leaves nothing to undo.
            credentials = new_primary_credentials(secrets)
            provision(admin_url, role_passwords(credentials))
        directory.mkdir(parents=True, exist_ok=True)
        try:
            create(path, render_config(config))  # never over a config written meanwhile
        except FileExistsError as exc:
            raise UsageError(f"{path} already exists; refusing to overwrite a workspace") from exc
        cls.open(directory).close()  # the policy and the operators' keys, checked
        if credentials is None:
            credentials = generate_primary_credentials(secrets)
        else:
            write_primary_credentials(credentials, secrets)
        store = _open_store(load_config(directory), credentials)
        try:
            store.record_primary_credentials(credentials)
        finally:
            store.close()
        return cls.open(directory, credentials=credentials)

    @classmethod
    def open(
        cls,
        directory: str | Path,
        *,
        planners: tuple[Planner, Planner] | None = None,
        clock: Callable[[], datetime] = utc_now,
        credentials: PrimaryCredentials | None = None,
        stream_planners: tuple[StreamPlanner, StreamPlanner] | None = None,
    ) -> Workspace:
        """Open a workspace (rules 3 and 5).

        Args:
            directory: the workspace directory, or its ``twinpurge.toml``.
            planners: substitute planners (tests only).
            stream_planners: substitute planners of a streamed purge (tests only).
            clock: the source of "now".
            credentials: the primary credentials, checked against the store; without them the
                workspace cannot delete anything.

        Returns:
            The opened workspace.

        Raises:
            InputError: the config file is bad; ``file`` and ``field`` name the fault.
            CredentialError: ``credentials`` are not this workspace's primary credentials (or
                are backup credentials).
        """
        if credentials is not None:
            require_primary(credentials, purpose="opening a workspace with credentials")
        config = load_config(directory)
        config_file = str(config.directory / CONFIG_NAME)
        try:
            validate_inventory({"tenants": [], "objects": []}, config.policy, planners=planners)
        except InputError as exc:
            field = f"policy.{exc.field}" if exc.field else "policy"
            raise InputError(
                source="config", file=config_file, field=field, message=exc.message
            ) from None
        except RefusedError as exc:
            raise InputError(
                source="config",
                file=config_file,
                field="policy",
                message=f"the planners disagree on the policy: {exc.report.summary()}",
            ) from None
        for name, operator in config.operators.items():
            try:
                parse_public_key(operator.public_key, field=f"operators.{name}.public_key")
            except InputError as exc:
                raise exc.with_file(config_file) from None
        store = _open_store(config, credentials)
        if credentials is not None:
            try:
                store.verify_credentials(credentials)
            except BaseException:
                store.close()
                raise
        blobs = BlobDirectory(config.path(config.store.blobs), config.store.blob_stores)
        audit = AuditLog(config.path(config.audit.log), _StoreHeads(store))
        alerter = alerter_for(config)
        return cls(
            config,
            store,
            blobs,
            audit,
            alerter,
            planners,
            clock,
            credentials=credentials,
            stream_planners=stream_planners,
        )

    def require_credentials(self, purpose: str) -> PrimaryCredentials:
        """The primary credentials, checked against the store again (rule 5).

        Args:
            purpose: what needs them, for the message.

        Raises:
            CredentialError: the workspace was opened without them, or they no longer match.
        """
        credentials = require_primary(self.credentials, purpose=purpose)
        self.store.verify_credentials(credentials)
        self.check_audit()
        return credentials

    def check_audit(self, *, actor: str = "retention-service") -> int:
        """Recover a crashed append, then verify the whole audit log (rule 7).

        Args:
            actor: who asked, for an ``audit-recovered`` record.

        Returns:
            The number of records.

        Raises:
            AuditTamperedError: the log fails verification, naming the first bad record (seq and
                line); an ``audit-tampered`` alert went to every sink first.
            AuditError: the head store cannot be read.
            OSError: the log cannot be read or written.
        """
        state = self._audit_state()
        if state is not None and state == self._audit_checked:
            return state[3].seq + 1 if state[3] is not None else 0
        try:
            recovered = self.audit.recover(actor=actor)
            count = self.audit.verify()
        except AuditTamperedError as exc:
            self._alert_audit(
                "audit-tampered",
                f"the audit log fails verification; nothing is deleted until an operator "
                f"resolves it: {exc}",
                {"seq": exc.seq, "line": exc.line, "reason": exc.reason, "log": str(self._log)},
            )
            raise
        if recovered is not None:
            adopted = recovered.data["adopted"]
            self._alert_audit(
                "audit-recovered",
                f"an append crashed before moving the audit head; record {adopted['seq']} "
                f"({adopted['kind']}) was adopted, see record {recovered.seq}",
                {"recovered_seq": recovered.seq, "adopted": adopted, "log": str(self._log)},
            )
        self._audit_checked = self._audit_state()
        return count

    @property
    def _log(self) -> Path:
        return self.config.path(self.config.audit.log)

    def _audit_state(self) -> tuple[int, int, int, AuditHead | None] | None:
        """What tells a changed log from the one last verified (rule 7), or None if none."""
        try:
            stat = self._log.stat()
        except FileNotFoundError:
            return None
        head = _StoreHeads(self.store).read_audit_head()
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns, head)

    def _alert_audit(self, kind: str, message: str, details: dict[str, Any]) -> None:
        """Alert every sink; not through the audit log, which is the subject (rule 7)."""
        self.alerter.alert(Alert.create(kind, message, details=details, clock=self.clock))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Workspace:  # noqa: PYI034 -- attrs class; Self adds nothing here
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the store."""
        self.close()

    @property
    def purger(self) -> Purger:
        """The delete-capable purger over this workspace's stores (rule 6).

        Raises:
            CredentialError: the workspace was opened without its primary credentials, or they
                no longer match the store's record.
        """
        credentials = self.require_credentials("a purger that can delete")
        return Purger(
            reader=self.store,
            target=self.store.purge_target(credentials),
            policy=self.config.policy,
            limits=self.config.limits,
            audit=self.audit,
            alerter=self.alerter,
            blobs=self.blobs.authorize(credentials, self.store),
            planners=self.planners,
            clock=self.clock,
            on_receipt=self._receipt,
            archiver=_Archives(
                self.config.path(self.config.manual.archives), self.store, self.clock
            ),
            on_progress=self.on_progress,
            credentials=credentials,
            safe_mode=self.safe_mode,
            locks=self.locks,
            journal=self.store,
            journal_dir=self.journal_dir,
            temp_dirs=self.temp_dirs,
            stream_planners=self.stream_planners,
        )

    @property
    def journal_dir(self) -> Path:
        """Where purge plan files live (``arbiter.purge.journal``, rule 1)."""
        return self.config.directory / "journal"

    @property
    def temp_dirs(self) -> tuple[Path, ...]:
        """Where a crashed write can leave a temporary file of tenant data."""
        return (
            self.blobs.root,
            self.config.path(self.config.manual.archives),
            self.journal_dir,
        )

    @property
    def locks(self) -> TenantLocks:
        """The per-tenant locks every runner of this workspace takes.

        Lock files on this machine for SQLite (``arbiter.stores.locks``); advisory locks on the
        server for PostgreSQL (``arbiter.stores.postgres.locks``), held fleet-wide.
        """
        if isinstance(self.store, PostgresStore):
            return PostgresTenantLocks(self.store.open_connection)
        return FileTenantLocks(self.config.path(self.config.safe_mode.locks))

    @property
    def safe_mode(self) -> SafeMode:
        """Fleet safe mode over this workspace's store (``arbiter.purge.safemode``)."""
        return SafeMode(self.store, self.audit, self.alerter, self.config.safe_mode, self.clock)

    @property
    def planner(self) -> Purger:
        """A purger that plans and dry-runs only, needing no credentials (rule 6)."""
        return Purger(
            reader=self.store,
            target=self.store.read_target(),
            policy=self.config.policy,
            limits=self.config.limits,
            audit=self.audit,
            alerter=self.alerter,
            blobs=self.blobs,
            planners=self.planners,
            clock=self.clock,
            on_progress=self.on_progress,
            safe_mode=self.safe_mode,
            stream_planners=self.stream_planners,
        )

    def recover_purges(
        self,
        *,
        actor: str = "retention-service",
        exclude: frozenset[str] = frozenset(),
        only: str | None = None,
    ) -> RecoveryReport:
        """Complete unfinished purge journals (rule 8, ``arbiter.purge.recovery``).

        Args:
            actor: who runs it, for the audit log.
            exclude: purge ids to leave alone.
            only: recover this purge id alone.

        Returns:
            What was unfinished and what recovery did (empty when nothing was).

        Raises:
            CredentialError: no primary credentials (rule 5); nothing is done.
            AuditTamperedError: the audit log fails verification; nothing is done.
        """
        purger = self.purger
        return Recovery(
            purger,
            self.store,
            self._journal_receipt,
            in_safe_mode=lambda: self.safe_mode.active() is not None,
        ).complete_unfinished(actor=actor, exclude=exclude, only=only)

    def _purger_after_recovery(self, actor: str) -> tuple[Purger, RecoveryReport]:
        """Recover first (rule 8); tenants whose recovery could not finish are refused."""
        report = self.recover_purges(actor=actor)
        stuck = frozenset(j.tenant for j in report.journals if j.status in {"stopped", "omissions"})
        return attrs.evolve(self.purger, unfinished_tenants=stuck), report

    def _journal_receipt(self, state: JournalState, purged: int) -> None:
        """The receipt of a recovered journal: the automated one, or the manual plan's."""
        record = state.record
        if record["kind"] == "manual" and record["plan_id"]:
            self.manual_receipt(
                plan_id=record["plan_id"],
                tenant=record["tenant"],
                as_of=record["as_of"],
                purged=purged,
                archive_id=None if state.archive is None else state.archive[0],
                backup_due=record["backup_due"],
                plan_digest=record["plan_digest"],
                actor=record["actor"],
            )
            return
        self.purger.automated_receipt(
            record["tenant"],
            record["plan_digest"],
            record["as_of"],
            purged,
            record["backup_due"],
            actor=record["actor"],
        )

    def manual_receipt(  # noqa: PLR0913 -- what a manual receipt binds
        self,
        *,
        plan_id: str,
        tenant: str,
        as_of: str,
        purged: int,
        archive_id: str | None,
        backup_due: str | None,
        plan_digest: str,
        actor: str,
        approvers: tuple[str, ...] | None = None,
    ) -> None:
        """Mark a manual plan executed, record its receipt and its ``manual-executed`` record.

        Repeating it after a crash changes nothing in the store (only the audit record repeats).

        Args:
            plan_id: the plan.
            tenant: its tenant.
            as_of: its verdict's instant.
            purged: objects the plan deleted in all.
            archive_id: its restore archive.
            backup_due: its verdict's backup_due.
            plan_digest: its verdict's digest.
            actor: the executing operator.
            approvers: the operators whose approvals counted, when known.
        """
        now = format_instant(self.clock())
        self.store.mark_plan(
            plan_id, executed_at=now, executed_by=actor, archive_id=archive_id or ""
        )
        self.store.record_receipt(
            tenant=tenant,
            plan_digest=plan_digest,
            as_of=as_of,
            executed_at=now,
            purged=purged,
            backup_due=backup_due,
        )
        self.audit.append(
            "manual-executed",
            {
                "plan_id": plan_id,
                "tenant": tenant,
                "purged": purged,
                "archive_id": archive_id,
                "approvers": None if approvers is None else list(approvers),
            },
            actor=actor,
        )

    def _receipt(
        self, tenant: str, digest: str, as_of: str, purged: int, backup_due: str | None
    ) -> None:
        self.store.record_receipt(
            tenant=tenant,
            plan_digest=digest,
            as_of=as_of,
            executed_at=format_instant(self.clock()),
            purged=purged,
            backup_due=backup_due,
        )

    # -- loading -------------------------------------------------------------------------------

    def import_inventory(
        self,
        inventory: Mapping[str, Any],
        payloads: Mapping[ObjectId, bytes] | None = None,
        *,
        actor: str = "operator",
        file: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> int:
        """Load a portable inventory into the store (rule 2; ``arbiter.workspace.importing``).

        Args:
            inventory: the inventory as plain data.
            payloads: bytes per object: record payloads, or the files of blob objects; each
                must name an object of the inventory.
            actor: who loads it, for the audit log.
            file: the file it came from, for error messages.
            chunk_size: objects validated and inserted together.

        Returns:
            The number of objects loaded.

        Raises:
            InputError: bad input (including a traversal key, a duplicate of a stored identity,
                or a payload for an object the inventory does not list); nothing is loaded.
            RefusedError: the planners disagree on whether the input is valid.
            CredentialError: no primary credentials (rule 5); nothing is loaded.
            UsageError: ``chunk_size`` is not positive.
        """
        self.require_credentials("importing an inventory")
        _check_chunk_size(chunk_size)
        objects = inventory.get("objects")
        head = {k: v for k, v in inventory.items() if k != "objects" or not isinstance(v, list)}
        chunks = chunked(objects, chunk_size) if isinstance(objects, list) else None
        source, asked = mapping_payloads(payloads or {})

        def every_payload_asked() -> None:
            extra = sorted(set(payloads or {}) - asked)
            if extra:
                raise InputError(
                    source="payloads",
                    field=f"{extra[0].store}/{extra[0].key}",
                    message=f"a payload for an object the inventory does not list"
                    f" ({len(extra)} such payloads)",
                )

        return self._import(
            head,
            chunks,
            source,
            actor=actor,
            file=file,
            chunk_size=chunk_size,
            before_commit=every_payload_asked,
        )

    def import_file(
        self,
        path: str | Path,
        payloads: str | Path | None = None,
        *,
        actor: str = "operator",
        chunk_size: int = DEFAULT_CHUNK,
    ) -> int:
        """Load a portable inventory file, its objects streamed a chunk at a time (rule 2).

        Memory is bounded by a chunk and the tenants when the file lists its tenants before its
        objects, as ``export_inventory`` writes it (``arbiter.core.loading.InventoryStream``).

        Args:
            path: the inventory file (JSON, spec §4.1).
            payloads: a directory of payload files at ``STORE/KEY``; an object without a file
                there has no payload.
            actor: who loads it, for the audit log.
            chunk_size: objects validated and inserted together.

        Returns:
            The number of objects loaded.

        Raises:
            InputError: the file is unreadable or bad input, named with the file and field;
                nothing is loaded.
            RefusedError: the planners disagree on whether the input is valid.
            CredentialError: no primary credentials (rule 5); nothing is read.
            UsageError: ``chunk_size`` is not positive.
        """
        self.require_credentials("importing an inventory")
        _check_chunk_size(chunk_size)
        source = directory_payloads(Path(payloads)) if payloads is not None else _no_payloads
        with InventoryStream.open(path) as stream:
            chunks = stream.chunks(chunk_size) if stream.streamed else None
            return self._import(
                stream.head, chunks, source, actor=actor, file=str(path), chunk_size=chunk_size
            )

    def _import(  # noqa: PLR0913 -- an import's parts, as its two entry points give them
        self,
        head: Mapping[str, Any],
        chunks: Iterable[tuple[int, list[Any]]] | None,
        payloads: PayloadSource,
        *,
        actor: str,
        file: str | None,
        chunk_size: int,
        before_commit: Callable[[], None] | None = None,
    ) -> int:
        try:
            imported = import_chunks(
                self.store,
                self.blobs,
                head,
                chunks,
                payloads,
                policy=self.config.policy,
                planners=self.planners,
                before_commit=before_commit,
            )
        except InputError as exc:
            raise exc.with_file(file) from None
        self.audit.append(
            "import",
            {
                "tenants": imported.tenants,
                "objects": imported.objects,
                "file": file,
                "payloads": imported.payloads,
                "chunk_size": chunk_size,
            },
            actor=actor,
        )
        return imported.objects

    def export_inventory(self) -> dict[str, Any]:
        """The store's content as a portable inventory."""
        return self.store.export_inventory()

    # -- purging -------------------------------------------------------------------------------

    def purge_tenant(
        self,
        tenant: str,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        actor: str = "retention-service",
    ) -> PurgeOutcome:
        """Plan and purge one tenant (see ``Purger.purge_tenant``).

        Raises:
            CredentialError: not a dry run, and no primary credentials (rule 5).
            SafeModeError: not a dry run, and the fleet is in safe mode (nothing deleted).
        """
        if dry_run:
            self.check_audit(actor=actor)
            return self.planner.purge_tenant(tenant, as_of, dry_run=True, actor=actor)
        self.require_credentials("purging a tenant")
        purger, _recovered = self._purger_after_recovery(actor)
        return purger.purge_tenant(tenant, as_of, actor=actor)

    def run_due(
        self,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        progress: Callable[[str], None] | None = None,
        actor: str = "retention-service",
        shard: Shard | None = None,
    ) -> FleetReport:
        """Purge every due tenant (see ``Purger.run_due``), then remove expired archives.

        A run that ends in safe mode removes no archive: when in doubt, keep the data.

        Args:
            as_of: the instant of every verdict; now when omitted.
            dry_run: plan and check, delete nothing.
            progress: called with each tenant id once it is done.
            actor: who asked, for the audit log.
            shard: take only this shard's tenants (``arbiter.purge.shard``): N workers, each
                with its own ``K/N``, purge the fleet together.

        Returns:
            The fleet report (its ``shard`` set when one was given).

        Raises:
            CredentialError: not a dry run, and no primary credentials (rule 5).
            SafeModeError: not a dry run, and the fleet is in safe mode (nothing deleted).
        """
        if dry_run:
            self.check_audit(actor=actor)
            planner = _sharded(self.planner, shard)
            report = planner.run_due(as_of, dry_run=True, progress=progress, actor=actor)
            return attrs.evolve(report, shard=None if shard is None else str(shard))
        self.require_credentials("running the due purges")
        purger, recovered = self._purger_after_recovery(actor)
        report = _sharded(purger, shard).run_due(as_of, progress=progress, actor=actor)
        report = attrs.evolve(
            report,
            recovered=tuple(j.to_json() for j in recovered.journals),
            shard=None if shard is None else str(shard),
        )
        if report.safe_mode is None:
            self.expire_archives(actor=actor)
        return report

    def expire_archives(self, *, actor: str = "retention-service") -> list[str]:
        """Remove restore archives whose tenant's backup_due has passed.

        Rule 3 of ``arbiter.purge.archive``: an archive never outlives the backups of the data it
        protects. The plan files of finished purges go at the same time (rule 6 of
        ``arbiter.purge.journal``), each with a ``plan-file-removed`` audit record.

        Returns:
            The ids of the archives removed.

        Raises:
            CredentialError: no primary credentials (rule 5).
        """
        self.require_credentials("removing expired restore archives")
        now = self.clock()
        removed = []
        # An unfinished purge still needs its archive (recovery checks it first): kept.
        pending = {
            state.archive[0]
            for state in (
                JournalState.load(self.store, r) for r in self.store.journals(unfinished=True)
            )
            if state.archive is not None
        }
        for archive in self.store.archives():
            due = archive["backup_due"]
            if archive["removed_at"] or due is None or datetime.fromisoformat(due) > now:
                continue
            if archive["archive_id"] in pending:
                continue
            Path(archive["path"]).unlink(missing_ok=True)
            self.store.mark_archive(archive["archive_id"], removed_at=format_instant(now))
            self.audit.append(
                "archive-removed",
                {
                    "archive_id": archive["archive_id"],
                    "tenant": archive["tenant"],
                    "backup_due": due,
                },
                actor=actor,
            )
            removed.append(archive["archive_id"])
        self._expire_plan_files(now, actor)
        return removed

    def _expire_plan_files(self, now: datetime, actor: str) -> None:
        """A finished purge's plan file goes with its archive, at backup_due (journal rule 6)."""
        for record in self.store.journals():
            due = record["backup_due"]
            if record["finished_at"] is None or due is None or datetime.fromisoformat(due) > now:
                continue
            if remove(Path(record["plan_path"])):
                self.audit.append(
                    "plan-file-removed",
                    {
                        "purge_id": record["purge_id"],
                        "tenant": record["tenant"],
                        "backup_due": due,
                    },
                    actor=actor,
                )

    def verify_audit(self, *, actor: str = "operator") -> int:
        """Verify the audit log against the head in the store, after recovering a crash (rule 7).

        Args:
            actor: who asked, for an ``audit-recovered`` record.

        Returns:
            The number of records.

        Raises:
            AuditTamperedError: naming the first bad record (an alert went to every sink).
        """
        self._audit_checked = None  # asked for explicitly: read the whole log again
        return self.check_audit(actor=actor)


def _no_payloads(identities: list[ObjectId]) -> dict[ObjectId, bytes]:
    del identities
    return {}


def _check_chunk_size(size: int) -> None:
    if size < 1:
        raise UsageError(f"the chunk size must be positive, not {size}")
