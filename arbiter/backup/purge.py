"""The backup purge (``twinpurge backup purge``): backups of purged data go once they are due.

It takes ``BackupCredentials`` and never primary credentials, and reads the primary store only
through a ``PrimaryReading`` (``open_primary_reader``: SQLite read-only, or PostgreSQL as
``twinpurge_snapshot``): nothing here can delete primary data.

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
5. The purge is journalled in the site's own audit log (``arbiter.backup.journal``: why the log
   and not a file is its rule 1). Before the first delete, ``backup-purge-started`` names the
   purge id, tenant, as_of, backup_due, primary_purged_at and the exact generation ids; after
   each delete, ``backup-generation-deleted``; after the completeness check (rule 7),
   ``backup-purged`` naming the purge id closes it. Crash points (``arbiter.durable.crash``):
   ``backup-after-start``, ``backup-between-generations`` (after each generation's record) and
   ``backup-before-finish`` (before any ``backup-purged``, recovery's too).
6. A guard that trips once the journal is started (``retention-lock`` during the deletes,
   ``count-mismatch``) closes it ``refused`` (``backup-purge-closed``) before the refusal is
   recorded and alerted: the next run plans afresh. Any other error leaves it unfinished, for the
   next run's recovery. A tenant whose journal is still unfinished after recovery is refused
   (``unfinished-journal``): no second purge starts beside the first.
7. Completeness: after the deletes, none of the journal's generations remains and no stray
   temporary file (a crashed write's ``.NAME.RANDOM.tmp``) is in the tenant's site directory.
   Anything left is an omission: an ``omission`` record and alert, the outcome lists it, the
   journal stays unfinished and the next run retries it (the CLI exits 3).
8. Recovery first: ``run``, ``purge_tenant`` and ``purge_backups`` (not dry runs, which list
   the unfinished purges as ``pending``) first recover every unfinished journal
   (``unfinished``). When a generation of its list is still there, or a stray temporary file,
   the tenant is re-planned with the journal's ``as_of`` and every guard of rules 1 to 4 is
   checked with the data as it is now; a refusal (a guard, a divergence, or ``no-longer-due``
   when the backups are kept now) deletes nothing more, is recorded and alerted as any refusal,
   and closes the journal refused, so that it is not retried forever. Otherwise recovery removes
   the stray files and deletes the listed generations still there that are due now, never one
   off the list (a listed one not due now is left alone, with the reason); when nothing of the
   list is left there is nothing to guard and nothing is deleted. Then the completeness check:
   ``backup-purged`` when complete, else the journal stays unfinished (``omissions``). Each
   journal recovered gets a ``backup-purge-recovered`` record (what was unfinished, what
   recovery deleted, what was already gone, what it left alone and why), and the run sends one
   ``recovery`` alert. An unexpected error stops that journal's recovery (``failed``), with
   nothing more deleted and an alert; it stays unfinished.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.configured import alerter_for
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.journal import (
    CLOSED,
    DELETED,
    FINISHED,
    RECOVERED,
    STARTED,
    BackupRecovery,
    UnfinishedBackupPurge,
    new_purge_id,
    omissions,
    unfinished_purges,
)
from arbiter.backup.primary_access import PrimaryReading, open_primary_reader
from arbiter.backup.site_access import ACTOR, open_site
from arbiter.backup.store import BackupSite, Generation
from arbiter.core.arbitrate import Planner, arbitrate, fingerprint
from arbiter.core.errors import (
    BackupTamperedError,
    GuardError,
    InputError,
    RefusedError,
    RetentionLockError,
)
from arbiter.core.instants import parse_instant, utc_now
from arbiter.core.loading import as_of_or_now, check_as_of
from arbiter.durable.crash import crash_point
from arbiter.durable.files import remove, stray_temporaries
from arbiter.purge import guards
from arbiter.purge.refusal import Refusal, RefusalHandler, status_counts

if TYPE_CHECKING:
    from arbiter.core.config import WorkspaceConfig
    from arbiter.core.verdict import Verdict

__all__ = [
    "BackupOutcome",
    "BackupPurgeReport",
    "BackupPurger",
    "BackupRecovery",
    "UnfinishedBackupPurge",
    "purge_backups",
]

BackupStatus = Literal["executed", "dry-run", "kept", "refused", "failed"]


@attrs.frozen
class BackupOutcome:
    """What the backup purge did for one tenant.

    Attributes:
        status: ``executed`` (generations deleted), ``dry-run`` (would delete), ``kept`` (not
            due, with the reason), ``refused`` (divergence, bad input or a guard: nothing
            (more) deleted), ``failed`` (an unexpected error: nothing (more) deleted).
        generations: the generations deleted (or, for a dry run, that would be).
        primary_purged_at: when the primary purge this backup purge waited for completed.
        purge_id: the journal of an executed (or partly executed) purge (rule 5).
        omissions: what the completeness check found left behind (rule 7); the journal stays
            unfinished and the next run retries it.
        recovered: what the recovery run first by ``BackupPurger.purge_tenant`` did (rule 8).
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
    purge_id: str | None = None
    omissions: tuple[str, ...] = ()
    recovered: tuple[BackupRecovery, ...] = ()


