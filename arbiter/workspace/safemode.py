"""Fleet safe mode for a workspace: its status, and its reset under the two-person rule.

The rules are ``arbiter.purge.safemode``'s; this module adds the request file:

1. ``request_safe_mode_reset`` writes a request bound to the active trip (its id, instant,
   reason and tenants) and the reason for resetting; it never overwrites a file.
2. ``approve_safe_mode_reset`` adds one registered operator's signature over the request's
   digest for the action ``reset-safe-mode``.
3. ``reset_safe_mode`` resets only the trip the request names, and only while it is the active
   trip, with ``manual.approvals_required`` distinct valid approvals (expiring as manual
   approvals do); anything less is refused (``ApprovalError``) and audited.
4. None of this deletes anything, so none of it needs the primary credentials.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.approvals import (
    approve,
    check_configured,
    require_operator,
)
from arbiter.core.errors import ApprovalError, InputError, UsageError
from arbiter.core.instants import format_instant
from arbiter.core.loading import read_json_file
from arbiter.durable.files import atomic_write, create
from arbiter.purge.safemode import (
    REQUEST_CONVERTER,
    REQUEST_FORMAT,
    RESET_ACTION,
    ResetRequest,
    ResetRequestBody,
    SafeModeTrip,
)

if TYPE_CHECKING:
    from pathlib import Path

    from arbiter.workspace.workspace import Workspace

__all__ = [
    "SafeModeStatus",
    "approve_safe_mode_reset",
    "read_reset_request",
    "request_safe_mode_reset",
    "reset_safe_mode",
    "safe_mode_status",
]


@attrs.frozen
class SafeModeStatus:
    """Whether the fleet is in safe mode, and every trip so far.

    Attributes:
        active: the trip holding the fleet, or None.
        trips: every trip, oldest first (reset ones included).
    """

    active: SafeModeTrip | None
    trips: tuple[SafeModeTrip, ...]

    def to_json(self) -> dict[str, Any]:
        """The status as plain data."""
        return {
            "safe_mode": self.active is not None,
            "active": None if self.active is None else self.active.to_json(),
            "trips": [t.to_json() for t in self.trips],
        }


def safe_mode_status(workspace: Workspace) -> SafeModeStatus:
    """The fleet's safe-mode status, read from the store."""
    safe_mode = workspace.safe_mode
    return SafeModeStatus(safe_mode.active(), tuple(safe_mode.history()))


def _text(request: ResetRequest) -> str:
    data = REQUEST_CONVERTER.unstructure(request)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_reset_request(path: Path) -> ResetRequest:
    """Read a reset request file strictly.

    Raises:
        InputError: unreadable, not JSON, an unknown or missing field, an unknown format.
    """
    request = read_json_file(path, ResetRequest, source="request", converter=REQUEST_CONVERTER)
    if request.body.format != REQUEST_FORMAT:
        raise InputError(
            source="request", file=str(path), field="body.format", message="unknown format"
        )
    return request


def request_safe_mode_reset(
    workspace: Workspace, path: Path, *, operator: str, reason: str
) -> ResetRequest:
    """Write a reset request bound to the active trip (rule 1).

    Args:
        workspace: the workspace.
        path: the request file to create.
        operator: the registered operator asking.
        reason: why the fleet may purge again (what was investigated and fixed).

    Returns:
        The request, without approvals.

    Raises:
        UsageError: the operator is not registered, the reason is empty, the fleet is not in
            safe mode, or ``path`` exists.
    """
    require_operator(workspace.config, operator)
    if not reason.strip():
        raise UsageError("a reset needs a reason: what was investigated and fixed")
    trip = workspace.safe_mode.active()
    if trip is None:
        raise UsageError("the fleet is not in safe mode; there is nothing to reset")
    body = ResetRequestBody(
        request_id=uuid.uuid4().hex[:16],
        trip_id=trip.trip_id,
        tripped_at=trip.tripped_at,
        trip_reason=trip.reason,
        tenants=trip.tenants,
        reason=reason,
        requested_by=operator,
        created_at=format_instant(workspace.clock()),
    )
    request = ResetRequest(body)
    try:
        create(path, _text(request))
    except FileExistsError as exc:
        raise UsageError(f"{path} exists; refusing to overwrite a request") from exc
    workspace.audit.append(
        "safe-mode-reset-request",
        {"request_id": body.request_id, "trip_id": trip.trip_id, "reason": reason},
        actor=operator,
    )
    return request


def approve_safe_mode_reset(
    workspace: Workspace, path: Path, *, operator: str, key_path: Path
) -> ResetRequest:
    """Sign a reset request with the operator's key and add the approval to the file (rule 2).

    Raises:
        UsageError: unregistered operator, or a key that is not the operator's registered key.
        InputError: a bad request file or key file.
    """
    request = read_reset_request(path)
    approval = approve(
        workspace.config,
        operator=operator,
        key_path=key_path,
        action=RESET_ACTION,
        subject_id=request.body.request_id,
        subject_digest=request.digest,
        now=workspace.clock(),
    )
    updated = attrs.evolve(request, approvals=(*request.approvals, approval))
    atomic_write(path, _text(updated))
    workspace.audit.append(
        "approval",
        {
            "request_id": request.body.request_id,
            "trip_id": request.body.trip_id,
            "action": RESET_ACTION,
            "digest": request.digest,
            "approved_at": approval.approved_at,
        },
        actor=operator,
    )
    return updated


def reset_safe_mode(workspace: Workspace, path: Path, *, operator: str) -> SafeModeTrip:
    """Reset the trip a request names, with two operators' approvals (rule 3).

    Args:
        workspace: the workspace.
        path: the approved request file.
        operator: the registered operator resetting (may be one of the approvers).

    Returns:
        The trip, as reset.

    Raises:
        UsageError: unregistered operator, the fleet is not in safe mode, or the request is for
            another trip than the active one (nothing changes).
        ApprovalError: fewer than the required distinct valid approvals (nothing changes).
        InputError: a bad request file.
    """
    require_operator(workspace.config, operator)
    request = read_reset_request(path)
    safe_mode = workspace.safe_mode
    trip = safe_mode.active()
    if trip is None:
        raise UsageError("the fleet is not in safe mode; there is nothing to reset")
    if trip.trip_id != request.body.trip_id:
        raise UsageError(
            f"the request is for trip {request.body.trip_id}, but the active trip is"
            f" {trip.trip_id} ({trip.reason}); write and approve a request for it"
        )
    check = check_configured(
        workspace.config,
        request.approvals,
        action=RESET_ACTION,
        subject_id=request.body.request_id,
        subject_digest=request.digest,
        now=workspace.clock(),
    )
    required = workspace.config.manual.approvals_required
    if len(check.valid) < required:
        workspace.audit.append(
            "approval-refused",
            {
                "request_id": request.body.request_id,
                "trip_id": trip.trip_id,
                "action": RESET_ACTION,
                "valid": list(check.valid),
                "problems": list(check.problems),
            },
            actor=operator,
        )
        raise ApprovalError(RESET_ACTION, check.valid, required, check.problems)
    return safe_mode.reset(trip, approvers=check.valid, reason=request.body.reason, actor=operator)
