"""Restoring a backup generation into the primary store, under the two-person rule.

Rules:

1. A restore request binds one generation file exactly: its tenant, its generation and the
   SHA-256 of its file, authenticated when the request is made. Approvals sign the digest of the
   request's body; they sit beside it in the request file.
2. Approving needs no credentials (an approval is a signature, not an access), only the
   operator's registered key. Restoring needs the backup key, never the primary credentials.
3. A restore needs ``approvals_required`` distinct valid ``restore`` approvals, younger than the
   expiry (``arbiter.auth.approvals``); too few is refused and recorded in the site's audit log.
4. A request is carried out at most once, only while its generation is still in the site and
   unchanged since the request (else ``BackupTamperedError``).
5. The restore inserts what is missing through ``open_primary_restorer`` (insert-only: SQLite,
   or PostgreSQL as ``twinpurge_restore`` with the backup key's password): the tenant, rows and
   blob files absent from the primary store; anything present stays as it is. Both audit logs,
   the primary store's and the site's, record it (on PostgreSQL the primary log's head moves
   only through the functions the restore role may run: ``postgres_access`` rule 4).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.approvals import (
    Approval,
    approve,
    check_configured,
    require_operator,
)
from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.primary_access import open_primary_restorer
from arbiter.backup.site_access import open_site
from arbiter.core.canonical import canonical_digest
from arbiter.core.convert import strict_converter
from arbiter.core.errors import ApprovalError, BackupTamperedError, InputError, UsageError
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.loading import read_json_file
from arbiter.durable.files import atomic_write

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    from arbiter.core.config import WorkspaceConfig

__all__ = [
    "BackupRestoreResult",
    "RestoreRequest",
    "RestoreRequestBody",
    "approve_restore_request",
    "create_restore_request",
    "read_restore_request",
    "restore_backup",
    "write_restore_request",
]

REQUEST_FORMAT = "twinpurge-backup-restore-1"


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
    require_operator(config, author)
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
    request = read_restore_request(path)
    approval = approve(
        config,
        operator=operator,
        key_path=key_path,
        action="restore",
        subject_id=request.body.request_id,
        subject_digest=request.digest,
        now=clock(),
    )
    updated = attrs.evolve(request, approvals=(*request.approvals, approval))
    write_restore_request(path, updated)
    return updated


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
        StoreConnectionError: a PostgreSQL store refused the restore role's login or cannot be
            reached (nothing restored).
    """
    require_operator(config, operator)
    request = read_restore_request(path)
    body = request.body
    site = open_site(config, require_backup(credentials, purpose="a backup restore"), clock=clock)
    check = check_configured(
        config,
        request.approvals,
        action="restore",
        subject_id=body.request_id,
        subject_digest=request.digest,
        now=clock(),
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
    with open_primary_restorer(config, credentials) as restorer:
        restored = restorer.insert_missing(generation.tenant_record, list(generation.objects))
        result = BackupRestoreResult(
            body.request_id, body.tenant, body.generation, len(restored), tuple(check.valid)
        )
        restorer.audit.append("backup-restore", result.to_json(), actor=operator)
    site.audit.append("restore", {**result.to_json(), "objects": restored}, actor=operator)
    return result
