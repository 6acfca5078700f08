"""Opening a workspace from the command line, with the primary credentials when it needs them.

Rules:

1. A command that can delete or overwrite primary data opens its workspace with the primary
   credentials from the file ``TWINPURGE_PRIMARY_CREDENTIALS`` names (``deleting=True``).
2. On a PostgreSQL workspace (``store.url`` in ``twinpurge.toml``) every command does, the
   read-only ones included (``export``, dry runs, ``purge plan``, ``purge approve``,
   ``purge status``, ``safe-mode ...``): the server wants a login, and the purge role's password
   comes from the primary credentials (``arbiter.auth.credentials`` rule 6). On SQLite a
   read-only command opens without them.
3. Every primary-domain command that opens a workspace opens it here (``twinpurge recover``
   always deletes and loads them itself), so no command reads a PostgreSQL store without
   logging in. The backup domain's commands never import this module.
"""

from __future__ import annotations

from arbiter.auth.credentials import load_primary_credentials
from arbiter.core.config import load_config
from arbiter.workspace.workspace import Workspace

__all__ = ["open_workspace"]


def open_workspace(workspace_dir: str, *, deleting: bool = False) -> Workspace:
    """Open a workspace; with the primary credentials when deleting or on PostgreSQL.

    Args:
        workspace_dir: the workspace directory (or its ``twinpurge.toml``).
        deleting: the command can delete or overwrite primary data (rule 1).

    Returns:
        The opened workspace; close it when done.

    Raises:
        InputError: the config file is bad.
        CredentialError: the credentials are needed (rules 1 and 2) and missing, unreadable or
            not this workspace's.
        StoreConnectionError: the PostgreSQL store cannot be reached or logged in to.
    """
    server = load_config(workspace_dir).store.url is not None
    credentials = load_primary_credentials() if deleting or server else None
    return Workspace.open(workspace_dir, credentials=credentials)
