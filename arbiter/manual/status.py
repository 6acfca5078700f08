"""Where a manual plan stands: its approvals, their expiry, its execution and its restore.

Rules:

1. Status changes nothing: it reads the plan file and the store's records of the plan and its
   archive, and appends nothing to the audit log.
2. Approvals are judged per action exactly as execution and restore judge them
   (``arbiter.auth.approvals``, the workspace's expiry); each one that does not count is listed
   with the reason.
3. ``expires_at`` is when the oldest valid ``execute`` approval expires; the archive is reported
   kept until the tenant's backup_due, unless it is already removed.
4. An execution that was interrupted (its purge journal, ``arbiter.purge.journal``, is
   unfinished) is reported ``interrupted``, with the archive its journal records and how many
   objects its committed batches deleted: execute the plan again to finish it, or restore it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from arbiter.auth.approvals import check_approvals
from arbiter.core.instants import format_instant, parse_instant
from arbiter.manual.plans import operator_keys, read_plan
from arbiter.purge.journal import JournalState

if TYPE_CHECKING:
    from pathlib import Path

    from arbiter.workspace.workspace import Workspace

__all__ = ["PlanStatus", "plan_status"]


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
    interrupted: bool = False
    deleted_so_far: int | None = None


def plan_status(workspace: Workspace, path: Path) -> PlanStatus:
    """Approvals (valid and not), expiry, execution and restore of a plan."""
    plan = read_plan(path)
    body = plan.body
    operators = operator_keys(workspace)
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
    journal = next(
        (
            JournalState.load(workspace.store, j)
            for j in workspace.store.journals(unfinished=True)
            if j["plan_id"] == body.plan_id
        ),
        None,
    )
    archive_id = record.get("archive_id") or (
        journal.archive[0] if journal is not None and journal.archive is not None else None
    )
    archive = workspace.store.archive(archive_id) if archive_id else None
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
        archive_id=archive_id or None,
        archive_kept_until=None
        if archive is None or archive["removed_at"]
        else archive["backup_due"],
        restored_at=record.get("restored_at"),
        interrupted=journal is not None,
        deleted_so_far=None if journal is None else len(journal.committed),
    )
