"""The server refuses what the code forbids: each role's privileges on a real PostgreSQL server.

Every refusal is PostgreSQL's own ``InsufficientPrivilege`` error; its text is asserted and
recorded (``postgres_refusal``) so that the test summary quotes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from typing import TYPE_CHECKING, TypeAlias

import psycopg
import pytest
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from arbiter.auth.credentials import (
    BackupCredentials,
    PrimaryCredentials,
    reset_credential_domains_for_tests,
)
from arbiter.cli.exits import ExitCode, exit_code_for
from arbiter.core.errors import (
    StoreAddressError,
    StoreConnectionError,
    StoreLoginError,
    StoreMissingError,
    StoreUnavailableError,
    UsageError,
)
from arbiter.stores.postgres.connection import connect, redact, store_errors
from arbiter.stores.postgres.schema import (
    BACKUP_TABLES,
    BOOKKEEPING_TABLES,
    COUNTER_TABLE,
    CREDENTIALS_TABLE,
    DATA_TABLES,
    HEAD_FUNCTIONS,
    LOGIN_ROLES,
    ROLE_DOMAINS,
    provision,
    role_passwords,
    scram_verifier,
    set_role_passwords,
)
from tests.postgres import ThrowawayCluster, find_bindir

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.arbiter.stores.conftest import Provisioned

Record: TypeAlias = "Callable[[str, object], None]"

# What a purge, an import, a snapshot, a restore and the backup site may do, and nothing more.
EXPECTED_GRANTS: dict[str, set[tuple[str, str]]] = {
    "twinpurge_purge": {(f"twinpurge.{t}", "SELECT") for t in DATA_TABLES}
    | {("twinpurge.objects", "DELETE"), ("twinpurge.refs", "DELETE")}
    | {(f"twinpurge.{t}", p) for t in BOOKKEEPING_TABLES for p in ("SELECT", "INSERT", "UPDATE")}
    | {(f"twinpurge.{CREDENTIALS_TABLE}", p) for p in ("SELECT", "INSERT")}
    | {(f"twinpurge.{COUNTER_TABLE}", "SELECT")},
    "twinpurge_import": {(f"twinpurge.{t}", p) for t in DATA_TABLES for p in ("SELECT", "INSERT")},
    "twinpurge_snapshot": {(f"twinpurge.{t}", "SELECT") for t in (*DATA_TABLES, "receipts")},
    "twinpurge_restore": {(f"twinpurge.{t}", "INSERT") for t in DATA_TABLES},
    "twinpurge_backup": {
        (f"twinpurge_backup.{t}", p)
        for t in BACKUP_TABLES
        for p in ("SELECT", "INSERT", "UPDATE", "DELETE")
    },
}

# Who may execute which function of the schema: the purge role its counter's hold, the restore
# role the audit head's two, nobody else anything (the counting trigger functions run when their
# triggers fire, for everyone).
EXPECTED_ROUTINE_GRANTS = {
    ("twinpurge_purge", "hold_change_counter"),
    ("twinpurge_restore", "audit_head"),
    ("twinpurge_restore", "advance_audit_head"),
}
# Every function of the schema, with whether it runs as its owner (SECURITY DEFINER).
EXPECTED_FUNCTIONS = {
    ("advance_audit_head", True),
    ("audit_head", True),
    ("count_changes", False),
    ("count_events_changes", True),
    ("count_objects_changes", True),
    ("count_refs_changes", True),
    ("count_tenants_changes", True),
    ("hold_change_counter", True),
}

INSERT_OBJECT = (
    "INSERT INTO twinpurge.objects (store, key, tenant, category, created_at, legal_hold)"
    " VALUES ('db', 'refused', 'roles-t', 'record', '2026-01-01T00:00:00Z', false)"
)
DDL = [
    ("CREATE TABLE twinpurge.extra (a int)", "permission denied for schema twinpurge"),
    ("DROP TABLE twinpurge.objects", "must be owner of table objects"),
    ("ALTER TABLE twinpurge.objects ADD COLUMN extra int", "must be owner of table objects"),
    ("TRUNCATE twinpurge.objects", "permission denied for table objects"),
    ("CREATE TABLE public.extra (a int)", "permission denied for schema public"),
    (
        "CREATE TEMP TABLE extra (a int)",
        'permission denied to create temporary tables in database "{database}"',
    ),
]
REFUSED: list[tuple[str, str, str]] = [
    (
        "twinpurge_purge",
        "SELECT * FROM twinpurge_backup.site_meta",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_purge",
        "DELETE FROM twinpurge_backup.site_meta",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_purge",
        "UPDATE twinpurge.objects SET category = 'other'",
        "permission denied for table objects",
    ),
    ("twinpurge_purge", INSERT_OBJECT, "permission denied for table objects"),
    ("twinpurge_purge", "DELETE FROM twinpurge.tenants", "permission denied for table tenants"),
    ("twinpurge_purge", "DELETE FROM twinpurge.events", "permission denied for table events"),
    ("twinpurge_purge", "DELETE FROM twinpurge.journals", "permission denied for table journals"),
    ("twinpurge_purge", "DELETE FROM twinpurge.meta", "permission denied for table meta"),
    (
        "twinpurge_purge",
        "SELECT twinpurge.advance_audit_head(1, repeat('a', 64))",
        "permission denied for function advance_audit_head",
    ),
    (
        "twinpurge_purge",
        "UPDATE twinpurge.primary_credentials SET value = 'another'",
        "permission denied for table primary_credentials",
    ),
    (
        "twinpurge_purge",
        "DELETE FROM twinpurge.primary_credentials",
        "permission denied for table primary_credentials",
    ),
    (
        "twinpurge_purge",
        (
            "INSERT INTO twinpurge.primary_credentials VALUES ('x', 'y')"
            " ON CONFLICT (name) DO UPDATE SET value = 'y'"
        ),
        "permission denied for table primary_credentials",
    ),
    (
        "twinpurge_purge",
        "UPDATE twinpurge.change_counters SET n = 0",
        "permission denied for table change_counters",
    ),
    (
        "twinpurge_purge",
        "INSERT INTO twinpurge.change_counters VALUES ('roles-t', 0)",
        "permission denied for table change_counters",
    ),
    (
        "twinpurge_purge",
        "DELETE FROM twinpurge.change_counters",
        "permission denied for table change_counters",
    ),
    (
        "twinpurge_purge",
        "SELECT twinpurge.count_changes(ARRAY['roles-t'])",
        "permission denied for function count_changes",
    ),
    *[("twinpurge_purge", statement, message) for statement, message in DDL],
    ("twinpurge_import", "DELETE FROM twinpurge.objects", "permission denied for table objects"),
    ("twinpurge_import", "DELETE FROM twinpurge.refs", "permission denied for table refs"),
    ("twinpurge_import", "DELETE FROM twinpurge.tenants", "permission denied for table tenants"),
    (
        "twinpurge_import",
        "UPDATE twinpurge.objects SET category = 'other'",
        "permission denied for table objects",
    ),
    (
        "twinpurge_import",
        "UPDATE twinpurge.tenants SET legal_hold = true",
        "permission denied for table tenants",
    ),
    (
        "twinpurge_import",
        (
            "INSERT INTO twinpurge.objects VALUES"
            " ('db', 'a', 'roles-t', 'x', '2026-01-01T00:00:00Z', true, NULL)"
            " ON CONFLICT (store, key) DO UPDATE SET legal_hold = true"
        ),
        "permission denied for table objects",
    ),
    ("twinpurge_import", "SELECT * FROM twinpurge.meta", "permission denied for table meta"),
    (
        "twinpurge_import",
        "INSERT INTO twinpurge.journals (purge_id) VALUES ('x')",
        "permission denied for table journals",
    ),
    (
        "twinpurge_import",
        "SELECT * FROM twinpurge.primary_credentials",
        "permission denied for table primary_credentials",
    ),
    (
        "twinpurge_import",
        "INSERT INTO twinpurge.primary_credentials VALUES ('x', 'y')",
        "permission denied for table primary_credentials",
    ),
    (
        "twinpurge_import",
        "SELECT * FROM twinpurge_backup.site_meta",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_import",
        "INSERT INTO twinpurge_backup.site_meta VALUES ('x', 'y')",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_import",
        "LOCK TABLE twinpurge.objects IN SHARE ROW EXCLUSIVE MODE",
        "permission denied for table objects",
    ),
    (
        "twinpurge_import",
        "SELECT * FROM twinpurge.change_counters",
        "permission denied for table change_counters",
    ),
    (
        "twinpurge_import",
        "SELECT twinpurge.hold_change_counter('roles-t')",
        "permission denied for function hold_change_counter",
    ),
    *[("twinpurge_import", statement, message) for statement, message in DDL],
    ("twinpurge_snapshot", "DELETE FROM twinpurge.objects", "permission denied for table objects"),
    (
        "twinpurge_snapshot",
        "UPDATE twinpurge.objects SET category = 'other'",
        "permission denied for table objects",
    ),
    ("twinpurge_snapshot", INSERT_OBJECT, "permission denied for table objects"),
    ("twinpurge_snapshot", "SELECT * FROM twinpurge.meta", "permission denied for table meta"),
    (
        "twinpurge_snapshot",
        "SELECT * FROM twinpurge_backup.site_meta",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_snapshot",
        "UPDATE twinpurge.receipts SET purged = 0",
        "permission denied for table receipts",
    ),
    (
        "twinpurge_snapshot",
        "DELETE FROM twinpurge.receipts",
        "permission denied for table receipts",
    ),
    (
        "twinpurge_snapshot",
        "SELECT twinpurge.advance_audit_head(1, repeat('a', 64))",
        "permission denied for function advance_audit_head",
    ),
    *[("twinpurge_snapshot", statement, message) for statement, message in DDL],
    ("twinpurge_restore", "DELETE FROM twinpurge.objects", "permission denied for table objects"),
    (
        "twinpurge_restore",
        "UPDATE twinpurge.objects SET category = 'other'",
        "permission denied for table objects",
    ),
    ("twinpurge_restore", "SELECT * FROM twinpurge.objects", "permission denied for table objects"),
    (
        "twinpurge_restore",
        "INSERT INTO twinpurge.journals (purge_id) VALUES ('x')",
        "permission denied for table journals",
    ),
    ("twinpurge_restore", "DELETE FROM twinpurge.tenants", "permission denied for table tenants"),
    ("twinpurge_restore", "DELETE FROM twinpurge.refs", "permission denied for table refs"),
    ("twinpurge_restore", "SELECT * FROM twinpurge.meta", "permission denied for table meta"),
    (
        "twinpurge_restore",
        "UPDATE twinpurge.meta SET value = 'rewound' WHERE name = 'audit_head'",
        "permission denied for table meta",
    ),
    ("twinpurge_restore", "DELETE FROM twinpurge.meta", "permission denied for table meta"),
    (
        "twinpurge_restore",
        "INSERT INTO twinpurge.meta VALUES ('audit_head', 'forged')",
        "permission denied for table meta",
    ),
    (
        "twinpurge_restore",
        "SELECT * FROM twinpurge.receipts",
        "permission denied for table receipts",
    ),
    *[("twinpurge_restore", statement, message) for statement, message in DDL],
    ("twinpurge_backup", "DELETE FROM twinpurge.objects", "permission denied for schema twinpurge"),
    (
        "twinpurge_backup",
        "SELECT * FROM twinpurge.objects",
        "permission denied for schema twinpurge",
    ),
    (
        "twinpurge_backup",
        "CREATE TABLE twinpurge_backup.extra (a int)",
        "permission denied for schema twinpurge_backup",
    ),
    (
        "twinpurge_backup",
        "DROP TABLE twinpurge_backup.site_meta",
        "must be owner of table site_meta",
    ),
    (
        "twinpurge_backup",
        "TRUNCATE twinpurge_backup.site_meta",
        "permission denied for table site_meta",
    ),
]


def database(url: str) -> str:
    """The database a URL names."""
    return str(conninfo_to_dict(url)["dbname"])


def as_role(provisioned: Provisioned, role: str) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the test store as a login role, with its password."""
    return connect(provisioned.url, role=role, password=provisioned.password(role))


