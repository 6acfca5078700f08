"""Streamed slices (rule 8 of the store ports): both stores, the same tests (rule 6).

``stream_counted_slice(tenant)`` gives, in one snapshot held for its block, the tenant's counter,
record and ``shared`` refs and ``objects()``, a new pass over the tenant's objects in code-point
order each time it is called, read from cursors a fetch at a time. The tests check that it is
exactly ``read_counted_slice`` (drawn inventories, every tenant), its order (astral and BMP keys,
a database whose own collation sorts otherwise), its snapshot (a writer during the passes), its
end (everything raises after the block), its query plans (no sort of the tenant, no table
scan), its memory (200,000 objects in a fetch's worth of memory) and that spec §8.1's
``plan_stream`` of both planners, fed from it, gives ``plan``'s verdict.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import time
import tracemalloc
from collections import Counter
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from psycopg import sql

import deleter_a
import deleter_b
from arbiter.core.errors import UsageError
from arbiter.stores.postgres import rows as postgres_rows
from arbiter.stores.postgres.schema import provision
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import SCHEMA, SqliteStore
from arbiter.stores.streams import FETCH
from tests.arbiter.stores.conftest import both_stores, store_url, with_database
from tests.builders import event, obj, tenant
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import ModuleType

    from arbiter.stores.ports import CountedSlice
    from tests.arbiter.stores.conftest import OpenStore, Provisioned

# What a slice is compared as: the tenant's record, its objects in order, the shared refs as a
# multiset, the counter.
View = tuple[dict[str, Any] | None, list[dict[str, Any]], Counter[tuple[str, str]], int]


def identity(record: dict[str, Any]) -> tuple[str, str]:
    """An object's ``(store, key)``."""
    return record["store"], record["key"]


def expected_view(counted: CountedSlice, tid: str) -> View:
    """What the streamed slice must give, from ``read_counted_slice`` (spec §8.1 rule 4)."""
    inventory = counted.inventory
    record = next((t for t in inventory["tenants"] if t["id"] == tid), None)
    own = sorted((o for o in inventory["objects"] if o["tenant"] == tid), key=identity)
    ids = {identity(o) for o in own}
    shared = Counter(
        (r[0], r[1])
        for o in inventory["objects"]
        if o["tenant"] != tid
        for r in o["refs"]
        if (r[0], r[1]) in ids
    )
    return record, own, shared, counted.counter


def streamed_view(store: Any, tid: str) -> View:
    """The streamed slice of ``tid``, both passes read (and checked equal) inside the block."""
    with store.stream_counted_slice(tid) as streamed:
        first = list(streamed.objects())
        second = list(streamed.objects())
        shared = Counter((r[0], r[1]) for r in streamed.shared)
        record, counter = streamed.tenant, streamed.counter
    assert first == second
    return record, first, shared, counter


def strictly_increasing(records: list[dict[str, Any]]) -> bool:
    """Whether the identities strictly increase in Python's (code-point) order."""
    ids = [identity(r) for r in records]
    return all(a < b for a, b in itertools.pairwise(ids))


def bulk(opened: OpenStore, tid: str, count: int, *, refs_every: int = 0) -> None:
    """Insert ``count`` objects of ``tid`` (``db``/``k0000001`` ...) directly, in one statement.

    With ``refs_every`` = N, every N-th object refs the next one (a second statement).
    """
    if opened.kind == "sqlite":
        opened.write(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
            " SELECT 'db', printf('k%07d', i), ?, 'default', '2020-01-01T00:00:00Z', 0 FROM n",
            (count, tid),
        )
        if refs_every:
            opened.write(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + ? FROM n WHERE i + ? <= ?)"
                " INSERT INTO refs (from_store, from_key, pos, to_store, to_key)"
                " SELECT 'db', printf('k%07d', i), 0, 'db', printf('k%07d', i + 1) FROM n",
                (refs_every, refs_every, refs_every, count),
            )
        return
    opened.write(
        "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
        " SELECT 'db', 'k' || lpad(i::text, 7, '0'), ?, 'default', '2020-01-01T00:00:00Z', false"
        " FROM generate_series(1, ?::int) AS i",
        (tid, count),
    )
    if refs_every:
        opened.write(
            "INSERT INTO refs (from_store, from_key, pos, to_store, to_key)"
            " SELECT 'db', 'k' || lpad(i::text, 7, '0'), 0, 'db', 'k' || lpad((i + 1)::text, 7,"
            " '0') FROM generate_series(?::int, ?::int, ?::int) AS i",
            (refs_every, count, refs_every),
        )


