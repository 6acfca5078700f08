"""The backup domain's work: snapshot, backup purge and restore (``twinpurge backup ...``).

Every function here takes ``BackupCredentials`` and never primary credentials: it reads the
primary store through ``PrimaryReader`` (read-only) and, for a restore, writes through
``PrimaryRestorer`` (insert-only). Nothing here can delete primary data.

The backup purge, per tenant with generations in the site, in this order:

1. Both planners plan the tenant from its slice, read read-only from the primary store, through
   the arbiter (``arbitrate``): a divergence, a rejection or a failure refuses, with an alert to
   every sink of the workspace and a record in the site's audit log, exactly as for primary
   data (spec §11 rule 9).
2. The agreed verdict decides: the backups are due when the tenant is eligible and ``as_of`` is
   not before its ``backup_due`` (not a microsecond earlier). Otherwise they are kept.
3. Guards that trust neither planner, each a refusal with an alert and an audit record:
   ``future-as-of`` (only a dry run may look ahead), ``tenant-missing``, ``tenant-hold`` and
   ``tenant-not-cancelled`` (the tenant as stored now, re-read; the latest lifecycle event of
   all, ties favouring reactivation, must be a cancellation), ``no-primary-receipt`` (the
   primary purge of this cancellation completed no later than ``as_of``: a receipt with
   ``as_of >= primary_due`` and ``executed_at <= as_of``), ``tampered`` (every generation to
   delete authenticates), ``retention-lock`` and ``count-mismatch``.
4. The generations deleted are those written no later than the latest such receipt that
   deleted something: they may hold purged data. Generations written after it hold only what the
   primary store still keeps (held, kept, retained or shared objects) and are left alone; so are
   all of them when the primary purge deleted nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.configured import alerter_for
from arbiter.auth.approvals import (
    Approval,
    check_approvals,
    load_private_key,
    parse_public_key,
    public_key_text,
    sign_approval,
)
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.primary_access import PrimaryReader, PrimaryRestorer
from arbiter.backup.store import BackupSite, Generation, GenerationInfo
from arbiter.core.arbitrate import Planner, arbitrate, fingerprint
from arbiter.core.canonical import canonical_digest
from arbiter.core.convert import strict_converter
from arbiter.core.errors import (
    ApprovalError,
    BackupTamperedError,
    GuardError,
    InputError,
    RetentionLockError,
    UsageError,
)
from arbiter.core.instants import format_instant, parse_instant, utc_now
from arbiter.core.loading import as_of_or_now, check_as_of, read_json_file
from arbiter.durable.files import atomic_write
from arbiter.purge import guards
from arbiter.purge.refusal import RefusalHandler, status_counts

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from arbiter.core.config import WorkspaceConfig
    from arbiter.core.verdict import Verdict

__all__ = [
    "BackupOutcome",
    "BackupPurgeReport",
    "BackupPurger",
    "BackupRestoreResult",
    "RestoreRequest",
    "RestoreRequestBody",
    "SnapshotReport",
    "approve_restore_request",
    "create_restore_request",
    "init_site",
    "list_backups",
    "open_site",
    "purge_backups",
    "read_restore_request",
    "restore_backup",
    "snapshot",
    "write_restore_request",
]

BackupStatus = Literal["executed", "dry-run", "kept", "refused", "failed"]
ACTOR = "backup-service"
REQUEST_FORMAT = "twinpurge-backup-restore-1"


def open_site(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> BackupSite:
    """The workspace's backup site, opened with the backup key (checked first)."""
    return BackupSite.open(config.path(config.backup.site), credentials, clock=clock)


