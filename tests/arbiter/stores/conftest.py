"""PostgreSQL for the store tests: a throwaway cluster (or the given server), provisioned once.

``postgres_admin_url`` yields a superuser URL of a test database for the whole session
(``tests.postgres``): ``TWINPURGE_TEST_POSTGRES_URL`` if set, else a cluster started from the
machine's binaries and removed afterwards; without binaries the test skips, saying how to provide
a server (a skip fails under ``CI=true``, ``tests/conftest.py``). ``postgres_roles`` runs the
reviewed script on it once, with every login role's password derived from a fresh primary secret
and a fresh backup key (rule 6 of ``arbiter.auth.credentials``), and yields the store URL, those
secrets and the passwords. Both live here, the narrowest place the PostgreSQL role tests and the
store conformance suite (``test_conformance.py``) share. ``primary_store`` yields a fresh empty
store of each kind with its credentials recorded; on PostgreSQL, ``empty_postgres`` empties every
table as the administrator between the tests. ``fresh_database`` gives a test a new database of
the session's cluster (the workspace and backup tests make a deployment in it; the roles are
the cluster's, so their passwords are set back afterwards), and ``own_cluster`` a durable
cluster of its own, which it may stop, or leave unprovisioned.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import psycopg
import pytest
from psycopg import sql

from arbiter.auth.credentials import (
    BackupCredentials,
    PrimaryCredentials,
    reset_credential_domains_for_tests,
)
from arbiter.stores.postgres.schema import (
    BACKUP_TABLES,
    BOOKKEEPING_TABLES,
    CREDENTIALS_TABLE,
    DATA_TABLES,
    provision,
    role_passwords,
    set_role_passwords,
)
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import SqliteStore
from tests.postgres import (
    HOW_TO_PROVIDE,
    STARTED,
    URL_ENV,
    ThrowawayCluster,
    find_bindir,
    start_cluster,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = [
    "OpenStore",
    "Provisioned",
    "empty_postgres",
    "fresh_database",
    "own_cluster",
    "postgres_admin_url",
    "postgres_roles",
    "primary_store",
    "store_url",
    "with_database",
]

# Every table the store writes, emptied between the conformance suite's tests.
ALL_TABLES = (
    *(f"twinpurge.{t}" for t in (*DATA_TABLES, *BOOKKEEPING_TABLES, CREDENTIALS_TABLE)),
    *(f"twinpurge_backup.{t}" for t in BACKUP_TABLES),
)


def with_database(url: str, database: str) -> str:
    """The URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


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
        primary_secret: the primary credentials' secret the primary roles' passwords come from.
        backup_key: the backup credentials' key the backup roles' passwords come from.
        passwords: every login role's password.
    """

    admin_url: str = attrs.field(repr=False)
    url: str
    primary_secret: bytes = attrs.field(repr=False)
    backup_key: bytes = attrs.field(repr=False)
    passwords: Mapping[str, str] = attrs.field(repr=False)

    def primary(self) -> PrimaryCredentials:
        """The primary credentials the primary roles log in with (this process holds primary)."""
        return PrimaryCredentials(self.primary_secret, "tests: provisioned primary")

    def password(self, role: str) -> str:
        """A login role's password."""
        return self.passwords[role]


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
    """The test database with the reviewed script run on it, and the roles' fresh passwords.

    The passwords are derived from a fresh secret per domain, as a store's are; each domain is
    held only while its passwords are computed, so the tests start holding none.
    """
    primary_secret, backup_key = os.urandom(32), os.urandom(32)
    try:
        passwords = role_passwords(PrimaryCredentials(primary_secret, "tests"))
        reset_credential_domains_for_tests()
        passwords |= role_passwords(BackupCredentials(backup_key, "tests"))
    finally:
        reset_credential_domains_for_tests()
    provision(postgres_admin_url, passwords)
    return Provisioned(
        postgres_admin_url, store_url(postgres_admin_url), primary_secret, backup_key, passwords
    )


def empty_postgres(admin_url: str) -> None:
    """Empty every table of the store as the administrator (identities restart at 1)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE".encode())


@attrs.define
class OpenStore:
    """A fresh, empty primary store with its credentials recorded (``primary_store``).

    Attributes:
        kind: ``"sqlite"`` or ``"postgresql"``.
        store: the store.
        credentials: its primary credentials.
        reopen: another store on the same database, with the same credentials (a second
            runner); closed at the end of the test.
    """

    kind: str
    store: Any
    credentials: PrimaryCredentials
    reopen: Callable[[], Any]


@pytest.fixture(params=["sqlite", "postgresql"])
def primary_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """A fresh empty store of each kind, credentials recorded (the conformance suite's fixture).

    PostgreSQL: the session's database, provisioned once, emptied as the administrator before
    and after the test (``TRUNCATE ... CASCADE``), not a database per test.
    """
    opened: list[Any] = []
    credentials = PrimaryCredentials(os.urandom(32), "tests: conformance")
    provisioned: Provisioned | None = None
    if request.param == "sqlite":
        path = tmp_path / "primary.db"

        def reopen() -> Any:
            opened.append(SqliteStore(path))
            return opened[-1]

    else:
        provisioned = request.getfixturevalue("postgres_roles")
        empty_postgres(provisioned.admin_url)
        credentials = provisioned.primary()
        url = provisioned.url

        def reopen() -> Any:
            opened.append(PostgresStore(url, credentials))
            return opened[-1]

    store = reopen()
    try:
        store.record_primary_credentials(credentials)
        yield OpenStore(request.param, store, credentials, reopen)
    finally:
        for each in opened:
            each.close()
        if provisioned is not None:
            empty_postgres(provisioned.admin_url)


_NAMES = itertools.count()


@pytest.fixture
def fresh_database(postgres_roles: Provisioned) -> Iterator[str]:
    """The superuser URL of a new, empty database; dropped afterwards."""
    name = f"tw_{os.getpid()}_{next(_NAMES)}"
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(postgres_roles.admin_url, name)
    finally:
        # The roles are the cluster's: give them back the passwords the other tests log in with.
        set_role_passwords(postgres_roles.admin_url, postgres_roles.passwords)
        with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        reset_credential_domains_for_tests()


@pytest.fixture
def own_cluster() -> Iterator[ThrowawayCluster]:
    """A cluster of this test's own, which it may stop and start (the session's stays up)."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(HOW_TO_PROVIDE)
    cluster = start_cluster(bindir, durable=True)
    try:
        yield cluster
    finally:
        cluster.stop()
        reset_credential_domains_for_tests()
