"""Agreement-gated execution: plan with both planners, then delete under the arbiter's own guards.

The planners are trusted for nothing. Rules, in the order they are applied:

0. Before the first row is deleted, everything about to be deleted is written to a verified
   restore archive (``arbiter.purge.archive``), kept until the tenant's backup_due.
1. Both planners read the tenant's slice from one consistent snapshot (``read_slice``) and get
   separate copies of it (``arbiter.core.arbitrate``). A divergence, a rejection or a failure
   refuses the purge: nothing is deleted, an alert goes to every sink, the audit log records it.
2. Time: a purge is executed only for an ``as_of`` that is not in the future; planning "as of next
   year" is a dry run, never a deletion ahead of schedule.
   Blast radius, before anything is deleted: the purge set may not exceed
   ``max_objects_per_purge``, nor ``max_store_fraction`` of all objects in the store once it is
   larger than ``fraction_floor`` objects.
3. Scope: every object of the purge set must be one of the tenant's objects in the slice the
   planners saw.
4. Staleness, without reading the slice again: the planners' slice is read together with the
   tenant's change counter, in one snapshot (``read_counted_slice``; rule 7 of
   ``arbiter.stores.ports``: the database bumps it on every write that can change the
   tenant's verdict). A plan is stale, and refused with guard ``stale`` (the next run plans
   afresh), when the counter read before deleting differs from the one it was planned with.
   It is compared in the pre-flight transaction (rule 5), and again in every batch's write
   transaction, which holds the counter from its first read to its commit: no other writer's
   change to the tenant commits in between. The purge's own deletes bump it too, and by how
   much is the store's own (its refs' cascade, one per row or per statement), so it is never
   predicted: each batch reads the counter again at its end, after its delete, still holding
   it, and the next batch compares with that. A write by anyone else, between planning and the
   first batch or between two batches, therefore refuses the next batch, and the purge's own
   earlier batches never do. Two one-row reads per batch. In a batch the guards of rule 6 run
   before the comparison, so that a hold or a reactivation is refused under its own name. The
   slice's fingerprint still goes into the audit log (``plan`` and ``agreement``) as evidence
   of what was planned; it is not compared. A purge resumed from its journal
   (``arbiter.purge.recovery``) has no planning counter and compares none: its rule 5 re-checks
   every object against the batch guards instead.
5. Pre-flight: the checks of rule 6 run once over the whole purge set before the first batch, so
   a plan that any of them refuses deletes nothing at all.
6. In each batch's write transaction, before deleting, the store is re-read and the batch is
   refused when: the tenant is gone, is under legal hold, or its latest lifecycle event (ties
   favouring reactivation, spec §5) is not a cancellation; an object is missing, belongs to
   another tenant, is under legal hold, or has a category the policy keeps; an object outside
   the purge set holds a ref to an object of the batch.
7. Deletes match identity *and* tenant; a deleted-row count different from the batch size rolls
   the batch back and refuses.
8. Blob files are deleted only after their rows' deletion committed; a failure to delete one is
   alerted (an orphan file), never retried blindly.
9. A guard that trips stops the purge of that tenant: batches committed before it stay deleted
   (each was checked by every guard), nothing more is deleted, an alert is sent, the audit log
   records it.
10. When every batch committed, a receipt of the primary purge is recorded in the store.
11. Fleet safe mode (``arbiter.purge.safemode``): a purge that may delete starts only while the
    fleet is not in safe mode (else ``SafeModeError``, nothing read), and only after the
    runner's clock passes clock sanity (when the as_of is taken from it); ``run_due`` counts
    its bad tenants and trips the fleet (stopping the run) once the threshold is crossed.
13. Every purge that deletes is journalled (``arbiter.purge.journal``): the plan file and the
    journal entry before the archive, each batch's step in the batch's own transaction, then
    its files, the completeness check and the receipt. A purge whose completeness check finds
    omissions reports them (``PurgeOutcome.omissions``, an ``omission`` alert and audit record)
    and records no receipt; its journal stays unfinished, so the next run's recovery
    (``arbiter.purge.recovery``) retries it. A tenant whose unfinished journal recovery could not
    finish (``unfinished_tenants``) is refused (guard ``unfinished-journal``): nothing is planned
    or deleted for it until recovery finishes.
12. One runner per tenant: a purge that may delete holds the tenant's lock
    (``arbiter.stores.ports.TenantLocks``) from planning to its end; a runner that finds it
    held skips the tenant (status ``skipped``: no alert, not counted towards safe mode).
14. A store that goes away (``StoreConnectionError``: a PostgreSQL server down or unreachable)
    is no tenant's refusal: it ends the run with that error, because neither the journal nor
    the audit head can be written without it. Batches committed before it stay deleted, the
    open journal is finished by the next run's recovery, and the command exits 9.
15. Streaming (``arbiter.purge.streamed``): a tenant owning at least ``limits.stream_from``
    objects (``InventoryReader.object_count``; 0 streams every tenant) is planned with each
    planner in a process of its own (``arbiter.purge.streaming``), from one streamed snapshot,
    and purged from the agreed plan file (journal format 2), which the pre-flight, the archive,
    the batches and the completeness check read a chunk at a time: the arbiter's memory does
    not grow with the tenant. Every rule above holds alike; the scope check (rule 3) holds by
    construction, the lockstep comparison checking each decision against the object fed at its
    position. The planner processes live for one ``planning_session``: one ``purge_tenant``,
    one ``run_due``, or a session the caller opens around many calls.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.audit.log import AuditLog
from arbiter.auth.credentials import PrimaryCredentials, require_primary
from arbiter.core.arbitrate import Agreement, Planner, arbitrate, fingerprint
from arbiter.core.canonical import canonical_digest
from arbiter.core.config import LimitsConfig
from arbiter.core.errors import GuardError, StoreConnectionError, UsageError
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.loading import as_of_or_now
from arbiter.core.verdict import ObjectId, Verdict, verdict_to_json
from arbiter.durable.crash import crash_point
from arbiter.purge import guards
from arbiter.purge.journal import JournalState, check_completeness, new_purge_id, write_plan_file
from arbiter.purge.refusal import Refusal, RefusalHandler, status_counts
from arbiter.purge.safemode import SafeMode, SafeModeTrip
from arbiter.purge.streamed import StreamedPlan, plan_streamed, preflight
from arbiter.purge.streaming import PlannerProcesses, StreamPlanner
from arbiter.stores.ports import (
    Archiver,
    BlobTarget,
    InventoryReader,
    JournalStore,
    PurgeTarget,
    TenantLocks,
)

if TYPE_CHECKING:
    from arbiter.stores.ports import PurgeTransaction

# ``format_instant`` and ``utc_now`` are re-exported for older importers; they live in
# ``arbiter.core.instants``.
__all__ = ["Execution", "FleetReport", "PlannedSlice", "PurgeOutcome", "Purger", "plan_digest"]

Status = Literal["executed", "dry-run", "not-eligible", "refused", "failed", "skipped"]


class _Rollback(Exception):  # noqa: N818 -- a control-flow signal, not an error
    """Raised inside a transaction to roll it back on purpose (rehearsal)."""


def plan_digest(verdict: Verdict) -> str:
    """SHA-256 of the verdict's canonical JSON: what an approval or a receipt refers to."""
    return canonical_digest(verdict_to_json(verdict))


