"""PostgreSQL for the arbiter's tests: one throwaway cluster (or the given server) per session.

``postgres_admin_url`` yields a superuser URL of a test database for the whole session
(``tests.postgres``): ``TWINPURGE_TEST_POSTGRES_URL`` if set, else a cluster started from the
machine's binaries and removed afterwards; without binaries the test skips, saying how to provide
a server (a skip fails under ``CI=true``, ``tests/conftest.py``). ``postgres_roles`` runs the
reviewed script on it once, with every login role's password derived from a fresh primary secret
and a fresh backup key (rule 6 of ``arbiter.auth.credentials``), and yields the store URL, those
secrets and the passwords. ``fresh_database`` gives a test a database of its own in that cluster,
dropped afterwards. They live here, the narrowest place the store tests (``stores/``) and the
crash-safety fault injection (``purge/test_fault_injection.py``, ``audit/test_crash_injection.py``)
and concurrency tests (``cli/test_cli_safemode.py``, ``manual/test_manual.py``,
``purge/test_safemode.py``, ``audit/test_audit.py``) share, so that one session starts one cluster.

A test that runs on both stores asks for ``workspace_admin_url``: it is parametrised by
``store_kind`` (``"sqlite"``, ``"postgresql"``) and gives None for SQLite, or a fresh database's
superuser URL for PostgreSQL, to create the workspace with (``Workspace.create(...,
admin_url=...)``, as ``twinpurge init --store`` does). ``direct_writer`` writes a store's data
tables beside it, as a retention service would (the change counter's and the staleness tests).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

import attrs
import psycopg
import pytest
from psycopg import sql

from arbiter.auth.credentials import (
    BackupCredentials,
    PrimaryCredentials,
    reset_credential_domains_for_tests,
)
from arbiter.stores.postgres.schema import provision, role_passwords, set_role_passwords
from tests.postgres import (
    HOW_TO_PROVIDE,
    STARTED,
    URL_ENV,
    find_bindir,
    start_cluster,
    store_url,
    with_database,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "STORE_KINDS",
    "DirectWriter",
    "Provisioned",
    "direct_writer",
    "fresh_database",
    "postgres_admin_url",
    "postgres_roles",
    "store_kind",
    "store_url",
    "with_database",
    "workspace_admin_url",
]

STORE_KINDS = ("sqlite", "postgresql")

_NAMES = itertools.count()


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


@pytest.fixture
def fresh_database(postgres_roles: Provisioned) -> Iterator[str]:
    """The superuser URL of a new, empty database in the session's cluster; dropped afterwards.

    A workspace created on it (``Workspace.create(..., admin_url=...)``, ``twinpurge init
    --store``) sets the cluster-wide login roles' passwords from its own credentials: they are
    set back afterwards to the session's, which the other tests log in with.
    """
    name = f"tw_{os.getpid()}_{next(_NAMES)}"
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(postgres_roles.admin_url, name)
    finally:
        set_role_passwords(postgres_roles.admin_url, postgres_roles.passwords)
        with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        reset_credential_domains_for_tests()


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """The store a test's workspace keeps its rows in: each test runs once per kind."""
    kind: str = request.param
    return kind


@pytest.fixture
def workspace_admin_url(store_kind: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite; for PostgreSQL, the superuser URL of a database of the test's own."""
    if store_kind == "sqlite":
        return None
    url: str = request.getfixturevalue("fresh_database")
    return url


# Runs one statement (``?`` placeholders, unqualified table names) and commits it.
DirectWriter: TypeAlias = Callable[[str, Sequence[object]], None]


def direct_writer(kind: str, where: str) -> DirectWriter:
    """A writer beside the store: a retention service changing the data tables directly.

    Args:
        kind: ``"sqlite"`` or ``"postgresql"``.
        where: the SQLite database file, or the PostgreSQL administrator's URL (a service's
            own role may write the tables; none of twinpurge's roles may update them).

    Returns:
        A function running one statement in a connection of its own and committing it.
    """

    def sqlite_write(statement: str, params: Sequence[object]) -> None:
        db = sqlite3.connect(where, timeout=30.0)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            with db:
                db.execute(statement, tuple(params))
        finally:
            db.close()

    def postgres_write(statement: str, params: Sequence[object]) -> None:
        with psycopg.connect(where) as db:
            db.execute("SET search_path TO twinpurge")
            db.execute(statement.replace("?", "%s").encode(), tuple(params))

    return sqlite_write if kind == "sqlite" else postgres_write
