"""Manual purges carried out: execution (with its rehearsal) and restore, two people each.

Rules:

1. Executing or restoring needs approvals from ``approvals_required`` (at least two) distinct
   registered operators, for that action, over the plan body as it is now, younger than the
   expiry (``arbiter.auth.approvals``). The executor may be one of them; nobody acts alone.
2. At execution both planners run again on the current data, for the plan's tenant and as_of;
   their verdict must equal the approved one, or the plan is stale and nothing is deleted.
3. Before the real run, the purge is rehearsed (deleted in a transaction that is rolled back,
   counts checked). Plans larger than ``rehearsal_required_above`` cannot skip the rehearsal.
4. Execution writes the restore archive before deleting, under every guard of
   ``arbiter.purge.purger``; the object-count limit is the manual one
   (``manual.max_objects_per_purge``), since two operators approved this very plan. A plan
   executes at most once.
5. A guard that trips, in the rehearsal or the real run, refuses through the one refusal
   handler (``arbiter.purge.refusal``), as every other purge does: a ``guard`` audit record
   naming the plan, then one alert to every sink of the workspace naming the guard, the tenant
   and the plan. Nothing more is deleted, and the ``GuardError`` reaches the caller.
6. Restore brings back exactly the archived rows and blob bytes that are missing, after
   verifying the archive; it needs its own two approvals and happens at most once, and never
   after the tenant's backup_due (the archive is removed then).
7. Every step is appended to the audit log with the operator's name.
8. Executing (or rehearsing) and restoring need the workspace's primary credentials
   (``Workspace.require_credentials``), checked before the plan file is even read.
10. Every execution and restore first recovers other unfinished purges
    (``Workspace.recover_purges``). A plan whose execution was interrupted (its journal,
    ``arbiter.purge.journal``, is unfinished) is resumed by executing it again: the approvals bind
    the plan, not the process. The stale check then compares the planners' verdict now with the
    approved one minus what the plan's journal already deleted, and the rest is completed by
    recovery from the plan's own journal (every remaining object re-checked by every guard).
11. Restore works on an interrupted plan too (from the archive its journal records): its journal
    is closed ``restored`` first, so nothing more is deleted. A restore is idempotent and
    complete: every archived row that is missing is inserted and every archived blob file that
    is missing is written (a row present without its file counts as missing), and the plan is
    marked restored only once nothing archived is missing; a crashed restore is finished by
    running it again (its temporary files are removed by recovery). Test seam
    (``arbiter.durable.crash``): ``restore-after-rows``, ``restore-between-files``.
9. Execution is a purge like the automated ones: refused while the fleet is in safe mode
   (``arbiter.purge.safemode``), and done under the tenant's lock (``arbiter.stores.locks``), so
   a manual and an automated runner never purge one tenant at once.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.approvals import Action, check_approvals
from arbiter.core.compare import VerdictDifferences, compare_verdicts
from arbiter.core.errors import (
    ApprovalError,
    ArchiveError,
    GuardError,
    OmissionError,
    StalePlanError,
    UsageError,
)
from arbiter.core.instants import format_instant
from arbiter.core.verdict import KeptObject, ObjectId
from arbiter.durable.crash import crash_point
from arbiter.manual.plans import (
    ManualPlan,
    operator_keys,
    read_plan,
    register_existing,
    require_operator,
)
from arbiter.purge.archive import read_archive
from arbiter.purge.journal import JournalState
from arbiter.purge.refusal import RefusalHandler

if TYPE_CHECKING:
    from arbiter.auth.credentials import PrimaryCredentials
    from arbiter.workspace.workspace import Workspace

__all__ = ["ExecuteResult", "PlanRestoreResult", "execute_plan", "restore_plan"]


@attrs.frozen
class ExecuteResult:
    """What ``execute_plan`` did.

    Attributes:
        plan_id: the plan.
        tenant: its tenant.
        approvers: the distinct operators whose approvals counted.
        rehearsed: rows the rehearsal deleted and rolled back, or None when it was skipped.
        purged: objects deleted (0 for a rehearsal only).
        archive_id: the restore archive written before deleting, if one was.
    """

    plan_id: str
    tenant: str
    approvers: tuple[str, ...]
    rehearsed: int | None = None
    purged: int = 0
    archive_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON data (the CLI's ``--format json``)."""
        return {
            "plan_id": self.plan_id,
            "tenant": self.tenant,
            "approvers": list(self.approvers),
            "rehearsed": self.rehearsed,
            "purged": self.purged,
            "archive_id": self.archive_id,
        }