def key(number: int) -> str:
    """The key ``bulk`` gives its ``number``-th object."""
    return f"k{number:07d}"


# -- what the stream gives ------------------------------------------------------------------------

SLICED: dict[str, Any] = {
    "tenants": [
        tenant("t", event("cancelled", "2026-01-01T00:00:00Z")),
        tenant("u", legal_hold=True),
        tenant("v"),
        tenant("w", legal_hold=False),
    ],
    "objects": [
        obj("t2", refs=[("db", "t1"), ("db", "t1"), ("x", "gone")]),
        obj("t1", refs=[("db", "u9")]),
        obj("t3", store="blob", category="logs", legal_hold=True),
        obj("u9", "u", refs=[("db", "t2"), ("db", "t1"), ("db", "v1"), ("db", "t2")]),
        obj("u1", "u", refs=[("db", "t1")]),
        obj("v1", "v", refs=[("db", "u9")]),
        obj("w1", "w", refs=[("db", "w1")]),
    ],
}


def test_the_stream_is_the_counted_slice(primary_store: OpenStore) -> None:
    """Record, ordered objects with refs, shared refs (repeats kept), counter: as counted."""
    store = primary_store.store
    store.add_inventory(SLICED)
    views = {t: streamed_view(store, t) for t in ("t", "u", "v", "w", "nobody")}
    assert {t: expected_view(store.read_counted_slice(t), t) for t in views} == views
    record, own, shared, counter = views["t"]
    assert ["t3", "t1", "t2"] == [o["key"] for o in own]  # "blob" < "db"
    assert (Counter({("db", "t1"): 2, ("db", "t2"): 2}), 0 < counter) == (shared, True)
    assert {"id": "t", "events": [event("cancelled", "2026-01-01T00:00:00Z")]} == record
    assert (None, [], Counter(), 0) == views["nobody"]


@settings(
    max_examples=examples(ci=60, dev=20),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios(max_objects=10))
def test_every_tenants_stream_is_its_counted_slice_on_both_stores(
    postgres_roles: Provisioned, scenario: Scenario
) -> None:
    """A drawn inventory in both stores: each tenant's stream equals its counted slice."""
    views: list[tuple[View, View]] = []
    with both_stores(postgres_roles) as both:
        for _kind, store in both.kinds:
            store.add_inventory(scenario.inventory)
            views.extend(
                (expected_view(store.read_counted_slice(tid), tid), streamed_view(store, tid))
                for tid in [*store.tenant_ids(), "nobody"]
            )
    for expected, streamed in views:
        assert expected == streamed
        assert strictly_increasing(streamed[1])


# -- order -----------------------------------------------------------------------------------------

# Keys a locale or UTF-16 sorts otherwise than code points do: case and punctuation (a locale
# puts "a" before "B" and ignores "-"), U+FFFF before U+10000 (UTF-16 puts every astral
# character, a surrogate pair from U+D800, before U+E000..U+FFFF), BMP and astral letters.
KEYS = [
    "a",
    "B",
    "a-b",
    "aB",
    "ab",
    "ä",
    "z",
    "Ω",
    "\ud7ff",
    "\ue000",
    "\uffff",
    "\U00010000",
    "\U0001f600",
    "\U0010fffd",
]
STORES = ["db", "Db", "d-b", "\U0001d4b9"]


def ordered_inventory() -> dict[str, Any]:
    """T's objects under every store and key above, with refs between astral and BMP keys."""
    objects = [
        obj(k, store=s, refs=[(s, KEYS[(i + 1) % len(KEYS)]), ("db", "\U00010000")])
        for s in STORES
        for i, k in enumerate(KEYS)
    ]
    objects.append(obj("o", "u", refs=[("Db", "\uffff"), ("\U0001d4b9", "\U0001f600")]))
    return {"tenants": [tenant("t"), tenant("u")], "objects": objects}


