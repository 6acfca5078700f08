"""The backup domain on a PostgreSQL workspace: snapshot, backup purge and restore as its own roles.

The same workspace as the SQLite backup tests (``tests/arbiter/backup/backup_support.py``), made
on a database of its own (``fresh_database``), with the same assertions: through the API and
through the installed executable. Then what the server refuses: the snapshot role's connection
writes nothing, the restore role's deletes and updates nothing and moves the audit head only
forward; and what the credentials decide: the primary file offered as the backup key, and a
backup role whose password is missing or not the key's, end with exit 7 and change nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import psycopg
import pytest
from psycopg import errors as pgerrors

import arbiter
from arbiter import (
    PostgresPrimaryReader,
    PostgresPrimaryRestorer,
    approve_restore_request,
    create_restore_request,
    list_backups,
    open_site,
    restore_backup,
    write_restore_request,
)
from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV, reset_credential_domains_for_tests
from arbiter.core.errors import StoreLoginError, UsageError
from arbiter.stores.postgres.schema import provision, role_passwords, set_role_passwords
from tests.arbiter.backup.backup_support import BACKUP_DUE, PRIMARY_DUE, Site, site
from tests.arbiter.cli.test_cli import installed_executable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.arbiter.stores.conftest import Provisioned

Record: TypeAlias = "Callable[[str, object], None]"
BACKUP_ROLES = ("twinpurge_backup", "twinpurge_restore", "twinpurge_snapshot")


@pytest.fixture
def pg_site(tmp_path: Path, fresh_database: str) -> Site:
    """The backup tests' workspace and site, on PostgreSQL, the backup roles' passwords set."""
    return site(tmp_path, admin_url=fresh_database)


@pytest.fixture
def purged(pg_site: Site) -> Site:
    """A snapshot the day before t's primary_due, then t's primary purge at primary_due."""
    pg_site.snapshot("2026-01-31T00:00:00Z")
    report = pg_site.primary_purge(PRIMARY_DUE)
    assert {"executed": 1, "not-eligible": 1} == report.counts()
    return pg_site


def objects_of(s: Site, tenant: str = "t") -> list[dict[str, Any]]:
    """The tenant's objects as the primary store holds them (a primary-domain process)."""
    with s.workspace() as ws:
        return [o for o in ws.export_inventory()["objects"] if o["tenant"] == tenant]


def payloads_of(s: Site) -> dict[str, bytes | None]:
    """Every record's payload, by key (a primary-domain process)."""
    with s.workspace() as ws:
        return {
            o["key"]: ws.store.payload(arbiter.ObjectId(o["store"], o["key"]))
            for o in ws.export_inventory()["objects"]
        }


def blob_files(s: Site) -> dict[str, bytes]:
    """Every blob file of the primary store."""
    root = s.directory / "blobs"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def verifiers(admin_url: str) -> dict[str, object]:
    """Each twinpurge role's stored password verifier."""
    with psycopg.connect(admin_url) as admin:
        return dict(
            admin.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname LIKE 'twinpurge%'"
            ).fetchall()
        )


def head_row(admin_url: str) -> str | None:
    """The primary audit log's head as the store holds it."""
    with psycopg.connect(admin_url) as admin:
        row = admin.execute("SELECT value FROM twinpurge.meta WHERE name = 'audit_head'").fetchone()
    return None if row is None else str(row[0])


def approve(s: Site, path: Path, *names: str) -> None:
    """Each named operator signs with their own key (no credentials needed)."""
    for name in names:
        approve_restore_request(s.config, path, operator=name, key_path=s.keys[name], clock=s.clock)


# -- through the API ----------------------------------------------------------------------------


