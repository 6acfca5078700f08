"""A tenant purged from a streamed plan: both planners in their processes, the plan on disk.

Rule 15 of ``arbiter.purge.purger``: a tenant owning at least ``limits.stream_from`` objects is
planned by streaming (``arbiter.purge.streaming``) and purged from the plan file, so that the
arbiter's memory does not grow with the tenant. Every rule of the purger holds as it does for a
plan held in memory (the guards, the journal, the archive, the batches, the completeness check,
the receipt); what this module adds:

1. **One snapshot.** The tenant's slice is read from one ``stream_counted_slice`` snapshot
   (ports rule 8) together with its change counter, and fed to ``PlannerProcesses.plan``; the
   counter is what staleness is compared with (purger rule 4). A tenant the store does not hold
   is bad input, as in a slice held in memory (nothing is planned).
2. **The plan file is the plan.** The agreed plan is spilled as it is agreed to a plan file of
   journal format 2: in the journal directory when the purge is journalled, else in the planner
   processes' private work directory. The pre-flight, the archive, the batches and the
   completeness check each read its purge entries from the file (``iter_plan_file``: checked
   against its SHA-256 first, and again as it is read). A plan file no journal took up (a dry
   run, a tenant not eligible, a refusal before the journal opened, a purger without a
   journal) is removed when the purge ends.
3. **Scope by construction** (purger rule 3): the lockstep comparison checks every decision
   against the object fed at its position (``arbiter.core.lockstep``), and the objects fed are
   the tenant's own, read from its snapshot: the purge set is within the slice the planners
   saw. Every batch still checks each object's owner at delete time (purger rule 6).
4. **Memory.** The arbiter holds the identities of the tenant's objects that carry refs, and
   of those, the ones the plan purges: the only members of the purge set that the shared-ref
   guard (a referrer outside the purge set) needs to know. Any other referrer is outside the
   purge set. Everything else (the purge list, the kept list) stays in the plan file and is
   read a chunk at a time.
5. **Pre-flight in chunks.** Purger rule 5's checks run over the whole purge set before the
   first batch, in one transaction, a chunk of ``_PREFLIGHT`` objects at a time: a plan any of
   them refuses deletes nothing.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.errors import GuardError, InputError
from arbiter.core.instants import format_instant
from arbiter.core.verdict import ObjectId
from arbiter.purge import guards
from arbiter.purge.journal import iter_plan_file, new_purge_id
from arbiter.purge.purger import Execution, PurgeOutcome, Purger
from arbiter.purge.streaming import StreamedAgreement

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from arbiter.purge.streaming import PlannerProcesses

__all__ = ["purge_streamed"]

# Objects checked per query in the pre-flight (rule 5).
_PREFLIGHT = 4096


def _purge_entries(path: Path, sha256: str) -> Iterator[ObjectId]:
    """The plan file's purge list, in order (rule 2)."""
    return (obj for kind, obj in iter_plan_file(path, sha256) if kind == "purge")


