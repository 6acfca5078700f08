"""PostgreSQL for the store tests: a throwaway cluster (or the given server), provisioned once.

``postgres_admin_url`` yields a superuser URL of a test database for the whole session
(``tests.postgres``): ``TWINPURGE_TEST_POSTGRES_URL`` if set, else a cluster started from the
machine's binaries and removed afterwards; without binaries the test skips, saying how to provide
a server (a skip fails under ``CI=true``, ``tests/conftest.py``). ``postgres_roles`` runs the
reviewed script on it once and yields the store URL and the roles' passwords. Both live here, the
narrowest place the PostgreSQL role tests and the coming store conformance suite share.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import attrs
import pytest

from arbiter.stores.postgres.schema import RoleSecrets, provision
from tests.postgres import HOW_TO_PROVIDE, STARTED, URL_ENV, find_bindir, start_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Provisioned", "postgres_admin_url", "postgres_roles", "store_url"]


def store_url(admin_url: str) -> str:
    """The admin URL without its user and password: what ``twinpurge.toml`` would hold."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


@attrs.frozen
class Provisioned:
    """A test database the reviewed script ran on.

    Attributes:
        admin_url: its superuser URL (password included).
        url: the store URL, without user or password.
        secrets: the login roles' passwords.
    """

    admin_url: str = attrs.field(repr=False)
    url: str
    secrets: RoleSecrets = attrs.field(repr=False)


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A superuser URL of a test database, for the session; skips without a server."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(HOW_TO_PROVIDE)
    cluster = start_cluster(bindir)
    try:
        request.config.stash[STARTED] = (
            f"PostgreSQL test cluster: {bindir}, {cluster.started_in:.1f} s to start"
            f"{f' (as {cluster.run_as})' if cluster.run_as else ''}"
        )
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_roles(postgres_admin_url: str) -> Provisioned:
    """The test database with the reviewed script run on it, and the roles' fresh passwords."""
    role_secrets = RoleSecrets(*(secrets.token_urlsafe(24) for _ in range(4)))
    provision(postgres_admin_url, role_secrets)
    return Provisioned(postgres_admin_url, store_url(postgres_admin_url), role_secrets)
