"""Per-tenant advisory locks on the PostgreSQL server: one runner purges a tenant, fleet-wide.

Rules:

1. A tenant's lock is a session-level advisory lock (``pg_try_advisory_lock``) taken without
   waiting, on a connection of its own opened for that purge: a runner that finds it held skips
   the tenant, as with the SQLite workspace's lock files (``arbiter.stores.locks``).
2. The server releases a session's advisory locks when the session ends, however it ends: a
   runner killed mid-purge, or a machine that vanishes, never leaves a tenant locked.
3. The lock key is the first 8 bytes of SHA-256(``twinpurge tenant`` NUL tenant id), a signed
   64-bit integer: the same on every runner, and no tenant id can choose another's key. A
   collision of two tenants (odds about 2^-64 per pair) makes one runner skip a tenant until
   the next run; it never lets two runners purge one tenant.
4. If the lock's connection breaks while the purge runs, the lock is gone with it; the purge's
   write transactions still serialise on the server (``arbiter.stores.postgres.store`` rule 2)
   and every batch re-checks its guards, so a second runner can make one of them refuse, never
   delete a kept object.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["PostgresTenantLocks", "lock_key"]


def lock_key(tenant: str) -> int:
    """The advisory-lock key of ``tenant`` (rule 3)."""
    digest = hashlib.sha256(b"twinpurge tenant\x00" + tenant.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresTenantLocks:
    """Tenant locks as server advisory locks (``TenantLocks``)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[tuple[Any, ...]]]) -> None:
        """Open each lock's session with ``connect`` (``PostgresStore.open_connection``)."""
        self._connect = connect

    @contextmanager
    def hold(self, tenant: str) -> Iterator[bool]:
        """Take the tenant's lock if nobody holds it (rule 1); yield whether it was taken.

        Raises:
            StoreConnectionError: the server cannot be reached (nothing was purged).
        """
        db = self._connect()
        try:
            row = db.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(tenant),)).fetchone()
            yield bool(row and row[0])
        finally:
            # Closing the session releases the lock (rule 2); a session already gone has
            # released it already.
            with suppress(psycopg.Error):
                db.close()