def _chunks(items: Iterator[ObjectId], size: int) -> Iterator[list[ObjectId]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


@attrs.frozen
class _Plan:
    """An agreed streamed plan: its file and the members of its purge set a referrer can be."""

    agreement: StreamedAgreement
    counter: int
    carriers: frozenset[ObjectId]

    @property
    def path(self) -> Path:
        path = self.agreement.plan_path
        assert path is not None  # noqa: S101 -- a streamed purge always spills its plan
        return path

    def purge(self) -> Iterator[ObjectId]:
        """The purge list, read afresh from the plan file."""
        return _purge_entries(self.path, str(self.agreement.plan_sha256))


def _plan(  # noqa: PLR0913, PLR0917 -- the purger, its processes, the tenant, as_of, the file
    purger: Purger,
    processes: PlannerProcesses,
    tenant: str,
    as_of: str,
    plan_dir: Path,
    purge_id: str,
) -> _Plan:
    """Rules 1 and 4: plan from one snapshot; note the objects that carry refs as they pass."""
    carriers: set[ObjectId] = set()
    with purger.reader.stream_counted_slice(tenant) as streamed:
        if streamed.tenant is None:
            raise InputError(
                source="tenant", field="tenant", message=f"the inventory lists no tenant {tenant!r}"
            )

        def fed() -> Iterator[dict[str, Any]]:
            for record in streamed.objects():
                if record.get("refs"):
                    carriers.add(ObjectId(record["store"], record["key"]))
                yield record

        agreement = processes.plan(
            streamed.tenant,
            fed(),
            streamed.shared,
            purger.policy,
            as_of,
            plan_dir=plan_dir,
            purge_id=purge_id,
        )
        counter = streamed.counter
    plan = _Plan(agreement, counter, frozenset())
    # Rule 4: of the objects carrying refs, those the plan purges.
    purged = frozenset(o for o in plan.purge() if o in carriers) if carriers else frozenset()
    return attrs.evolve(plan, carriers=purged)


def _preflight(purger: Purger, tenant: str, plan: _Plan, *, look_ahead: bool) -> None:
    """Purger rules 2 to 5 over the plan file (rule 5)."""
    guards.check_not_ahead(
        tenant, plan.agreement.as_of, purger.clock(), look_ahead=look_ahead, details={}
    )
    guards.check_blast_radius(
        tenant, plan.agreement.purge_count, purger.target.total_objects(), purger.limits
    )
    keep = guards.kept_categories(purger.policy)
    with purger.target.transaction() as tx:
        guards.check_unchanged(tenant, plan.counter, tx.change_counter(tenant))
        for chunk in _chunks(plan.purge(), _PREFLIGHT):
            guards.check_batch(tx, tenant, chunk, plan.carriers, keep)


def purge_streamed(  # noqa: PLR0913 -- the purger, its processes, the purge, who asks
    purger: Purger,
    processes: PlannerProcesses,
    tenant: str,
    as_of: str,
    *,
    dry_run: bool,
    actor: str,
) -> PurgeOutcome:
    """Plan ``tenant`` by streaming and, on agreement, purge it from the plan file.

    The streamed counterpart of the purger's own path (``Purger._purge``), with the same
    outcomes, audit records, alerts and journal.

    Args:
        purger: the purger whose guards, stores, journal and archive are used.
        processes: the open planner processes.
        tenant: the tenant.
        as_of: the instant of the verdict.
        dry_run: plan and check, delete nothing.
        actor: who asked, for the audit log.

    Returns:
        The outcome: ``executed``, ``dry-run``, ``not-eligible`` or ``refused`` by a guard.

    Raises:
        InputError: the tenant is not in the store, or both planners rejected its slice.
        RefusedError: the planners' streams diverged, or one failed.
        CredentialError: not a dry run, and no valid primary credentials.
    """
    journalled = purger.journal is not None and purger.journal_dir is not None and not dry_run
    plan_dir = purger.journal_dir if journalled else processes.work_dir
    assert plan_dir is not None  # noqa: S101 -- an open pool has its work directory
    purge_id = new_purge_id()
    opened: list[bool] = []  # set once the journal owns the plan file
    plan: _Plan | None = None
    try:
        plan = _plan(purger, processes, tenant, as_of, plan_dir, purge_id)
        agreement = plan.agreement
        purger.audit.append(
            "plan",
            {"tenant": tenant, "as_of": as_of, "slice": agreement.fingerprints["slice"]},
            actor=actor,
        )
        base = purger.agreed(
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
            slice_fingerprint=agreement.fingerprints["slice"],
            actor=actor,
        )
        if not agreement.eligible:
            return base
        try:
            if dry_run:
                _preflight(purger, tenant, plan, look_ahead=True)
                return attrs.evolve(
                    base,
                    status="dry-run",
                    message=f"would purge {agreement.purge_count}",
                    purged=agreement.purge_count,
                )
            execution = _execute(purger, tenant, plan, actor, opened)
        except GuardError as exc:
            return purger.guard_refused(base, exc, actor=actor)
        return purger.executed(base, execution, actor=actor)
    finally:
        if not opened and plan is not None:
            with contextlib.suppress(FileNotFoundError):
                plan.path.unlink()


def _execute(purger: Purger, tenant: str, plan: _Plan, actor: str, opened: list[bool]) -> Execution:
    """Purger rules 2 to 10 and 13 from the plan file; ``opened`` gains True with the journal."""
    purger.require_credentials("executing a streamed plan")
    _preflight(purger, tenant, plan, look_ahead=False)
    agreement = plan.agreement
    if agreement.purge_count == 0:
        return Execution(0, 0, None)
    purge_id = None
    if purger.journal is not None and purger.journal_dir is not None:
        purge_id = str(agreement.purge_id)
        purger.open_journal(
            purge_id,
            tenant,
            plan=(plan.path, str(agreement.plan_sha256), agreement.plan_digest),
            as_of=agreement.as_of,
            backup_due=agreement.backup_due,
            actor=actor,
        )
        opened.append(True)
    archive_id = purger.archive_objects(
        tenant,
        plan.purge(),
        plan=(agreement.plan_digest, agreement.backup_due),
        actor=actor,
        purge_id=purge_id,
    )
    try:
        purged, batches = purger.delete_batches(
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
        if purge_id is not None and purger.journal is not None:
            purger.journal.close_journal(purge_id, "refused", format_instant(purger.clock()))
        raise
    omissions = purger.complete(tenant, plan.purge(), (), purge_id, actor)
    return Execution(purged, batches, archive_id, purge_id, omissions)