def init_site(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> BackupSite:
    """Create the workspace's (empty) backup site for ``credentials``' key."""
    return BackupSite.create(config.path(config.backup.site), credentials, clock=clock)


# -- snapshot ----------------------------------------------------------------------------------


@attrs.frozen
class SnapshotReport:
    """What a snapshot wrote: one generation per tenant of the primary store."""

    at: str
    generations: tuple[GenerationInfo, ...]
    objects: int


def snapshot(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
    actor: str = ACTOR,
) -> SnapshotReport:
    """Write a new generation of every tenant, read read-only from the primary store.

    Args:
        config: the workspace configuration (primary store, site, retention lock).
        credentials: the backup key; nothing here needs, or could use, primary credentials.
        clock: the source of "now" (the generations' time).
        actor: who takes it, for the site's audit log.

    Returns:
        The generations written.

    Raises:
        CredentialError: not backup credentials, or not the site's key (nothing read).
        InputError: there is no primary store.
    """
    credentials = require_backup(credentials, purpose="a backup snapshot")
    site = open_site(config, credentials, clock=clock)
    moment = clock()
    written = []
    objects = 0
    with PrimaryReader.of(config) as reader:
        for tenant in reader.tenant_ids():
            content = reader.tenant_content(tenant)
            if content is None:  # removed since listed
                continue
            written.append(
                site.write(
                    tenant, content, lock_days=config.backup.retention_lock_days, created=moment
                )
            )
            objects += len(content["objects"])
    site.audit.append(
        "snapshot",
        {
            "at": format_instant(moment),
            "objects": objects,
            "generations": [[g.tenant, g.generation] for g in written],
        },
        actor=actor,
    )
    return SnapshotReport(format_instant(moment), tuple(written), objects)


def list_backups(
    config: WorkspaceConfig, credentials: BackupCredentials, *, tenant: str | None = None
) -> list[dict[str, Any]]:
    """Every generation (of one tenant, or of all), each authenticated.

    Returns:
        One entry per generation: tenant, generation, created_at, locked_until, objects, bytes.

    Raises:
        BackupTamperedError: a file fails authentication.
    """
    site = open_site(config, require_backup(credentials, purpose="listing backups"))
    found = []
    for name in [tenant] if tenant is not None else site.tenants():
        for info in site.generations(name):
            generation = site.read(info)
            found.append(
                {
                    "tenant": name,
                    "generation": info.generation,
                    "created_at": info.created_at,
                    "locked_until": generation.locked_until,
                    "objects": len(generation.objects),
                    "bytes": info.size,
                }
            )
    return found


# -- the backup purge ----------------------------------------------------------------------------


@attrs.frozen
class BackupOutcome:
    """What the backup purge did for one tenant.

    Attributes:
        status: ``executed`` (generations deleted), ``dry-run`` (would delete), ``kept`` (not
            due, with the reason), ``refused`` (divergence, bad input or a guard: nothing
            deleted), ``failed`` (an unexpected error: nothing deleted).
        generations: the generations deleted (or, for a dry run, that would be).
        primary_purged_at: when the primary purge this backup purge waited for completed.
    """

    tenant: str
    as_of: str
    status: BackupStatus
    message: str
    backup_due: str | None = None
    primary_purged_at: str | None = None
    generations: tuple[str, ...] = ()
    guard: str | None = None
    report_path: str | None = None


@attrs.frozen
class BackupPurgeReport:
    """What a backup purge did across the site."""

    as_of: str
    outcomes: tuple[BackupOutcome, ...]

    def counts(self) -> dict[str, int]:
        """How many tenants ended in each status."""
        return status_counts(o.status for o in self.outcomes)

    @property
    def purged(self) -> int:
        """Generations deleted across the site."""
        return sum(len(o.generations) for o in self.outcomes if o.status == "executed")


@attrs.define
class BackupPurger:
    """The backup purge of this module's docstring, over one site and one primary reader."""

    site: BackupSite
    reader: PrimaryReader
    policy: Mapping[str, Any]
    alerter: Alerter
    planners: tuple[Planner, Planner] | None = None
    clock: Callable[[], datetime] = utc_now

    @property
    def _refusals(self) -> RefusalHandler:
        """The one refusal handler (``arbiter.purge.refusal``), over the site's audit log."""
        return RefusalHandler(self.site.audit, self.alerter, domain="backup")

    def purge_tenant(
        self, tenant: str, as_of: str, *, dry_run: bool = False, actor: str = ACTOR
    ) -> BackupOutcome:
        """Decide and execute the backup purge of one tenant; never raises for a refusal.

        Returns:
            The outcome; a refusal deleted nothing, alerted every sink and is in the audit log.

        Raises:
            InputError: ``as_of`` is not an instant (spec §2.1); nothing is read or alerted.
        """
        check_as_of(as_of)
        try:
            return self._purge(tenant, as_of, dry_run=dry_run, actor=actor)
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            refusal = self._refusals.refuse(exc, tenant=tenant, as_of=as_of, actor=actor)
            return BackupOutcome(
                tenant,
                as_of,
                refusal.status,
                refusal.message,
                backup_due=_str_or_none(refusal.details.get("backup_due")),
                guard=refusal.guard,
                report_path=refusal.report_path,
            )

    def _purge(self, tenant: str, as_of: str, *, dry_run: bool, actor: str) -> BackupOutcome:
        inventory = self.reader.read_slice(tenant)
        if not inventory["tenants"]:
            raise GuardError("tenant-missing", tenant, "the tenant is not in the primary store", {})
        agreement = arbitrate(inventory, self.policy, tenant, as_of, planners=self.planners)
        verdict = agreement.verdict
        self.site.audit.append(
            "backup-agreement",
            {
                "tenant": tenant,
                "as_of": as_of,
                "eligible": verdict.eligible,
                "reason": verdict.reason,
                "primary_due": verdict.primary_due,
                "backup_due": verdict.backup_due,
                "versions": agreement.versions,
                "slice": fingerprint(inventory),
            },
            actor=actor,
        )
        kept = BackupOutcome(tenant, as_of, "kept", "", backup_due=verdict.backup_due)
        if not verdict.eligible or verdict.backup_due is None or verdict.primary_due is None:
            return attrs.evolve(kept, message=f"not eligible ({verdict.reason})")
        if parse_instant(as_of) < parse_instant(verdict.backup_due):
            return attrs.evolve(kept, message=f"backups not due until {verdict.backup_due}")
        purged_at, due = self._check(tenant, verdict, as_of, dry_run=dry_run)
        if purged_at is None:
            return attrs.evolve(
                kept, message="the primary purge deleted nothing, so no backup holds purged data"
            )
        if not due:
            return attrs.evolve(
                kept,
                message=f"no generation predates the primary purge of {purged_at}",
                primary_purged_at=purged_at,
            )
        ids = tuple(g.info.generation for g in due)
        base = attrs.evolve(kept, primary_purged_at=purged_at, generations=ids)
        if dry_run:
            plural = "" if len(ids) == 1 else "s"
            return attrs.evolve(
                base, status="dry-run", message=f"would delete {len(ids)} generation{plural}"
            )
        now = self.clock()
        deleted = 0
        for generation in due:
            try:
                self.site.delete(generation.info, now=now)
            except RetentionLockError as exc:
                raise GuardError(
                    "retention-lock",
                    tenant,
                    str(exc),
                    {
                        "generation": exc.generation,
                        "locked_until": exc.locked_until,
                        "deleted_before": deleted,
                    },
                    purged_before=deleted,
                ) from exc
            deleted += 1
        remaining = {g.generation for g in self.site.generations(tenant)}
        # A generation still there was not deleted, whatever the count says.
        guards.check_count(
            tenant,
            deleted - len(remaining & set(ids)),
            len(ids),
            f"deleted {deleted} generations of {len(ids)}",
            {"deleted": deleted, "planned": len(ids)},
        )
        self.site.audit.append(
            "backup-purged",
            {
                "tenant": tenant,
                "as_of": as_of,
                "backup_due": verdict.backup_due,
                "primary_purged_at": purged_at,
                "generations": list(ids),
            },
            actor=actor,
        )
        plural = "" if deleted == 1 else "s"
        return attrs.evolve(
            base, status="executed", message=f"deleted {deleted} generation{plural}"
        )

    def _check(
        self, tenant: str, verdict: Verdict, as_of: str, *, dry_run: bool
    ) -> tuple[str | None, list[Generation]]:
        """Rule 3's guards, then rule 4.

        Returns:
            When the primary purge deleted last (None if it deleted nothing), and the
            generations to delete, each authenticated.
        """
        due: dict[str, object] = {"backup_due": verdict.backup_due}
        now = self.clock()
        moment = parse_instant(as_of)
        guards.check_not_ahead(tenant, as_of, now, look_ahead=dry_run, details=due)
        guards.check_tenant_state(tenant, self.reader.tenant_state(tenant), due)
        primary_due = parse_instant(verdict.primary_due or "")
        receipts = [
            r
            for r in self.reader.receipts(tenant)
            if parse_instant(r["as_of"]) >= primary_due
            and parse_instant(r["executed_at"]) <= moment
        ]
        if not receipts:
            raise GuardError(
                "no-primary-receipt",
                tenant,
                f"backup_due {verdict.backup_due} has passed but no primary purge of this"
                f" cancellation completed by {as_of}; the backups wait for it",
                due,
            )
        deleting = [r for r in receipts if r["purged"] > 0]
        if not deleting:
            return None, []
        purged_at = max(deleting, key=lambda r: parse_instant(r["executed_at"]))["executed_at"]
        limit = parse_instant(purged_at)
        candidates = [
            g for g in self.site.generations(tenant) if parse_instant(g.created_at) <= limit
        ]
        try:
            generations = [self.site.read(info) for info in candidates]
        except BackupTamperedError as exc:
            raise GuardError("tampered", tenant, str(exc), {**due, "path": exc.path}) from exc
        lock_moment = max(now, moment) if dry_run else now
        locked = [g for g in generations if parse_instant(g.locked_until) > lock_moment]
        if locked:
            raise GuardError(
                "retention-lock",
                tenant,
                f"generation {locked[0].info.generation} is locked until {locked[0].locked_until}",
                {**due, "generations": [g.info.generation for g in locked]},
            )
        return purged_at, generations

    def run(
        self, as_of: str | None = None, *, dry_run: bool = False, actor: str = ACTOR
    ) -> BackupPurgeReport:
        """The backup purge of every tenant with generations in the site, each isolated."""
        as_of = as_of_or_now(as_of, self.clock)  # bad input before any work (InputError)
        outcomes = tuple(
            self.purge_tenant(tenant, as_of, dry_run=dry_run, actor=actor)
            for tenant in self.site.tenants()
        )
        report = BackupPurgeReport(as_of, outcomes)
        self.site.audit.append(
            "backup-purge-run",
            {
                "as_of": as_of,
                "dry_run": dry_run,
                "counts": report.counts(),
                "purged": report.purged,
            },
            actor=actor,
        )
        return report


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def purge_backups(  # noqa: PLR0913 -- the call, the clock and the test seams
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    as_of: str | None = None,
    *,
    dry_run: bool = False,
    planners: tuple[Planner, Planner] | None = None,
    clock: Callable[[], datetime] = utc_now,
    actor: str = ACTOR,
) -> BackupPurgeReport:
    """The scheduled backup purge over the workspace's site (this module's rules).

    Raises:
        CredentialError: not backup credentials, or not the site's key (nothing read).
        InputError: there is no primary store.
        BackupTamperedError: a tenant directory of the site fails authentication.
    """
    credentials = require_backup(credentials, purpose="the backup purge")
    site = open_site(config, credentials, clock=clock)
    with PrimaryReader.of(config) as reader:
        purger = BackupPurger(
            site=site,
            reader=reader,
            policy=config.policy,
            alerter=alerter_for(config),
            planners=planners,
            clock=clock,
        )
        return purger.run(as_of, dry_run=dry_run, actor=actor)


# -- restore (two-person rule) -------------------------------------------------------------------


@attrs.frozen
class RestoreRequestBody:
    """What a restore request binds: one generation file, exactly; approvals sign its digest."""

    request_id: str
    tenant: str
    generation: str
    generation_sha256: str
    author: str
    created_at: str
    format: str = REQUEST_FORMAT


@attrs.frozen
class RestoreRequest:
    """A restore request file: the body and the approvals collected so far."""

    body: RestoreRequestBody
    approvals: tuple[Approval, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the body's canonical JSON."""
        return canonical_digest(_CONVERTER.unstructure(self.body))


_CONVERTER = strict_converter()


def write_restore_request(path: Path, request: RestoreRequest) -> None:
    """Write a request file atomically."""
    text = json.dumps(_CONVERTER.unstructure(request), indent=2, sort_keys=True)
    atomic_write(path, text + "\n")


def read_restore_request(path: Path) -> RestoreRequest:
    """Read a request file strictly.

    Raises:
        InputError: unreadable, not JSON, an unknown or missing field, an unknown format.
    """
    request = read_json_file(path, RestoreRequest, source="request", converter=_CONVERTER)
    if request.body.format != REQUEST_FORMAT:
        raise InputError(
            source="request", file=str(path), field="body.format", message="unknown request format"
        )
    return request


def _require_operator(config: WorkspaceConfig, operator: str) -> None:
    if operator not in config.operators:
        raise UsageError(f"{operator!r} is not a registered operator of this workspace")


def create_restore_request(  # noqa: PLR0913 -- the tenant, the generation, who and when
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    tenant: str,
    generation: str | None = None,
    *,
    author: str,
    clock: Callable[[], datetime] = utc_now,
) -> RestoreRequest:
    """A request to restore one generation of a tenant (the latest unless named).

    The generation is authenticated first, and the request binds the SHA-256 of its file.

    Raises:
        UsageError: unregistered author, or no such generation.
        BackupTamperedError: the generation fails authentication.
    """
    _require_operator(config, author)
    site = open_site(config, require_backup(credentials, purpose="a restore request"), clock=clock)
    found = site.generations(tenant)
    chosen = found[-1] if found and generation is None else site.info(tenant, generation or "")
    if chosen is None:
        which = f"generation {generation}" if generation else "any generation"
        raise UsageError(f"the backup site holds no {which} of tenant {tenant!r}")
    site.read(chosen)
    body = RestoreRequestBody(
        request_id=uuid.uuid4().hex[:16],
        tenant=tenant,
        generation=chosen.generation,
        generation_sha256=chosen.sha256(),
        author=author,
        created_at=format_instant(clock()),
    )
    return RestoreRequest(body)


def approve_restore_request(
    config: WorkspaceConfig,
    path: Path,
    *,
    operator: str,
    key_path: Path,
    clock: Callable[[], datetime] = utc_now,
) -> RestoreRequest:
    """Sign a restore request with the operator's key; the approval is stored in the file.

    Needs no credentials: an approval is a signature, not an access.

    Raises:
        UsageError: unregistered operator, or a key that is not the operator's registered key.
        InputError: a bad request file or key file.
    """
    _require_operator(config, operator)
    request = read_restore_request(path)
    key = load_private_key(key_path)
    if public_key_text(key) != config.operators[operator].public_key:
        raise UsageError(
            f"the key in {key_path} is not the registered key of operator {operator!r}"
        )
    approval = sign_approval(
        key,
        action="restore",
        plan_id=request.body.request_id,
        plan_digest=request.digest,
        operator=operator,
        approved_at=format_instant(clock()),
    )
    updated = attrs.evolve(request, approvals=(*request.approvals, approval))
    write_restore_request(path, updated)
    return updated


def _operators(config: WorkspaceConfig) -> dict[str, Ed25519PublicKey]:
    return {
        name: parse_public_key(op.public_key, field=f"operators.{name}.public_key")
        for name, op in config.operators.items()
    }


@attrs.frozen
class BackupRestoreResult:
    """What ``restore_backup`` brought back into the primary store.

    Attributes:
        request_id: the restore request carried out.
        tenant: its tenant.
        generation: the generation restored from.
        restored: objects inserted (those missing; anything present stays as it is).
        approvers: the distinct operators whose restore approvals counted.
    """

    request_id: str
    tenant: str
    generation: str
    restored: int
    approvers: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON data (audit records and the CLI's ``--format json``)."""
        return {
            "request_id": self.request_id,
            "tenant": self.tenant,
            "generation": self.generation,
            "restored": self.restored,
            "approvers": list(self.approvers),
        }


def restore_backup(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    path: Path,
    *,
    operator: str,
    clock: Callable[[], datetime] = utc_now,
) -> BackupRestoreResult:
    """Restore the requested generation into the primary store (two-person rule).

    Inserts what is missing (the tenant, rows, blob files); anything present stays as it is.

    Returns:
        What was restored.

    Raises:
        ApprovalError: fewer than ``approvals_required`` distinct valid restore approvals.
        UsageError: unregistered operator, the request was carried out already, or the
            generation is gone.
        BackupTamperedError: the generation changed since the request, or fails authentication.
    """
    _require_operator(config, operator)
    request = read_restore_request(path)
    body = request.body
    site = open_site(config, require_backup(credentials, purpose="a backup restore"), clock=clock)
    check = check_approvals(
        request.approvals,
        action="restore",
        plan_id=body.request_id,
        plan_digest=request.digest,
        operators=_operators(config),
        now=clock(),
        expiry=timedelta(hours=config.manual.approval_expiry_hours),
    )
    required = config.manual.approvals_required
    if len(check.valid) < required:
        site.audit.append(
            "approval-refused",
            {
                "request_id": body.request_id,
                "action": "restore",
                "valid": list(check.valid),
                "problems": list(check.problems),
            },
            actor=operator,
        )
        raise ApprovalError("restore", check.valid, required, check.problems)
    done = [
        r
        for r in site.audit.records()
        if r.kind == "restore" and r.data.get("request_id") == body.request_id
    ]
    if done:
        raise UsageError(f"restore request {body.request_id} was carried out at {done[0].at}")
    info = site.info(body.tenant, body.generation)
    if info is None:
        raise UsageError(
            f"generation {body.generation} of tenant {body.tenant!r} is no longer in the site"
        )
    if info.sha256() != body.generation_sha256:
        raise BackupTamperedError(str(info.path), "the file changed since the restore request")
    generation = site.read(info)
    with PrimaryRestorer(config) as restorer:
        restored = restorer.insert_missing(generation.tenant_record, list(generation.objects))
        result = BackupRestoreResult(
            body.request_id, body.tenant, body.generation, len(restored), tuple(check.valid)
        )
        restorer.audit.append("backup-restore", result.to_json(), actor=operator)
    site.audit.append("restore", {**result.to_json(), "objects": restored}, actor=operator)
    return result