def test_a_snapshot_reads_every_tenant_as_the_snapshot_role(pg_site: Site) -> None:
    """One generation per tenant: every row, payload, ref and file, locked 3 days, as on SQLite."""
    report = pg_site.snapshot("2026-01-31T00:00:00Z")
    assert (2, 6) == (len(report.generations), report.objects)
    listed = list_backups(pg_site.config, pg_site.backup())
    assert [("t", 4, "2026-02-03T00:00:00Z"), ("u", 2, "2026-02-03T00:00:00Z")] == [
        (g["tenant"], g["objects"], g["locked_until"]) for g in listed
    ]
    backup_site = open_site(pg_site.config, pg_site.backup())
    content = backup_site.read(backup_site.generations("t")[0])
    rows = {row["key"]: row for row in content.objects}
    assert (b"\x00row one", b"file of t", [["blob", "t/f1"]], None) == (
        rows["t/r1"]["payload"],
        rows["t/f1"]["blob"],
        rows["t/r2"]["refs"],
        rows["t/shared"]["payload"],
    )
    assert "t" == content.tenant_record["id"]


def test_the_backup_reader_and_the_store_read_the_same_data(purged: Site) -> None:
    """The snapshot role's slices, tenant states and receipts are the primary store's own."""
    key = purged.backup()
    with PostgresPrimaryReader.of(purged.config, key) as reader:
        seen = {
            t: (reader.read_slice(t), reader.tenant_state(t), reader.receipts(t))
            for t in ("t", "u", "nobody")
        }
        ids = reader.tenant_ids()
    with purged.workspace() as ws:
        with ws.store.snapshot() as snap:
            states = {t: snap.tenant_state(t) for t in seen}
        stored = {t: (ws.store.read_slice(t), states[t], ws.store.receipts(t)) for t in seen}
        assert ws.store.tenant_ids() == ids
    assert stored == seen
    assert [0, 1, 0] == [len(seen[t][2]) for t in ("u", "t", "nobody")]


def test_a_consistent_block_reads_one_state_of_the_store(
    pg_site: Site, fresh_database: str
) -> None:
    """Inside consistent(), a tenant committed meanwhile is not seen; the next block sees it."""
    with PostgresPrimaryReader.of(pg_site.config, pg_site.backup()) as reader:
        with reader.consistent():
            first = reader.tenant_ids()
            with psycopg.connect(fresh_database) as admin:
                admin.execute("INSERT INTO twinpurge.tenants VALUES ('v', false, true)")
            inside = (reader.tenant_ids(), reader.tenant_content("v"))
        after = reader.tenant_ids()
    assert (["t", "u"], (["t", "u"], None), ["t", "u", "v"]) == (first, inside, after)


@pytest.mark.parametrize("early", ["2026-02-14T23:59:59Z", "2026-02-14T23:59:59.999999Z"])
def test_backups_go_at_backup_due_exactly(purged: Site, early: str) -> None:
    """One second, or one microsecond, before backup_due: kept; at backup_due: deleted."""
    kept = [g["generation"] for g in list_backups(purged.config, purged.backup(), tenant="t")]
    before = purged.files()
    report = purged.backup_purge(early)
    outcome = next(o for o in report.outcomes if o.tenant == "t")
    assert ("kept", f"backups not due until {BACKUP_DUE}") == (outcome.status, outcome.message)
    assert before == purged.files()
    report = purged.backup_purge(BACKUP_DUE)
    outcome = next(o for o in report.outcomes if o.tenant == "t")
    assert ("executed", tuple(kept), "2026-02-01T00:00:00Z") == (
        outcome.status,
        outcome.generations,
        outcome.primary_purged_at,
    )
    left = list_backups(purged.config, purged.backup())
    assert ["u"] == [g["tenant"] for g in left]
    audit = open_site(purged.config, purged.backup()).audit
    audit.verify()
    assert "backup-purged" in [r.kind for r in audit.records()]


def test_backups_wait_for_the_primary_purge_receipt(pg_site: Site) -> None:
    """Past backup_due without a primary purge (no receipt to read): refused, nothing deleted."""
    pg_site.snapshot("2026-01-31T00:00:00Z")
    before = pg_site.files()
    report = pg_site.backup_purge("2026-02-16T00:00:00Z")
    outcome = next(o for o in report.outcomes if o.tenant == "t")
    assert ("refused", "no-primary-receipt") == (outcome.status, outcome.guard)
    assert before == pg_site.files()