def test_objects_come_in_code_point_order(primary_store: OpenStore) -> None:
    """Astral and BMP keys and stores: code-point order, U+FFFF before U+10000, refs in place."""
    store = primary_store.store
    store.add_inventory(ordered_inventory())
    record, own, shared, counter = streamed_view(store, "t")
    keys = [o["key"] for o in own if o["store"] == "db"]
    assert sorted(KEYS) == keys
    assert keys.index("\uffff") < keys.index("\U00010000") < keys.index("\U0010fffd")
    assert keys.index("B") < keys.index("a") < keys.index("a-b") < keys.index("aB")
    assert ["Db", "d-b", "db", "\U0001d4b9"] == sorted({o["store"] for o in own})
    assert [identity(o) for o in own] == sorted(identity(o) for o in own)
    assert strictly_increasing(own)
    assert expected_view(store.read_counted_slice("t"), "t") == (record, own, shared, counter)
    assert Counter({("Db", "\uffff"): 1, ("\U0001d4b9", "\U0001f600"): 1}) == shared


@pytest.fixture
def icu_store(postgres_roles: Provisioned) -> Iterator[tuple[PostgresStore, str]]:
    """A PostgreSQL store in a database whose own collation is ICU's en-US (not code points)."""
    admin = postgres_roles.admin_url
    with psycopg.connect(admin, autocommit=True) as db:
        row = db.execute("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'").fetchone()
        if not row or row[0] == 0:
            pytest.skip("this PostgreSQL server has no ICU collations")
        name = f"tw_icu_{os.getpid()}"
        db.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
                " LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
            ).format(sql.Identifier(name))
        )
    url = with_database(admin, name)
    store = None
    try:
        provision(url, postgres_roles.passwords)
        store = PostgresStore(store_url(url), postgres_roles.primary())
        yield store, url
    finally:
        if store is not None:
            store.close()
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_database_sorting_by_locale_still_streams_in_code_point_order(
    icu_store: tuple[PostgresStore, str],
) -> None:
    """The database's own ORDER BY sorts en-US; the stream (and its refs) by code point."""
    store, admin = icu_store
    store.add_inventory(ordered_inventory())
    with psycopg.connect(admin) as db:
        by_locale = [
            r[0]
            for r in db.execute(
                "SELECT key FROM twinpurge.objects WHERE store = 'db' AND tenant = 't' ORDER BY key"
            )
        ]
    record, own, shared, counter = streamed_view(store, "t")
    keys = [o["key"] for o in own if o["store"] == "db"]
    assert sorted(KEYS) == keys
    assert keys != by_locale  # the test means something: the database sorts otherwise
    assert [identity(o) for o in own] == sorted(identity(o) for o in own)
    assert expected_view(store.read_counted_slice("t"), "t") == (record, own, shared, counter)


# -- the snapshot and the block --------------------------------------------------------------------


def test_a_write_during_the_passes_is_seen_by_neither(primary_store: OpenStore) -> None:
    """Delete an object not yet fetched, add one, hold the tenant: unseen until the block ends."""
    store, write = primary_store.store, primary_store.write
    store.add_inventory({"tenants": [tenant("t"), tenant("u")], "objects": []})
    total = 2 * FETCH + 10
    bulk(primary_store, "t", total, refs_every=7)
    before = store.change_counter("t")
    other = primary_store.reopen()
    with store.stream_counted_slice("t") as streamed:
        first = streamed.objects()
        head = [next(first) for _ in range(3)]
        write("DELETE FROM objects WHERE store = 'db' AND key = ?", [key(total)])
        write(
            "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
            " VALUES ('db', ?, 't', 'default', '2020-01-01T00:00:00Z', ?)",
            [key(total + 1), False],
        )
        write("UPDATE tenants SET legal_hold = ? WHERE id = 't'", [True])
        moved = other.change_counter("t")
        rest = list(first)
        second = list(streamed.objects())
        seen = (streamed.counter, streamed.tenant)
    assert [key(i) for i in range(1, total + 1)] == [o["key"] for o in head + rest]
    assert head + rest == second
    assert [[["db", key(i + 1)]] for i in range(7, total + 1, 7)] == [
        o["refs"] for o in second if o["refs"]
    ]
    assert ((before, {"id": "t", "events": []}), True) == (seen, moved > before)
    with store.stream_counted_slice("t") as streamed:
        after = [o["key"] for o in streamed.objects()]
        seen = (streamed.counter, streamed.tenant)
    assert [key(i) for i in range(1, total)] + [key(total + 1)] == after
    assert (moved, {"id": "t", "events": [], "legal_hold": True}) == seen


