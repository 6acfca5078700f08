"""The PostgreSQL store's schemas, tables and roles: one reviewed SQL script, run by ``provision``.

Rules:

1. ``SCRIPT`` is the whole truth: ``docs/postgresql.md`` shows it verbatim (a test compares the
   two) and ``provision`` runs it as it is, in one transaction. Running it again converges: the
   roles, schemas and tables are created when missing, every role's attributes are set again,
   and every privilege is revoked and granted anew, so an old grant never lingers. The script
   sets no password: running it again never resets one, and a role it creates has none (it
   cannot log in) until ``provision`` or ``set_role_passwords`` gives it one.
2. Two schemas. ``twinpurge`` holds the primary data (``tenants``, ``events``, ``objects``,
   ``refs``) and the bookkeeping (``meta``, ``primary_credentials``, ``archives``, ``plans``,
   ``receipts``, ``safe_mode_trips``, ``journals``, ``journal_steps``, ``runs``), mirroring the
   SQLite store (``arbiter.stores.sqlite.SCHEMA``; its ``meta`` row of the credentials'
   fingerprint is the table ``primary_credentials`` here), and ``change_counters`` (rule 6).
   ``twinpurge_backup`` holds what the backup domain owns when its site's index is kept in
   PostgreSQL (``site_meta``: the site's audit head).
3. Types: ``text`` for identities and instants, ``boolean`` for flags, ``bytea`` for payloads,
   ``bigint`` for counts and positions, ``double precision`` for the runs' epochs. Instants stay
   ``text`` as in SQLite (its rule 4): an export gives back exactly what was imported
   (``timestamptz`` would rewrite ``+09:00`` as UTC and drop the offset the planners compared),
   and the arbiter compares instants only after parsing them (``arbiter.core``). JSON columns
   (``journal_steps.data``, the trips' ``tenants`` and ``counts``) stay ``text`` too: the SQLite
   store writes canonical JSON text and ``jsonb`` would reorder and respace it.
4. Roles (no role is a superuser, creates roles or databases, replicates or bypasses row
   security; none inherits):

   - ``twinpurge_owner`` owns both schemas and every table; it cannot log in. DDL is done only
     as it (``SET ROLE`` by the administrator running this script).
   - ``twinpurge_purge`` (primary domain): reads the primary data, deletes ``objects`` and
     ``refs`` only, reads, inserts and updates the bookkeeping tables it writes, and reads and
     inserts ``primary_credentials`` (never updates or deletes it: the record is written once).
     It reads ``change_counters`` and may execute ``hold_change_counter`` (rule 6), never write
     the counters. Nothing on ``twinpurge_backup``, not even its schema.
   - ``twinpurge_import`` (primary domain): reads and inserts the primary data, nothing else
     (imports inventories and restores archived rows, so the purge role never inserts data).
   - ``twinpurge_snapshot`` (backup domain): reads the primary data and ``receipts`` (the
     backup purge waits for the primary purge's receipt), nothing else.
   - ``twinpurge_restore`` (backup domain): inserts the primary data, nothing else (a restore
     inserts what is missing with ``ON CONFLICT DO NOTHING``; it cannot even read a row), and
     appends its record to the primary audit log through two ``SECURITY DEFINER`` functions
     owned by the owner: ``twinpurge.audit_head()`` reads the head, and
     ``twinpurge.advance_audit_head(seq, hash)`` moves it forward by one or two records, never
     back (``insufficient_privilege`` otherwise). ``PUBLIC`` may execute neither.
   - ``twinpurge_backup`` (backup domain): reads and writes ``twinpurge_backup``; nothing on
     ``twinpurge``.

   ``PUBLIC`` has nothing on either schema, and may not create temporary tables in the
   database (``CREATE TEMP TABLE`` is DDL too). Each login role's password comes from its own
   credential domain's secret (``role_passwords``; rule 6 of ``arbiter.auth.credentials``),
   never from ``twinpurge.toml``, and reaches the server only as a SCRAM-SHA-256 verifier
   computed here (``scram_verifier``): the server, its statement log included, never holds a
   password.
5. ``provision`` and ``set_role_passwords`` need a superuser URL (they create and alter roles and
   ``SET ROLE twinpurge_owner``). The script needs PostgreSQL 14 or newer
   (``CREATE OR REPLACE TRIGGER``).
6. The per-tenant change counter (rule 7 of ``arbiter.stores.ports``) is kept by the server:
   statement-level triggers on ``tenants``, ``events``, ``objects`` and ``refs``, for inserts,
   updates and deletes, bump (+1 per statement) every tenant a changed row concerns: a tenant
   row or an event its tenant, an object its owner (old and new), a ref the owners of its two
   ends. One counter update per tenant and statement, never one per row: a transaction updating
   one row thousands of times slows down quadratically on PostgreSQL. The trigger functions are
   ``SECURITY DEFINER``, owned by ``twinpurge_owner``, with ``search_path`` fixed to
   ``pg_catalog, pg_temp`` and every name qualified, so the purge, import and restore roles
   count their own writes without any privilege on the counters; nobody may execute
   ``count_changes`` itself. ``hold_change_counter(tenant)`` (``SECURITY DEFINER`` too, the
   purge role's only way to it) returns the counter and locks its row until the transaction
   ends, changing no count. ``TRUNCATE`` (owner and superusers only) bumps nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from arbiter.auth.credentials import BackupCredentials, PrimaryCredentials
from arbiter.core.errors import UsageError
from arbiter.stores.postgres.connection import store_errors

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import LiteralString

__all__ = [
    "BACKUP_TABLES",
    "BOOKKEEPING_TABLES",
    "COUNTER_TABLE",
    "CREDENTIALS_TABLE",
    "DATA_TABLES",
    "HEAD_FUNCTIONS",
    "LOGIN_ROLES",
    "OWNER",
    "ROLE_DOMAINS",
    "SCRIPT",
    "provision",
    "role_passwords",
    "scram_verifier",
    "set_role_passwords",
]

OWNER = "twinpurge_owner"
# The login roles and the credential domain whose file holds each one's password (rule 4).
ROLE_DOMAINS: dict[str, str] = {
    "twinpurge_purge": "primary",
    "twinpurge_import": "primary",
    "twinpurge_snapshot": "backup",
    "twinpurge_restore": "backup",
    "twinpurge_backup": "backup",
}
LOGIN_ROLES = tuple(ROLE_DOMAINS)
DATA_TABLES = ("tenants", "events", "objects", "refs")
BOOKKEEPING_TABLES = (
    "journals",
    "journal_steps",
    "archives",
    "receipts",
    "runs",
    "safe_mode_trips",
    "meta",
    "plans",
)
# The fingerprint of the primary credentials: the purge role reads and inserts it, nothing more.
CREDENTIALS_TABLE = "primary_credentials"
# The per-tenant change counters (rule 6): the server writes them; the purge role reads them.
COUNTER_TABLE = "change_counters"
BACKUP_TABLES = ("site_meta",)
# What the restore role may execute: reading and advancing the primary audit log's head.
HEAD_FUNCTIONS = ("twinpurge.audit_head()", "twinpurge.advance_audit_head(bigint, text)")

# The reviewed script (rule 1): constant, and without any password.
SCRIPT: LiteralString = """\
-- twinpurge: the PostgreSQL store's schemas, tables and roles (docs/postgresql.md).
-- Run by `twinpurge init --store postgresql://...` (arbiter.stores.postgres.schema.provision)
-- as a superuser, in one transaction. Running it again converges to exactly this.

