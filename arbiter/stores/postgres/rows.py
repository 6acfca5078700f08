"""Reading the PostgreSQL primary store's rows: SQL shared by both credential domains.

The primary store (``arbiter.stores.postgres.store``, as ``twinpurge_purge``) and the backup
domain's read-only reader (``arbiter.backup.postgres_access``, as ``twinpurge_snapshot``) read
rows the same way; this module holds that SQL once, as ``arbiter.stores.rows`` does for SQLite.

Rules:

1. Nothing here writes: every function only reads, on a connection the caller opened in the
   transaction it chose. The backup domain may import this module without gaining any way to
   change primary data (import-linter keeps it from ``store``, which deletes).
2. Rows are read as the portable inventory spells them (spec §4.1, ``arbiter.stores.rows`` rule
   2): a tenant's ``legal_hold`` is written when it was given or is true; objects carry their
   refs in order.
3. Orders are SQLite's: text sorts ``COLLATE "C"`` (code points), whatever the database's
   collation, so both stores, and both domains, give the same lists in the same order.
4. Objects and their refs are read in one query each, through server-side (named) cursors: the
   caller's connection must be inside a transaction (``BEGIN``).
5. A streamed slice (rule 8 of ``arbiter.stores.ports``) reads the tenant's objects through
   the unique index ``objects_by_tenant_identity`` (``tenant, store COLLATE "C", key COLLATE
   "C"``), whose order is the ``ORDER BY``'s: an index scan, no sort. Their refs come from a
   second named cursor, the same index scan joined to the refs' key in a nested loop; each
   object's few refs are put in ``pos`` order by an incremental sort presorted on the
   identity (it sorts one object's refs at a time, never the tenant). Each pass declares its
   own cursors (``twinpurge_stream_<n>``), so two passes may be read side by side.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, TypeAlias

from psycopg import sql

from arbiter.stores.streams import fetched, with_refs

if TYPE_CHECKING:
    from typing import LiteralString

    import psycopg

    from arbiter.stores.streams import ObjectRows

__all__ = [
    "Db",
    "read_objects",
    "read_receipts",
    "read_shared",
    "read_slice",
    "read_tenant",
    "read_tenant_ids",
    "read_tenants",
    "stream_objects",
    "tenant_record",
    "tenant_state",
]

Db: TypeAlias = "psycopg.Connection[tuple[Any, ...]]"

# Rows fetched per round trip from a server-side cursor.
ITERSIZE = 2000

# The objects of an export (all), of one tenant, and of a slice (the tenant's, then the other
# tenants' objects holding a ref to one of them), each part ordered by identity (rules 3 and
# 4). ``part`` keeps the slice's two parts apart.
_SELECTIONS: dict[str, LiteralString] = {
    "export": "SELECT 0 AS part, o.* FROM twinpurge.objects o",
    "tenant": "SELECT 0 AS part, o.* FROM twinpurge.objects o WHERE o.tenant = %(tenant)s",
    "slice": (
        "SELECT 0 AS part, o.* FROM twinpurge.objects o WHERE o.tenant = %(tenant)s"
        " UNION ALL"
        " SELECT 1 AS part, o.* FROM twinpurge.objects o"
        " WHERE o.tenant <> %(tenant)s AND EXISTS ("
        "  SELECT 1 FROM twinpurge.refs r JOIN twinpurge.objects t"
        "  ON t.store = r.to_store AND t.key = r.to_key"
        "  WHERE r.from_store = o.store AND r.from_key = o.key AND t.tenant = %(tenant)s)"
    ),
}


def tenant_record(
    tid: str, events: list[dict[str, str]], *, legal_hold: bool, has_field: bool
) -> dict[str, Any]:
    """A tenant in the inventory's spelling (rule 2)."""
    record: dict[str, Any] = {"id": tid, "events": events}
    if has_field or legal_hold:
        record["legal_hold"] = bool(legal_hold)
    return record


