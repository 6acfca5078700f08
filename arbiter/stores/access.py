"""The two ``PurgeTarget`` s every primary store hands out: delete-capable, and read-only.

Rules:

1. ``PurgeAccess`` is built only for credentials the store verifies, and each transaction it
   opens goes through ``PrimaryStore.transaction``, which checks them again (rule 4 of
   ``arbiter.stores.ports``).
2. ``ReadAccess`` opens read-only snapshots only; it never accepts credentials to delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter.core.errors import CredentialError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from arbiter.auth.credentials import PrimaryCredentials
    from arbiter.stores.ports import PrimaryStore, PurgeTransaction

__all__ = ["PurgeAccess", "ReadAccess"]


class PurgeAccess:
    """A store's delete-capable ``PurgeTarget`` (rule 1): built for checked credentials only."""

    def __init__(self, store: PrimaryStore, credentials: PrimaryCredentials) -> None:
        """Use the store's ``purge_target``; the credentials are checked here too.

        Raises:
            CredentialError: not the store's primary credentials.
        """
        self._store = store
        self._credentials = store.verify_credentials(credentials)

    def total_objects(self) -> int:
        """How many objects the store holds."""
        return self._store.total_objects()

    def transaction(self) -> AbstractContextManager[PurgeTransaction]:
        """A write transaction; the credentials are checked again first."""
        return self._store.transaction(self._credentials)

    def verify_credentials(self, credentials: PrimaryCredentials) -> None:
        """Raise ``CredentialError`` unless these are the store's primary credentials."""
        self._store.verify_credentials(credentials)


class ReadAccess:
    """A read-only ``PurgeTarget`` for dry runs and planning (rule 2): it never deletes."""

    def __init__(self, store: PrimaryStore) -> None:
        """Use the store's ``read_target``."""
        self._store = store

    def total_objects(self) -> int:
        """How many objects the store holds."""
        return self._store.total_objects()

    def transaction(self) -> AbstractContextManager[PurgeTransaction]:
        """A read-only snapshot; its ``delete`` raises ``CredentialError``."""
        return self._store.snapshot()

    def verify_credentials(self, credentials: PrimaryCredentials) -> None:
        """Always raises: a read-only target gives no delete access, whatever the credentials.

        Raises:
            CredentialError: always.
        """
        del credentials
        raise CredentialError("primary", "a read-only target cannot be used to delete")
