"""Manual plans: the bound plan file, its approvals, and what it will do.

Rules:

1. A plan file binds one agreed verdict: tenant, as_of, the verdict and its digest, the
   fingerprints of the tenant's slice and of the policy, the planners' versions, the author and
   the creation time. Its ``body`` is what approvals sign; ``approvals`` sit beside it.
2. Only an eligible verdict with something to purge becomes a plan.
3. An approval is a registered operator's Ed25519 signature over the plan body's digest, for one
   action (``execute`` or ``restore``); the key must be the operator's registered key. Whether
   enough approvals count is judged where the action happens (``arbiter.manual.execute``).
4. A plan file is read strictly: an unknown format, an unknown or missing field, or a verdict
   whose digest does not match the body is bad input.
5. Every step is appended to the audit log with the operator's name.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.approvals import (
    Action,
    Approval,
    approve,
    registered_operators,
)
from arbiter.auth.approvals import (
    require_operator as require_registered,
)
from arbiter.core.arbitrate import fingerprint
from arbiter.core.canonical import canonical_digest
from arbiter.core.convert import strict_converter
from arbiter.core.errors import InputError, UsageError
from arbiter.core.instants import format_instant
from arbiter.core.loading import as_of_or_now, read_json_file
from arbiter.core.verdict import Verdict, verdict_from_planner, verdict_to_json
from arbiter.durable.files import atomic_write
from arbiter.purge.purger import plan_digest

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from arbiter.workspace.workspace import Workspace

__all__ = [
    "ManualPlan",
    "PlanBody",
    "approve_plan",
    "create_plan",
    "operator_keys",
    "read_plan",
    "register_existing",
    "register_plan",
    "require_operator",
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


def operator_keys(workspace: Workspace) -> dict[str, Ed25519PublicKey]:
    """The registered operators' public keys (``arbiter.auth.approvals.registered_operators``).

    Raises:
        InputError: a registered public key is malformed.
    """
    return registered_operators(workspace.config)


def require_operator(workspace: Workspace, operator: str) -> None:
    """Refuse anyone who is not a registered operator of the workspace.

    Raises:
        UsageError: ``operator`` is not registered.
    """
    require_registered(workspace.config, operator)


def create_plan(workspace: Workspace, tenant: str, as_of: str | None, *, author: str) -> ManualPlan:
    """Run both planners through the arbiter and bind the agreed verdict (rules 1 and 2).

    Raises:
        InputError: bad input.
        RefusedError: the planners diverged.
        UsageError: the author is not a registered operator, or the tenant is not eligible.
    """
    as_of = as_of_or_now(as_of, workspace.clock)  # bad input before any work (InputError)
    require_operator(workspace, author)
    purger = workspace.planner
    agreement, planned = purger.agree(tenant, as_of, actor=author)
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
        slice_fingerprint=planned.fingerprint,
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
    plan = read_plan(path)
    approval = approve(
        workspace.config,
        operator=operator,
        key_path=key_path,
        action=action,
        subject_id=plan.body.plan_id,
        subject_digest=plan.digest,
        now=workspace.clock(),
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