def test_a_restore_needs_two_operators_and_brings_back_what_is_missing(purged: Site) -> None:
    """One approval restores nothing; two restore every purged row, payload and file."""
    # The fixture's data before its purge, as the generation holds it.
    backup_site = open_site(purged.config, purged.backup())
    generation = backup_site.read(backup_site.generations("t")[0])
    assert ["t/shared"] == [o["key"] for o in objects_of(purged)]
    path = purged.directory.parent / "t.restore.json"
    request = create_restore_request(purged.config, purged.backup(), "t", author="alice")
    write_restore_request(path, request)
    approve(purged, path, "alice", "alice")
    with pytest.raises(arbiter.ApprovalError):
        restore_backup(purged.config, purged.backup(), path, operator="alice", clock=purged.clock)
    assert 1 == len(objects_of(purged))
    approve(purged, path, "bob")
    result = restore_backup(
        purged.config, purged.backup(), path, operator="carol", clock=purged.clock
    )
    assert (3, ["alice", "bob"]) == (result.restored, sorted(result.approvers))
    expected = {
        row["key"]: {k: row[k] for k in ("store", "tenant", "category", "refs")}
        for row in generation.objects
    }
    assert expected == {
        o["key"]: {k: o[k] for k in ("store", "tenant", "category", "refs")}
        for o in objects_of(purged)
    }
    assert b"\x00row one" == payloads_of(purged)["t/r1"]
    assert {"blob/t/f1": b"file of t", "blob/u/f2": b"file of u"} == blob_files(purged)
    with purged.workspace() as ws:
        ws.verify_audit()
        records = list(ws.audit.records())
    assert "backup-restore" == records[-1].kind
    with pytest.raises(arbiter.UsageError):
        restore_backup(purged.config, purged.backup(), path, operator="alice", clock=purged.clock)


def test_a_restore_over_present_data_leaves_it_exactly_as_it_is(
    pg_site: Site, fresh_database: str
) -> None:
    """Restoring over intact data inserts nothing; a row changed since the backup stays changed."""
    pg_site.snapshot("2026-01-31T00:00:00Z")
    with psycopg.connect(fresh_database) as admin:
        admin.execute(
            "UPDATE twinpurge.objects SET category = 'changed', payload = 'new' WHERE key = 't/r1'"
        )
    before = (objects_of(pg_site), payloads_of(pg_site), blob_files(pg_site))
    path = pg_site.directory.parent / "t.restore.json"
    write_restore_request(
        path, create_restore_request(pg_site.config, pg_site.backup(), "t", author="bob")
    )
    approve(pg_site, path, "alice", "bob")
    result = restore_backup(
        pg_site.config, pg_site.backup(), path, operator="bob", clock=pg_site.clock
    )
    after = (objects_of(pg_site), payloads_of(pg_site), blob_files(pg_site))
    assert (0, before) == (result.restored, after)
    assert ("changed", b"new") == (
        next(o["category"] for o in after[0] if o["key"] == "t/r1"),
        after[1]["t/r1"],
    )


def test_a_restore_that_fails_midway_inserts_nothing(pg_site: Site) -> None:
    """One row the server rejects (its tenant unknown): the whole insert rolls back, then works."""
    tenant = {"id": "w", "events": [{"kind": "cancelled", "at": "2026-01-01T00:00:00Z"}]}
    good = {
        "store": "db",
        "key": "w/1",
        "tenant": "w",
        "category": "record",
        "created_at": "2025-01-01T00:00:00Z",
        "legal_hold": False,
        "payload": b"one",
        "refs": [["db", "t/r1"]],
        "blob": None,
    }
    orphan = {**good, "key": "w/2", "tenant": "ghost"}
    with PostgresPrimaryRestorer(pg_site.config, pg_site.backup()) as restorer:
        with pytest.raises(pgerrors.ForeignKeyViolation):
            restorer.insert_missing(tenant, [good, orphan])
        with pg_site.workspace() as ws:
            assert (["t", "u"], 6) == (ws.store.tenant_ids(), ws.store.total_objects())
        inserted = restorer.insert_missing(tenant, [good])
    assert ["db/w/1"] == inserted
    with pg_site.workspace() as ws:
        assert [{"id": "w", "events": tenant["events"]}] == ws.store.read_slice("w")["tenants"]
        assert [["db", "t/r1"]] == ws.store.read_slice("w")["objects"][0]["refs"]


