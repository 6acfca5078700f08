"""Reading and inserting the primary store's rows: SQL shared by both credential domains.

The primary store (``arbiter.stores.sqlite``), the backup domain's read-only reader and its
insert-only restorer (``arbiter.backup.primary_access``) all read and write rows the same way; this
module holds that SQL once.

Rules:

1. Nothing here deletes or updates: the backup domain may import this module without gaining
   any way to destroy primary data (import-linter keeps it so).
2. Rows are read as the portable inventory spells them (spec §4.1): a tenant's ``legal_hold`` is
   written when it was given or is true; objects carry their refs in order.
3. An insert of an object that already exists is skipped, never overwritten.
4. A streamed slice (rule 8 of ``arbiter.stores.ports``) reads the tenant's objects in
   ``(store, key)`` order through the unique index ``objects_by_tenant_identity`` (``tenant,
   store, key``) and their refs through it joined to the refs' key: neither statement sorts
   anything (SQLite's ``BINARY`` collation compares UTF-8 bytes, which is code-point order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arbiter.core.verdict import ObjectId
from arbiter.stores.streams import fetched, with_refs

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator, Mapping

    from arbiter.stores.streams import ObjectRows

__all__ = [
    "insert_object",
    "insert_objects",
    "insert_tenant",
    "object_exists",
    "read_objects",
    "read_shared",
    "read_slice",
    "read_tenant",
    "read_tenants",
    "stream_objects",
]

_OBJECT_COLUMNS = "store, key, tenant, category, created_at, legal_hold"


def read_tenants(db: sqlite3.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """Tenant records with their events, in the inventory's spelling (rule 2)."""
    tenants = []
    for tid in ids:
        legal_hold, has_field = db.execute(
            "SELECT legal_hold, has_hold_field FROM tenants WHERE id = ?", (tid,)
        ).fetchone()
        events = db.execute(
            "SELECT kind, at FROM events WHERE tenant = ? ORDER BY pos", (tid,)
        ).fetchall()
        record: dict[str, Any] = {"id": tid, "events": [{"kind": k, "at": a} for k, a in events]}
        if has_field or legal_hold:
            record["legal_hold"] = bool(legal_hold)
        tenants.append(record)
    return tenants


def _refs(db: sqlite3.Connection, store: str, key: str) -> list[list[str]]:
    rows = db.execute(
        "SELECT to_store, to_key FROM refs WHERE from_store = ? AND from_key = ? ORDER BY pos",
        (store, key),
    ).fetchall()
    return [[s, k] for s, k in rows]


def read_objects(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Objects matching ``where`` (one of the callers' constant conditions), with their refs."""
    rows = db.execute(
        f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE {where} ORDER BY store, key",  # noqa: S608 -- `where` is always a caller's constant
        args,
    ).fetchall()
    return [
        {
            "store": store,
            "key": key,
            "tenant": tenant,
            "category": category,
            "created_at": created_at,
            "legal_hold": bool(legal_hold),
            "refs": _refs(db, store, key),
        }
        for store, key, tenant, category, created_at, legal_hold in rows
    ]


def read_slice(db: sqlite3.Connection, tenant: str) -> dict[str, Any]:
    """A tenant's slice: its objects, other tenants' objects that ref them, and their tenants.

    The planners' verdict on the slice equals their verdict on the whole inventory; both
    credential domains read it through this one query, so they can never see different slices.
    """
    if db.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant,)).fetchone() is None:
        return {"tenants": [], "objects": []}
    own = read_objects(db, "tenant = ?", (tenant,))
    foreign = read_objects(
        db,
        "tenant != ? AND (store, key) IN (SELECT r.from_store, r.from_key FROM refs r "
        "JOIN objects t ON t.store = r.to_store AND t.key = r.to_key WHERE t.tenant = ?)",
        (tenant, tenant),
    )
    owners = sorted({o["tenant"] for o in foreign} | {tenant})
    return {"tenants": read_tenants(db, owners), "objects": own + foreign}


def read_tenant(db: sqlite3.Connection, tenant: str) -> dict[str, Any] | None:
    """The tenant's record with its events (rule 2), or None when it does not exist."""
    if db.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant,)).fetchone() is None:
        return None
    return read_tenants(db, [tenant])[0]