@pytest.fixture
def tenant_rows(postgres_roles: Provisioned) -> Iterator[None]:
    """Tenant ``roles-t`` with two objects (``b`` refers to ``a``), removed afterwards."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        admin.execute("INSERT INTO twinpurge.tenants VALUES ('roles-t', false, true)")
        admin.execute(
            "INSERT INTO twinpurge.events VALUES ('roles-t', 0, 'cancelled', '2026-01-01T00:00:00Z')"
        )
        for key in ("a", "b"):
            admin.execute(
                "INSERT INTO twinpurge.objects VALUES ('db', %s, 'roles-t', 'record', '2025-01-01T00:00:00Z', false, %s)",
                (key, key.encode()),
            )
        admin.execute("INSERT INTO twinpurge.refs VALUES ('db', 'b', 0, 'db', 'a')")
    yield
    with psycopg.connect(postgres_roles.admin_url) as admin:
        admin.execute("DELETE FROM twinpurge.objects WHERE tenant = 'roles-t'")
        admin.execute("DELETE FROM twinpurge.events WHERE tenant = 'roles-t'")
        admin.execute("DELETE FROM twinpurge.tenants WHERE id = 'roles-t'")
        admin.execute("DELETE FROM twinpurge.change_counters WHERE tenant = 'roles-t'")


@pytest.mark.parametrize(
    ("role", "statement", "message"), REFUSED, ids=[f"{r}: {s}" for r, s, _ in REFUSED]
)
@pytest.mark.usefixtures("tenant_rows")
def test_the_server_refuses(
    postgres_roles: Provisioned, role: str, statement: str, message: str, record_property: Record
) -> None:
    """Connected as the role, the statement fails with PostgreSQL's own permission error."""
    with (
        as_role(postgres_roles, role) as db,
        pytest.raises(pgerrors.InsufficientPrivilege) as refused,
    ):
        db.execute(statement.encode())
    expected = message.format(database=database(postgres_roles.url))
    assert expected == refused.value.diag.message_primary
    record_property(
        "postgres_refusal", f"{role}: {statement} -> {refused.value.diag.message_primary}"
    )