def test_a_store_provisioned_before_the_head_functions_restores_once_the_script_runs_again(
    purged: Site, fresh_database: str
) -> None:
    """Without the head functions: a usage error saying so, nothing inserted; after the script, done."""
    with psycopg.connect(fresh_database) as admin:
        admin.execute(
            "DROP FUNCTION twinpurge.audit_head(), twinpurge.advance_audit_head(bigint, text)"
        )
    path = purged.directory.parent / "t.restore.json"
    write_restore_request(
        path, create_restore_request(purged.config, purged.backup(), "t", author="alice")
    )
    approve(purged, path, "alice", "bob")
    with pytest.raises(UsageError) as refused:
        restore_backup(purged.config, purged.backup(), path, operator="alice", clock=purged.clock)
    assert (
        "function twinpurge.audit_head() does not exist: the store was provisioned before the"
        " audit head functions existed; run the reviewed script again as the administrator"
        " (docs/postgresql.md)"
    ) == str(refused.value)
    assert ["t/shared"] == [o["key"] for o in objects_of(purged)]
    provision(fresh_database)
    result = restore_backup(
        purged.config, purged.backup(), path, operator="alice", clock=purged.clock
    )
    assert 3 == result.restored
    with purged.workspace() as ws:
        ws.verify_audit()


def test_the_sqlite_types_refuse_a_postgresql_workspace(pg_site: Site) -> None:
    """PrimaryReader and PrimaryRestorer on a PostgreSQL workspace: a usage error, no file read."""
    with pytest.raises(UsageError, match="open_primary_reader"):
        arbiter.PrimaryReader.of(pg_site.config)
    with pytest.raises(UsageError, match="open_primary_restorer"):
        arbiter.PrimaryRestorer(pg_site.config)
    assert not (pg_site.directory / "primary.sqlite3").exists()


# -- what the server refuses --------------------------------------------------------------------


def test_the_snapshot_roles_connection_is_refused_every_write(
    pg_site: Site, record_property: Record
) -> None:
    """As twinpurge_snapshot: DELETE and UPDATE refused by the server, in and out of a snapshot."""
    refusals = []
    with PostgresPrimaryReader.of(pg_site.config, pg_site.backup()) as reader:
        db = reader._session.db  # noqa: SLF001 -- the test tries what the type does not offer
        for statement in (
            "DELETE FROM twinpurge.objects",
            "UPDATE twinpurge.objects SET legal_hold = true",
            "DELETE FROM twinpurge.receipts",
        ):
            with pytest.raises(pgerrors.InsufficientPrivilege) as refused:
                db.execute(statement.encode())
            refusals.append((statement, refused.value.diag.message_primary))
        with reader.consistent(), pytest.raises(pgerrors.ReadOnlySqlTransaction) as read_only:
            db.execute(b"DELETE FROM twinpurge.objects")
        assert ["t", "u"] == reader.tenant_ids()  # the failed block rolled back; reads go on
    assert [
        ("DELETE FROM twinpurge.objects", "permission denied for table objects"),
        ("UPDATE twinpurge.objects SET legal_hold = true", "permission denied for table objects"),
        ("DELETE FROM twinpurge.receipts", "permission denied for table receipts"),
    ] == refusals
    assert "cannot execute DELETE in a read-only transaction" == (
        read_only.value.diag.message_primary
    )
    for statement, message in refusals:
        record_property(
            "postgres_refusal", f"backup reader (twinpurge_snapshot): {statement} -> {message}"
        )
    record_property(
        "postgres_refusal",
        f"backup reader (twinpurge_snapshot) in its snapshot: DELETE -> {read_only.value.diag.message_primary}",
    )
    assert 6 == len(objects_of(pg_site, "t")) + len(objects_of(pg_site, "u"))