def read_tenant_ids(db: Db) -> list[str]:
    """Every tenant id, sorted by code point (rule 3)."""
    return [r[0] for r in db.execute('SELECT id FROM twinpurge.tenants ORDER BY id COLLATE "C"')]


def read_tenants(db: Db, ids: list[str]) -> list[dict[str, Any]]:
    """Tenant records with their events, in ``ids``' order: two statements."""
    found = {
        tid: (hold, has_field)
        for tid, hold, has_field in db.execute(
            "SELECT id, legal_hold, has_hold_field FROM twinpurge.tenants"
            " WHERE id = ANY(%s::text[])",
            (ids,),
        )
    }
    events: dict[str, list[dict[str, str]]] = {tid: [] for tid in ids}
    for tid, kind, at in db.execute(
        "SELECT tenant, kind, at FROM twinpurge.events WHERE tenant = ANY(%s::text[])"
        " ORDER BY tenant, pos",
        (ids,),
    ):
        events[tid].append({"kind": kind, "at": at})
    return [
        tenant_record(tid, events[tid], legal_hold=found[tid][0], has_field=found[tid][1])
        for tid in ids
        if tid in found
    ]


def tenant_state(db: Db, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
    """(legal_hold, [(kind, at), ...]) of the tenant as stored, or None if it does not exist."""
    row = db.execute("SELECT legal_hold FROM twinpurge.tenants WHERE id = %s", (tenant,)).fetchone()
    if row is None:
        return None
    events = db.execute(
        "SELECT kind, at FROM twinpurge.events WHERE tenant = %s ORDER BY pos", (tenant,)
    ).fetchall()
    return bool(row[0]), [(kind, at) for kind, at in events]


def read_receipts(db: Db, tenant: str) -> list[dict[str, Any]]:
    """The tenant's primary-purge receipts, oldest first (``PrimaryStore.receipts``' shape)."""
    keys = ("plan_digest", "as_of", "executed_at", "purged", "backup_due")
    rows = db.execute(
        "SELECT plan_digest, as_of, executed_at, purged, backup_due"
        " FROM twinpurge.receipts WHERE tenant = %s"
        ' ORDER BY executed_at COLLATE "C", plan_digest COLLATE "C"',
        (tenant,),
    ).fetchall()
    return [dict(zip(keys, row, strict=True)) for row in rows]


def read_objects(
    db: Db, selection: str, params: dict[str, Any], *, payloads: bool = False
) -> list[dict[str, Any]]:
    """The selected objects with their refs: one query each, through server-side cursors.

    Args:
        db: a connection inside a transaction (rule 4).
        selection: ``export``, ``tenant`` or ``slice``.
        params: the selection's parameters (``tenant``).
        payloads: also read each object's ``payload`` (bytes or None).

    Returns:
        Each object as the inventory spells it (rule 2), ordered by part and identity (rule 3).
    """
    chosen = sql.SQL(_SELECTIONS[selection])
    columns = ", s.payload" if payloads else ""
    objects: list[dict[str, Any]] = []
    by_id: dict[tuple[str, str], dict[str, Any]] = {}
    with db.cursor(name="twinpurge_objects") as cursor:
        cursor.itersize = ITERSIZE
        cursor.execute(
            sql.SQL(
                "SELECT s.store, s.key, s.tenant, s.category, s.created_at, s.legal_hold{}"
                ' FROM ({}) AS s ORDER BY s.part, s.store COLLATE "C", s.key COLLATE "C"'
            ).format(sql.SQL(columns), chosen),
            params,
        )
        for store, key, tenant, category, created_at, legal_hold, *payload in cursor:
            record: dict[str, Any] = {
                "store": store,
                "key": key,
                "tenant": tenant,
                "category": category,
                "created_at": created_at,
                "legal_hold": bool(legal_hold),
                "refs": [],
            }
            if payloads:
                record["payload"] = None if payload[0] is None else bytes(payload[0])
            objects.append(record)
            by_id[(store, key)] = record
    with db.cursor(name="twinpurge_refs") as cursor:
        cursor.itersize = ITERSIZE
        cursor.execute(
            sql.SQL(
                "SELECT r.from_store, r.from_key, r.to_store, r.to_key FROM twinpurge.refs r"
                " JOIN (SELECT DISTINCT s.store, s.key FROM ({}) AS s) AS s"
                " ON r.from_store = s.store AND r.from_key = s.key"
                " ORDER BY r.from_store, r.from_key, r.pos"
            ).format(chosen),
            params,
        )
        for store, key, to_store, to_key in cursor:
            by_id[(store, key)]["refs"].append([to_store, to_key])
    return objects


def read_slice(db: Db, tenant: str) -> dict[str, Any]:
    """A tenant's slice: its objects, other tenants' objects that ref them, and their tenants.

    The planners' verdict on the slice equals their verdict on the whole inventory; both
    credential domains read it through this one function, so they can never see different
    slices. Its objects come first, then the other tenants' (each part ordered by identity),
    and the tenants are the owners of those objects with the tenant, sorted.
    """
    found = db.execute("SELECT 1 FROM twinpurge.tenants WHERE id = %s", (tenant,))
    if found.fetchone() is None:
        return {"tenants": [], "objects": []}
    objects = read_objects(db, "slice", {"tenant": tenant})
    owners = sorted({o["tenant"] for o in objects} | {tenant})
    return {"tenants": read_tenants(db, owners), "objects": objects}


def read_tenant(db: Db, tenant: str) -> dict[str, Any] | None:
    """The tenant's record with its events (rule 2), or None when it does not exist."""
    found = read_tenants(db, [tenant])
    return found[0] if found else None


# The tenant's objects, and their refs, in identity order through the unique index on
# (tenant, store COLLATE "C", key COLLATE "C") (rule 5).
_STREAM_OBJECTS: LiteralString = (
    "SELECT o.store, o.key, o.tenant, o.category, o.created_at, o.legal_hold"
    " FROM twinpurge.objects o WHERE o.tenant = %(tenant)s"
    ' ORDER BY o.store COLLATE "C", o.key COLLATE "C"'
)
_STREAM_REFS: LiteralString = (
    "SELECT r.from_store, r.from_key, r.to_store, r.to_key FROM twinpurge.objects o"
    " JOIN twinpurge.refs r ON r.from_store = o.store AND r.from_key = o.key"
    ' WHERE o.tenant = %(tenant)s ORDER BY o.store COLLATE "C", o.key COLLATE "C", r.pos'
)
# The refs other tenants' objects hold into the tenant's objects, repeats kept.
_SHARED: LiteralString = (
    "SELECT r.to_store, r.to_key FROM twinpurge.objects t"
    " JOIN twinpurge.refs r ON r.to_store = t.store AND r.to_key = t.key"
    " JOIN twinpurge.objects s ON s.store = r.from_store AND s.key = r.from_key"
    " WHERE t.tenant = %(tenant)s AND s.tenant <> %(tenant)s"
)

_PASSES = itertools.count(1)


def stream_objects(db: Db, tenant: str) -> ObjectRows:
    """The tenant's objects with their refs, by identity, a fetch at a time (rule 5).

    Two named cursors of this pass's own on ``db``, which must be inside a transaction for as
    long as this is iterated; closing the generator closes them.
    """
    name = f"twinpurge_stream_{next(_PASSES)}"
    with (
        db.cursor(name=f"{name}_objects", scrollable=False) as objects,
        db.cursor(name=f"{name}_refs", scrollable=False) as refs,
    ):
        objects.execute(_STREAM_OBJECTS, {"tenant": tenant})
        refs.execute(_STREAM_REFS, {"tenant": tenant})
        yield from with_refs(fetched(objects), fetched(refs))


def read_shared(db: Db, tenant: str) -> list[list[str]]:
    """The refs other tenants' objects hold into the tenant's objects, each ``[store, key]``."""
    return [[store, key] for store, key in db.execute(_SHARED, {"tenant": tenant})]