-- 1. Roles. Only the owner may change the schema, and it cannot log in.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['twinpurge_owner', 'twinpurge_purge', 'twinpurge_import',
                                'twinpurge_snapshot', 'twinpurge_restore',
                                'twinpurge_backup'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
END
$$;
ALTER ROLE twinpurge_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT PASSWORD NULL;
-- Login roles: no password is set here, so running the script again never resets one; a new
-- role has none and cannot log in until provision sets it (docs/postgresql.md).
ALTER ROLE twinpurge_purge LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT;
ALTER ROLE twinpurge_import LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT;
ALTER ROLE twinpurge_snapshot LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT;
ALTER ROLE twinpurge_restore LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT;
ALTER ROLE twinpurge_backup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS NOINHERIT;

-- 2. Schemas, owned by the owner; PUBLIC gets nothing on them, nor temporary tables.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
CREATE SCHEMA IF NOT EXISTS twinpurge AUTHORIZATION twinpurge_owner;
CREATE SCHEMA IF NOT EXISTS twinpurge_backup AUTHORIZATION twinpurge_owner;
ALTER SCHEMA twinpurge OWNER TO twinpurge_owner;
ALTER SCHEMA twinpurge_backup OWNER TO twinpurge_owner;
REVOKE ALL ON SCHEMA twinpurge, twinpurge_backup FROM PUBLIC, twinpurge_purge,
    twinpurge_import, twinpurge_snapshot, twinpurge_restore, twinpurge_backup;

-- 3. Tables, created as the owner. Instants are text, as given (docs/postgresql.md).
SET LOCAL ROLE twinpurge_owner;
CREATE TABLE IF NOT EXISTS twinpurge.tenants (
    id text PRIMARY KEY,
    legal_hold boolean NOT NULL,
    has_hold_field boolean NOT NULL DEFAULT true
);
CREATE TABLE IF NOT EXISTS twinpurge.events (
    tenant text NOT NULL REFERENCES twinpurge.tenants (id),
    pos bigint NOT NULL,
    kind text NOT NULL,
    at text NOT NULL,
    PRIMARY KEY (tenant, pos)
);
CREATE TABLE IF NOT EXISTS twinpurge.objects (
    store text NOT NULL,
    key text NOT NULL,
    tenant text NOT NULL REFERENCES twinpurge.tenants (id),
    category text NOT NULL,
    created_at text NOT NULL,
    legal_hold boolean NOT NULL,
    payload bytea,
    PRIMARY KEY (store, key)
);
CREATE INDEX IF NOT EXISTS objects_by_tenant ON twinpurge.objects (tenant);
-- A tenant's objects in code-point order (arbiter/stores/ports.py, rule 8): a streamed slice
-- reads them through this index and never sorts the tenant.
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_tenant_identity
    ON twinpurge.objects (tenant, store COLLATE "C", key COLLATE "C");
CREATE TABLE IF NOT EXISTS twinpurge.refs (
    from_store text NOT NULL,
    from_key text NOT NULL,
    pos bigint NOT NULL,
    to_store text NOT NULL,
    to_key text NOT NULL,
    PRIMARY KEY (from_store, from_key, pos),
    FOREIGN KEY (from_store, from_key) REFERENCES twinpurge.objects (store, key)
        ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refs_by_target ON twinpurge.refs (to_store, to_key);
-- The per-tenant change counter (arbiter/stores/ports.py, rule 7): the server bumps it, by the
-- triggers below, so no writer can forget it. A tenant without a row has counted nothing (0).
CREATE TABLE IF NOT EXISTS twinpurge.change_counters (
    tenant text PRIMARY KEY,
    n bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS twinpurge.meta (name text PRIMARY KEY, value text NOT NULL);
-- The fingerprint of the store's primary credentials: written once, never rewritten.
CREATE TABLE IF NOT EXISTS twinpurge.primary_credentials (
    name text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS twinpurge.archives (
    archive_id text PRIMARY KEY,
    tenant text NOT NULL,
    plan_digest text NOT NULL,
    plan_id text,
    path text NOT NULL,
    sha256 text NOT NULL,
    objects bigint NOT NULL,
    backup_due text,
    created_at text NOT NULL,
    restored_at text,
    removed_at text
);
CREATE TABLE IF NOT EXISTS twinpurge.plans (
    plan_id text PRIMARY KEY,
    tenant text NOT NULL,
    path text NOT NULL,
    digest text NOT NULL,
    author text NOT NULL,
    created_at text NOT NULL,
    executed_at text,
    executed_by text,
    archive_id text,
    restored_at text,
    restored_by text
);
CREATE TABLE IF NOT EXISTS twinpurge.receipts (
    tenant text NOT NULL,
    plan_digest text NOT NULL,
    as_of text NOT NULL,
    executed_at text NOT NULL,
    purged bigint NOT NULL,
    backup_due text,
    PRIMARY KEY (tenant, plan_digest)
);
CREATE TABLE IF NOT EXISTS twinpurge.safe_mode_trips (
    trip_id text PRIMARY KEY,
    tripped_at text NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    as_of text,
    tenants text NOT NULL,
    counts text NOT NULL,
    reset_at text,
    reset_by text,
    reset_reason text
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_trip ON twinpurge.safe_mode_trips ((reset_at IS NULL))
    WHERE reset_at IS NULL;
CREATE TABLE IF NOT EXISTS twinpurge.journals (
    purge_id text PRIMARY KEY,
    tenant text NOT NULL,
    kind text NOT NULL,
    plan_id text,
    plan_digest text NOT NULL,
    plan_path text NOT NULL,
    plan_sha256 text NOT NULL,
    as_of text NOT NULL,
    backup_due text,
    actor text NOT NULL,
    started_at text NOT NULL,
    state text NOT NULL,
    finished_at text
);
CREATE INDEX IF NOT EXISTS unfinished_journals ON twinpurge.journals (state);
CREATE TABLE IF NOT EXISTS twinpurge.journal_steps (
    purge_id text NOT NULL REFERENCES twinpurge.journals (purge_id),
    seq bigint NOT NULL,
    step text NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (purge_id, seq)
);
CREATE TABLE IF NOT EXISTS twinpurge.runs (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of text NOT NULL,
    as_of_epoch double precision NOT NULL,
    ran_at text NOT NULL,
    ran_at_epoch double precision NOT NULL,
    sane boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS twinpurge_backup.site_meta (name text PRIMARY KEY, value text NOT NULL);

-- The primary audit log's head (meta row audit_head), as a backup restore appends its record:
-- it reads the head and moves it forward by one record, or two (a crashed append's record and
-- its audit-recovered record), through these functions, which run as the owner. The restore
-- role has no privilege on meta itself: it cannot move the head back or touch another row.
CREATE OR REPLACE FUNCTION twinpurge.audit_head() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $fn$ SELECT value FROM twinpurge.meta WHERE name = 'audit_head' $fn$;
CREATE OR REPLACE FUNCTION twinpurge.advance_audit_head(new_seq bigint, new_hash text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $fn$
DECLARE
    old_seq bigint;
BEGIN
    IF new_seq IS NULL OR length(new_hash) IS DISTINCT FROM 64 OR new_hash ~ '[^0-9a-f]' THEN
        RAISE EXCEPTION 'an audit head is a sequence number and a lowercase hex SHA-256'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT (value::json ->> 'seq')::bigint INTO old_seq
        FROM twinpurge.meta WHERE name = 'audit_head' FOR UPDATE;
    IF new_seq - coalesce(old_seq, -1) NOT IN (1, 2) THEN
        RAISE EXCEPTION 'the audit head moves only forward, one or two records: % to % refused',
            coalesce(old_seq::text, 'none'), new_seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO twinpurge.meta (name, value)
        VALUES ('audit_head', format('{"seq": %s, "hash": "%s"}', new_seq, new_hash))
        ON CONFLICT (name) DO UPDATE SET value = excluded.value;
END
$fn$;

-- 4. The change counter's triggers: one per data table and kind of write, per statement (one
-- counter update per tenant and statement, however many rows). Each changed row bumps the
-- tenants whose verdict it can change: a tenant row or an event its tenant, an object its owner
-- (both owners when an update moves it), a ref the owners of both its ends (a ref into a
-- tenant counts for it; a source the cascade deletes was counted by its own deletion).
-- count_changes adds one per tenant, in code-point order so that writers lock rows alike; only
-- the trigger functions call it. They run as the owner (SECURITY DEFINER, a fixed search_path),
-- so a role that may only delete objects or insert rows still counts, and cannot write the
-- counters itself.
CREATE OR REPLACE FUNCTION twinpurge.count_changes(tenants text[]) RETURNS void
    LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO twinpurge.change_counters AS c (tenant, n)
    SELECT t, 1 FROM (SELECT DISTINCT t FROM unnest(tenants) AS t WHERE t IS NOT NULL) AS d
    ORDER BY t COLLATE "C"
    ON CONFLICT (tenant) DO UPDATE SET n = c.n + 1
$$;
CREATE OR REPLACE FUNCTION twinpurge.count_tenants_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT id FROM new_rows));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION twinpurge.count_events_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT tenant FROM new_rows));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT tenant FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION twinpurge.count_objects_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT tenant FROM new_rows));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM twinpurge.count_changes(ARRAY(SELECT DISTINCT tenant FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION twinpurge.count_refs_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM twinpurge.count_changes(ARRAY(
            SELECT o.tenant FROM new_rows r JOIN twinpurge.objects o
                ON o.store = r.from_store AND o.key = r.from_key
            UNION SELECT o.tenant FROM new_rows r JOIN twinpurge.objects o
                ON o.store = r.to_store AND o.key = r.to_key));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM twinpurge.count_changes(ARRAY(
            SELECT o.tenant FROM old_rows r JOIN twinpurge.objects o
                ON o.store = r.from_store AND o.key = r.from_key
            UNION SELECT o.tenant FROM old_rows r JOIN twinpurge.objects o
                ON o.store = r.to_store AND o.key = r.to_key));
    END IF;
    RETURN NULL;
END
$$;
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['tenants', 'events', 'objects', 'refs'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER count_inserts AFTER INSERT ON twinpurge.%I'
            ' REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT'
            ' EXECUTE FUNCTION twinpurge.%I()', name, 'count_' || name || '_changes');
        EXECUTE format('CREATE OR REPLACE TRIGGER count_updates AFTER UPDATE ON twinpurge.%I'
            ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT'
            ' EXECUTE FUNCTION twinpurge.%I()', name, 'count_' || name || '_changes');
        EXECUTE format('CREATE OR REPLACE TRIGGER count_deletes AFTER DELETE ON twinpurge.%I'
            ' REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT'
            ' EXECUTE FUNCTION twinpurge.%I()', name, 'count_' || name || '_changes');
    END LOOP;
END
$$;
-- The purge reads a tenant's counter in each batch's write transaction through this function:
-- it returns the count and holds the tenant's row until the transaction ends, so that no
-- change to the tenant commits before the batch does. It changes no count (a missing row is
-- written as 0, which is what a missing row reads as).
CREATE OR REPLACE FUNCTION twinpurge.hold_change_counter(tenant_id text) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO twinpurge.change_counters AS c (tenant, n) VALUES (tenant_id, 0)
    ON CONFLICT (tenant) DO UPDATE SET n = c.n
    RETURNING n
$$;

-- 5. Privileges: everything revoked, then exactly these granted.
REVOKE ALL ON ALL TABLES IN SCHEMA twinpurge, twinpurge_backup FROM PUBLIC, twinpurge_purge,
    twinpurge_import, twinpurge_snapshot, twinpurge_restore, twinpurge_backup;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA twinpurge, twinpurge_backup FROM PUBLIC, twinpurge_purge,
    twinpurge_import, twinpurge_snapshot, twinpurge_restore, twinpurge_backup;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA twinpurge, twinpurge_backup FROM PUBLIC, twinpurge_purge,
    twinpurge_import, twinpurge_snapshot, twinpurge_restore, twinpurge_backup;

-- The purge (primary domain): read the data, delete objects and refs, keep its books; the
-- credentials record is inserted once and never updated or deleted.
GRANT USAGE ON SCHEMA twinpurge TO twinpurge_purge;
GRANT SELECT ON twinpurge.tenants, twinpurge.events, twinpurge.objects, twinpurge.refs
    TO twinpurge_purge;
GRANT DELETE ON twinpurge.objects, twinpurge.refs TO twinpurge_purge;
GRANT SELECT, INSERT, UPDATE ON twinpurge.journals, twinpurge.journal_steps,
    twinpurge.archives, twinpurge.receipts, twinpurge.runs, twinpurge.safe_mode_trips,
    twinpurge.meta, twinpurge.plans TO twinpurge_purge;
GRANT SELECT, INSERT ON twinpurge.primary_credentials TO twinpurge_purge;
-- The change counters: read, and held in a batch's transaction; never written.
GRANT SELECT ON twinpurge.change_counters TO twinpurge_purge;
GRANT EXECUTE ON FUNCTION twinpurge.hold_change_counter(text) TO twinpurge_purge;

-- Imports (primary domain): read and insert the data, nothing else (inventories, restored rows).
GRANT USAGE ON SCHEMA twinpurge TO twinpurge_import;
GRANT SELECT, INSERT ON twinpurge.tenants, twinpurge.events, twinpurge.objects, twinpurge.refs
    TO twinpurge_import;

-- Backup snapshots and the backup purge (backup domain): read the data, and the primary
-- purges' receipts (the backups of a tenant wait for its primary purge), nothing else.
GRANT USAGE ON SCHEMA twinpurge TO twinpurge_snapshot;
GRANT SELECT ON twinpurge.tenants, twinpurge.events, twinpurge.objects, twinpurge.refs,
    twinpurge.receipts TO twinpurge_snapshot;

-- Backup restores (backup domain): insert the data, and advance the primary audit log's head
-- through its two functions, nothing else (not even read a row: inserts skip what exists).
GRANT USAGE ON SCHEMA twinpurge TO twinpurge_restore;
GRANT INSERT ON twinpurge.tenants, twinpurge.events, twinpurge.objects, twinpurge.refs
    TO twinpurge_restore;
GRANT EXECUTE ON FUNCTION twinpurge.audit_head(), twinpurge.advance_audit_head(bigint, text)
    TO twinpurge_restore;

-- The backup site (backup domain): its own schema, nothing on twinpurge.
GRANT USAGE ON SCHEMA twinpurge_backup TO twinpurge_backup;
GRANT SELECT, INSERT, UPDATE, DELETE ON twinpurge_backup.site_meta TO twinpurge_backup;

RESET ROLE;
"""

_SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, RFC 7677).

    Sent instead of the password, so that the password never reaches the server's logs.

    Args:
        password: printable ASCII (no SASLprep is applied; the server then uses it as is).
        salt: 16 random bytes unless given (tests).

    Returns:
        ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, base64 parts.

    Raises:
        UsageError: the password is empty or not printable ASCII.
    """
    if not password or not all(" " <= c <= "~" for c in password):
        raise UsageError("a role password must be non-empty printable ASCII")
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, _SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def role_passwords(credentials: PrimaryCredentials | BackupCredentials) -> dict[str, str]:
    """The passwords of every login role of the credentials' domain (rule 4).

    Args:
        credentials: primary credentials (``twinpurge_purge``, ``twinpurge_import``) or backup
            credentials (``twinpurge_snapshot``, ``twinpurge_restore``, ``twinpurge_backup``).

    Returns:
        Each of the domain's login roles and its password (``credentials.role_password``).
    """
    domain = "primary" if isinstance(credentials, PrimaryCredentials) else "backup"
    return {
        role: credentials.role_password(role)
        for role, owner in ROLE_DOMAINS.items()
        if owner == domain
    }


def _password_statements(passwords: Mapping[str, str]) -> list[sql.Composed]:
    """``ALTER ROLE ... PASSWORD`` with a fresh SCRAM verifier per role; every role checked first.

    Raises:
        UsageError: a role is not a twinpurge login role, or a password is unusable.
    """
    for role in passwords:
        if role not in ROLE_DOMAINS:
            raise UsageError(f"{role} is not a twinpurge login role ({', '.join(LOGIN_ROLES)})")
    return [
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(scram_verifier(password))
        )
        for role, password in sorted(passwords.items())
    ]


def set_role_passwords(admin_url: str, passwords: Mapping[str, str]) -> None:
    """Set login roles' passwords, as SCRAM-SHA-256 verifiers only, in one transaction (rule 4).

    Args:
        admin_url: a superuser URL of the store's database.
        passwords: a password per login role (``role_passwords`` gives a domain's).

    Raises:
        UsageError: a role is not a twinpurge login role, or a password is not printable ASCII
            (checked before connecting); or the server refused: a role does not exist yet (run
            ``provision``), or the administrator may not alter roles. Nothing was changed.
        StoreConnectionError: the database cannot be reached as the administrator.
        psycopg.Error: any other refusal of the server; nothing was changed.
    """
    statements = _password_statements(passwords)
    try:
        with (
            store_errors(admin_url, role="the administrator"),
            psycopg.connect(admin_url, connect_timeout=10) as db,
        ):
            for statement in statements:
                db.execute(statement)
    except pgerrors.UndefinedObject as exc:
        raise UsageError(
            f"{exc.diag.message_primary}: the store's roles are created by"
            " twinpurge init --store (provision) first"
        ) from exc
    except pgerrors.InsufficientPrivilege as exc:
        raise UsageError(
            f"{exc.diag.message_primary}: setting role passwords needs a superuser's URL"
        ) from exc


def provision(admin_url: str, passwords: Mapping[str, str] | None = None) -> None:
    """Create (or bring up to date) the schemas, tables and roles, then set the given passwords.

    ``SCRIPT`` and the passwords' ``ALTER ROLE`` run in one transaction; a role left out of
    ``passwords`` keeps the password it has (a new role has none, and cannot log in yet).

    Args:
        admin_url: a superuser URL of the store's database (it may carry the admin's password).
        passwords: login roles' passwords (``role_passwords``); only their SCRAM verifiers are
            sent.

    Raises:
        UsageError: a role of ``passwords`` is not a twinpurge login role, or a password is not
            printable ASCII; nothing was changed.
        StoreConnectionError: the database cannot be reached as the administrator (a subclass
            names why); nothing was changed.
        psycopg.Error: the script failed (e.g. the administrator is no superuser); it rolled
            back whole.
    """
    statements = _password_statements(passwords or {})
    with (
        store_errors(admin_url, role="the administrator"),
        psycopg.connect(admin_url, connect_timeout=10) as db,
    ):
        db.execute(SCRIPT)
        for statement in statements:
            db.execute(statement)