@attrs.frozen
class PlannedSlice:
    """What a plan was computed from, kept to check before deleting (rules 3 and 4).

    Attributes:
        fingerprint: SHA-256 of the slice's canonical JSON: evidence in the audit log.
        counter: the tenant's change counter, read in the slice's snapshot.
        own: the tenant's objects in the slice.
    """

    fingerprint: str
    counter: int
    own: frozenset[ObjectId] = attrs.field(repr=lambda own: f"<{len(own)} objects>")


@attrs.frozen
class PurgeOutcome:
    """What ``purge_tenant`` did for one tenant.

    Attributes:
        status: ``executed`` (all batches committed), ``dry-run`` (agreed, nothing deleted),
            ``not-eligible`` (agreed, not due), ``refused`` (divergence, bad input or a guard),
            ``failed`` (an unexpected error; nothing more deleted), ``skipped`` (another runner
            holds the tenant's lock; nothing done).
        purged: objects deleted (for ``dry-run``: objects that would be deleted).
        kept_by_reason: kept objects counted per reason.
        guard: the guard that tripped, if one did.
        report_path: the divergence or guard report file, when one was written.
    """

    tenant: str
    as_of: str
    status: Status
    message: str
    eligible: bool | None = None
    reason: str | None = None
    primary_due: str | None = None
    backup_due: str | None = None
    purged: int = 0
    kept_by_reason: dict[str, int] = attrs.Factory(dict)
    batches: int = 0
    plan_digest: str | None = None
    guard: str | None = None
    report_path: str | None = None
    archive_id: str | None = None
    omissions: tuple[str, ...] = ()
    purge_id: str | None = None


@attrs.frozen
class Execution:
    """What ``execute_verdict`` did.

    Attributes:
        purged: objects deleted.
        batches: batches committed.
        archive_id: the restore archive written first, if one was.
        purge_id: the purge's journal (``arbiter.purge.journal``), when it was journalled.
        omissions: what the completeness check found left behind (rule 13); empty when complete.
    """

    purged: int
    batches: int
    archive_id: str | None
    purge_id: str | None = None
    omissions: tuple[str, ...] = ()


@attrs.frozen
class FleetReport:
    """What ``run_due`` did across every tenant.

    Attributes:
        safe_mode: the active safe-mode trip when the run ended (a dry run reports it; a run
            that tripped it stopped there), else None.
        not_started: the tenants the run did not start because the fleet was in safe mode.
        recovered: what the recovery before the run did with each unfinished purge journal
            (``arbiter.purge.recovery.JournalRecovery.to_json``); empty when there was none.
        shard: ``K/N`` when the run took one shard of the fleet (``arbiter.purge.shard``).
    """

    as_of: str
    outcomes: tuple[PurgeOutcome, ...]
    safe_mode: SafeModeTrip | None = None
    not_started: tuple[str, ...] = ()
    recovered: tuple[dict[str, Any], ...] = ()
    shard: str | None = None

    def counts(self) -> dict[str, int]:
        """How many tenants ended in each status."""
        return status_counts(o.status for o in self.outcomes)

    @property
    def purged(self) -> int:
        """Objects deleted across the fleet."""
        return sum(o.purged for o in self.outcomes if o.status == "executed")


# Objects read per transaction while the restore archive is written.
_ARCHIVE_CHUNK = 4096


