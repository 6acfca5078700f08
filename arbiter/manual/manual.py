"""Manual purges: bound plans, two-person approvals, rehearsal, execution and restore.

Rules:

1. A plan file binds one agreed verdict: tenant, as_of, the verdict and its digest, the
   fingerprints of the tenant's slice and of the policy, the planners' versions, the author and
   the creation time. Its ``body`` is what approvals sign; ``approvals`` sit beside it.
2. Only an eligible verdict with something to purge becomes a plan.
3. Executing or restoring needs approvals from ``approvals_required`` (at least two) distinct
   registered operators, for that action, over the plan body as it is now, younger than the
   expiry (``arbiter.auth.approvals``). The executor may be one of them; nobody acts alone.
4. At execution both planners run again on the current data, for the plan's tenant and as_of;
   their verdict must equal the approved one, or the plan is stale and nothing is deleted.
5. Before the real run, the purge is rehearsed (deleted in a transaction that is rolled back,
   counts checked). Plans larger than ``rehearsal_required_above`` cannot skip the rehearsal.
6. Execution writes the restore archive before deleting, under every guard of
   ``arbiter.purge.purger``; the object-count limit is the manual one
   (``manual.max_objects_per_purge``), since two operators approved this very plan. A plan
   executes at most once.
7. Restore brings back exactly the archived rows and blob bytes that are missing, after
   verifying the archive; it needs its own two approvals and happens at most once, and never
   after the tenant's backup_due (the archive is removed then).
8. Every step is appended to the audit log with the operator's name.
9. Executing (or rehearsing) and restoring need the workspace's primary credentials
   (``Workspace.require_credentials``), checked before the plan file is even read.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.approvals import (
    Action,
    Approval,
    check_approvals,
    load_private_key,
    parse_public_key,
    public_key_text,
    sign_approval,
)
from arbiter.core.arbitrate import fingerprint
from arbiter.core.canonical import canonical_digest
from arbiter.core.compare import VerdictDifferences, compare_verdicts
from arbiter.core.convert import strict_converter
from arbiter.core.errors import (
    ApprovalError,
    ArchiveError,
    GuardError,
    InputError,
    StalePlanError,
    UsageError,
)
from arbiter.core.instants import format_instant, parse_instant
from arbiter.core.loading import as_of_or_now, read_json_file
from arbiter.core.verdict import (
    KeptObject,
    ObjectId,
    Verdict,
    verdict_from_planner,
    verdict_to_json,
)
from arbiter.durable.files import atomic_write
from arbiter.purge.archive import read_archive
from arbiter.purge.purger import plan_digest

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from arbiter.workspace.workspace import Workspace

__all__ = [
    "ExecuteResult",
    "ManualPlan",
    "PlanBody",
    "PlanRestoreResult",
    "PlanStatus",
    "approve_plan",
    "create_plan",
    "execute_plan",
    "plan_status",
    "read_plan",
    "restore_plan",
    "summarize_plan",
    "write_plan",
]

PLAN_FORMAT = "twinpurge-plan-1"


@attrs.frozen
class PlanBody:
    """What a plan binds (rule 1); approvals sign its digest."""

    plan_id: str
    tenant: str
    as_of: str
    verdict: dict[str, Any]
    verdict_digest: str
    slice_fingerprint: str
    policy_fingerprint: str
    planner_versions: dict[str, str]
    author: str
    created_at: str
    format: str = PLAN_FORMAT


@attrs.frozen
class ManualPlan:
    """A plan file: the bound body and the approvals collected so far."""

    body: PlanBody
    approvals: tuple[Approval, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the body's canonical JSON."""
        return canonical_digest(_CONVERTER.unstructure(self.body))

    @property
    def verdict(self) -> Verdict:
        """The approved verdict, checked."""
        return verdict_from_planner(self.body.verdict)


_CONVERTER = strict_converter()


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


def write_plan(path: Path, plan: ManualPlan) -> None:
    """Write a plan file atomically."""
    text = json.dumps(_CONVERTER.unstructure(plan), indent=2, sort_keys=True, ensure_ascii=False)
    atomic_write(path, text + "\n")


def read_plan(path: Path) -> ManualPlan:
    """Read a plan file strictly.

    Raises:
        InputError: unreadable, not JSON, unknown or missing field, or a verdict whose digest
            does not match the body.
    """
    plan = read_json_file(path, ManualPlan, source="plan", converter=_CONVERTER)
    if plan.body.format != PLAN_FORMAT:
        raise InputError(
            source="plan", file=str(path), field="body.format", message="unknown plan format"
        )
    try:
        verdict = plan.verdict
    except Exception as exc:
        raise InputError(
            source="plan", file=str(path), field="body.verdict", message=str(exc)
        ) from exc
    if plan_digest(verdict) != plan.body.verdict_digest:
        raise InputError(
            source="plan",
            file=str(path),
            field="body.verdict_digest",
            message="does not match the verdict",
        )
    return plan


