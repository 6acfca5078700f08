"""Per-tenant lock files: one runner purges a tenant at a time.

Rules:

1. A tenant's lock is an ``fcntl.flock`` exclusive lock on its own file in the lock directory,
   taken without waiting: a runner that finds it held skips the tenant (it is being purged).
2. The kernel releases a flock when its process dies, so a crashed runner never leaves a tenant
   locked; nothing ever has to expire a lock.
3. A lock file is named by the SHA-256 of the tenant id, so no tenant id can name a path
   outside the directory. The files are never removed: removing one while another runner
   waits to open it would let two runners hold "the" lock on two different files.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["FileTenantLocks"]


class FileTenantLocks:
    """Tenant locks as flock'ed files in one directory (``TenantLocks``)."""

    def __init__(self, directory: Path) -> None:
        """Use ``directory`` (created when the first lock is taken)."""
        self.directory = directory

    def path(self, tenant: str) -> Path:
        """The lock file of ``tenant`` (rule 3)."""
        name = hashlib.sha256(tenant.encode("utf-8")).hexdigest()
        return self.directory / f"{name}.lock"

    @contextmanager
    def hold(self, tenant: str) -> Iterator[bool]:
        """Take the tenant's lock if nobody holds it (rule 1); yield whether it was taken."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path(tenant), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
