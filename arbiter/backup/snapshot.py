"""Snapshots of the primary store into the backup site, and the listing of what it holds.

Rules:

1. A snapshot reads the primary store read-only (``open_primary_reader``: SQLite read-only, or
   PostgreSQL as ``twinpurge_snapshot`` with the backup key's password), every tenant in one
   consistent state (one read transaction), and writes one new generation per tenant, each
   under the configured retention lock, all with the same creation time; the site's audit log
   records it. The site's key is checked before the primary store is opened.
2. Listing authenticates every generation it lists: a tampered file is an error, never a row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.primary_access import open_primary_reader
from arbiter.backup.site_access import ACTOR, open_site
from arbiter.backup.store import GenerationInfo
from arbiter.core.instants import format_instant, utc_now

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from arbiter.core.config import WorkspaceConfig

__all__ = ["SnapshotReport", "list_backups", "snapshot"]


@attrs.frozen
class SnapshotReport:
    """What a snapshot wrote: one generation per tenant of the primary store."""

    at: str
    generations: tuple[GenerationInfo, ...]
    objects: int


def snapshot(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
    actor: str = ACTOR,
) -> SnapshotReport:
    """Write a new generation of every tenant, read read-only from the primary store.

    Args:
        config: the workspace configuration (primary store, site, retention lock).
        credentials: the backup key; nothing here needs, or could use, primary credentials.
        clock: the source of "now" (the generations' time).
        actor: who takes it, for the site's audit log.

    Returns:
        The generations written.

    Raises:
        CredentialError: not backup credentials, or not the site's key (nothing read).
        InputError: there is no primary store.
        StoreConnectionError: a PostgreSQL store refused the snapshot role's login
            (``StoreLoginError``: the backup roles' passwords are not the backup key's) or
            cannot be reached; nothing was written.
    """
    credentials = require_backup(credentials, purpose="a backup snapshot")
    site = open_site(config, credentials, clock=clock)
    moment = clock()
    written = []
    objects = 0
    with open_primary_reader(config, credentials) as reader, reader.consistent():
        for tenant in reader.tenant_ids():
            content = reader.tenant_content(tenant)
            if content is None:  # removed since listed
                continue
            written.append(
                site.write(
                    tenant, content, lock_days=config.backup.retention_lock_days, created=moment
                )
            )
            objects += len(content["objects"])
    site.audit.append(
        "snapshot",
        {
            "at": format_instant(moment),
            "objects": objects,
            "generations": [[g.tenant, g.generation] for g in written],
        },
        actor=actor,
    )
    return SnapshotReport(format_instant(moment), tuple(written), objects)


def list_backups(
    config: WorkspaceConfig, credentials: BackupCredentials, *, tenant: str | None = None
) -> list[dict[str, Any]]:
    """Every generation (of one tenant, or of all), each authenticated.

    Returns:
        One entry per generation: tenant, generation, created_at, locked_until, objects, bytes.

    Raises:
        BackupTamperedError: a file fails authentication.
    """
    site = open_site(config, require_backup(credentials, purpose="listing backups"))
    found = []
    for name in [tenant] if tenant is not None else site.tenants():
        for info in site.generations(name):
            generation = site.read(info)
            found.append(
                {
                    "tenant": name,
                    "generation": info.generation,
                    "created_at": info.created_at,
                    "locked_until": generation.locked_until,
                    "objects": len(generation.objects),
                    "bytes": info.size,
                }
            )
    return found