def test_the_restore_roles_connection_is_refused_deletes_updates_and_a_rewound_head(
    pg_site: Site, fresh_database: str, record_property: Record
) -> None:
    """As twinpurge_restore: DELETE, UPDATE, the meta row and an old head refused by the server."""
    head = head_row(fresh_database)
    assert head is not None
    seq = json.loads(head)["seq"]
    refusals = []
    with PostgresPrimaryRestorer(pg_site.config, pg_site.backup()) as restorer:
        db = restorer._session.db  # noqa: SLF001 -- the test tries what the type does not offer
        for statement in (
            "DELETE FROM twinpurge.objects",
            "DELETE FROM twinpurge.tenants",
            "UPDATE twinpurge.objects SET legal_hold = false",
            "UPDATE twinpurge.meta SET value = 'rewound' WHERE name = 'audit_head'",
            f"SELECT twinpurge.advance_audit_head({seq - 1}, repeat('0', 64))",
        ):
            with pytest.raises(pgerrors.InsufficientPrivilege) as refused:
                db.execute(statement.encode())
            refusals.append((statement, refused.value.diag.message_primary))
    assert [
        ("DELETE FROM twinpurge.objects", "permission denied for table objects"),
        ("DELETE FROM twinpurge.tenants", "permission denied for table tenants"),
        ("UPDATE twinpurge.objects SET legal_hold = false", "permission denied for table objects"),
        (
            "UPDATE twinpurge.meta SET value = 'rewound' WHERE name = 'audit_head'",
            "permission denied for table meta",
        ),
        (
            f"SELECT twinpurge.advance_audit_head({seq - 1}, repeat('0', 64))",
            f"the audit head moves only forward, one or two records: {seq} to {seq - 1} refused",
        ),
    ] == refusals
    for statement, message in refusals:
        record_property(
            "postgres_refusal", f"backup restorer (twinpurge_restore): {statement} -> {message}"
        )
    assert head == head_row(fresh_database)
    with pg_site.workspace() as ws:
        ws.verify_audit()
        assert 6 == ws.store.total_objects()


# -- through the installed executable -----------------------------------------------------------