def test_nothing_of_the_stream_reads_after_its_block(primary_store: OpenStore) -> None:
    """objects(), an unstarted pass and a half-read pass: UsageError once the block ended."""
    store = primary_store.store
    store.add_inventory(SLICED)
    with store.stream_counted_slice("t") as streamed:
        unstarted = streamed.objects()
        half = streamed.objects()
        next(half)
    for late in (streamed.objects, lambda: next(unstarted), lambda: next(half)):
        with pytest.raises(UsageError, match="block has ended"):
            late()
    # The store's connection is free again: another block, and a write, work.
    assert 3 == len(streamed_view(store, "t")[1])
    store.add_inventory({"tenants": [tenant("x")], "objects": []})


def test_two_passes_read_side_by_side_give_the_same_records(primary_store: OpenStore) -> None:
    """Two passes interleaved, each with its own cursors, more than one fetch long."""
    store = primary_store.store
    store.add_inventory({"tenants": [tenant("t")], "objects": []})
    bulk(primary_store, "t", FETCH + 5, refs_every=3)
    with store.stream_counted_slice("t") as streamed:
        pairs = list(zip(streamed.objects(), streamed.objects(), strict=True))
    assert FETCH + 5 == len(pairs)
    assert all(a == b for a, b in pairs)


def test_an_exception_in_the_block_ends_it_cleanly(primary_store: OpenStore) -> None:
    """The block's exception passes through; the store reads and writes afterwards."""
    store = primary_store.store
    store.add_inventory(SLICED)

    def fail_in_the_block() -> None:
        with store.stream_counted_slice("t") as streamed:
            next(streamed.objects())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_in_the_block()
    assert 3 == len(streamed_view(store, "t")[1])
    store.add_inventory({"tenants": [tenant("x")], "objects": []})


# -- query plans -----------------------------------------------------------------------------------


SQLITE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS objects_by_tenant_identity ON objects(tenant, store, key);\n"
)
INDEXES = (
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'objects_by_tenant_identity'"
)


def test_sqlite_streams_through_the_index_without_a_sort(tmp_path: Path) -> None:
    """EXPLAIN QUERY PLAN of every statement the stream runs: the index, no sort, no scan."""
    path = tmp_path / "primary.sqlite3"
    store = SqliteStore(path)
    statements: list[str] = []
    try:
        store.add_inventory(
            {
                "tenants": [tenant("t"), tenant("u")],
                "objects": [obj(f"k{i}", refs=[("db", f"k{i + 1}")]) for i in range(50)]
                + [obj(f"u{i}", "u", refs=[("db", f"k{i}")]) for i in range(50)],
            }
        )
        store._db.execute("ANALYZE")  # noqa: SLF001 -- the planner with statistics, as in use
        store._db.set_trace_callback(statements.append)  # noqa: SLF001 -- what the store runs
        assert 50 == len(streamed_view(store, "t")[1])
        store._db.set_trace_callback(None)  # noqa: SLF001 -- as above
    finally:
        store.close()
    reads = sorted({s for s in statements if s.startswith("SELECT") and "FROM objects" in s})
    planner = sqlite3.connect(path)
    try:
        plans = {s: [d for *_, d in planner.execute(f"EXPLAIN QUERY PLAN {s}")] for s in reads}
    finally:
        planner.close()
    assert 3 == len(plans)  # the objects, their refs, the shared refs
    steps = [step for plan in plans.values() for step in plan]
    assert [] == [s for s in steps if re.search(r"\bSCAN\b|TEMP B-TREE|AUTOMATIC", s)]
    ordered = [plan for s, plan in plans.items() if "ORDER BY" in s]
    assert 2 == len(ordered)
    assert all("objects_by_tenant_identity (tenant=?)" in plan[0] for plan in ordered)


