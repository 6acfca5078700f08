"""The backup purge's journal: the site's own audit log, read for purges started and not closed.

The backup domain cannot write to the primary store (it reads it through ``PrimaryReading``), so
the primary purge's journal (``arbiter.purge.journal``, in the primary store) is not for it. Its
journal is the backup site's audit log. Rules:

1. The journal IS the site's audit log, not a file beside it: every append is already durable
   (the line is fsynced before the head moves), hash-chained and sealed with the backup key, in
   the backup domain's files only. A second journal file could disagree with the log; the log
   alone cannot, and an operator reads one place to see what a purge meant to do and did.
2. A tenant's backup purge records, each before the next step begins: ``backup-purge-started``
   (purge id, tenant, as_of, backup_due, primary_purged_at and the exact generation ids to
   delete) before its first delete; ``backup-generation-deleted`` (purge id, generation) after
   each generation is gone; then, once the completeness check (rule 4) finds nothing left
   behind, ``backup-purged`` naming the purge id.
3. A started purge is closed by ``backup-purged`` (done) or ``backup-purge-closed`` (status
   ``refused``: a guard stopped it, during the purge or during its recovery; the guard and the
   reason are in the record, and the refusal's own ``guard`` record and alert follow it). A
   ``backup-purge-started`` without either is unfinished (``unfinished_purges``), and the next
   run recovers it (``arbiter.backup.purge``). Closing refused is what stops a purge from being
   retried forever when the data no longer allows it.
4. Completeness (omission detection, ``omissions``): after the deletes, none of the journal's
   generations (minus those recovery left alone on purpose) remains in the site, and no stray
   temporary file (``arbiter.durable.files.stray_temporaries``: ``.NAME.RANDOM.tmp``, what a
   write killed mid-way leaves, e.g. a generation of a snapshot killed before its rename) is in
   the tenant's site directory: such a file holds tenant data that nothing else would ever
   remove. Anything left is an omission: an ``omission`` record and alert, and the journal stays
   unfinished so that the next run retries it.
5. The scan reads and verifies the whole log (``AuditLog.records``): a log that fails
   verification stops the run (``AuditTamperedError``) before anything is deleted. A run first
   adopts the one record an append killed after its fsync left past the head
   (``AuditLog.recover``, rule 11 of ``arbiter.audit.log``), so a start record whose head was
   never written still counts; the read-only scan alone refuses such a log.
6. Journal records are appended by the backup domain only, and only ``arbiter.backup.purge``
   writes them; the scan trusts a record because the log's chain and sealed head do.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.durable.files import stray_temporaries

if TYPE_CHECKING:
    from arbiter.audit.log import AuditLog
    from arbiter.backup.store import BackupSite

__all__ = [
    "CLOSED",
    "DELETED",
    "FINISHED",
    "RECOVERED",
    "STARTED",
    "BackupRecovery",
    "UnfinishedBackupPurge",
    "new_purge_id",
    "omissions",
    "unfinished_purges",
]

# The record kinds of rules 2 and 3, in the site's audit log.
STARTED = "backup-purge-started"
DELETED = "backup-generation-deleted"
FINISHED = "backup-purged"
CLOSED = "backup-purge-closed"
RECOVERED = "backup-purge-recovered"

RecoveryStatus = Literal["completed", "refused", "omissions", "failed", "pending"]


def new_purge_id() -> str:
    """A fresh backup purge id (``b-`` and 16 hex digits: never mistaken for a primary one)."""
    return "b-" + uuid.uuid4().hex[:16]


@attrs.frozen
class UnfinishedBackupPurge:
    """A ``backup-purge-started`` record with no closing record (rule 3).

    Attributes:
        purge_id: the purge.
        tenant: its tenant.
        as_of: the instant of its verdict; recovery re-plans with this same instant.
        backup_due: the tenant's backup_due, as agreed then.
        primary_purged_at: the primary purge it waited for.
        generations: the exact generations it meant to delete; recovery deletes no other.
        started_at: when the start record was written.
        actor: who ran it.
        deleted: the generations recorded as deleted so far (``backup-generation-deleted``).
        attempts: recoveries already tried (``backup-purge-recovered`` records).
    """

    purge_id: str
    tenant: str
    as_of: str
    backup_due: str | None
    primary_purged_at: str | None
    generations: tuple[str, ...]
    started_at: str
    actor: str
    deleted: tuple[str, ...] = ()
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "purge_id": self.purge_id,
            "tenant": self.tenant,
            "as_of": self.as_of,
            "backup_due": self.backup_due,
            "primary_purged_at": self.primary_purged_at,
            "generations": list(self.generations),
            "started_at": self.started_at,
            "actor": self.actor,
            "deleted": list(self.deleted),
            "attempts": self.attempts,
        }


@attrs.frozen
class BackupRecovery:
    """What recovery did with one unfinished backup purge.

    Attributes:
        purge_id: the journal (its ``backup-purge-started`` record).
        tenant: its tenant.
        as_of: its instant.
        status: ``completed`` (closed by ``backup-purged``), ``refused`` (a guard refuses now:
            nothing more deleted, closed refused), ``omissions`` (something is still left
            behind; retried next run), ``failed`` (an unexpected error: nothing more deleted,
            retried next run), ``pending`` (a dry run: nothing done).
        deleted: generations this recovery deleted.
        already_gone: generations of the journal gone before this recovery (the crashed run's).
        left_alone: generations of the journal recovery did not delete, as ``generation:
            reason``.
        strays_removed: stray temporary files removed from the tenant's site directory.
        omissions: what the completeness check still found left behind.
        guard: the guard that refused, if one did.
        message: one line for people.
    """

    purge_id: str
    tenant: str
    as_of: str
    status: RecoveryStatus
    deleted: tuple[str, ...] = ()
    already_gone: tuple[str, ...] = ()
    left_alone: tuple[str, ...] = ()
    strays_removed: tuple[str, ...] = ()
    omissions: tuple[str, ...] = ()
    guard: str | None = None
    message: str = ""

    @property
    def finished(self) -> bool:
        """Whether the journal is closed now (completed or closed refused)."""
        return self.status in {"completed", "refused"}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (the audit record, the alert and the CLI's ``--format json``)."""
        return {
            "purge_id": self.purge_id,
            "tenant": self.tenant,
            "as_of": self.as_of,
            "status": self.status,
            "deleted": list(self.deleted),
            "already_gone": list(self.already_gone),
            "left_alone": list(self.left_alone),
            "strays_removed": list(self.strays_removed),
            "omissions": list(self.omissions),
            "guard": self.guard,
            "message": self.message,
        }


def unfinished_purges(audit: AuditLog) -> tuple[UnfinishedBackupPurge, ...]:
    """The backup purges started and not closed (rule 3), oldest first; reads only.

    Raises:
        AuditTamperedError: the log fails verification (rule 5).
    """
    started: dict[str, UnfinishedBackupPurge] = {}
    closed: set[str] = set()
    deleted: dict[str, list[str]] = {}
    attempts: dict[str, int] = {}
    for record in audit.records():
        purge_id = record.data.get("purge_id")
        if not isinstance(purge_id, str):
            continue
        if record.kind == STARTED:
            data = record.data
            started[purge_id] = UnfinishedBackupPurge(
                purge_id=purge_id,
                tenant=str(data["tenant"]),
                as_of=str(data["as_of"]),
                backup_due=data.get("backup_due"),
                primary_purged_at=data.get("primary_purged_at"),
                generations=tuple(str(g) for g in data["generations"]),
                started_at=record.at,
                actor=record.actor,
            )
        elif record.kind in {FINISHED, CLOSED}:
            closed.add(purge_id)
        elif record.kind == DELETED:
            deleted.setdefault(purge_id, []).append(str(record.data["generation"]))
        elif record.kind == RECOVERED:
            attempts[purge_id] = attempts.get(purge_id, 0) + 1
    return tuple(
        attrs.evolve(
            journal,
            deleted=tuple(deleted.get(purge_id, ())),
            attempts=attempts.get(purge_id, 0),
        )
        for purge_id, journal in started.items()
        if purge_id not in closed
    )


def omissions(site: BackupSite, tenant: str, generations: tuple[str, ...]) -> list[str]:
    """What a backup purge of ``generations`` left behind (rule 4); empty when complete.

    Args:
        site: the backup site, as it is now.
        tenant: the tenant purged.
        generations: the generations that must be gone (the journal's, minus any left alone).

    Returns:
        One line per omission.
    """
    remaining = {g.generation for g in site.generations(tenant)}
    found = [f"generation {g} of {tenant} remains" for g in generations if g in remaining]
    found += [
        f"stray temporary file {p.name} in {tenant}'s site directory"
        for p in stray_temporaries(site.tenant_directory(tenant))
    ]
    return found