def twinpurge(s: Site, *args: str, **domain: str) -> subprocess.CompletedProcess[str]:
    """The installed executable on the site's workspace, with only the given credential variables."""
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV}}
    env.update(domain)
    return subprocess.run(
        [installed_executable(), *args, "--workspace", str(s.directory)],
        cwd=s.directory.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def backup_env(s: Site) -> dict[str, str]:
    """The backup service's environment: the backup key only."""
    return {BACKUP_ENV: str(s.backup_file)}


def primary_env(s: Site) -> dict[str, str]:
    """The primary purge's environment: the primary credentials only."""
    return {PRIMARY_ENV: str(s.primary_file)}


def test_the_backup_commands_run_on_a_postgresql_workspace(
    tmp_path: Path, fresh_database: str
) -> None:
    """snapshot, run-due, a two-person restore, run-due, backup purge: each process one domain."""
    s = site(tmp_path, admin_url=fresh_database, lock_days=0)
    snap = twinpurge(s, "backup", "snapshot", "--format", "json", **backup_env(s))
    assert 0 == snap.returncode, snap.stderr
    assert (6, ["t", "u"]) == (
        json.loads(snap.stdout)["objects"],
        sorted(t for t, _ in json.loads(snap.stdout)["generations"]),
    )
    due = twinpurge(s, "run-due", "--as-of", "2026-03-01T00:00:00Z", **primary_env(s))
    assert 0 == due.returncode, due.stderr
    assert ["t/shared"] == [o["key"] for o in objects_of(s)]
    request = tmp_path / "t.restore.json"
    made = twinpurge(
        s,
        "backup",
        "restore-request",
        "--tenant",
        "t",
        "--operator",
        "alice",
        "--out",
        str(request),
        **backup_env(s),
    )
    assert 0 == made.returncode, made.stderr
    for name in ("alice", "bob"):
        signed = twinpurge(
            s, "backup", "approve", str(request), "--operator", name, "--key", str(s.keys[name])
        )
        assert 0 == signed.returncode, signed.stderr
    restored = twinpurge(
        s,
        "backup",
        "restore",
        str(request),
        "--operator",
        "alice",
        "--format",
        "json",
        **backup_env(s),
    )
    assert 0 == restored.returncode, restored.stderr
    assert 3 == json.loads(restored.stdout)["restored"]
    assert ["t/f1", "t/r1", "t/r2", "t/shared"] == sorted(o["key"] for o in objects_of(s))
    assert {"blob/t/f1": b"file of t", "blob/u/f2": b"file of u"} == blob_files(s)
    verified = twinpurge(s, "audit", "verify", **primary_env(s))
    assert 0 == verified.returncode, verified.stderr
    # t asked for erasure: the next run purges the restored rows again, then its backups go.
    again = twinpurge(s, "run-due", "--as-of", "2026-03-01T00:00:00Z", **primary_env(s))
    assert 0 == again.returncode, again.stderr
    purge = twinpurge(s, "backup", "purge", "--format", "json", **backup_env(s))
    assert 0 == purge.returncode, purge.stderr
    outcomes = {o["tenant"]: o["status"] for o in json.loads(purge.stdout)["outcomes"]}
    assert {"t": "executed", "u": "kept"} == outcomes
    assert ["u"] == [g["tenant"] for g in list_backups(s.config, s.backup())]
    site_verified = twinpurge(s, "backup", "verify", **backup_env(s))
    assert (0, True) == (site_verified.returncode, "backup site verified" in site_verified.stdout)


def test_init_roles_sets_the_backup_roles_from_the_key_and_nothing_else(
    tmp_path: Path, fresh_database: str
) -> None:
    """Before init-roles the snapshot exits 7; after it, it runs; the primary roles are untouched."""
    s = site(tmp_path, admin_url=fresh_database, backup_roles=False)
    refused = twinpurge(s, "backup", "snapshot", **backup_env(s))
    assert (7, 1) == (refused.returncode, len(refused.stderr.strip().splitlines())), refused.stderr
    assert "twinpurge_snapshot" in refused.stderr
    assert "twinpurge backup init-roles" in refused.stderr
    before = verifiers(fresh_database)
    made = twinpurge(
        s,
        "backup",
        "init-roles",
        "--format",
        "json",
        **backup_env(s),
        TWINPURGE_STORE_ADMIN_URL=fresh_database,
    )
    assert 0 == made.returncode, made.stderr
    assert list(BACKUP_ROLES) == json.loads(made.stdout)["roles"]
    after = verifiers(fresh_database)
    assert set(BACKUP_ROLES) == {role for role in before if before[role] != after[role]}
    snap = twinpurge(s, "backup", "snapshot", **backup_env(s))
    assert 0 == snap.returncode, snap.stderr
    reset_credential_domains_for_tests()
    try:
        expected = role_passwords(s.backup())
    finally:
        reset_credential_domains_for_tests()
    for role in BACKUP_ROLES:
        psycopg.connect(
            s.config.store.url or "", user=role, password=expected[role], connect_timeout=10
        ).close()


def test_init_roles_with_an_administrator_who_is_no_superuser_changes_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    """An admin URL of a role that may not alter roles: a usage error naming it; nothing set."""
    s = site(tmp_path, admin_url=fresh_database, backup_roles=False)
    password = s.primary().role_password("twinpurge_purge")
    url = s.config.store.url or ""
    weak = url.replace("postgresql://", f"postgresql://twinpurge_purge:{password}@", 1)
    before = verifiers(fresh_database)
    with pytest.raises(UsageError) as refused:
        arbiter.init_backup_roles(s.config, s.backup(), weak)
    assert "permission denied: setting role passwords needs a superuser's URL" == str(refused.value)
    assert before == verifiers(fresh_database)


def test_init_roles_is_for_a_postgresql_workspace(tmp_path: Path) -> None:
    """On a SQLite workspace: one line, exit 2, nothing sent anywhere."""
    s = site(tmp_path)
    made = twinpurge(
        s,
        "backup",
        "init-roles",
        **backup_env(s),
        TWINPURGE_STORE_ADMIN_URL="postgresql://postgres@127.0.0.1:1/nothing",
    )
    assert (2, 1) == (made.returncode, len(made.stderr.strip().splitlines())), made.stderr
    assert "SQLite" in made.stderr


@pytest.mark.parametrize(
    "command",
    [("backup", "snapshot"), ("backup", "purge"), ("backup", "init-roles")],
    ids=["snapshot", "purge", "init-roles"],
)
def test_the_primary_credentials_offered_as_the_backup_key_exit_7_and_change_nothing(
    purged: Site, fresh_database: str, command: tuple[str, ...]
) -> None:
    """The primary file in TWINPURGE_BACKUP_CREDENTIALS: exit 7, one line; site, store, roles as they were."""
    before = (purged.files(), objects_of(purged), verifiers(fresh_database))
    completed = twinpurge(
        purged,
        *command,
        **{BACKUP_ENV: str(purged.primary_file)},
        TWINPURGE_STORE_ADMIN_URL=fresh_database,
    )
    assert (7, 1) == (completed.returncode, len(completed.stderr.strip().splitlines()))
    assert "holds primary credentials, not backup credentials" in completed.stderr
    assert before == (purged.files(), objects_of(purged), verifiers(fresh_database))


@pytest.mark.parametrize("login", ["no password", "another key's password"])
@pytest.mark.parametrize("command", ["snapshot", "purge", "restore"])
def test_a_backup_role_without_the_keys_password_exits_7_and_changes_nothing(
    purged: Site, fresh_database: str, postgres_roles: Provisioned, login: str, command: str
) -> None:
    """The backup roles' password missing, or another key's: one line, exit 7, nothing changed."""
    purged.clock.now = datetime.now(UTC)  # the executable checks the approvals' age today
    request = purged.directory.parent / "t.restore.json"
    write_restore_request(
        request, create_restore_request(purged.config, purged.backup(), "t", author="alice")
    )
    approve(purged, request, "alice", "bob")
    if login == "no password":
        with psycopg.connect(fresh_database, autocommit=True) as admin:
            for role in BACKUP_ROLES:
                admin.execute(f"ALTER ROLE {role} PASSWORD NULL".encode())
    else:
        set_role_passwords(
            fresh_database, {role: postgres_roles.password(role) for role in BACKUP_ROLES}
        )
    before = (purged.files(), objects_of(purged), blob_files(purged))
    args = {
        "snapshot": ("backup", "snapshot"),
        "purge": ("backup", "purge", "--as-of", BACKUP_DUE),
        "restore": ("backup", "restore", str(request), "--operator", "alice"),
    }[command]
    completed = twinpurge(purged, *args, **backup_env(purged))
    role = "twinpurge_restore" if command == "restore" else "twinpurge_snapshot"
    assert (7, 1) == (completed.returncode, len(completed.stderr.strip().splitlines())), (
        completed.stderr
    )
    assert (
        f"Error: store {purged.config.store.url} as {role}: the server refused the password of"
        f" {role} (or knows no such role): check the credentials file of its domain; the backup"
        " key sets the backup roles' passwords: twinpurge backup init-roles --admin-url ..."
    ) == completed.stderr.strip()
    after = (purged.files(), objects_of(purged), blob_files(purged))
    assert before == after


def test_a_login_refused_to_the_api_is_a_store_login_error(
    pg_site: Site, fresh_database: str
) -> None:
    """The API raises StoreLoginError naming the role and init-roles; no reader is built."""
    with psycopg.connect(fresh_database, autocommit=True) as admin:
        admin.execute(b"ALTER ROLE twinpurge_snapshot PASSWORD NULL")
    with pytest.raises(StoreLoginError) as refused:
        PostgresPrimaryReader.of(pg_site.config, pg_site.backup())
    assert ("twinpurge_snapshot", True) == (
        refused.value.role,
        "twinpurge backup init-roles" in refused.value.reason,
    )
