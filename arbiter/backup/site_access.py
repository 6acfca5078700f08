"""Opening the workspace's backup site, with the backup credentials and nothing else.

Rules:

1. Every flow of the backup domain (``snapshot``, ``purge``, ``restore``) takes
   ``BackupCredentials`` and never primary credentials, and reaches its site through here: the
   site checks the backup key before anything is read.
2. It reads the primary store only through ``open_primary_reader`` (read-only) and, for a
   restore, writes through ``open_primary_restorer`` (insert-only), on SQLite or PostgreSQL
   (``primary_access``). Nothing in the backup domain can delete primary data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter.backup.store import BackupSite
from arbiter.core.instants import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from arbiter.auth.credentials import BackupCredentials
    from arbiter.core.config import WorkspaceConfig

__all__ = ["ACTOR", "init_site", "open_site"]

# Who the scheduled backup jobs act as, in the site's audit log, unless told otherwise.
ACTOR = "backup-service"


def open_site(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> BackupSite:
    """The workspace's backup site, opened with the backup key (checked first)."""
    return BackupSite.open(config.path(config.backup.site), credentials, clock=clock)


def init_site(
    config: WorkspaceConfig,
    credentials: BackupCredentials,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> BackupSite:
    """Create the workspace's (empty) backup site for ``credentials``' key."""
    return BackupSite.create(config.path(config.backup.site), credentials, clock=clock)