def test_each_role_holds_exactly_its_privileges(postgres_roles: Provisioned) -> None:
    """The catalog lists exactly the reviewed grants on the schemas' tables and functions."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        rows = admin.execute(
            "SELECT grantee, table_schema || '.' || table_name, privilege_type"
            " FROM information_schema.role_table_grants"
            " WHERE table_schema IN ('twinpurge', 'twinpurge_backup') AND grantee <> 'twinpurge_owner'"
        ).fetchall()
        public = admin.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'twinpurge%'"
            " AND has_schema_privilege('public', oid, 'USAGE')"
        ).fetchall()
        owners = admin.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname LIKE 'twinpurge%'"
        ).fetchall()
        logins = admin.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit"
            " FROM pg_roles WHERE rolname LIKE 'twinpurge%' ORDER BY rolname"
        ).fetchall()
    granted: dict[str, set[tuple[str, str]]] = {role: set() for role in LOGIN_ROLES}
    for grantee, table, privilege in rows:
        granted.setdefault(grantee, set()).add((table, privilege))
    assert EXPECTED_GRANTS == granted
    assert [] == public
    assert [("twinpurge_owner",)] == owners
    assert_function_privileges(postgres_roles)
    assert [
        ("twinpurge_backup", True, False, False, False, False),
        ("twinpurge_import", True, False, False, False, False),
        ("twinpurge_owner", False, False, False, False, False),
        ("twinpurge_purge", True, False, False, False, False),
        ("twinpurge_restore", True, False, False, False, False),
        ("twinpurge_snapshot", True, False, False, False, False),
    ] == logins


def assert_function_privileges(provisioned: Provisioned) -> None:
    """The schema's functions: the owner's, a fixed search_path, EXECUTE only as reviewed."""
    with psycopg.connect(provisioned.admin_url) as admin:
        functions = admin.execute(
            "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig"
            " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname LIKE 'twinpurge%'"
        ).fetchall()
        executable = admin.execute(
            "SELECT r.rolname, p.proname FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " CROSS JOIN (SELECT rolname FROM pg_roles WHERE rolname LIKE 'twinpurge%'"
            "  AND rolname <> 'twinpurge_owner' UNION ALL SELECT 'public') AS r"
            " WHERE n.nspname LIKE 'twinpurge%' AND has_function_privilege(r.rolname, p.oid,"
            " 'EXECUTE')"
        ).fetchall()
    assert EXPECTED_FUNCTIONS == {(name, definer) for name, definer, _, _ in functions}
    assert {("twinpurge_owner", ("search_path=pg_catalog, pg_temp",))} == {
        (owner, tuple(config)) for _, _, owner, config in functions
    }
    assert EXPECTED_ROUTINE_GRANTS == set(executable)


def test_only_the_restore_role_executes_the_audit_head_functions(
    postgres_roles: Provisioned,
) -> None:
    """Both head functions run as the owner (SECURITY DEFINER); only twinpurge_restore runs them."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        definers = admin.execute(
            "SELECT p.oid::regprocedure::text, r.rolname, p.prosecdef, p.proconfig"
            " FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
            " WHERE p.pronamespace IN ('twinpurge'::regnamespace, 'twinpurge_backup'::regnamespace)"
            " AND p.proname IN ('audit_head', 'advance_audit_head') ORDER BY 1"
        ).fetchall()
        runs = {
            (role, function)
            for role in (*LOGIN_ROLES, "public")
            for function in HEAD_FUNCTIONS
            if admin.execute(
                "SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, function)
            ).fetchone()
            == (True,)
        }
    settings = ["search_path=pg_catalog, pg_temp"]
    assert [
        ("twinpurge.advance_audit_head(bigint,text)", "twinpurge_owner", True, settings),
        ("twinpurge.audit_head()", "twinpurge_owner", True, settings),
    ] == definers
    assert {("twinpurge_restore", function) for function in HEAD_FUNCTIONS} == runs