@attrs.frozen
class PlanRestoreResult:
    """What ``restore_plan`` brought back.

    Attributes:
        plan_id: the plan.
        archive_id: the archive restored from.
        restored: objects restored (those missing; anything present stays as it is).
        approvers: the distinct operators whose restore approvals counted.
    """

    plan_id: str
    archive_id: str
    restored: int
    approvers: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON data (the CLI's ``--format json``)."""
        return {
            "plan_id": self.plan_id,
            "archive_id": self.archive_id,
            "restored": self.restored,
            "approvers": list(self.approvers),
        }


def _check_two_person(
    workspace: Workspace, plan: ManualPlan, action: Action, operator: str
) -> tuple[str, ...]:
    require_operator(workspace, operator)
    check = check_approvals(
        plan.approvals,
        action=action,
        plan_id=plan.body.plan_id,
        plan_digest=plan.digest,
        operators=operator_keys(workspace),
        now=workspace.clock(),
        expiry=timedelta(hours=workspace.config.manual.approval_expiry_hours),
    )
    required = workspace.config.manual.approvals_required
    if len(check.valid) < required:
        workspace.audit.append(
            "approval-refused",
            {
                "plan_id": plan.body.plan_id,
                "action": action,
                "valid": list(check.valid),
                "problems": list(check.problems),
            },
            actor=operator,
        )
        raise ApprovalError(action, check.valid, required, check.problems)
    return check.valid


def execute_plan(
    workspace: Workspace,
    path: Path,
    *,
    operator: str,
    rehearse_only: bool = False,
    skip_rehearsal: bool = False,
) -> ExecuteResult:
    """Execute (or only rehearse) an approved plan (rules 1 to 5).

    Returns:
        What happened.

    Raises:
        ApprovalError: fewer than the required distinct valid approvals.
        StalePlanError: the planners' verdict now differs from the approved one.
        GuardError: a guard refused (nothing more deleted, audited and alerted: rule 5); its
            ``purged_before`` counts what was deleted, each batch under every guard, before it
            tripped.
        UsageError: the plan was executed already, or a large plan tried to skip the rehearsal.
        CredentialError: the workspace was opened without its primary credentials (rule 8).
        SafeModeError: the fleet is in safe mode (rule 9); nothing is read or deleted.
    """
    workspace.require_credentials("executing a manual plan")
    # Safe mode stops every purge, manual ones too (rule 9): two operators reset it first.
    workspace.safe_mode.require_off()
    plan = read_plan(path)
    body = plan.body
    approvers = _check_two_person(workspace, plan, "execute", operator)
    interrupted = plan_journal(workspace, body.plan_id)
    if interrupted is not None and interrupted.archive is None and not interrupted.committed:
        interrupted = None  # crashed before its archive: recovery abandons it, nothing deleted
    workspace.recover_purges(
        actor=operator,
        exclude=frozenset() if interrupted is None else frozenset({interrupted.purge_id}),
    )
    record = workspace.store.plan(body.plan_id)
    if record is not None and record["executed_at"]:
        raise UsageError(
            f"plan {body.plan_id} was executed at {record['executed_at']}"
            f" by {record['executed_by']}"
        )
    approved = plan.verdict
    if interrupted is not None:
        # Rule 10: the plan's own journal, not a new execution, finishes it.
        committed = set(interrupted.committed)  # once: a resumed plan may hold millions
        approved = attrs.evolve(
            approved, purge=tuple(o for o in approved.purge if o not in committed)
        )
    # Two operators approved this very plan: it is bounded by the manual limit, not the automated.
    limits = attrs.evolve(
        workspace.config.limits, max_objects_per_purge=workspace.config.manual.max_objects_per_purge
    )
    purger = attrs.evolve(workspace.purger, limits=limits)
    agreement, planned = purger.agree(body.tenant, body.as_of, actor=operator)
    changes = compare_verdicts(approved, agreement.verdict)
    if not changes.agree:
        lines = _describe_changes(changes)
        workspace.audit.append(
            "stale-plan", {"plan_id": body.plan_id, "changes": lines}, actor=operator
        )
        raise StalePlanError(body.plan_id, tuple(lines))
    if interrupted is not None and rehearse_only:
        raise UsageError(
            f"plan {body.plan_id} was interrupted mid-way; execute it again to finish it,"
            " or restore it"
        )
    if interrupted is not None:
        return _resume(workspace, interrupted, body.plan_id, tuple(approvers), operator)
    size = len(approved.purge)
    if skip_rehearsal and size > workspace.config.manual.rehearsal_required_above:
        raise UsageError(
            f"a plan of {size} objects cannot skip the rehearsal"
            f" (rehearsal_required_above = {workspace.config.manual.rehearsal_required_above})"
        )
    result = ExecuteResult(body.plan_id, body.tenant, tuple(approvers))
    if record is None and not rehearse_only:
        # Registered before anything is deleted: a recovery marks it executed by its id.
        register_existing(workspace, plan, path)
    try:
        with workspace.locks.hold(body.tenant) as held:
            # One runner per tenant (rule 9): an automated run purging this tenant right now
            # would race this plan; the operators run it again once that run is done.
            if not held:
                raise UsageError(
                    f"tenant {body.tenant} is being purged by another runner;"
                    " nothing was done, execute the plan again when it has finished"
                )
            if not skip_rehearsal:
                rehearsed = purger.rehearse(body.tenant, approved, planned, actor=operator)
                result = attrs.evolve(result, rehearsed=rehearsed)
            if rehearse_only:
                return result
            execution = purger.execute_verdict(
                body.tenant, approved, planned, actor=operator, plan_id=body.plan_id
            )
    except GuardError as exc:
        # Rule 5: refused like every other purge, through the one handler: audited, then alerted.
        RefusalHandler(workspace.audit, workspace.alerter).refuse(
            exc,
            tenant=body.tenant,
            as_of=body.as_of,
            actor=operator,
            context={"plan_id": body.plan_id},
        )
        raise
    if execution.omissions:
        raise OmissionError(body.plan_id, execution.omissions)
    purger.finish(
        execution.purge_id,
        lambda: workspace.manual_receipt(
            plan_id=body.plan_id,
            tenant=body.tenant,
            as_of=body.as_of,
            purged=execution.purged,
            archive_id=execution.archive_id,
            backup_due=approved.backup_due,
            plan_digest=body.verdict_digest,
            actor=operator,
            approvers=approvers,
        ),
    )
    return attrs.evolve(result, purged=execution.purged, archive_id=execution.archive_id)


def plan_journal(workspace: Workspace, plan_id: str) -> JournalState | None:
    """The unfinished journal of a plan's interrupted execution, if there is one (rule 10)."""
    for record in workspace.store.journals(unfinished=True):
        if record["plan_id"] == plan_id:
            return JournalState.load(workspace.store, record)
    return None


def _resume(
    workspace: Workspace,
    interrupted: JournalState,
    plan_id: str,
    approvers: tuple[str, ...],
    operator: str,
) -> ExecuteResult:
    """Finish an interrupted execution from its journal (rule 10)."""
    tenant = str(interrupted.record["tenant"])
    workspace.audit.append(
        "manual-resumed",
        {"plan_id": plan_id, "purge_id": interrupted.purge_id, "approvers": list(approvers)},
        actor=operator,
    )
    report = workspace.recover_purges(actor=operator, only=interrupted.purge_id)
    done = report.journals[0] if report.journals else None
    if done is None or done.status not in {"completed", "abandoned"}:
        status = "not recovered" if done is None else done.status
        message = "" if done is None else done.message
        if done is not None and done.status == "omissions":
            raise OmissionError(plan_id, done.omissions)
        if done is not None and done.status == "skipped":
            raise UsageError(
                f"tenant {tenant} is being purged by another runner;"
                " nothing was done, execute the plan again when it has finished"
            )
        raise ArchiveError(f"plan {plan_id} could not be resumed ({status}): {message}")
    if done.status == "abandoned":
        raise UsageError(
            f"plan {plan_id} was interrupted before anything was deleted;"
            " execute it again to run it afresh"
        )
    return ExecuteResult(
        plan_id,
        tenant,
        approvers,
        purged=done.committed_before + done.deleted,
        archive_id=done.archive_id,
    )


def _describe_changes(changes: VerdictDifferences) -> list[str]:
    lines = [f"{d.field}: approved {d.a!r}, now {d.b!r}" for d in changes.fields]
    listed: tuple[tuple[tuple[ObjectId | KeptObject, ...], str], ...] = (
        (changes.purge_only_in_a, "no longer to purge"),
        (changes.purge_only_in_b, "newly to purge"),
        (changes.kept_only_in_a, "no longer kept"),
        (changes.kept_only_in_b, "newly kept"),
    )
    for items, label in listed:
        if items:
            first = ", ".join(f"{i.store}/{i.key}" for i in items[:5])
            lines.append(f"{len(items)} {label}: {first}")
    lines += [f"{d.store}/{d.key} kept as {d.a}, now {d.b}" for d in changes.kept_reason_differs]
    return lines


def restore_plan(workspace: Workspace, path: Path, *, operator: str) -> PlanRestoreResult:
    """Restore what an executed plan deleted, from its archive (rule 6).

    Returns:
        What was restored.

    Raises:
        ApprovalError: fewer than the required distinct valid restore approvals.
        ArchiveError: no archive, a removed one, or a damaged one.
        UsageError: the plan was not executed, or was restored already.
        CredentialError: the workspace was opened without its primary credentials (rule 8).
    """
    credentials = workspace.require_credentials("restoring a manual plan")
    plan = read_plan(path)
    body = plan.body
    approvers = _check_two_person(workspace, plan, "restore", operator)
    interrupted = plan_journal(workspace, body.plan_id)
    workspace.recover_purges(
        actor=operator,
        exclude=frozenset() if interrupted is None else frozenset({interrupted.purge_id}),
    )
    record = workspace.store.plan(body.plan_id)
    archive_id = (record or {}).get("archive_id") or ""
    if interrupted is not None and interrupted.archive is not None and not archive_id:
        archive_id = interrupted.archive[0]
    elif record is None or not record["executed_at"]:
        raise UsageError(f"plan {body.plan_id} has not been executed; there is nothing to restore")
    if record is not None and record["restored_at"]:
        raise UsageError(
            f"plan {body.plan_id} was restored at {record['restored_at']}"
            f" by {record['restored_by']}"
        )
    archive = workspace.store.archive(archive_id)
    if archive is not None and not archive["removed_at"]:
        # Past backup_due the archive goes now, whether or not a run removed it yet.
        workspace.expire_archives(actor=operator)
        archive = workspace.store.archive(archive["archive_id"])
    if archive is None or archive["removed_at"]:
        raise ArchiveError(
            f"the archive of plan {body.plan_id} is gone (kept only until backup_due)"
        )
    content = read_archive(Path(archive["path"]), archive["sha256"])
    if interrupted is not None:
        # Rule 11: nothing more of this plan is deleted once its restore starts.
        workspace.store.close_journal(
            interrupted.purge_id, "restored", format_instant(workspace.clock())
        )
    restored = _restore_content(workspace, credentials, content.objects)
    now = format_instant(workspace.clock())
    workspace.store.mark_plan(body.plan_id, restored_at=now, restored_by=operator)
    workspace.store.mark_archive(archive["archive_id"], restored_at=now)
    workspace.audit.append(
        "restore",
        {
            "plan_id": body.plan_id,
            "archive_id": archive["archive_id"],
            "restored": restored,
            "approvers": list(approvers),
        },
        actor=operator,
    )
    return PlanRestoreResult(body.plan_id, archive["archive_id"], restored, tuple(approvers))


def _restore_content(
    workspace: Workspace, credentials: PrimaryCredentials, objects: tuple[dict[str, Any], ...]
) -> int:
    """Rule 11: every missing row, then every missing file; the objects brought back.

    Raises:
        ArchiveError: something archived is still missing afterwards (nothing is marked).
    """
    rows = [{k: v for k, v in o.items() if k != "blob"} for o in objects]
    brought_back = set(workspace.store.restore_rows(credentials, rows))
    if workspace.on_progress is not None:
        workspace.on_progress("restoring", len(brought_back), len(rows))
    crash_point("restore-after-rows")
    files = [
        (ObjectId(o["store"], o["key"]), o["blob"])
        for o in objects
        if o["blob"] is not None and workspace.blobs.is_blob_store(o["store"])
    ]
    for index, (identity, data) in enumerate(files):
        if index:
            crash_point("restore-between-files")
        if workspace.blobs.read(identity) is None:
            workspace.blobs.write(identity, data)
            brought_back.add(identity)
    ids = [ObjectId(o["store"], o["key"]) for o in objects]
    present = workspace.store.object_rows(ids)
    missing = [i for i in ids if i not in present]
    missing += [i for i, _data in files if workspace.blobs.read(i) is None]
    if missing:
        raise ArchiveError(
            f"the restore left {len(missing)} archived objects missing"
            f" ({missing[0].store}/{missing[0].key}); run it again"
        )
    return len(brought_back)