# The tenant's objects, and their refs, in identity order through the unique index on
# (tenant, store, key) (rule 4): no sort, the refs by their key after each object.
_STREAM_OBJECTS = (
    "SELECT store, key, tenant, category, created_at, legal_hold FROM objects"
    " WHERE tenant = ? ORDER BY store, key"
)
_STREAM_REFS = (
    "SELECT r.from_store, r.from_key, r.to_store, r.to_key FROM objects o"
    " JOIN refs r ON r.from_store = o.store AND r.from_key = o.key"
    " WHERE o.tenant = ? ORDER BY o.store, o.key, r.pos"
)
# The refs other tenants' objects hold into the tenant's objects, repeats kept.
_SHARED = (
    "SELECT r.to_store, r.to_key FROM objects t"
    " JOIN refs r ON r.to_store = t.store AND r.to_key = t.key"
    " JOIN objects s ON s.store = r.from_store AND s.key = r.from_key"
    " WHERE t.tenant = ? AND s.tenant != ?"
)


def stream_objects(db: sqlite3.Connection, tenant: str) -> ObjectRows:
    """The tenant's objects with their refs, by identity, a fetch at a time (rule 4).

    Two cursors on ``db``, which must be inside a read transaction for as long as this is
    iterated; closing the generator closes them.
    """
    objects, refs = db.cursor(), db.cursor()
    try:
        objects.execute(_STREAM_OBJECTS, (tenant,))
        refs.execute(_STREAM_REFS, (tenant,))
        yield from with_refs(fetched(objects), fetched(refs))
    finally:
        objects.close()
        refs.close()


def read_shared(db: sqlite3.Connection, tenant: str) -> list[list[str]]:
    """The refs other tenants' objects hold into the tenant's objects, each ``[store, key]``."""
    return [[store, key] for store, key in db.execute(_SHARED, (tenant, tenant))]


def insert_tenant(db: sqlite3.Connection, tenant: Mapping[str, Any]) -> None:
    """Insert a tenant record and its events."""
    db.execute(
        "INSERT INTO tenants (id, legal_hold, has_hold_field) VALUES (?, ?, ?)",
        (tenant["id"], int(tenant.get("legal_hold", False)), "legal_hold" in tenant),
    )
    db.executemany(
        "INSERT INTO events (tenant, pos, kind, at) VALUES (?, ?, ?, ?)",
        [(tenant["id"], i, e["kind"], e["at"]) for i, e in enumerate(tenant["events"])],
    )


def object_exists(db: sqlite3.Connection, store: str, key: str) -> bool:
    """Whether an object with this identity exists."""
    found = db.execute("SELECT 1 FROM objects WHERE store = ? AND key = ?", (store, key))
    return found.fetchone() is not None


def insert_objects(
    db: sqlite3.Connection,
    rows: Iterable[Mapping[str, Any]],
    payloads: Mapping[ObjectId, bytes],
) -> None:
    """Insert many objects and their refs: one prepared statement each, run for every row.

    The caller checks that none exists (rule 3); a repeat raises ``sqlite3.IntegrityError``.
    """
    refs: list[tuple[str, str, int, str, str]] = []

    def values() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            store, key = row["store"], row["key"]
            refs.extend((store, key, i, s, k) for i, (s, k) in enumerate(row.get("refs", ())))
            yield (
                store,
                key,
                row["tenant"],
                row.get("category", "default"),
                row["created_at"],
                int(row.get("legal_hold", False)),
                payloads.get(ObjectId(store, key)),
            )

    db.executemany(
        "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        values(),
    )
    db.executemany(
        "INSERT INTO refs (from_store, from_key, pos, to_store, to_key) VALUES (?, ?, ?, ?, ?)",
        refs,
    )


def insert_object(db: sqlite3.Connection, row: dict[str, Any], payload: bytes | None) -> None:
    """Insert one object and its refs (the caller checks it does not exist, rule 3)."""
    db.execute(
        "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            row["store"],
            row["key"],
            row["tenant"],
            row.get("category", "default"),
            row["created_at"],
            int(row.get("legal_hold", False)),
            payload,
        ),
    )
    db.executemany(
        "INSERT INTO refs (from_store, from_key, pos, to_store, to_key) VALUES (?, ?, ?, ?, ?)",
        [(row["store"], row["key"], i, s, k) for i, (s, k) in enumerate(row.get("refs", []))],
    )