@pytest.fixture
def audit_head(postgres_roles: Provisioned) -> Iterator[None]:
    """The primary audit log's head at record 4 (the meta row ``audit_head``), removed afterwards."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        admin.execute(
            "INSERT INTO twinpurge.meta VALUES ('audit_head', %s)",
            (f'{{"seq": 4, "hash": "{"4" * 64}"}}',),
        )
    yield
    with psycopg.connect(postgres_roles.admin_url) as admin:
        admin.execute("DELETE FROM twinpurge.meta WHERE name = 'audit_head'")


def head(provisioned: Provisioned) -> str | None:
    """The primary audit log's head as stored, read as the administrator."""
    with psycopg.connect(provisioned.admin_url) as admin:
        row = admin.execute("SELECT value FROM twinpurge.meta WHERE name = 'audit_head'").fetchone()
    return None if row is None else str(row[0])


@pytest.mark.usefixtures("audit_head")
def test_the_restore_role_only_advances_the_audit_head(
    postgres_roles: Provisioned, record_property: Record
) -> None:
    """As twinpurge_restore: the head reads and moves on by one or two; back, or further, refused."""
    advance = "SELECT twinpurge.advance_audit_head(%s, %s)"
    refusals = []
    with as_role(postgres_roles, "twinpurge_restore") as db:
        db.autocommit = True
        seen = db.execute("SELECT twinpurge.audit_head()").fetchone()
        for seq in (4, 3, 7, -1):
            with pytest.raises(pgerrors.InsufficientPrivilege) as refused:
                db.execute(advance, (seq, "5" * 64))
            refusals.append(refused.value.diag.message_primary)
        with pytest.raises(pgerrors.InvalidParameterValue):
            db.execute(advance, (5, "not a hash"))
        db.execute(advance, (5, "5" * 64))
        after_one = head(postgres_roles)
        db.execute(advance, (7, "7" * 64))
    assert (f'{{"seq": 4, "hash": "{"4" * 64}"}}',) == seen
    assert [
        f"the audit head moves only forward, one or two records: 4 to {seq} refused"
        for seq in (4, 3, 7, -1)
    ] == refusals
    assert (f'{{"seq": 5, "hash": "{"5" * 64}"}}', f'{{"seq": 7, "hash": "{"7" * 64}"}}') == (
        after_one,
        head(postgres_roles),
    )
    record_property(
        "postgres_refusal", f"twinpurge_restore: advance_audit_head(4) -> {refusals[0]}"
    )