@attrs.frozen
class BackupPurgeReport:
    """What a backup purge did across the site, its recovery first (rule 8)."""

    as_of: str
    outcomes: tuple[BackupOutcome, ...]
    recovered: tuple[BackupRecovery, ...] = ()

    def counts(self) -> dict[str, int]:
        """How many tenants ended in each status."""
        return status_counts(o.status for o in self.outcomes)

    @property
    def purged(self) -> int:
        """Generations deleted across the site (by the purges of this run, not its recovery)."""
        return sum(len(o.generations) for o in self.outcomes if o.status == "executed")

    @property
    def left_unfinished(self) -> bool:
        """Whether a purge of this run, or a recovery, left a journal unfinished (exit 3)."""
        return any(o.omissions for o in self.outcomes) or any(
            r.status in {"omissions", "failed"} for r in self.recovered
        )


@attrs.define
class BackupPurger:
    """The backup purge of this module's docstring, over one site and one primary reader."""

    site: BackupSite
    reader: PrimaryReading
    policy: Mapping[str, Any]
    alerter: Alerter
    planners: tuple[Planner, Planner] | None = None
    clock: Callable[[], datetime] = utc_now

    @property
    def _refusals(self) -> RefusalHandler:
        """The one refusal handler (``arbiter.purge.refusal``), over the site's audit log."""
        return RefusalHandler(self.site.audit, self.alerter, domain="backup")

    def unfinished(self) -> tuple[UnfinishedBackupPurge, ...]:
        """The backup purges started and not closed, oldest first (rule 6); reads only.

        Raises:
            AuditTamperedError: the site's audit log fails verification.
        """
        return unfinished_purges(self.site.audit)

    def purge_tenant(
        self, tenant: str, as_of: str, *, dry_run: bool = False, actor: str = ACTOR
    ) -> BackupOutcome:
        """Recover unfinished backup purges, then decide and execute the backup purge of one tenant.

        A dry run recovers nothing: it lists the unfinished purges as ``pending``.

        Returns:
            The outcome, with what recovery did (``recovered``); a refusal deleted nothing
            (more), alerted every sink and is in the audit log.

        Raises:
            InputError: ``as_of`` is not an instant (spec §2.1); nothing is read or alerted.
            AuditTamperedError: the site's audit log fails verification (nothing deleted).
        """
        check_as_of(as_of)
        recovered = self._pending(actor) if dry_run else self._recover(actor)
        blocked = {} if dry_run else self._blocked()
        outcome = self._purge_refusing(tenant, as_of, dry_run=dry_run, actor=actor, blocked=blocked)
        return attrs.evolve(outcome, recovered=recovered)

    def _purge_refusing(
        self,
        tenant: str,
        as_of: str,
        *,
        dry_run: bool,
        actor: str,
        blocked: Mapping[str, list[str]],
    ) -> BackupOutcome:
        """One tenant's purge; never raises for a refusal."""
        try:
            return self._purge(tenant, as_of, dry_run=dry_run, actor=actor, blocked=blocked)
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            refusal = self._refusals.refuse(exc, tenant=tenant, as_of=as_of, actor=actor)
            return _refused(BackupOutcome(tenant, as_of, refusal.status, ""), refusal)

    def _plan(
        self, tenant: str, as_of: str, *, dry_run: bool, actor: str
    ) -> tuple[BackupOutcome, list[Generation]]:
        """Rules 1 to 4: the outcome so far and the generations due (none: the outcome is final).

        Raises:
            GuardError, RefusedError, InputError: a refusal (nothing deleted).
        """
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
            return attrs.evolve(kept, message=f"not eligible ({verdict.reason})"), []
        if parse_instant(as_of) < parse_instant(verdict.backup_due):
            return attrs.evolve(kept, message=f"backups not due until {verdict.backup_due}"), []
        purged_at, due = self._check(tenant, verdict, as_of, dry_run=dry_run)
        if purged_at is None:
            message = "the primary purge deleted nothing, so no backup holds purged data"
            return attrs.evolve(kept, message=message), []
        if not due:
            message = f"no generation predates the primary purge of {purged_at}"
            return attrs.evolve(kept, message=message, primary_purged_at=purged_at), []
        ids = tuple(g.info.generation for g in due)
        return attrs.evolve(kept, primary_purged_at=purged_at, generations=ids), due

    def _purge(
        self,
        tenant: str,
        as_of: str,
        *,
        dry_run: bool,
        actor: str,
        blocked: Mapping[str, list[str]],
    ) -> BackupOutcome:
        if tenant in blocked:
            raise GuardError(
                "unfinished-journal",
                tenant,
                "an earlier backup purge of this tenant is unfinished (its recovery left"
                " omissions or failed); nothing more is deleted until a run's recovery finishes it",
                {"purge_ids": blocked[tenant]},
            )
        base, due = self._plan(tenant, as_of, dry_run=dry_run, actor=actor)
        if not due:
            return base
        ids = base.generations
        if dry_run:
            plural = "" if len(ids) == 1 else "s"
            return attrs.evolve(
                base, status="dry-run", message=f"would delete {len(ids)} generation{plural}"
            )
        purge_id = new_purge_id()
        journal = {
            "purge_id": purge_id,
            "tenant": tenant,
            "as_of": as_of,
            "backup_due": base.backup_due,
            "primary_purged_at": base.primary_purged_at,
        }
        self.site.audit.append(STARTED, {**journal, "generations": list(ids)}, actor=actor)
        crash_point("backup-after-start")
        base = attrs.evolve(base, purge_id=purge_id)
        try:
            deleted = self._delete(tenant, purge_id, due, actor)
            remaining = {g.generation for g in self.site.generations(tenant)}
            # A generation still there was not deleted, whatever the count says.
            guards.check_count(
                tenant,
                len(deleted) - len(remaining & set(ids)),
                len(ids),
                f"deleted {len(deleted)} generations of {len(ids)}",
                {"deleted": len(deleted), "planned": len(ids)},
            )
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            if isinstance(exc, GuardError):
                # Rule 6: a guard closes the journal refused; the next run plans afresh. Any
                # other error leaves it unfinished, for the next run's recovery.
                self._close_refused(purge_id, tenant, as_of, exc, actor)
            refusal = self._refusals.refuse(
                exc, tenant=tenant, as_of=as_of, actor=actor, context={"purge_id": purge_id}
            )
            return _refused(base, refusal)
        plural = "" if len(deleted) == 1 else "s"
        executed = attrs.evolve(
            base, status="executed", message=f"deleted {len(deleted)} generation{plural}"
        )
        left = self._complete(tenant, as_of, purge_id, ids, actor)
        if left:
            return attrs.evolve(
                executed,
                message=f"{executed.message}, but {len(left)} omissions remain ({left[0]});"
                " the next run's recovery retries them",
                omissions=left,
            )
        self._finish({**journal, "generations": list(ids)}, actor)
        return executed

    def _delete(self, tenant: str, purge_id: str, due: list[Generation], actor: str) -> list[str]:
        """Delete ``due`` one by one, each recorded before the next (rule 5).

        Raises:
            GuardError: ``retention-lock``, with what was deleted before.
        """
        now = self.clock()
        deleted: list[str] = []
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
                        "deleted_before": len(deleted),
                    },
                    purged_before=len(deleted),
                ) from exc
            deleted.append(generation.info.generation)
            self.site.audit.append(
                DELETED,
                {"purge_id": purge_id, "tenant": tenant, "generation": deleted[-1]},
                actor=actor,
            )
            crash_point("backup-between-generations")
        return deleted

    def _complete(
        self, tenant: str, as_of: str, purge_id: str, generations: tuple[str, ...], actor: str
    ) -> tuple[str, ...]:
        """Rule 7: the omissions, each recorded and alerted; empty when nothing is left."""
        found = omissions(self.site, tenant, generations)
        if not found:
            return ()
        details = {"purge_id": purge_id, "omissions": found[:50]}
        self.site.audit.append("omission", {"tenant": tenant, **details}, actor=actor)
        self._refusals.alert(
            "omission",
            f"backup purge {purge_id} of {tenant} left {len(found)} things behind ({found[0]});"
            " its journal stays unfinished and the next run retries it",
            tenant=tenant,
            as_of=as_of,
            details=details,
            actor=actor,
        )
        return tuple(found)

    def _finish(self, journal: Mapping[str, object], actor: str) -> None:
        """Close a journal done (rule 5): ``backup-purged`` names its purge id."""
        crash_point("backup-before-finish")
        self.site.audit.append(FINISHED, journal, actor=actor)

    def _close_refused(
        self, purge_id: str, tenant: str, as_of: str, error: Exception, actor: str
    ) -> None:
        """Close a journal refused (rule 6), before the refusal's own record and alert."""
        self.site.audit.append(
            CLOSED,
            {
                "purge_id": purge_id,
                "tenant": tenant,
                "as_of": as_of,
                "status": "refused",
                "guard": error.guard if isinstance(error, GuardError) else None,
                "reason": str(error),
            },
            actor=actor,
        )

    def _blocked(self) -> dict[str, list[str]]:
        """Tenants with an unfinished journal (after recovery), with its purge ids."""
        found: dict[str, list[str]] = {}
        for journal in self.unfinished():
            found.setdefault(journal.tenant, []).append(journal.purge_id)
        return found

    def _pending(self, actor: str) -> tuple[BackupRecovery, ...]:
        """A dry run's view of recovery: each unfinished purge, nothing done."""
        self.site.audit.recover(actor=actor)  # a crashed append's record is read, not refused
        return tuple(
            BackupRecovery(
                j.purge_id,
                j.tenant,
                j.as_of,
                "pending",
                already_gone=j.deleted,
                message=f"unfinished since {j.started_at} ({len(j.generations)} generations"
                f" listed, {len(j.deleted)} recorded deleted); a dry run recovers nothing",
            )
            for j in self.unfinished()
        )

    def _recover(self, actor: str) -> tuple[BackupRecovery, ...]:
        """Rule 8: every unfinished backup purge, completed or closed; then one alert."""
        # An append killed after its line's fsync (even the start record's) is adopted first.
        self.site.audit.recover(actor=actor)
        journals = self.unfinished()
        if not journals:
            return ()
        results = tuple(self._recover_one(journal, actor) for journal in journals)
        counts = status_counts(r.status for r in results)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self._refusals.alert(
            "recovery",
            f"backup purge recovery of unfinished purges: {summary}",
            tenant="",
            as_of="",
            details={"counts": counts, "journals": [r.to_json() for r in results]},
            actor=actor,
        )
        return results

    def _recover_one(self, journal: UnfinishedBackupPurge, actor: str) -> BackupRecovery:
        """One journal: completed, or refused (closed), or left unfinished; always recorded."""
        context = {"purge_id": journal.purge_id, "recovery": True}
        closing: Mapping[str, object] | None = None
        try:
            result, closing = self._recover_journal(journal, actor)
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            refused = isinstance(exc, GuardError | RefusedError | InputError)
            if refused:  # closed before the refusal's own record, as during a purge (rule 6)
                self._close_refused(journal.purge_id, journal.tenant, journal.as_of, exc, actor)
            refusal = self._refusals.refuse(
                exc, tenant=journal.tenant, as_of=journal.as_of, actor=actor, context=context
            )
            gone = (
                f"{exc.purged_before} generations deleted first; "
                if isinstance(exc, GuardError) and exc.purged_before
                else ""
            )
            if refused:
                message = f"refused now, {gone}nothing more deleted: {refusal.message}"
            else:
                message = f"failed, {gone}nothing more deleted; retried next run: {refusal.message}"
            result = BackupRecovery(
                journal.purge_id,
                journal.tenant,
                journal.as_of,
                refusal.status,
                already_gone=journal.deleted,
                guard=refusal.guard,
                message=message,
            )
        self.site.audit.append(RECOVERED, result.to_json(), actor=actor)
        if closing is not None:
            self._finish(closing, actor)
        return result

    def _recover_journal(
        self, journal: UnfinishedBackupPurge, actor: str
    ) -> tuple[BackupRecovery, Mapping[str, object] | None]:
        """Rule 8 for one journal: the result, and its ``backup-purged`` data once complete.

        Raises:
            GuardError, RefusedError, InputError: a refusal now (nothing more deleted).
        """
        tenant = journal.tenant
        present = {g.generation for g in self.site.generations(tenant)}
        listed = [g for g in journal.generations if g in present]
        gone = tuple(g for g in journal.generations if g not in present)
        strays = stray_temporaries(self.site.tenant_directory(tenant))
        deleted: list[str] = []
        left: dict[str, str] = {}
        removed: tuple[str, ...] = ()
        if listed or strays:
            # Only what still passes every guard now is deleted, and nothing off the list.
            outcome, due = self._plan(tenant, journal.as_of, dry_run=False, actor=actor)
            if outcome.primary_purged_at is None:
                raise GuardError(
                    "no-longer-due",
                    tenant,
                    f"re-planned as of {journal.as_of}, its backups are kept now:"
                    f" {outcome.message}",
                    {"purge_id": journal.purge_id},
                )
            now_due = {g.info.generation: g for g in due}
            left = {
                g: f"not due now (written after the primary purge of {outcome.primary_purged_at})"
                for g in listed
                if g not in now_due
            }
            removed = tuple(p.name for p in strays if remove(p))
            deleted = self._delete(
                tenant, journal.purge_id, [now_due[g] for g in listed if g in now_due], actor
            )
        must_go = tuple(g for g in journal.generations if g not in left)
        found = self._complete(tenant, journal.as_of, journal.purge_id, must_go, actor)
        result = BackupRecovery(
            journal.purge_id,
            tenant,
            journal.as_of,
            "omissions" if found else "completed",
            deleted=tuple(deleted),
            already_gone=gone,
            left_alone=tuple(f"{g}: {why}" for g, why in left.items()),
            strays_removed=removed,
            omissions=found,
            message=(
                f"{len(found)} omissions remain ({found[0]}); retried next run"
                if found
                else f"completed: {len(deleted)} more deleted, {len(gone)} already gone,"
                f" {len(left)} left alone, {len(removed)} stray files removed"
            ),
        )
        if found:
            return result, None
        closing = {
            "purge_id": journal.purge_id,
            "tenant": tenant,
            "as_of": journal.as_of,
            "backup_due": journal.backup_due,
            "primary_purged_at": journal.primary_purged_at,
            "generations": list(must_go),
            "recovered": True,
        }
        return result, closing

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
        """Recover first (rule 8), then the backup purge of every tenant in the site, each isolated.

        Raises:
            InputError: ``as_of`` is not an instant (nothing read).
            AuditTamperedError: the site's audit log fails verification (nothing deleted).
        """
        as_of = as_of_or_now(as_of, self.clock)  # bad input before any work (InputError)
        recovered = self._pending(actor) if dry_run else self._recover(actor)
        blocked = {} if dry_run else self._blocked()
        outcomes = tuple(
            self._purge_refusing(tenant, as_of, dry_run=dry_run, actor=actor, blocked=blocked)
            for tenant in self.site.tenants()
        )
        report = BackupPurgeReport(as_of, outcomes, recovered)
        self.site.audit.append(
            "backup-purge-run",
            {
                "as_of": as_of,
                "dry_run": dry_run,
                "counts": report.counts(),
                "purged": report.purged,
                "recovered": status_counts(r.status for r in recovered),
            },
            actor=actor,
        )
        return report