def _operators(workspace: Workspace) -> dict[str, Ed25519PublicKey]:
    return {
        name: parse_public_key(op.public_key, field=f"operators.{name}.public_key")
        for name, op in workspace.config.operators.items()
    }


def _require_operator(workspace: Workspace, operator: str) -> None:
    if operator not in workspace.config.operators:
        raise UsageError(f"{operator!r} is not a registered operator of this workspace")


def create_plan(workspace: Workspace, tenant: str, as_of: str | None, *, author: str) -> ManualPlan:
    """Run both planners through the arbiter and bind the agreed verdict (rules 1 and 2).

    Raises:
        InputError: bad input.
        RefusedError: the planners diverged.
        UsageError: the author is not a registered operator, or the tenant is not eligible.
    """
    as_of = as_of_or_now(as_of, workspace.clock)  # bad input before any work (InputError)
    _require_operator(workspace, author)
    purger = workspace.planner
    agreement, slice_fingerprint = purger.agree(tenant, as_of, actor=author)
    verdict = agreement.verdict
    if not verdict.eligible or not verdict.purge:
        why = verdict.reason or "nothing to purge"
        raise UsageError(f"tenant {tenant!r} has nothing to purge as of {as_of} ({why})")
    body = PlanBody(
        plan_id=uuid.uuid4().hex[:16],
        tenant=tenant,
        as_of=verdict.as_of,
        verdict=verdict_to_json(verdict),
        verdict_digest=plan_digest(verdict),
        slice_fingerprint=slice_fingerprint,
        policy_fingerprint=fingerprint(dict(workspace.config.policy)),
        planner_versions=dict(agreement.versions),
        author=author,
        created_at=format_instant(workspace.clock()),
    )
    return ManualPlan(body)


def register_plan(workspace: Workspace, plan: ManualPlan, path: Path) -> None:
    """Write a new plan file and record it in the store and the audit log."""
    write_plan(path, plan)
    body = plan.body
    register_existing(workspace, plan, path)
    workspace.audit.append(
        "manual-plan",
        {
            "plan_id": body.plan_id,
            "tenant": body.tenant,
            "as_of": body.as_of,
            "digest": plan.digest,
            "purge": len(body.verdict["purge"]),
            "file": str(path),
        },
        actor=body.author,
    )


def summarize_plan(workspace: Workspace, plan: ManualPlan) -> dict[str, Any]:
    """What a plan will do, for people: counts per store and per category, kept per reason.

    Args:
        workspace: the workspace (categories are read from the tenant's current slice).
        plan: the plan.

    Returns:
        ``plan_id``, ``tenant``, ``as_of``, ``digest``, ``purge``, ``purge_by_store``,
        ``purge_by_category``, ``kept_by_reason``, ``primary_due``, ``backup_due``.
    """
    verdict = plan.verdict
    categories = {
        (o["store"], o["key"]): o.get("category", "default")
        for o in workspace.store.read_slice(plan.body.tenant)["objects"]
    }
    by_store: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for obj in verdict.purge:
        by_store[obj.store] = by_store.get(obj.store, 0) + 1
        category = categories.get((obj.store, obj.key), "?")
        by_category[category] = by_category.get(category, 0) + 1
    kept: dict[str, int] = {}
    for k in verdict.kept:
        kept[k.reason] = kept.get(k.reason, 0) + 1
    return {
        "plan_id": plan.body.plan_id,
        "tenant": plan.body.tenant,
        "as_of": verdict.as_of,
        "digest": plan.digest,
        "purge": len(verdict.purge),
        "purge_by_store": by_store,
        "purge_by_category": by_category,
        "kept_by_reason": kept,
        "primary_due": verdict.primary_due,
        "backup_due": verdict.backup_due,
    }


def approve_plan(
    workspace: Workspace, path: Path, *, operator: str, key_path: Path, action: Action = "execute"
) -> ManualPlan:
    """Sign a plan for an action with the operator's key and store the approval in the file.

    Raises:
        UsageError: unregistered operator, or a key that is not the operator's registered key.
        InputError: a bad plan file or key file.
    """
    _require_operator(workspace, operator)
    plan = read_plan(path)
    key = load_private_key(key_path)
    if public_key_text(key) != workspace.config.operators[operator].public_key:
        raise UsageError(
            f"the key in {key_path} is not the registered key of operator {operator!r}"
        )
    approval = sign_approval(
        key,
        action=action,
        plan_id=plan.body.plan_id,
        plan_digest=plan.digest,
        operator=operator,
        approved_at=format_instant(workspace.clock()),
    )
    updated = attrs.evolve(plan, approvals=(*plan.approvals, approval))
    write_plan(path, updated)
    workspace.audit.append(
        "approval",
        {
            "plan_id": plan.body.plan_id,
            "action": action,
            "digest": plan.digest,
            "approved_at": approval.approved_at,
        },
        actor=operator,
    )
    return updated