@pytest.mark.usefixtures("tenant_rows")
def test_the_purge_role_deletes_objects_and_keeps_its_books(postgres_roles: Provisioned) -> None:
    """As twinpurge_purge: reads, deletes an object (its refs cascade), writes journals and runs."""
    with as_role(postgres_roles, "twinpurge_purge") as db:
        assert [(0, "cancelled")] == db.execute(
            "SELECT pos, kind FROM twinpurge.events WHERE tenant = 'roles-t'"
        ).fetchall()
        deleted = db.execute(
            "DELETE FROM twinpurge.objects WHERE store = 'db' AND key = 'b' AND tenant = 'roles-t'"
        ).rowcount
        db.execute(
            "INSERT INTO twinpurge.journals (purge_id, tenant, kind, plan_digest, plan_path,"
            " plan_sha256, as_of, actor, started_at, state)"
            " VALUES ('roles-p', 'roles-t', 'auto', 'd', 'p', 's', 'a', 'me', 'now', 'open')"
        )
        db.execute("INSERT INTO twinpurge.journal_steps VALUES ('roles-p', 1, 'deleted', '{}')")
        db.execute("UPDATE twinpurge.journals SET state = 'done' WHERE purge_id = 'roles-p'")
        run = db.execute(
            "INSERT INTO twinpurge.runs (as_of, as_of_epoch, ran_at, ran_at_epoch, sane)"
            " VALUES ('a', 1, 'b', 2, true)"
        ).rowcount
        db.execute(
            "INSERT INTO twinpurge.meta VALUES ('roles-head', 'h') ON CONFLICT (name) DO UPDATE SET value = 'h'"
        )
        left = db.execute("SELECT key FROM twinpurge.objects WHERE tenant = 'roles-t'").fetchall()
        refs = db.execute("SELECT count(*) FROM twinpurge.refs WHERE from_key = 'b'").fetchone()
        db.rollback()
    assert (1, 1, [("a",)], (0,)) == (deleted, run, left, refs)


UPDATE_COUNTER = "UPDATE twinpurge.change_counters SET n = 0 WHERE tenant = 'roles-t'"


def counter_of(provisioned: Provisioned, tenant: str) -> int:
    """A tenant's change counter, read as the administrator (0 without a row)."""
    with psycopg.connect(provisioned.admin_url) as admin:
        row = admin.execute(
            "SELECT n FROM twinpurge.change_counters WHERE tenant = %s", (tenant,)
        ).fetchone()
    return 0 if row is None else int(row[0])


@pytest.mark.usefixtures("tenant_rows")
def test_the_purge_roles_delete_bumps_the_counter_it_cannot_write(
    postgres_roles: Provisioned, record_property: Record
) -> None:
    """The trigger counts the purge role's delete; the role's own UPDATE of the counter fails."""
    before = counter_of(postgres_roles, "roles-t")
    with as_role(postgres_roles, "twinpurge_purge") as db:
        db.execute("DELETE FROM twinpurge.objects WHERE key = 'b' AND tenant = 'roles-t'")
        db.commit()
        with pytest.raises(pgerrors.InsufficientPrivilege) as refused:
            db.execute(UPDATE_COUNTER)
        db.rollback()
        held = db.execute("SELECT twinpurge.hold_change_counter('roles-t')").fetchone()
        db.rollback()
    after = counter_of(postgres_roles, "roles-t")
    assert "permission denied for table change_counters" == refused.value.diag.message_primary
    assert (True, (after,), after) == (after > before, held, counter_of(postgres_roles, "roles-t"))
    record_property(
        "postgres_refusal",
        f"twinpurge_purge (its delete counted by the trigger): {UPDATE_COUNTER}"
        f" -> {refused.value.diag.message_primary}",
    )


@pytest.mark.usefixtures("tenant_rows")
def test_the_snapshot_role_reads_the_data(postgres_roles: Provisioned) -> None:
    """As twinpurge_snapshot: every primary data table reads, payloads included."""
    with as_role(postgres_roles, "twinpurge_snapshot") as db:
        payloads = db.execute(
            "SELECT key, payload FROM twinpurge.objects WHERE tenant = 'roles-t' ORDER BY key"
        ).fetchall()
        seen = [
            db.execute(
                sql.SQL("SELECT count(*) > 0 FROM twinpurge.{}").format(sql.Identifier(table))
            ).fetchone()
            for table in DATA_TABLES
        ]
    assert [("a", b"a"), ("b", b"b")] == payloads
    assert [(True,)] * len(DATA_TABLES) == seen


@pytest.mark.usefixtures("tenant_rows")
def test_the_restore_role_inserts_what_is_missing(postgres_roles: Provisioned) -> None:
    """As twinpurge_restore: an object and its ref insert; an existing one is skipped, not changed."""
    with as_role(postgres_roles, "twinpurge_restore") as db:
        inserted = db.execute(
            "INSERT INTO twinpurge.objects VALUES"
            " ('db', 'c', 'roles-t', 'record', '2025-01-01T00:00:00Z', false, 'c'),"
            " ('db', 'a', 'roles-t', 'changed', '2025-01-01T00:00:00Z', true, 'x')"
            " ON CONFLICT DO NOTHING"
        ).rowcount
        refs = db.execute("INSERT INTO twinpurge.refs VALUES ('db', 'c', 0, 'db', 'a')").rowcount
        db.commit()
    with psycopg.connect(postgres_roles.admin_url) as admin:
        rows = admin.execute(
            "SELECT key, category, payload FROM twinpurge.objects WHERE tenant = 'roles-t' ORDER BY key"
        ).fetchall()
    assert (1, 1) == (inserted, refs)
    assert [("a", "record", b"a"), ("b", "record", b"b"), ("c", "record", b"c")] == rows