def nodes(plan: list[str]) -> list[str]:
    """The nodes of an EXPLAIN's lines, without their costs (details are lines of their own)."""
    return [
        line.removeprefix("->").strip().split("  (")[0]
        for number, line in enumerate(plan)
        if number == 0 or line.startswith("->")
    ]


@pytest.mark.parametrize("primary_store", ["postgresql"], indirect=True)
def test_postgresql_streams_through_the_index_without_sorting_the_tenant(
    primary_store: OpenStore, postgres_roles: Provisioned
) -> None:
    """EXPLAIN of the two cursors: the index in order; only one object's refs are sorted."""
    primary_store.store.add_inventory({"tenants": [tenant("t"), tenant("u")], "objects": []})
    bulk(primary_store, "t", 20_000, refs_every=7)
    primary_store.write(
        "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
        " SELECT 'db', 'u' || i, 'u', 'default', '2020-01-01T00:00:00Z', false"
        " FROM generate_series(1, 20000) AS i",
        (),
    )
    plans = []
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as db:
        db.execute("ANALYZE twinpurge.objects, twinpurge.refs")
        for statement in (postgres_rows._STREAM_OBJECTS, postgres_rows._STREAM_REFS):  # noqa: SLF001 -- the store's own SQL
            with db.transaction():
                explained = db.execute(
                    "EXPLAIN DECLARE c NO SCROLL CURSOR FOR " + statement, {"tenant": "t"}
                )
                plans.append([r[0].strip() for r in explained])
    objects, refs = (nodes(plan) for plan in plans)
    assert ["Index Scan using objects_by_tenant_identity on objects o"] == objects
    assert [
        "Incremental Sort",
        "Nested Loop",
        "Index Only Scan using objects_by_tenant_identity on objects o",
        "Index Scan using refs_pkey on refs r",
    ] == refs
    assert any(s.startswith("Presorted Key: ") for s in plans[1])


def test_a_sqlite_store_created_before_the_index_gets_it_when_opened(tmp_path: Path) -> None:
    """An older database (no objects_by_tenant_identity) opens with the index and streams."""
    path = tmp_path / "primary.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace(SQLITE_INDEX, ""))
    old.executescript(
        "INSERT INTO tenants VALUES ('t', 0, 1);"
        "INSERT INTO objects VALUES ('db', 'b', 't', 'default', '2020-01-01T00:00:00Z', 0, NULL);"
        "INSERT INTO objects VALUES ('db', 'a', 't', 'default', '2020-01-01T00:00:00Z', 0, NULL);"
    )
    before = old.execute(INDEXES).fetchall()
    old.close()
    store = SqliteStore(path)
    try:
        after = store._db.execute(INDEXES).fetchall()  # noqa: SLF001 -- the schema itself
        keys = [o["key"] for o in streamed_view(store, "t")[1]]
    finally:
        store.close()
    assert ([], [("objects_by_tenant_identity",)], ["a", "b"]) == (before, after, keys)


@pytest.mark.parametrize("primary_store", ["postgresql"], indirect=True)
def test_running_the_script_again_gives_an_older_postgresql_store_the_index(
    primary_store: OpenStore, postgres_roles: Provisioned
) -> None:
    """Without the index (an older store), the reviewed script run again creates it."""
    primary_store.store.add_inventory(SLICED)
    found = "SELECT indexdef FROM pg_indexes WHERE indexname = 'objects_by_tenant_identity'"
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as db:
        db.execute("DROP INDEX twinpurge.objects_by_tenant_identity")
        before = db.execute(found).fetchall()
        provision(postgres_roles.admin_url)
        after = db.execute(found).fetchall()
    index = (
        "CREATE UNIQUE INDEX objects_by_tenant_identity ON twinpurge.objects USING btree"
        ' (tenant, store COLLATE "C", key COLLATE "C")'
    )
    assert ([], [(index,)]) == (before, after)
    assert ["t3", "t1", "t2"] == [o["key"] for o in streamed_view(primary_store.store, "t")[1]]


# -- memory ----------------------------------------------------------------------------------------