def _check_two_person(
    workspace: Workspace, plan: ManualPlan, action: Action, operator: str
) -> tuple[str, ...]:
    _require_operator(workspace, operator)
    check = check_approvals(
        plan.approvals,
        action=action,
        plan_id=plan.body.plan_id,
        plan_digest=plan.digest,
        operators=_operators(workspace),
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
    """Execute (or only rehearse) an approved plan (rules 3 to 6).

    Returns:
        What happened.

    Raises:
        ApprovalError: fewer than the required distinct valid approvals.
        StalePlanError: the planners' verdict now differs from the approved one.
        GuardError: a guard refused (nothing more deleted); its ``purged_before`` counts what
            was deleted, each batch under every guard, before it tripped.
        UsageError: the plan was executed already, or a large plan tried to skip the rehearsal.
        CredentialError: the workspace was opened without its primary credentials (rule 9).
    """
    workspace.require_credentials("executing a manual plan")
    plan = read_plan(path)
    body = plan.body
    approvers = _check_two_person(workspace, plan, "execute", operator)
    record = workspace.store.plan(body.plan_id)
    if record is not None and record["executed_at"]:
        raise UsageError(
            f"plan {body.plan_id} was executed at {record['executed_at']}"
            f" by {record['executed_by']}"
        )
    approved = plan.verdict
    # Two operators approved this very plan: it is bounded by the manual limit, not the automated.
    limits = attrs.evolve(
        workspace.config.limits, max_objects_per_purge=workspace.config.manual.max_objects_per_purge
    )
    purger = attrs.evolve(workspace.purger, limits=limits)
    agreement, slice_fingerprint = purger.agree(body.tenant, body.as_of, actor=operator)
    changes = compare_verdicts(approved, agreement.verdict)
    if not changes.agree:
        lines = _describe_changes(changes)
        workspace.audit.append(
            "stale-plan", {"plan_id": body.plan_id, "changes": lines}, actor=operator
        )
        raise StalePlanError(body.plan_id, tuple(lines))
    size = len(approved.purge)
    if skip_rehearsal and size > workspace.config.manual.rehearsal_required_above:
        raise UsageError(
            f"a plan of {size} objects cannot skip the rehearsal"
            f" (rehearsal_required_above = {workspace.config.manual.rehearsal_required_above})"
        )
    result = ExecuteResult(body.plan_id, body.tenant, tuple(approvers))
    try:
        if not skip_rehearsal:
            rehearsed = purger.rehearse(body.tenant, approved, slice_fingerprint, actor=operator)
            result = attrs.evolve(result, rehearsed=rehearsed)
        if rehearse_only:
            return result
        purged, _batches, archive_id = purger.execute_verdict(
            body.tenant, approved, slice_fingerprint, actor=operator, plan_id=body.plan_id
        )
    except GuardError as exc:
        workspace.audit.append(
            "guard",
            {
                "plan_id": body.plan_id,
                "guard": exc.guard,
                "details": exc.details,
                "purged_before": exc.purged_before,
            },
            actor=operator,
        )
        raise
    now = format_instant(workspace.clock())
    if record is None:
        register_existing(workspace, plan, path)
    workspace.store.mark_plan(
        body.plan_id, executed_at=now, executed_by=operator, archive_id=archive_id or ""
    )
    workspace.store.record_receipt(
        tenant=body.tenant,
        plan_digest=body.verdict_digest,
        as_of=body.as_of,
        executed_at=now,
        purged=purged,
        backup_due=approved.backup_due,
    )
    workspace.audit.append(
        "manual-executed",
        {
            "plan_id": body.plan_id,
            "tenant": body.tenant,
            "purged": purged,
            "archive_id": archive_id,
            "approvers": list(approvers),
        },
        actor=operator,
    )
    return attrs.evolve(result, purged=purged, archive_id=archive_id)


def register_existing(workspace: Workspace, plan: ManualPlan, path: Path) -> None:
    """Record a plan file made elsewhere (e.g. a copy) in this workspace's store."""
    body = plan.body
    workspace.store.add_plan(
        {
            "plan_id": body.plan_id,
            "tenant": body.tenant,
            "path": str(path.resolve()),
            "digest": plan.digest,
            "author": body.author,
            "created_at": body.created_at,
        }
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
    """Restore what an executed plan deleted, from its archive (rule 7).

    Returns:
        What was restored.

    Raises:
        ApprovalError: fewer than the required distinct valid restore approvals.
        ArchiveError: no archive, a removed one, or a damaged one.
        UsageError: the plan was not executed, or was restored already.
        CredentialError: the workspace was opened without its primary credentials (rule 9).
    """
    credentials = workspace.require_credentials("restoring a manual plan")
    plan = read_plan(path)
    body = plan.body
    approvers = _check_two_person(workspace, plan, "restore", operator)
    record = workspace.store.plan(body.plan_id)
    if record is None or not record["executed_at"]:
        raise UsageError(f"plan {body.plan_id} has not been executed; there is nothing to restore")
    if record["restored_at"]:
        raise UsageError(
            f"plan {body.plan_id} was restored at {record['restored_at']}"
            f" by {record['restored_by']}"
        )
    archive = workspace.store.archive(record["archive_id"] or "")
    if archive is not None and not archive["removed_at"]:
        # Past backup_due the archive goes now, whether or not a run removed it yet.
        workspace.expire_archives(actor=operator)
        archive = workspace.store.archive(archive["archive_id"])
    if archive is None or archive["removed_at"]:
        raise ArchiveError(
            f"the archive of plan {body.plan_id} is gone (kept only until backup_due)"
        )
    content = read_archive(Path(archive["path"]), archive["sha256"])
    rows = [{k: v for k, v in o.items() if k != "blob"} for o in content.objects]
    with workspace.store.transaction(credentials) as tx:
        restored = tx.restore(rows)
    if workspace.on_progress is not None:
        workspace.on_progress("restoring", len(restored), len(rows))
    restored_set = set(restored)
    for item in content.objects:
        identity = ObjectId(item["store"], item["key"])
        if (
            identity in restored_set
            and item["blob"] is not None
            and workspace.blobs.is_blob_store(item["store"])
        ):
            workspace.blobs.write(identity, item["blob"])
    now = format_instant(workspace.clock())
    workspace.store.mark_plan(body.plan_id, restored_at=now, restored_by=operator)
    workspace.store.mark_archive(archive["archive_id"], restored_at=now)
    workspace.audit.append(
        "restore",
        {
            "plan_id": body.plan_id,
            "archive_id": archive["archive_id"],
            "restored": len(restored),
            "approvers": list(approvers),
        },
        actor=operator,
    )
    return PlanRestoreResult(body.plan_id, archive["archive_id"], len(restored), tuple(approvers))


@attrs.frozen
class PlanStatus:
    """Where a plan stands."""

    plan_id: str
    tenant: str
    as_of: str
    purge: int
    author: str
    created_at: str
    approvals: dict[str, list[str]]
    problems: dict[str, list[str]]
    expires_at: str | None
    executed_at: str | None
    executed_by: str | None
    archive_id: str | None
    archive_kept_until: str | None
    restored_at: str | None


def plan_status(workspace: Workspace, path: Path) -> PlanStatus:
    """Approvals (valid and not), expiry, execution and restore of a plan."""
    plan = read_plan(path)
    body = plan.body
    operators = _operators(workspace)
    expiry = timedelta(hours=workspace.config.manual.approval_expiry_hours)
    approvals: dict[str, list[str]] = {}
    problems: dict[str, list[str]] = {}
    expires: list[str] = []
    for action in ("execute", "restore"):
        check = check_approvals(
            plan.approvals,
            action=action,
            plan_id=body.plan_id,
            plan_digest=plan.digest,
            operators=operators,
            now=workspace.clock(),
            expiry=expiry,
        )
        approvals[action] = list(check.valid)
        problems[action] = list(check.problems)
        times = sorted(
            parse_instant(a.approved_at)
            for a in plan.approvals
            if a.action == action and a.operator in check.valid
        )
        if action == "execute" and times:
            expires.append(format_instant(times[0] + expiry))
    record = workspace.store.plan(body.plan_id) or {}
    archive = (
        workspace.store.archive(record.get("archive_id") or "")
        if record.get("archive_id")
        else None
    )
    return PlanStatus(
        plan_id=body.plan_id,
        tenant=body.tenant,
        as_of=body.as_of,
        purge=len(body.verdict["purge"]),
        author=body.author,
        created_at=body.created_at,
        approvals=approvals,
        problems=problems,
        expires_at=expires[0] if expires else None,
        executed_at=record.get("executed_at"),
        executed_by=record.get("executed_by"),
        archive_id=record.get("archive_id") or None,
        archive_kept_until=None
        if archive is None or archive["removed_at"]
        else archive["backup_due"],
        restored_at=record.get("restored_at"),
    )