def test_the_backup_role_keeps_its_site(postgres_roles: Provisioned) -> None:
    """As twinpurge_backup: its own table reads, inserts, updates and deletes."""
    with as_role(postgres_roles, "twinpurge_backup") as db:
        db.execute("INSERT INTO twinpurge_backup.site_meta VALUES ('roles-head', 'h1')")
        db.execute("UPDATE twinpurge_backup.site_meta SET value = 'h2' WHERE name = 'roles-head'")
        value = db.execute(
            "SELECT value FROM twinpurge_backup.site_meta WHERE name = 'roles-head'"
        ).fetchone()
        deleted = db.execute(
            "DELETE FROM twinpurge_backup.site_meta WHERE name = 'roles-head'"
        ).rowcount
        db.rollback()
    assert (("h2",), 1) == (value, deleted)


def test_provisioning_again_revokes_a_stray_grant(
    postgres_roles: Provisioned, record_property: Record
) -> None:
    """Hand-made grants: the backup table still refuses the purge role; provisioning revokes them."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        admin.execute("GRANT DELETE, TRUNCATE ON twinpurge.tenants TO twinpurge_purge")
        admin.execute("GRANT USAGE ON SCHEMA twinpurge_backup TO twinpurge_purge")
    try:
        for statement in (
            "SELECT * FROM twinpurge_backup.site_meta",
            "DELETE FROM twinpurge_backup.site_meta",
        ):
            with (
                as_role(postgres_roles, "twinpurge_purge") as db,
                pytest.raises(pgerrors.InsufficientPrivilege) as opened,
            ):
                db.execute(statement.encode())
            assert "permission denied for table site_meta" == opened.value.diag.message_primary
            record_property(
                "postgres_refusal",
                f"twinpurge_purge (schema twinpurge_backup opened by hand): {statement} -> {opened.value.diag.message_primary}",
            )
    finally:
        provision(postgres_roles.admin_url)
    with (
        as_role(postgres_roles, "twinpurge_purge") as db,
        pytest.raises(pgerrors.InsufficientPrivilege) as refused,
    ):
        db.execute("DELETE FROM twinpurge.tenants WHERE id = 'nobody'")
    assert "permission denied for table tenants" == refused.value.diag.message_primary
    test_each_role_holds_exactly_its_privileges(postgres_roles)


def test_the_server_stores_verifiers_not_passwords(postgres_roles: Provisioned) -> None:
    """Each login role's stored password is a SCRAM-SHA-256 verifier; the owner has none."""
    with psycopg.connect(postgres_roles.admin_url) as admin:
        stored: dict[str, object] = dict(
            admin.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'twinpurge%'"
            ).fetchall()
        )
    assert None is stored.pop("twinpurge_owner")
    assert set(LOGIN_ROLES) == set(stored)
    for role, verifier in stored.items():
        assert str(verifier).startswith("SCRAM-SHA-256$4096:")
        assert postgres_roles.password(role) not in str(verifier)


def test_the_scram_verifier_is_rfc_7677s() -> None:
    """With RFC 7677's password and salt, the verifier checks the RFC's client proof and signature."""
    # RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096.
    verifier = scram_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    head, keys = verifier.rsplit("$", 1)
    stored_key, server_key = (base64.b64decode(part) for part in keys.split(":"))
    nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={nonce}".encode()
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_signature = hmac.new(stored_key, auth_message, "sha256").digest()
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    assert "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==" == head
    assert stored_key == hashlib.sha256(client_key).digest()
    assert (
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        == base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
    )


@pytest.mark.usefixtures("tenant_rows")
def test_the_import_role_inserts_and_reads_the_data(postgres_roles: Provisioned) -> None:
    """As twinpurge_import: a tenant, an event, an object and a ref insert; the data reads back."""
    with as_role(postgres_roles, "twinpurge_import") as db:
        inserted = [
            db.execute(statement).rowcount
            for statement in (
                "INSERT INTO twinpurge.tenants VALUES ('roles-i', false, true)",
                "INSERT INTO twinpurge.events VALUES ('roles-i', 0, 'cancelled', '2026-01-01T00:00:00Z')",
                "INSERT INTO twinpurge.objects VALUES ('db', 'i', 'roles-i', 'record', '2025-01-01T00:00:00Z', false, 'i') ON CONFLICT DO NOTHING",
                "INSERT INTO twinpurge.refs VALUES ('db', 'i', 0, 'db', 'a')",
            )
        ]
        seen = db.execute(
            "SELECT o.key, o.payload, r.to_key FROM twinpurge.objects o"
            " JOIN twinpurge.refs r ON (r.from_store, r.from_key) = (o.store, o.key)"
            " WHERE o.tenant IN ('roles-t', 'roles-i') ORDER BY o.key"
        ).fetchall()
        db.rollback()
    assert ([1, 1, 1, 1], [("b", b"b", "a"), ("i", b"i", "a")]) == (inserted, seen)


