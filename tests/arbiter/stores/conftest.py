"""The store tests' fixtures: a fresh empty store of each kind, emptying PostgreSQL, a cluster.

The session's PostgreSQL (``postgres_admin_url``, ``postgres_roles``, ``fresh_database``) comes
from ``tests/arbiter/conftest.py``, shared with the crash-safety fault injection; ``Provisioned``,
``store_url`` and ``with_database`` are re-exported here for the store tests that import them.
``primary_store`` yields a fresh empty store of each kind with its credentials recorded; on
PostgreSQL, ``empty_postgres`` empties every table as the administrator between the tests.
``direct_writer`` (re-exported too) writes the data tables the way a retention service would.
``own_cluster`` gives a test a durable cluster of its own, which it may stop, or leave
unprovisioned. ``both_stores`` opens a fresh store of each kind side by side, for the properties
that compare the two stores example by example (hypothesis cannot use a fixture per example).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import psycopg
import pytest

from arbiter.auth.credentials import PrimaryCredentials, reset_credential_domains_for_tests
from arbiter.stores.postgres.schema import (
    BACKUP_TABLES,
    BOOKKEEPING_TABLES,
    COUNTER_TABLE,
    CREDENTIALS_TABLE,
    DATA_TABLES,
)
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import SqliteStore
from tests.arbiter.conftest import (
    DirectWriter,
    Provisioned,
    direct_writer,
    store_url,
    with_database,
)
from tests.postgres import HOW_TO_PROVIDE, ThrowawayCluster, find_bindir, start_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "BothStores",
    "DirectWriter",
    "OpenStore",
    "Provisioned",
    "both_stores",
    "direct_writer",
    "empty_postgres",
    "own_cluster",
    "primary_store",
    "store_url",
    "with_database",
]

# Every table the store writes, emptied between the conformance suite's tests.
ALL_TABLES = (
    *(
        f"twinpurge.{t}"
        for t in (*DATA_TABLES, *BOOKKEEPING_TABLES, CREDENTIALS_TABLE, COUNTER_TABLE)
    ),
    *(f"twinpurge_backup.{t}" for t in BACKUP_TABLES),
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
        write: a writer beside the store (``direct_writer``).
    """

    kind: str
    store: Any
    credentials: PrimaryCredentials
    reopen: Callable[[], Any]
    write: DirectWriter


@attrs.frozen
class BothStores:
    """A fresh store of each kind (``both_stores``).

    Attributes:
        sqlite: an empty SQLite store in ``directory``.
        postgres: the session's PostgreSQL store, emptied, with its primary credentials.
        directory: a temporary directory of this example's own, removed afterwards.
    """

    sqlite: SqliteStore
    postgres: PostgresStore
    directory: Path

    @property
    def kinds(self) -> tuple[tuple[str, Any], tuple[str, Any]]:
        """``(kind, store)`` for each, SQLite first."""
        return (("sqlite", self.sqlite), ("postgresql", self.postgres))


@contextlib.contextmanager
def both_stores(roles: Provisioned) -> Iterator[BothStores]:
    """An empty SQLite store and the emptied PostgreSQL store, both closed on the way out.

    Args:
        roles: the session's provisioned PostgreSQL (``postgres_roles``).

    Yields:
        The two stores and a temporary directory for the example.
    """
    reset_credential_domains_for_tests()
    empty_postgres(roles.admin_url)
    postgres = PostgresStore(roles.url, roles.primary())
    try:
        with tempfile.TemporaryDirectory() as directory:
            sqlite = SqliteStore(Path(directory) / "primary.db")
            try:
                yield BothStores(sqlite, postgres, Path(directory))
            finally:
                sqlite.close()
    finally:
        postgres.close()


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

        write = direct_writer("sqlite", str(path))

    else:
        provisioned = request.getfixturevalue("postgres_roles")
        empty_postgres(provisioned.admin_url)
        credentials = provisioned.primary()
        url = provisioned.url

        def reopen() -> Any:
            opened.append(PostgresStore(url, credentials))
            return opened[-1]

        write = direct_writer("postgresql", provisioned.admin_url)

    store = reopen()
    try:
        store.record_primary_credentials(credentials)
        yield OpenStore(request.param, store, credentials, reopen, write)
    finally:
        for each in opened:
            each.close()
        if provisioned is not None:
            empty_postgres(provisioned.admin_url)


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