# 200,000 objects: held as a list, their records take 113 MiB (measured with tracemalloc, the
# refs of a tenth of them included; read_counted_slice's whole slice 131-134 MiB). A streamed
# pass holds one fetch of each of its two cursors (2,000 rows of a few short strings) and the
# record being yielded: its peak measured 1.7-2.0 MiB on both stores. 8 MiB leaves room for the
# drivers' own Python objects and still fails any read holding a fourteenth of the tenant.
MEMORY_OBJECTS = 200_000
MEMORY_BOUND = 8 * 1024 * 1024


def test_a_large_tenant_streams_in_bounded_memory(primary_store: OpenStore) -> None:
    """200,000 objects stream in order, with their refs, in a fetch's worth of memory."""
    store = primary_store.store
    store.add_inventory(
        {"tenants": [tenant("t"), tenant("u")], "objects": [obj("u1", "u", refs=[("db", key(5))])]}
    )
    bulk(primary_store, "t", MEMORY_OBJECTS, refs_every=10)
    tracemalloc.start()
    try:
        began = time.monotonic()
        with store.stream_counted_slice("t") as streamed:
            count, refs, last = 0, 0, ("", "")
            for record in streamed.objects():
                assert last < (record["store"], record["key"])
                last = (record["store"], record["key"])
                count += 1
                refs += len(record["refs"])
            shared = streamed.shared
        seconds = time.monotonic() - began
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(  # noqa: T201 -- the figures of docs/performance.md (pytest -s)
        f"{primary_store.kind}: {MEMORY_OBJECTS} objects streamed in {seconds:.1f} s (traced),"
        f" peak {peak / 2**20:.2f} MiB"
    )
    assert (MEMORY_OBJECTS, MEMORY_OBJECTS // 10, [["db", key(5)]]) == (count, refs, shared)
    assert peak < MEMORY_BOUND


# -- spec §8.1: plan_stream from the stream --------------------------------------------------------

POLICY: dict[str, Any] = {
    "timezone": "UTC",
    "grace_days": 30,
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 3650}},
}
AS_OF = "2026-06-01T00:00:00Z"
DUE: dict[str, Any] = {
    "tenants": [
        tenant(
            "t",
            event("subscribed", "2020-01-01T00:00:00Z"),
            event("cancelled", "2026-01-01T00:00:00Z"),
        ),
        tenant("u", event("subscribed", "2020-01-01T00:00:00Z")),
    ],
    "objects": [
        obj("a"),
        obj("b", refs=[("db", "c")]),
        obj("c", refs=[("db", "d")]),
        obj("d"),
        obj("e", category="audit", refs=[("db", "f")]),
        obj("f"),
        obj("g", legal_hold=True),
        obj("h", category="logs"),
        obj("i", created_at="2026-07-01T00:00:00Z"),
        obj("\U0001f600", store="blob", refs=[("db", "a")]),
        obj("\uffff", store="blob"),
        obj("u1", "u", refs=[("db", "c"), ("db", "missing"), ("blob", "\uffff")]),
    ],
}


def streamed_verdict(planner: ModuleType, store: Any, tid: str) -> dict[str, Any]:
    """``plan_stream`` fed from the store's stream, collected into §7.5's form in the block."""
    with store.stream_counted_slice(tid) as streamed:
        result: dict[str, Any] = planner.plan_stream(
            streamed.tenant, streamed.objects, streamed.shared, POLICY, AS_OF
        )
        decisions = list(result.pop("decisions"))
    result["purge"] = [
        {"store": d["store"], "key": d["key"]} for d in decisions if d["reason"] is None
    ]
    result["kept"] = [d for d in decisions if d["reason"] is not None]
    return result


@pytest.mark.parametrize("planner", [deleter_a, deleter_b], ids=["deleter_a", "deleter_b"])
def test_both_planners_plan_the_stream_as_plan_plans_the_inventory(
    primary_store: OpenStore, planner: ModuleType
) -> None:
    """A due tenant streamed to plan_stream: the verdict of plan on the whole inventory."""
    primary_store.store.add_inventory(DUE)
    whole = planner.plan(DUE, POLICY, "t", AS_OF)
    assert whole["eligible"]
    assert {"shared", "category-keep", "object-hold", "category-retain"} <= {
        k["reason"] for k in whole["kept"]
    }
    assert whole == streamed_verdict(planner, primary_store.store, "t")