def test_the_credentials_record_is_written_once(
    postgres_roles: Provisioned, record_property: Record
) -> None:
    """As twinpurge_purge: the fingerprint inserts and reads; a second insert of it conflicts."""
    with as_role(postgres_roles, "twinpurge_purge") as db:
        db.execute("INSERT INTO twinpurge.primary_credentials VALUES ('roles-fp', 'f1')")
        with pytest.raises(pgerrors.UniqueViolation):
            db.execute("INSERT INTO twinpurge.primary_credentials VALUES ('roles-fp', 'f2')")
        db.rollback()
        db.execute("INSERT INTO twinpurge.primary_credentials VALUES ('roles-fp', 'f1')")
        with pytest.raises(pgerrors.InsufficientPrivilege) as refused:
            db.execute(
                "UPDATE twinpurge.primary_credentials SET value = 'f2' WHERE name = 'roles-fp'"
            )
        db.rollback()
        left = db.execute(
            "SELECT value FROM twinpurge.primary_credentials WHERE name = 'roles-fp'"
        ).fetchall()
        db.rollback()
    assert "permission denied for table primary_credentials" == refused.value.diag.message_primary
    assert [] == left
    record_property(
        "postgres_refusal",
        f"twinpurge_purge: UPDATE twinpurge.primary_credentials (row present) -> {refused.value.diag.message_primary}",
    )


def stored_verifiers(provisioned: Provisioned) -> dict[str, object]:
    """Each twinpurge role's stored password (verifier), by name."""
    with psycopg.connect(provisioned.admin_url) as admin:
        return dict(
            admin.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'twinpurge%'"
            ).fetchall()
        )


def test_provisioning_again_keeps_the_passwords(postgres_roles: Provisioned) -> None:
    """The script sets no password: run again without passwords, every role still logs in."""
    before = stored_verifiers(postgres_roles)
    provision(postgres_roles.admin_url)
    assert before == stored_verifiers(postgres_roles)
    for role in LOGIN_ROLES:
        with as_role(postgres_roles, role) as db:
            assert (role,) == db.execute("SELECT current_user").fetchone()


def test_set_role_passwords_changes_only_the_given_roles(postgres_roles: Provisioned) -> None:
    """One role's new password logs in and the old one is refused; the others are untouched."""
    before = stored_verifiers(postgres_roles)
    try:
        set_role_passwords(postgres_roles.admin_url, {"twinpurge_snapshot": "another-password"})
        after = stored_verifiers(postgres_roles)
        connect(
            postgres_roles.url,
            role="twinpurge_snapshot",
            password="another-password",  # noqa: S106 -- a test password
        ).close()
        with pytest.raises(StoreLoginError):
            as_role(postgres_roles, "twinpurge_snapshot").close()
    finally:
        set_role_passwords(
            postgres_roles.admin_url,
            {"twinpurge_snapshot": postgres_roles.password("twinpurge_snapshot")},
        )
    changed = {role for role in before if before[role] != after[role]}
    assert {"twinpurge_snapshot"} == changed
    assert str(after["twinpurge_snapshot"]).startswith("SCRAM-SHA-256$4096:")


def test_a_role_not_created_yet_is_a_usage_error_naming_it(own_cluster: ThrowawayCluster) -> None:
    """A server never provisioned: setting a role's password names the role and init --store."""
    with pytest.raises(UsageError) as refused:
        set_role_passwords(own_cluster.admin_url, {"twinpurge_snapshot": "a-password"})
    assert (
        'role "twinpurge_snapshot" does not exist: the store\'s roles are created by'
        " twinpurge init --store (provision) first"
    ) == str(refused.value)


def test_an_unknown_role_is_a_usage_error_before_anything_is_sent() -> None:
    """A name that is no twinpurge login role (the owner included): UsageError, no connection."""
    unreachable = "postgresql://admin:pw@127.0.0.1:1/none"
    for call in (set_role_passwords, provision):
        with pytest.raises(UsageError, match="twinpurge_owner is not a twinpurge login role"):
            call(unreachable, {"twinpurge_owner": "a-password"})
    with pytest.raises(UsageError, match="non-empty printable ASCII"):
        set_role_passwords(unreachable, {"twinpurge_purge": "pässword"})


def test_role_passwords_are_each_domains_own() -> None:
    """Primary credentials give the purge and import roles' passwords; backup ones the rest."""
    primary = PrimaryCredentials(b"p" * 32, "tests")
    primary_passwords = role_passwords(primary)
    reset_credential_domains_for_tests()
    backup = BackupCredentials(b"b" * 32, "tests")
    backup_passwords = role_passwords(backup)
    assert {r for r, d in ROLE_DOMAINS.items() if d == "primary"} == set(primary_passwords)
    assert {"twinpurge_purge", "twinpurge_import"} == set(primary_passwords)
    assert {"twinpurge_snapshot", "twinpurge_restore", "twinpurge_backup"} == set(backup_passwords)
    assert primary.role_password("twinpurge_import") == primary_passwords["twinpurge_import"]
    assert backup.role_password("twinpurge_restore") == backup_passwords["twinpurge_restore"]
    assert len({*primary_passwords.values(), *backup_passwords.values()}) == 5


# -- connection errors -------------------------------------------------------------------------


def refused_connection(
    url: str,
    role: str = "twinpurge_purge",
    password: str = "wrong-but-long",  # noqa: S107 -- a password no role has
) -> StoreConnectionError:
    """The error ``connect`` raises for these arguments."""
    with pytest.raises(StoreConnectionError) as raised:
        connect(url, role=role, password=password).close()
    return raised.value