def _chunks(items: Iterable[ObjectId], size: int) -> Iterator[list[ObjectId]]:
    """``items`` in lists of ``size`` (the last one shorter), read as they are needed."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@attrs.define
class Purger:
    """Plans with both planners and purges under the arbiter's guards (this module's rules).

    Build one from a workspace (``Workspace.purger``) or from your own stores: anything that
    implements ``InventoryReader``, ``PurgeTarget`` and ``BlobTarget``.

    Deleting needs ``credentials``: the constructor checks them against the target
    (``PurgeTarget.verify_credentials``), and every method that can delete (``purge_tenant`` and
    ``run_due`` unless a dry run, ``execute_verdict``, ``rehearse``) checks them again before it
    reads anything, raising ``CredentialError`` when they are missing or no longer match. Built
    without them, a purger plans and dry-runs only.
    """

    reader: InventoryReader
    target: PurgeTarget
    policy: Mapping[str, Any]
    limits: LimitsConfig
    audit: AuditLog
    alerter: Alerter
    blobs: BlobTarget | None = None
    planners: tuple[Planner, Planner] | None = None
    clock: Callable[[], datetime] = utc_now
    on_receipt: Callable[[str, str, str, int, str | None], None] | None = None
    archiver: Archiver | None = None
    on_progress: Callable[[str, int, int], None] | None = None
    credentials: PrimaryCredentials | None = attrs.field(default=None, kw_only=True)
    # Rules 11 and 12; None (a purger over your own stores) leaves them out.
    safe_mode: SafeMode | None = attrs.field(default=None, kw_only=True)
    locks: TenantLocks | None = attrs.field(default=None, kw_only=True)
    # Rule 13; None (a purger over your own stores) purges without a journal.
    journal: JournalStore | None = attrs.field(default=None, kw_only=True)
    journal_dir: Path | None = attrs.field(default=None, kw_only=True)
    # Where stray temporary files could hold tenant data (the completeness check).
    temp_dirs: tuple[Path, ...] = attrs.field(default=(), kw_only=True)
    # Rule 13: tenants whose earlier purge recovery could not finish; refused, nothing planned.
    unfinished_tenants: frozenset[str] = attrs.field(default=frozenset(), kw_only=True)
    # Rule 15: the planners of a streamed purge, each run in its own process; A and B if None.
    stream_planners: tuple[StreamPlanner, StreamPlanner] | None = attrs.field(
        default=None, kw_only=True
    )
    _session: contextlib.ExitStack | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )
    _processes: PlannerProcesses | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        """Given credentials must open the target (else ``CredentialError``, nothing built)."""
        if self.credentials is not None:
            self.require_credentials("building a purger")

    def require_credentials(self, purpose: str) -> PrimaryCredentials:
        """The purger's primary credentials, checked against the target again.

        Args:
            purpose: what needs them, for the message.

        Returns:
            The credentials.

        Raises:
            CredentialError: the purger was built without them, or the target refuses them.
        """
        credentials = require_primary(self.credentials, purpose=purpose)
        self.target.verify_credentials(credentials)
        return credentials

    def streams(self, tenant: str) -> bool:
        """Whether ``tenant`` is planned by streaming (rule 15): its size against the limit.

        Args:
            tenant: the tenant id.

        Returns:
            True when ``limits.stream_from`` is 0, or the tenant owns at least that many objects.
        """
        threshold = self.limits.stream_from
        return threshold == 0 or self.reader.object_count(tenant) >= threshold

    @contextlib.contextmanager
    def planning_session(self, processes: PlannerProcesses | None = None) -> Iterator[None]:
        """Keep the planner processes of streamed purges until the block ends (rule 15).

        ``purge_tenant`` and ``run_due`` open one themselves; open one around several calls to
        start the two processes once for all of them. Nested sessions share the outer one.

        Args:
            processes: open planner processes to use (their owner closes them); None starts
                them at the first streamed tenant and stops them when the block ends.
        """
        if self._session is not None:
            yield
            return
        with contextlib.ExitStack() as stack:
            self._session, self._processes = stack, processes
            try:
                yield
            finally:
                self._session, self._processes = None, None

    def _planner_processes(self) -> PlannerProcesses:
        """The planner processes of this session, started at the first streamed tenant."""
        if self._processes is None:
            if self._session is None:
                raise UsageError("a streamed purge runs inside `Purger.planning_session()`")
            self._processes = self._session.enter_context(PlannerProcesses(self.stream_planners))
        return self._processes

    def _audit(self, kind: str, data: Mapping[str, Any], actor: str) -> None:
        self.audit.append(kind, data, actor=actor)

    @property
    def refusals(self) -> RefusalHandler:
        """The one refusal handler (``arbiter.purge.refusal``), over this purger's log and sinks."""
        return RefusalHandler(self.audit, self.alerter)

    _refusals = refusals

    def agree(
        self, tenant: str, as_of: str, *, actor: str = "retention-service"
    ) -> tuple[Agreement, PlannedSlice]:
        """Read the tenant's slice and have both planners agree on it (rule 1).

        Args:
            tenant: the tenant id.
            as_of: the instant of the verdict.
            actor: who asked, for the audit log.

        Returns:
            The agreement, and what it was computed from: the slice's fingerprint, the tenant's
            change counter in the same snapshot, and the tenant's objects (rules 3 and 4).

        Raises:
            InputError: both planners rejected the input.
            RefusedError: the planners diverged or one failed.
        """
        counted = self.reader.read_counted_slice(tenant)
        inventory = counted.inventory
        planned = PlannedSlice(
            fingerprint(inventory),
            counted.counter,
            frozenset(
                ObjectId(o["store"], o["key"])
                for o in inventory["objects"]
                if o["tenant"] == tenant
            ),
        )
        self._audit("plan", {"tenant": tenant, "as_of": as_of, "slice": planned.fingerprint}, actor)
        agreement = arbitrate(inventory, self.policy, tenant, as_of, planners=self.planners)
        return agreement, planned

    def purge_tenant(
        self,
        tenant: str,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        actor: str = "retention-service",
    ) -> PurgeOutcome:
        """Plan one tenant with both planners and, on agreement, purge under every guard.

        Never raises for bad data, divergence or a guard: those end in a ``refused`` outcome,
        an alert and an audit record, with nothing (more) deleted.

        Args:
            tenant: the tenant id.
            as_of: the instant of the verdict; now when omitted.
            dry_run: plan and check the blast radius, delete nothing.
            actor: who asked, for the audit log.

        Returns:
            The outcome.

        Raises:
            InputError: ``as_of`` is not an instant (spec §2.1); nothing read, audited, alerted.
            CredentialError: not a dry run, and no valid primary credentials; nothing is read.
            SafeModeError: not a dry run, and the fleet is in safe mode, or this purge's clocks
                tripped it (rule 11); nothing is read.
        """
        as_of = self._start(as_of, dry_run=dry_run, purpose="purging a tenant", actor=actor)
        with self.planning_session():
            return self._purge_locked(tenant, as_of, dry_run=dry_run, actor=actor)

    def _start(self, as_of: str | None, *, dry_run: bool, purpose: str, actor: str) -> str:
        """Credentials, safe mode and clock sanity before a purge or a run (rule 11)."""
        # Bad input first: a malformed as_of is refused before anything is read, audited or
        # alerted (an empty one is malformed too; only None means now).
        from_clock = as_of is None
        as_of = as_of_or_now(as_of, self.clock)
        if not dry_run:
            self.require_credentials(purpose)
            if self.safe_mode is not None:
                self.safe_mode.require_off()
        # Clock sanity checks the runner's own clock: an as_of the caller chose on purpose (a
        # catch-up "as of last Tuesday") is theirs, and one ahead of now is a guard's.
        if from_clock and not dry_run and self.safe_mode is not None:
            trip = self.safe_mode.check_clock(as_of, actor=actor)
            if trip is not None:
                raise trip.error()
        return as_of

    def _purge_locked(self, tenant: str, as_of: str, *, dry_run: bool, actor: str) -> PurgeOutcome:
        """One tenant under its lock (rule 12); a dry run deletes nothing and takes none."""
        if dry_run or self.locks is None:
            return self._purge_refusing(tenant, as_of, dry_run=dry_run, actor=actor)
        with self.locks.hold(tenant) as held:
            if not held:
                return PurgeOutcome(
                    tenant, as_of, "skipped", "skipped: another runner is purging this tenant"
                )
            return self._purge_refusing(tenant, as_of, dry_run=dry_run, actor=actor)

    def _purge_refusing(
        self, tenant: str, as_of: str, *, dry_run: bool, actor: str
    ) -> PurgeOutcome:
        try:
            return self._purge(tenant, as_of, dry_run=dry_run, actor=actor)
        except StoreConnectionError:
            # The store itself is gone: nothing can be recorded for this tenant or the next (the
            # journal and the audit head live there). The run ends here, its open journal left
            # for the next run's recovery; the caller reports the store's error.
            raise
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            refusal = self._refusals.refuse(exc, tenant=tenant, as_of=as_of, actor=actor)
            return _refused(PurgeOutcome(tenant, as_of, refusal.status, ""), refusal)

    def _purge(self, tenant: str, as_of: str, *, dry_run: bool, actor: str) -> PurgeOutcome:
        if tenant in self.unfinished_tenants and not dry_run:
            raise GuardError(
                "unfinished-journal",
                tenant,
                "an earlier purge of this tenant is unfinished (its recovery stopped or left"
                " omissions); nothing more is deleted until `twinpurge recover` finishes it",
                {},
            )
        if self.streams(tenant):
            return self._purge_streamed(tenant, as_of, dry_run=dry_run, actor=actor)
        agreement, planned = self.agree(tenant, as_of, actor=actor)
        verdict = agreement.verdict
        digest = plan_digest(verdict)
        kept: dict[str, int] = {}
        for k in verdict.kept:
            kept[k.reason] = kept.get(k.reason, 0) + 1
        base = self._agreed(
            tenant,
            as_of,
            eligible=verdict.eligible,
            reason=verdict.reason,
            primary_due=verdict.primary_due,
            backup_due=verdict.backup_due,
            purge=len(verdict.purge),
            kept=kept,
            digest=digest,
            versions=agreement.versions,
            slice_fingerprint=planned.fingerprint,
            actor=actor,
        )
        if not verdict.eligible:
            return base
        try:
            if dry_run:
                self._check_before(tenant, verdict, planned, look_ahead=True)
                return attrs.evolve(
                    base,
                    status="dry-run",
                    message=f"would purge {len(verdict.purge)}",
                    purged=len(verdict.purge),
                )
            # execute_verdict runs the pre-flight checks (rules 2 to 5) itself, once.
            execution = self.execute_verdict(tenant, verdict, planned, actor=actor)
        except GuardError as exc:
            return self._guard_refused(base, exc, actor=actor)
        return self._executed(base, execution, actor=actor)

    def _guard_refused(self, base: PurgeOutcome, exc: GuardError, *, actor: str) -> PurgeOutcome:
        """Refuse a purge a guard stopped (rule 9): audit record, alert, ``refused`` outcome.

        Args:
            base: the agreement's outcome (``agreed``).
            exc: the guard's error.
            actor: who ran the purge.

        Returns:
            ``base`` ended by the refusal.
        """
        refusal = self._refusals.refuse(
            exc,
            tenant=base.tenant,
            as_of=base.as_of,
            actor=actor,
            context={"plan_digest": base.plan_digest},
        )
        return _refused(base, refusal)

    def _agreed(  # noqa: PLR0913 -- the agreed verdict's scalars and counts, and who asked
        self,
        tenant: str,
        as_of: str,
        *,
        eligible: bool,
        reason: str | None,
        primary_due: str | None,
        backup_due: str | None,
        purge: int,
        kept: dict[str, int],
        digest: str,
        versions: Mapping[str, str],
        slice_fingerprint: str,
        actor: str,
    ) -> PurgeOutcome:
        """Record an agreement in the audit log; the outcome of a tenant that is not eligible.

        Args:
            tenant: the tenant.
            as_of: the verdict's instant.
            eligible: whether the tenant is eligible.
            reason: why not, when it is not.
            primary_due: the verdict's primary due.
            backup_due: the verdict's backup due.
            purge: how many objects the verdict purges.
            kept: kept objects counted per reason.
            digest: the plan digest.
            versions: each planner's version.
            slice_fingerprint: what the planners were fed (evidence; rule 4).
            actor: who asked, for the audit log.

        Returns:
            The ``not-eligible`` outcome, which an eligible purge's outcome evolves from.
        """
        self._audit(
            "agreement",
            {
                "tenant": tenant,
                "as_of": as_of,
                "plan_digest": digest,
                "eligible": eligible,
                "reason": reason,
                "purge": purge,
                "kept": kept,
                "versions": dict(versions),
                "slice": slice_fingerprint,
            },
            actor,
        )
        return PurgeOutcome(
            tenant,
            as_of,
            "not-eligible",
            f"not eligible: {reason}",
            eligible=eligible,
            reason=reason,
            primary_due=primary_due,
            backup_due=backup_due,
            kept_by_reason=kept,
            plan_digest=digest,
        )

    def _executed(self, base: PurgeOutcome, execution: Execution, *, actor: str) -> PurgeOutcome:
        """The outcome of an executed purge; its receipt and journal's end once it is complete.

        Args:
            base: the agreement's outcome (``agreed``).
            execution: what the execution did.
            actor: who ran the purge.

        Returns:
            ``executed``, with the omissions when the completeness check found some (rule 13:
            then no receipt, and the journal stays unfinished).
        """
        tenant, as_of, digest = base.tenant, base.as_of, str(base.plan_digest)
        outcome = attrs.evolve(
            base,
            status="executed",
            message=f"purged {execution.purged}",
            purged=execution.purged,
            batches=execution.batches,
            archive_id=execution.archive_id,
            purge_id=execution.purge_id,
        )
        if execution.omissions:
            # Rule 13: no receipt; the journal stays unfinished and the next run retries it.
            return attrs.evolve(
                outcome,
                message=f"purged {execution.purged}, but {len(execution.omissions)} omissions"
                f" remain ({execution.omissions[0]}); the next run's recovery retries them",
                omissions=execution.omissions,
            )
        self.finish(
            execution.purge_id,
            lambda: self.automated_receipt(
                tenant, digest, as_of, execution.purged, base.backup_due, actor=actor
            ),
        )
        return outcome

    def automated_receipt(  # noqa: PLR0913 -- what a receipt binds, and who records it
        self,
        tenant: str,
        digest: str,
        as_of: str,
        purged: int,
        backup_due: str | None,
        *,
        actor: str = "retention-service",
    ) -> None:
        """Record the receipt of a completed automated purge and its ``executed`` audit record.

        Args:
            tenant: the tenant.
            digest: the plan digest.
            as_of: the verdict's instant.
            purged: how many objects the purge deleted.
            backup_due: the verdict's backup_due.
            actor: who ran the purge (its journal's actor when recovery completes it).
        """
        if self.on_receipt is not None:
            self.on_receipt(tenant, digest, as_of, purged, backup_due)
        self._audit(
            "executed",
            {
                "tenant": tenant,
                "as_of": as_of,
                "plan_digest": digest,
                "purged": purged,
                "at": format_instant(self.clock()),
            },
            actor,
        )

    def finish(self, purge_id: str | None, receipt: Callable[[], None]) -> None:
        """Record the receipt, then close the journal ``done`` (rule 13).

        Args:
            purge_id: the purge's journal, or None when it was not journalled.
            receipt: records the receipt (idempotent: a crash before ``done`` repeats it).
        """
        crash_point("journal-before-receipt")
        receipt()
        if purge_id is None or self.journal is None:
            return
        self.journal.add_journal_step(purge_id, "receipt", {})
        crash_point("journal-before-done")
        self.journal.close_journal(purge_id, "done", format_instant(self.clock()))

    def _purge_streamed(
        self, tenant: str, as_of: str, *, dry_run: bool, actor: str
    ) -> PurgeOutcome:
        """Rule 15: plan by streaming and purge from the plan file (``arbiter.purge.streamed``)."""
        processes = self._planner_processes()
        journalled = self.journal is not None and self.journal_dir is not None and not dry_run
        plan_dir = self.journal_dir if journalled else processes.work_dir
        assert plan_dir is not None  # noqa: S101 -- an open pool has its work directory
        owned = False  # whether a journal owns the plan file (then it stays)
        plan: StreamedPlan | None = None
        try:
            plan = plan_streamed(
                self.reader,
                processes,
                tenant,
                self.policy,
                as_of,
                plan_dir=plan_dir,
                purge_id=new_purge_id(),
            )
            agreement = plan.agreement
            fingerprints = agreement.fingerprints
            self._audit(
                "plan", {"tenant": tenant, "as_of": as_of, "slice": fingerprints["slice"]}, actor
            )
            base = self._agreed(
                tenant,
                as_of,
                eligible=agreement.eligible,
                reason=agreement.reason,
                primary_due=agreement.primary_due,
                backup_due=agreement.backup_due,
                purge=agreement.purge_count,
                kept=agreement.kept_by_reason,
                digest=agreement.plan_digest,
                versions=agreement.versions,
                slice_fingerprint=fingerprints["slice"],
                actor=actor,
            )
            if not agreement.eligible:
                return base
            try:
                if dry_run:
                    self._preflight_streamed(tenant, plan, look_ahead=True)
                    return attrs.evolve(
                        base,
                        status="dry-run",
                        message=f"would purge {agreement.purge_count}",
                        purged=agreement.purge_count,
                    )
                self.require_credentials("executing a streamed plan")
                self._preflight_streamed(tenant, plan, look_ahead=False)
                purge_id = self._open_streamed_journal(tenant, plan, actor)
                owned = purge_id is not None
                execution = self._execute_streamed(tenant, plan, purge_id, actor)
            except GuardError as exc:
                return self._guard_refused(base, exc, actor=actor)
            return self._executed(base, execution, actor=actor)
        finally:
            # Streamed rule 2: a plan file no journal took up goes with the purge.
            if plan is not None and not owned:
                plan.path.unlink(missing_ok=True)

    def _preflight_streamed(self, tenant: str, plan: StreamedPlan, *, look_ahead: bool) -> None:
        """Rules 2 to 5 over the plan file (streamed rule 5)."""
        preflight(
            self.target,
            tenant,
            plan,
            policy=self.policy,
            limits=self.limits,
            now=self.clock(),
            look_ahead=look_ahead,
        )

    def _open_streamed_journal(self, tenant: str, plan: StreamedPlan, actor: str) -> str | None:
        """Rule 13: the journal of a streamed plan that purges something; its purge id."""
        agreement = plan.agreement
        if self.journal is None or self.journal_dir is None or agreement.purge_count == 0:
            return None
        purge_id = str(agreement.purge_id)
        self._journal_opened(
            purge_id,
            tenant,
            plan=(plan.path, str(agreement.plan_sha256), agreement.plan_digest),
            as_of=agreement.as_of,
            backup_due=agreement.backup_due,
            actor=actor,
        )
        return purge_id

    def _execute_streamed(
        self, tenant: str, plan: StreamedPlan, purge_id: str | None, actor: str
    ) -> Execution:
        """Rules 6 to 10 and 13 from the plan file, after its pre-flight and journal."""
        agreement = plan.agreement
        if agreement.purge_count == 0:
            return Execution(0, 0, None)
        archive_id = self._archive_objects(
            tenant,
            plan.purge(),
            plan=(agreement.plan_digest, agreement.backup_due),
            actor=actor,
            purge_id=purge_id,
        )
        try:
            purged, batches = self.delete_batches(
                tenant,
                plan.purge(),
                plan.carriers,
                actor,
                purge_id,
                done=(0, 0),
                counter=plan.counter,
                count=agreement.purge_count,
            )
        except GuardError:
            if purge_id is not None and self.journal is not None:
                self.journal.close_journal(purge_id, "refused", format_instant(self.clock()))
            raise
        omissions = self.complete(tenant, plan.purge(), (), purge_id, actor)
        return Execution(purged, batches, archive_id, purge_id, omissions)

    def _check_before(
        self, tenant: str, verdict: Verdict, planned: PlannedSlice, *, look_ahead: bool
    ) -> None:
        """Rules 2 to 5: the staleness check is a counter read, not the slice again (rule 4)."""
        now = self.clock()
        guards.check_not_ahead(tenant, verdict.as_of, now, look_ahead=look_ahead, details={})
        guards.check_blast_radius(
            tenant, len(verdict.purge), self.target.total_objects(), self.limits
        )
        guards.check_scope(tenant, verdict.purge, planned.own)
        with self.target.transaction() as tx:
            guards.check_unchanged(tenant, planned.counter, tx.change_counter(tenant))
            self._check_batch(
                tx, tenant, list(verdict.purge), verdict.purge_ids, self._kept_categories
            )

    @property
    def _kept_categories(self) -> frozenset[str]:
        return guards.kept_categories(self.policy)

    def execute_verdict(
        self,
        tenant: str,
        verdict: Verdict,
        planned: PlannedSlice,
        *,
        actor: str,
        plan_id: str | None = None,
    ) -> Execution:
        """Execute an agreed verdict under every guard: rules 2 to 10 and 13.

        Args:
            tenant: the tenant.
            verdict: the agreed, eligible verdict.
            planned: what the verdict was computed from (``agree``): rules 3 and 4.
            actor: who executes, for the audit log.
            plan_id: the manual plan being executed, if any.

        Returns:
            What was done: purged, batches, archive, journal and omissions. The receipt is
            the caller's (``finish``), once there are no omissions.

        Raises:
            GuardError: a guard refused; its ``purged_before`` counts what was deleted before
                it tripped (zero unless it tripped after a committed batch). The journal is
                closed ``refused``.
            CredentialError: no valid primary credentials; nothing is read.
        """
        self.require_credentials("executing a verdict")
        self._check_before(tenant, verdict, planned, look_ahead=False)
        purge_id = self._open_journal(tenant, verdict, actor, plan_id)
        archive_id = self._archive(tenant, verdict, actor, plan_id, purge_id)
        try:
            purged, batches = self._execute(tenant, verdict, planned, actor, purge_id)
        except GuardError:
            if purge_id is not None and self.journal is not None:
                self.journal.close_journal(purge_id, "refused", format_instant(self.clock()))
            raise
        omissions = self.complete(tenant, verdict.purge, (), purge_id, actor)
        return Execution(purged, batches, archive_id, purge_id, omissions)

    def _open_journal(
        self, tenant: str, verdict: Verdict, actor: str, plan_id: str | None
    ) -> str | None:
        """Rule 13: the plan file, then the journal entry, before anything is archived."""
        if self.journal is None or self.journal_dir is None or not verdict.purge:
            return None
        purge_id = new_purge_id()
        digest = plan_digest(verdict)
        path, sha = write_plan_file(self.journal_dir, purge_id, verdict, digest)
        self._journal_opened(
            purge_id,
            tenant,
            plan=(path, sha, digest),
            as_of=verdict.as_of,
            backup_due=verdict.backup_due,
            actor=actor,
            plan_id=plan_id,
        )
        return purge_id

    def _journal_opened(  # noqa: PLR0913 -- what a journal entry records
        self,
        purge_id: str,
        tenant: str,
        *,
        plan: tuple[Path, str, str],
        as_of: str,
        backup_due: str | None,
        actor: str,
        plan_id: str | None = None,
    ) -> None:
        """Rule 13: open the journal of a purge whose plan file is written, before its archive.

        Args:
            purge_id: the purge id (the plan file's name).
            tenant: the tenant.
            plan: the plan file's path, its SHA-256 and the plan digest.
            as_of: the verdict's instant.
            backup_due: the verdict's backup due.
            actor: who purges.
            plan_id: the manual plan being executed, if any.

        Raises:
            UsageError: the purger has no journal.
        """
        if self.journal is None:
            raise UsageError("this purger keeps no journal")
        path, sha, digest = plan
        self.journal.open_journal(
            {
                "purge_id": purge_id,
                "tenant": tenant,
                "kind": "manual" if plan_id else "automated",
                "plan_id": plan_id,
                "plan_digest": digest,
                "plan_path": str(path),
                "plan_sha256": sha,
                "as_of": as_of,
                "backup_due": backup_due,
                "actor": actor,
                "started_at": format_instant(self.clock()),
                "state": "open",
            }
        )
        crash_point("journal-after-plan")

    def complete(
        self,
        tenant: str,
        purge: Iterable[ObjectId],
        skipped: Iterable[ObjectId],
        purge_id: str | None,
        actor: str,
    ) -> tuple[str, ...]:
        """The completeness check of a journalled purge (rule 13, ``arbiter.purge.journal``).

        Args:
            tenant: the tenant.
            purge: the plan's purge list.
            skipped: objects recovery left alone on purpose.
            purge_id: the journal, or None (nothing is checked without one).
            actor: who acts, for the audit log.

        Returns:
            The omissions; after an ``omission`` alert to every sink (and its audit record)
            when there are any, else after the journal's ``complete`` step.
        """
        crash_point("journal-before-complete")
        if purge_id is None or self.journal is None:
            return ()
        omissions = check_completeness(
            self.journal,
            self.blobs,
            tenant,
            purged=purge,
            skipped=skipped,
            temp_dirs=self.temp_dirs,
            own_files=self._own_files(purge_id),
        )
        if omissions:
            self._audit(
                "omission",
                {"tenant": tenant, "purge_id": purge_id, "omissions": omissions[:50]},
                actor,
            )
            self._refusals.alert(
                "omission",
                f"purge {purge_id} of {tenant} left {len(omissions)} things behind"
                f" ({omissions[0]}); its journal stays unfinished and the next run retries it",
                tenant=tenant,
                as_of="",
                details={"purge_id": purge_id, "omissions": omissions[:50]},
                actor=actor,
            )
            return tuple(omissions)
        self.journal.add_journal_step(purge_id, "complete", {})
        crash_point("journal-after-complete")
        return ()

    def _own_files(self, purge_id: str) -> tuple[str, ...]:
        """The names of a journalled purge's own files: its plan file and its archive id."""
        assert self.journal is not None  # noqa: S101 -- only called for a journalled purge
        record = next((r for r in self.journal.journals() if r["purge_id"] == purge_id), None)
        if record is None:
            return ()
        # Its archive step only: the batch steps name every object (rule 4 of the streamed purge).
        state = JournalState(record, tuple(self.journal.journal_steps(purge_id, only=("archive",))))
        archive = state.archive
        return (Path(record["plan_path"]).name, *(() if archive is None else (archive[0],)))

    def rehearse(self, tenant: str, verdict: Verdict, planned: PlannedSlice, *, actor: str) -> int:
        """Rehearse: delete the whole purge set in one transaction and roll it back.

        Every guard runs and the deleted count is checked; the store is left exactly as it was
        (its change counter included: the rollback takes the deletes' bumps back).

        Args:
            tenant: the tenant.
            verdict: the agreed, eligible verdict.
            planned: what the verdict was computed from (``agree``).
            actor: who rehearses, for the audit log.

        Returns:
            The number of rows the rehearsal deleted (and restored by rolling back).

        Raises:
            GuardError: a guard refused, or the count differs from the plan.
            CredentialError: no valid primary credentials; nothing is read.
        """
        self.require_credentials("rehearsing a purge")
        self._check_before(tenant, verdict, planned, look_ahead=False)
        ids = list(verdict.purge)
        deleted = 0
        try:
            with self.target.transaction() as tx:
                self._check_batch(tx, tenant, ids, verdict.purge_ids, self._kept_categories)
                deleted = tx.delete(tenant, ids)
                raise _Rollback  # noqa: TRY301 -- leaving by an exception rolls back
        except _Rollback:
            pass
        guards.check_count(
            tenant,
            deleted,
            len(ids),
            f"rehearsal deleted {deleted} rows for a plan of {len(ids)}",
            {"deleted": deleted, "planned": len(ids)},
        )
        self._audit(
            "rehearsal", {"tenant": tenant, "as_of": verdict.as_of, "deleted": deleted}, actor
        )
        return deleted

    def _archive(
        self, tenant: str, verdict: Verdict, actor: str, plan_id: str | None, purge_id: str | None
    ) -> str | None:
        """Rule 1 of ``arbiter.purge.archive``: no archive, no deletion."""
        if not verdict.purge:
            return None  # nothing is about to be deleted: nothing to restore
        return self._archive_objects(
            tenant,
            verdict.purge,
            plan=(plan_digest(verdict), verdict.backup_due),
            actor=actor,
            plan_id=plan_id,
            purge_id=purge_id,
        )

    def _archive_objects(  # noqa: PLR0913 -- what is archived, for which plan, by whom
        self,
        tenant: str,
        objects: Iterable[ObjectId],
        *,
        plan: tuple[str, str | None],
        actor: str,
        plan_id: str | None = None,
        purge_id: str | None = None,
    ) -> str | None:
        """Write and verify the restore archive of ``objects`` before they are deleted.

        Rule 1 of ``arbiter.purge.archive``: no archive, no deletion. The objects are read a
        chunk at a time as the archive is written.

        Args:
            tenant: the tenant.
            objects: what is about to be deleted.
            plan: the plan digest and the verdict's backup due (the archive's lifetime).
            actor: who purges, for the audit log.
            plan_id: the manual plan being executed, if any.
            purge_id: the purge's journal, which records the archive step.

        Returns:
            The archive id; None when the purger has no archiver.
        """
        if self.archiver is None:
            return None
        blobs = [0]
        archive_id, count = self.archiver.archive(
            tenant=tenant,
            plan_digest=plan[0],
            backup_due=plan[1],
            entries=self._archive_entries(objects, blobs),
            plan_id=plan_id,
        )
        if self.on_progress is not None:
            self.on_progress("archiving", count, count)
        self._audit(
            "archive",
            {"tenant": tenant, "archive_id": archive_id, "objects": count, "blobs": blobs[0]},
            actor,
        )
        if purge_id is not None and self.journal is not None:
            record = self.journal.archive(archive_id) or {}
            self.journal.add_journal_step(
                purge_id, "archive", {"archive_id": archive_id, "sha256": record.get("sha256")}
            )
            crash_point("journal-after-archive")
        return archive_id

    def _archive_entries(
        self, ids: Iterable[ObjectId], blobs: list[int]
    ) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        """Each object's row and blob bytes, read a chunk at a time as the archive is written.

        A chunk's rows are read in one short transaction, so writers are never held up for the
        whole archive; ``blobs[0]`` counts the blob files read.
        """
        for chunk in _chunks(ids, _ARCHIVE_CHUNK):
            with self.target.transaction() as tx:
                rows = tx.rows(chunk)
            for row in rows:
                blob = None
                obj = ObjectId(row["store"], row["key"])
                if self.blobs is not None and self.blobs.is_blob_store(obj.store):
                    blob = self.blobs.read(obj)
                    blobs[0] += blob is not None
                yield row, blob

    def _execute(
        self, tenant: str, verdict: Verdict, planned: PlannedSlice, actor: str, purge_id: str | None
    ) -> tuple[int, int]:
        """Rules 4, 6 to 9 and 13: the guarded, journalled batches."""
        return self.delete_batches(
            tenant,
            list(verdict.purge),
            verdict.purge_ids,
            actor,
            purge_id,
            done=(0, 0),
            counter=planned.counter,
        )

    def delete_batches(  # noqa: PLR0913 -- what a run of batches needs
        self,
        tenant: str,
        objects: Iterable[ObjectId],
        purge_set: frozenset[ObjectId],
        actor: str,
        purge_id: str | None,
        *,
        done: tuple[int, int],
        counter: int | None = None,
        count: int | None = None,
    ) -> tuple[int, int]:
        """Delete ``objects`` in guarded batches, each journalled with its delete (rule 13).

        Args:
            tenant: the tenant.
            objects: what to delete, in order; read a batch at a time.
            purge_set: the purge set's members a referrer can be: the whole purge set, or
                (a streamed purge, ``arbiter.purge.streamed`` rule 4) those of its objects that
                carry refs. A referrer inside it goes too.
            actor: who acts, for the audit log.
            purge_id: the journal, or None.
            done: (objects, batches) committed before (a resumed purge counts on from them).
            counter: the tenant's change counter the plan was made with; each batch compares
                the counter with it, then with what the batch before read after its own
                deletes (rule 4). None compares nothing (a purge resumed from its journal).
            count: how many ``objects`` there are, for progress; None counts them (then
                ``objects`` is read into a list first).

        Returns:
            (objects purged, batches committed), counting ``done``.

        Raises:
            GuardError: a guard refused a batch (rule 9), ``stale`` among them (rule 4);
                ``purged_before`` counts from ``done``.
            CredentialError: no valid primary credentials; nothing is read.
        """
        self.require_credentials("deleting batches")
        if count is None:
            objects = list(objects)
            count = len(objects)
        keep_categories = self._kept_categories
        purged, batches = done
        for batch in _chunks(objects, self.limits.batch_size):
            try:
                with self.target.transaction() as tx:
                    # Read first: from here to the commit the transaction holds the counter, so
                    # the guards' reads stay true until the delete commits (rule 4).
                    current = tx.change_counter(tenant)
                    self._check_batch(tx, tenant, batch, purge_set, keep_categories)
                    if counter is not None:
                        guards.check_unchanged(tenant, counter, current)
                    deleted = tx.delete(tenant, batch)
                    # Raising inside the transaction rolls the batch back.
                    guards.check_count(
                        tenant,
                        deleted,
                        len(batch),
                        f"deleted {deleted} rows for a batch of {len(batch)}",
                        {"deleted": deleted, "batch": len(batch)},
                    )
                    if purge_id is not None:
                        # Rule 13: the step commits with the delete, or neither does.
                        tx.journal_step(
                            purge_id,
                            "batch",
                            {"index": batches + 1, "objects": [[o.store, o.key] for o in batch]},
                        )
                    if counter is not None:
                        # Still held: only this batch's own deletes moved it (rule 4).
                        counter = tx.change_counter(tenant)
            except GuardError as exc:
                # Rule 9: the batches before this one stay deleted; the refusal says how many.
                raise exc.after(purged) from exc
            purged += len(batch)
            batches += 1
            crash_point("journal-after-batch")
            if self.on_progress is not None:
                self.on_progress("deleting", purged, done[0] + count)
            self._audit(
                "batch",
                {"tenant": tenant, "index": batches, "objects": [[o.store, o.key] for o in batch]},
                actor,
            )
            self.delete_files(tenant, batch, actor)
            if purge_id is not None and self.journal is not None:
                self.journal.add_journal_step(purge_id, "files", {"index": batches})
        return purged, batches

    @staticmethod
    def _check_batch(
        tx: PurgeTransaction,
        tenant: str,
        batch: list[ObjectId],
        purge_set: frozenset[ObjectId],
        keep_categories: frozenset[str],
    ) -> None:
        """Rule 6, inside the batch's transaction (``arbiter.purge.guards.check_batch``)."""
        guards.check_batch(tx, tenant, batch, purge_set, keep_categories)

    def delete_files(self, tenant: str, batch: list[ObjectId], actor: str) -> None:
        """Rule 8: remove the files of a committed batch; never a file whose row still exists.

        Args:
            tenant: the tenant.
            batch: the batch's objects.
            actor: who acts, for the audit log.

        Raises:
            CredentialError: no valid primary credentials; nothing is read or removed.
        """
        self.require_credentials("removing the files of a committed batch")
        if self.blobs is None:
            return
        candidates = [obj for obj in batch if self.blobs.is_blob_store(obj.store)]
        if not candidates:
            return
        with self.target.transaction() as tx:
            present = tx.objects(candidates)
        # A row with this identity exists (again): its file is not ours.
        _removed, failed = self.blobs.delete_many(o for o in candidates if o not in present)
        for obj, exc in failed:  # a file error must not undo a committed purge
            self._refusals.alert(
                "blob-orphan",
                f"could not delete the file of {obj.store}/{obj.key}: {exc}",
                tenant=tenant,
                as_of="",
                details={"store": obj.store, "key": obj.key},
                actor=actor,
            )

    def run_due(
        self,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        progress: Callable[[str], None] | None = None,
        actor: str = "retention-service",
    ) -> FleetReport:
        """Purge every eligible tenant, each isolated from the others.

        Args:
            as_of: the instant of every verdict; now when omitted.
            dry_run: plan and check, delete nothing.
            progress: called with each tenant id once it is done.
            actor: who asked, for the audit log.

        Returns:
            The fleet report: one outcome per tenant.

        Raises:
            InputError: ``as_of`` is not an instant (spec §2.1); nothing read, audited, alerted.
            CredentialError: not a dry run, and no valid primary credentials; nothing is read.
            SafeModeError: not a dry run, and the fleet is in safe mode, or this run's clocks
                tripped it (rule 11); nothing is read. A run that trips it on the way returns
                its report, with ``safe_mode`` and ``not_started`` set.
        """
        as_of = self._start(as_of, dry_run=dry_run, purpose="running the due purges", actor=actor)
        counting = self.safe_mode is not None and not dry_run
        tally = self.safe_mode.tally() if self.safe_mode is not None else None
        trip = None
        outcomes = []
        tenants = self.reader.tenant_ids()
        with self.planning_session():
            for tenant in tenants:
                if counting and self.safe_mode is not None:
                    trip = self.safe_mode.active()  # another runner may have tripped it
                    if trip is not None:
                        break
                outcome = self._purge_locked(tenant, as_of, dry_run=dry_run, actor=actor)
                outcomes.append(outcome)
                if progress is not None:
                    progress(tenant)
                if counting and tally is not None and tally.add(tenant, outcome.status):
                    assert self.safe_mode is not None  # noqa: S101 -- counting implies safe mode
                    trip = self.safe_mode.trip(
                        "threshold",
                        f"{len(tally.bad)} of {tally.attempted} tenants attempted were refused"
                        " or failed",
                        tally.bad,
                        {"attempted": tally.attempted, "bad": len(tally.bad), **tally.statuses},
                        as_of=as_of,
                        actor=actor,
                    )
                    break
        if self.safe_mode is not None and trip is None:
            trip = self.safe_mode.active()
        not_started = tuple(tenants[len(outcomes) :]) if trip is not None and not dry_run else ()
        report = FleetReport(as_of, tuple(outcomes), trip, not_started)
        self._audit(
            "run-due",
            {
                "as_of": as_of,
                "dry_run": dry_run,
                "counts": report.counts(),
                "safe_mode": None if trip is None else trip.trip_id,
                "not_started": list(not_started),
            },
            actor,
        )
        return report


def _refused(outcome: PurgeOutcome, refusal: Refusal) -> PurgeOutcome:
    """``outcome`` ended by ``refusal`` (``arbiter.purge.refusal``)."""
    return attrs.evolve(
        outcome,
        status=refusal.status,
        message=refusal.message,
        guard=refusal.guard,
        purged=refusal.purged_before,
        report_path=refusal.report_path,
    )
