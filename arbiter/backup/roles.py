"""The backup domain's PostgreSQL roles get their passwords from the backup key, and only from it.

``twinpurge init --store`` (the primary domain) creates every role but sets only the primary
roles' passwords: it never sees the backup key, so the backup roles cannot log in until the
backup domain's operator runs ``init_backup_roles`` (``twinpurge backup init-roles``). Rules:

1. It takes ``BackupCredentials``, never primary credentials, and an administrator's URL (a
   superuser's, used once and written nowhere; its password from the URL, ``PGPASSWORD`` or
   ``~/.pgpass``).
2. The key is checked first: it must open the workspace's backup site (``open_site``), so the
   backup roles log in only with the site's own key. A wrong key, or primary credentials, end
   with ``CredentialError`` and nothing sent to the server.
3. It sets exactly the backup domain's login roles (``twinpurge_snapshot``,
   ``twinpurge_restore``, ``twinpurge_backup``) to the passwords the key derives
   (``role_passwords``; rule 6 of ``arbiter.auth.credentials``), sent as SCRAM verifiers only,
   in one transaction (``set_role_passwords``). The primary roles keep theirs. Running it again
   sets the same passwords (new verifiers, same secret).
4. Then it logs in, through the store URL of ``twinpurge.toml``, as the two roles the backup
   commands use: a login that fails is the error it raises (``StoreLoginError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter.auth.credentials import BackupCredentials, require_backup
from arbiter.backup.postgres_access import RESTORE_ROLE, SNAPSHOT_ROLE, store_url
from arbiter.backup.site_access import open_site
from arbiter.stores.postgres.connection import connect
from arbiter.stores.postgres.schema import role_passwords, set_role_passwords

if TYPE_CHECKING:
    from arbiter.core.config import WorkspaceConfig

__all__ = ["init_backup_roles"]


def init_backup_roles(
    config: WorkspaceConfig, credentials: BackupCredentials, admin_url: str
) -> tuple[str, ...]:
    """Set the backup domain's PostgreSQL roles' passwords from the backup key (module rules).

    Args:
        config: the workspace configuration; its store must be PostgreSQL.
        credentials: the backup key, the site's own.
        admin_url: a superuser URL of the store's server.

    Returns:
        The roles whose passwords were set, sorted.

    Raises:
        UsageError: the workspace's store is SQLite; or the server refused the administrator
            (a role is missing: ``twinpurge init --store`` first; or no superuser). Nothing set.
        CredentialError: not backup credentials, or not the site's key; nothing sent.
        StoreConnectionError: the administrator cannot connect, or a backup role's login fails
            afterwards (``StoreLoginError``).
    """
    credentials = require_backup(credentials, purpose="setting the backup roles' passwords")
    url = store_url(config)
    open_site(config, credentials)  # rule 2: the site's key, or nothing happens
    passwords = role_passwords(credentials)
    set_role_passwords(admin_url, passwords)
    for role in (SNAPSHOT_ROLE, RESTORE_ROLE):
        connect(url, role=role, password=passwords[role]).close()
    return tuple(sorted(passwords))