def one_line(error: StoreConnectionError) -> str:
    """The error's message, checked to be one line."""
    message = str(error)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("host=127.0.0.1 dbname=x", "bad store URL: it must start with postgresql://"),
        (
            "postgresql://[::1",
            'bad store URL: end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1"',
        ),
        (
            "postgresql://127.0.0.1/x?nonsense=1",
            'bad store URL: invalid URI query parameter: "nonsense"',
        ),
        (
            "postgresql://127.0.0.1:notaport/x",
            'bad store URL: invalid integer value "notaport" for connection option "port"',
        ),
        (
            "postgresql://twinpurge_purge:hunter2@127.0.0.1/x",
            "the store URL carries a password; passwords come from the credentials files only",
        ),
        (
            "postgresql://admin@127.0.0.1/x",
            "the store URL names user 'admin'; each step connects as its own role",
        ),
    ],
)
def test_a_bad_url_is_bad_input(url: str, reason: str) -> None:
    """A malformed URL, or one with a user or a password: StoreAddressError, exit 2, no password."""
    error = refused_connection(url)
    assert (StoreAddressError, reason, "twinpurge_purge") == (type(error), error.reason, error.role)
    assert "hunter2" not in one_line(error)
    assert ExitCode.BAD_INPUT == exit_code_for(error)


def test_a_wrong_password_is_a_credentials_error(postgres_roles: Provisioned) -> None:
    """The server refuses the password: StoreLoginError naming the role, exit 7, no password."""
    error = refused_connection(postgres_roles.url, "twinpurge_snapshot", "not-the-password")
    expected = (
        f"store {postgres_roles.url} as twinpurge_snapshot: the server refused the password of"
        " twinpurge_snapshot (or knows no such role): check the credentials file of its domain"
    )
    assert (StoreLoginError, expected) == (type(error), one_line(error))
    assert ExitCode.CREDENTIALS == exit_code_for(error)


def test_a_missing_database_is_named(postgres_roles: Provisioned) -> None:
    """The URL's database does not exist: StoreMissingError naming it, its own exit code."""
    url = postgres_roles.url.rsplit("/", 1)[0] + "/no_such_store"
    error = refused_connection(url, "twinpurge_purge", postgres_roles.password("twinpurge_purge"))
    expected = (
        f"store {url} as twinpurge_purge: database 'no_such_store' does not exist: check the"
        " store URL, or initialise the store (twinpurge init --store)"
    )
    assert (StoreMissingError, expected) == (type(error), one_line(error))
    assert ExitCode.STORE_MISSING == exit_code_for(error)


def test_a_stopped_server_is_unavailable() -> None:
    """Nothing listens on the port (a stopped server): StoreUnavailableError, its own exit code."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = refused_connection(f"postgresql://127.0.0.1:{port}/twinpurge")
    assert StoreUnavailableError is type(error)
    assert one_line(error).startswith(
        f"store postgresql://127.0.0.1:{port}/twinpurge as twinpurge_purge: the server cannot be"
        " reached or went away: "
    )
    assert "Connection refused" in error.reason
    assert ExitCode.STORE_UNAVAILABLE == exit_code_for(error)


@pytest.mark.usefixtures("tenant_rows")
def test_a_server_going_away_mid_purge_keeps_the_open_batch(postgres_roles: Provisioned) -> None:
    """Killed mid-batch: StoreUnavailableError; the committed batch stays, the open one rolled back."""
    with as_role(postgres_roles, "twinpurge_purge") as db:
        db.execute("DELETE FROM twinpurge.objects WHERE store = 'db' AND key = 'b'")
        db.commit()
        db.execute("DELETE FROM twinpurge.objects WHERE store = 'db' AND key = 'a'")
        db.execute("INSERT INTO twinpurge.meta VALUES ('roles-gone', 'x')")
        pid = db.info.backend_pid
        with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with (
            pytest.raises(StoreUnavailableError) as raised,
            store_errors(postgres_roles.url, role="twinpurge_purge"),
        ):
            db.execute("SELECT 1")
    with psycopg.connect(postgres_roles.admin_url) as admin:
        left = admin.execute(
            "SELECT key FROM twinpurge.objects WHERE tenant = 'roles-t'"
        ).fetchall()
        head = admin.execute(
            "SELECT value FROM twinpurge.meta WHERE name = 'roles-gone'"
        ).fetchone()
    assert ([("a",)], None) == (left, head)
    assert one_line(raised.value).startswith(
        f"store {postgres_roles.url} as twinpurge_purge: the server cannot be reached or went away: "
    )
    assert ExitCode.STORE_UNAVAILABLE == exit_code_for(raised.value)


def test_redact_hides_passwords() -> None:
    """A password in a URL or a key=value string never reaches a message."""
    assert "postgresql://u:***@h:5/d" == redact("postgresql://u:s3cret@h:5/d")
    assert "host=h password=*** dbname=d" == redact("host=h password=s3cret dbname=d")
    assert "host=h password=*** dbname=d" == redact("host=h password='s 3cret' dbname=d")


# -- the test cluster's binaries -----------------------------------------------------------------


def test_the_newest_binaries_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pg_config or initdb on PATH, the newest complete <version>/bin is chosen."""
    monkeypatch.setattr("shutil.which", lambda _name: None)
    for version, tools in [("9.6", 3), ("15", 3), ("16", 3), ("17", 2)]:
        (tmp_path / version / "bin").mkdir(parents=True)
        for tool in ("initdb", "pg_ctl", "postgres")[:tools]:
            (tmp_path / version / "bin" / tool).touch()
    assert tmp_path / "16" / "bin" == find_bindir(tmp_path)
    assert None is find_bindir(tmp_path / "none")