def _refused(outcome: BackupOutcome, refusal: Refusal) -> BackupOutcome:
    """``outcome`` as the refusal left it (nothing more deleted)."""
    return attrs.evolve(
        outcome,
        status=refusal.status,
        message=refusal.message,
        backup_due=outcome.backup_due or _str_or_none(refusal.details.get("backup_due")),
        guard=refusal.guard,
        report_path=refusal.report_path,
        generations=(),  # what was deleted before a guard tripped is in its purged_before
    )


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
    """The scheduled backup purge over the workspace's site, recovery first (this module's rules).

    Raises:
        CredentialError: not backup credentials, or not the site's key (nothing read).
        InputError: there is no primary store.
        StoreConnectionError: a PostgreSQL store refused the snapshot role's login or cannot
            be reached (nothing deleted).
        BackupTamperedError: a tenant directory of the site fails authentication.
        AuditTamperedError: the site's audit log fails verification (nothing deleted).
    """
    credentials = require_backup(credentials, purpose="the backup purge")
    site = open_site(config, credentials, clock=clock)
    with open_primary_reader(config, credentials) as reader:
        purger = BackupPurger(
            site=site,
            reader=reader,
            policy=config.policy,
            alerter=alerter_for(config),
            planners=planners,
            clock=clock,
        )
        return purger.run(as_of, dry_run=dry_run, actor=actor)
