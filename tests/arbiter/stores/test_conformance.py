"""The store conformance suite: SQLite and PostgreSQL behave alike (rule 6 of the store ports).

Every test but the last few runs against both stores (fixture ``primary_store``); the property
tests import drawn inventories into both and compare what comes back; the PostgreSQL-only tests
at the end cover what only a server has (a second connection waiting on the lock, the server
refusing a write in a snapshot, logging in, connections that break).
"""

from __future__ import annotations

import collections
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from psycopg import errors as pgerrors

from arbiter.auth.credentials import (
    BackupCredentials,
    PrimaryCredentials,
    reset_credential_domains_for_tests,
)
from arbiter.core.errors import (
    CredentialError,
    InputError,
    StoreLoginError,
    StoreUnavailableError,
    UsageError,
)
from arbiter.core.verdict import ObjectId
from arbiter.stores.ports import CountedSlice, ObjectState, PrimaryStore
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import CREDENTIALS_META, SqliteStore
from tests.arbiter.stores.conftest import both_stores, direct_writer
from tests.builders import event, obj, tenant
from tests.conftest import examples
from tests.strategies import Scenario, StoreWrite, scenarios, store_writes

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.arbiter.stores.conftest import DirectWriter, OpenStore, Provisioned

A, B, C = ObjectId("db", "a"), ObjectId("db", "b"), ObjectId("db", "c")
MISSING = ObjectId("db", "missing")

BASE: dict[str, Any] = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [obj("a"), obj("b", "u", refs=[("db", "a"), ("x", "gone")]), obj("c", "u")],
}


def normalised(inventory: dict[str, Any]) -> dict[str, Any]:
    """An inventory as a store exports it: sorted, optional fields written out (spec §4.1)."""
    tenants = []
    for record in sorted(inventory["tenants"], key=lambda t: t["id"]):
        out: dict[str, Any] = {"id": record["id"], "events": list(record["events"])}
        if "legal_hold" in record or record.get("legal_hold"):
            out["legal_hold"] = bool(record["legal_hold"])
        tenants.append(out)
    objects = [
        {
            "store": o["store"],
            "key": o["key"],
            "tenant": o["tenant"],
            "category": o.get("category", "default"),
            "created_at": o["created_at"],
            "legal_hold": bool(o.get("legal_hold", False)),
            "refs": [list(r) for r in o.get("refs", [])],
        }
        for o in sorted(inventory["objects"], key=lambda o: (o["store"], o["key"]))
    ]
    return {"tenants": tenants, "objects": objects}


def journal(purge_id: str, started_at: str, tenant_id: str = "t") -> dict[str, Any]:
    """A purge journal's opening record."""
    return {
        "purge_id": purge_id,
        "tenant": tenant_id,
        "kind": "auto",
        "plan_id": None,
        "plan_digest": "digest",
        "plan_path": "plans/p.json",
        "plan_sha256": "sha",
        "as_of": "2026-03-01T00:00:00Z",
        "backup_due": None,
        "actor": "tester",
        "started_at": started_at,
        "state": "open",
    }


def trip(trip_id: str, tripped_at: str) -> dict[str, Any]:
    """A safe-mode trip record."""
    return {
        "trip_id": trip_id,
        "tripped_at": tripped_at,
        "kind": "mass-deletion",
        "reason": "too many",
        "as_of": "2026-03-01T00:00:00Z",
        "tenants": ["t", "u"],
        "counts": {"u": 2, "t": 1},
    }


def archive_record(archive_id: str, created_at: str) -> dict[str, Any]:
    """A restore archive's record."""
    return {
        "archive_id": archive_id,
        "tenant": "t",
        "plan_digest": "digest",
        "plan_id": None,
        "path": f"archives/{archive_id}.tar",
        "sha256": "sha",
        "objects": 3,
        "backup_due": "2026-04-01T00:00:00Z",
        "created_at": created_at,
    }


def plan_record(plan_id: str, created_at: str) -> dict[str, Any]:
    """A manual plan's record."""
    return {
        "plan_id": plan_id,
        "tenant": "t",
        "path": f"plans/{plan_id}.json",
        "digest": "digest",
        "author": "alice",
        "created_at": created_at,
    }


def loaded(opened: OpenStore, inventory: dict[str, Any] | None = None) -> Any:
    """The store with ``inventory`` (BASE by default) imported, payloads of a and c included."""
    opened.store.add_inventory(inventory or BASE, {A: b"payload a", C: b"\x00\xffc"})
    return opened.store


def test_both_stores_implement_the_port() -> None:
    """Both classes are PrimaryStores (mypy checks the assignment) with every member of it."""
    classes: list[type[PrimaryStore]] = [SqliteStore, PostgresStore]
    members = {
        name
        for base in PrimaryStore.__mro__
        if base.__module__ == "arbiter.stores.ports"
        for name in vars(base)
        if not name.startswith("_")
    }
    assert 40 < len(members)
    assert [set(), set()] == [members - set(dir(cls)) for cls in classes]


# -- reading and loading -------------------------------------------------------------------------


def test_a_new_store_is_empty(primary_store: OpenStore) -> None:
    """A fresh store holds no tenant, object, journal, trip, run, archive, plan or receipt."""
    store = primary_store.store
    assert ([], 0, {"tenants": [], "objects": []}) == (
        store.tenant_ids(),
        store.total_objects(),
        store.export_inventory(),
    )
    assert ([], [], None, [], [], [], []) == (
        store.journals(),
        store.trips(),
        store.active_trip(),
        store.runs(),
        store.archives(),
        store.plans(),
        store.receipts("t"),
    )


def test_export_gives_back_what_was_imported(primary_store: OpenStore) -> None:
    """Import then export: the same tenants, events, objects and refs, instants as given."""
    inventory = {
        "tenants": [
            tenant(
                "t",
                event("subscribed", "2025-01-01T09:00:00+09:00"),
                event("cancelled", "2026-01-01T00:00:00Z"),
                legal_hold=False,
            ),
            tenant("u", legal_hold=True),
            tenant("v"),
        ],
        "objects": [
            {
                "store": "db",
                "key": "a",
                "tenant": "t",
                "category": "logs",
                "created_at": "2020-01-01T00:00:00.5Z",
                "legal_hold": True,
                "refs": [["db", "b"], ["db", "b"], ["x", "gone"]],
            },
            obj("b", "u"),
            obj("Ω", "v", store="blob", created_at="2020-06-01T12:00:00-04:00"),
        ],
    }
    primary_store.store.add_inventory(inventory)
    assert normalised(inventory) == primary_store.store.export_inventory()


def test_tenant_ids_are_sorted_by_code_point(primary_store: OpenStore) -> None:
    """Tenant ids come sorted as Python sorts them (code points), whatever the collation."""
    ids = ["b", "a", "T", "ä", "Ω", "a-b", "aB", "_x"]
    primary_store.store.add_inventory({"tenants": [tenant(i) for i in ids], "objects": []})
    assert sorted(ids) == primary_store.store.tenant_ids()


def test_read_slice_holds_the_tenant_and_its_referrers(primary_store: OpenStore) -> None:
    """The slice: T's objects, then other tenants' objects holding a ref to them, and tenants."""
    inventory = {
        "tenants": [tenant("t"), tenant("u", legal_hold=True), tenant("v"), tenant("w")],
        "objects": [
            obj("t2"),
            obj("t1", refs=[("db", "u9")]),
            obj("u9", "u", refs=[("db", "t2"), ("db", "t1")]),
            obj("u1", "u", refs=[("db", "t1")]),
            obj("v1", "v", refs=[("db", "u9")]),
            obj("w1", "w", refs=[("db", "w1")]),
        ],
    }
    store = loaded(primary_store, inventory)
    piece = store.read_slice("t")
    expected = normalised(inventory)
    by_key = {o["key"]: o for o in expected["objects"]}
    assert {
        "tenants": [expected["tenants"][0], expected["tenants"][1]],
        "objects": [by_key["t1"], by_key["t2"], by_key["u1"], by_key["u9"]],
    } == piece
    assert {"tenants": [], "objects": []} == store.read_slice("nobody")
    assert {"tenants": [expected["tenants"][3]], "objects": [by_key["w1"]]} == store.read_slice("w")


def test_payloads_read_back(primary_store: OpenStore) -> None:
    """A payload reads back as bytes; an object without one, or no object, gives None."""
    store = loaded(primary_store)
    assert (b"payload a", None, b"\x00\xffc", None) == (
        store.payload(A),
        store.payload(B),
        store.payload(C),
        store.payload(MISSING),
    )


def test_already_stored_names_what_the_store_holds(primary_store: OpenStore) -> None:
    """Of the tenants and identities asked about, exactly the stored ones come back."""
    store = loaded(primary_store)
    assert (frozenset({"t"}), frozenset({("db", "a"), ("db", "c")})) == store.already_stored(
        ["t", "nobody"], [("db", "a"), ("db", "c"), ("db", "z"), ("x", "a")]
    )
    assert (frozenset(), frozenset()) == store.already_stored([], [])


def test_a_load_sees_its_own_chunks_and_commits_them_together(primary_store: OpenStore) -> None:
    """Ports rule 9: held() sees earlier chunks; the chunks commit together, at the end."""
    store = loaded(primary_store)
    other = primary_store.reopen()
    with store.loading() as load:
        load.add_tenants([tenant("v")])
        load.add_objects([obj("v1", "v"), obj("v2", "v", refs=[("db", "a")])], {})
        assert (frozenset({"v"}), frozenset({("db", "v1"), ("db", "a")})) == load.held(
            ["v", "w"], [("db", "v1"), ("db", "a"), ("db", "v3")]
        )
        load.add_objects([obj("v3", "v")], {ObjectId("db", "v3"): b"p"})
        # Nothing is visible to another connection before the end.
        assert (frozenset(), frozenset()) == other.already_stored(["v"], [("db", "v3")])
    assert (frozenset({"v"}), frozenset({("db", "v1"), ("db", "v3")})) == other.already_stored(
        ["v"], [("db", "v1"), ("db", "v3")]
    )
    assert b"p" == store.payload(ObjectId("db", "v3"))


def test_a_repeat_in_a_later_chunk_loads_nothing(primary_store: OpenStore) -> None:
    """Ports rule 9: a repeated identity in any chunk is InputError, and no chunk commits."""
    store = loaded(primary_store)
    before = store.export_inventory()

    def chunks(*parts: list[dict[str, Any]]) -> None:
        with store.loading() as load:
            load.add_tenants([tenant("v")])
            for part in parts:
                load.add_objects(part, {})

    with pytest.raises(InputError, match="conflicts with the store"):
        chunks([obj("v1", "v")], [obj("v2", "v"), obj("v1", "v")])
    assert before == store.export_inventory()
    with pytest.raises(InputError, match="conflicts with the store"):
        chunks([obj("v1", "v")], [obj("a", "v")])
    assert before == store.export_inventory()


@pytest.mark.parametrize(
    "conflict",
    [
        {"tenants": [tenant("v")], "objects": [obj("new", "v"), obj("a", "v")]},
        {"tenants": [tenant("v"), tenant("t")], "objects": [obj("new", "v")]},
    ],
    ids=["object", "tenant"],
)
def test_a_conflicting_import_is_input_error_and_inserts_nothing(
    primary_store: OpenStore, conflict: dict[str, Any]
) -> None:
    """An identity already stored: InputError (source inventory), and nothing of it inserted."""
    store = loaded(primary_store)
    before = store.export_inventory()
    with pytest.raises(InputError) as raised:
        store.add_inventory(conflict)
    assert ("inventory", "") == (raised.value.source, raised.value.field)
    assert raised.value.message.startswith("conflicts with the store: ")
    assert before == store.export_inventory()


def test_total_objects_and_object_rows(primary_store: OpenStore) -> None:
    """The object count, and the owner of each identity that has a row."""
    store = loaded(primary_store)
    assert (3, {A: "t", C: "u"}) == (store.total_objects(), store.object_rows([A, C, MISSING]))


# -- credentials ------------------------------------------------------------------------------


def other_credentials(kind: str) -> object:
    """Credentials that are not the store's: none, another secret, or backup credentials."""
    if kind == "none":
        return None
    if kind == "another":
        return PrimaryCredentials(os.urandom(32), "tests: another secret")
    reset_credential_domains_for_tests()
    return BackupCredentials(os.urandom(32), "tests: backup")


REFUSALS = {
    "none": "needs primary credentials: set TWINPURGE_PRIMARY_CREDENTIALS",
    "another": "are not the primary credentials of",
    "backup": "backup credentials never open the primary store",
}


def use_credentials(store: Any, operation: str, credentials: Any) -> None:
    """Call one of the credential-checking operations with ``credentials``."""
    if operation == "purge_target":
        store.purge_target(credentials)
    elif operation == "transaction":
        with store.transaction(credentials) as tx:
            tx.delete("t", [A])
    elif operation == "restore_rows":
        store.restore_rows(credentials, [])
    else:
        store.verify_credentials(credentials)


# The credential-checking operations (tests/arbiter/test_deleting_entry_points.py relies on it).
CREDENTIAL_OPERATIONS = ("purge_target", "transaction", "restore_rows", "verify")


@pytest.mark.parametrize("operation", CREDENTIAL_OPERATIONS)
@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_other_credentials_are_refused(primary_store: OpenStore, operation: str, kind: str) -> None:
    """No credentials, another secret or backup credentials: CredentialError, nothing deleted."""
    store = loaded(primary_store)
    credentials = other_credentials(kind)
    with pytest.raises(CredentialError) as refused:
        use_credentials(store, operation, credentials)
    assert "primary" == refused.value.domain
    assert REFUSALS[kind] in refused.value.message
    assert 3 == store.total_objects()


def test_the_recorded_credentials_are_verified(primary_store: OpenStore) -> None:
    """The store's own credentials verify; its fingerprint reads as the credentials record."""
    store = primary_store.store
    assert primary_store.credentials is store.verify_credentials(primary_store.credentials)
    assert primary_store.credentials.fingerprint == store.get_meta(CREDENTIALS_META)


def test_the_credentials_are_recorded_once(primary_store: OpenStore) -> None:
    """Recording again, or setting the record as meta, is a usage error; the record stays."""
    store = primary_store.store
    with pytest.raises(UsageError, match="records primary credentials already"):
        store.record_primary_credentials(PrimaryCredentials(os.urandom(32), "tests: another"))
    with pytest.raises(UsageError, match="is set once, by record_primary_credentials"):
        store.set_meta(CREDENTIALS_META, "0" * 64)
    assert primary_store.credentials.fingerprint == store.get_meta(CREDENTIALS_META)


# -- purging ----------------------------------------------------------------------------------


def test_the_read_target_and_snapshot_cannot_delete_or_journal(primary_store: OpenStore) -> None:
    """Read-only: verify_credentials, delete and journal_step raise CredentialError; rows stay."""
    store = loaded(primary_store)
    store.open_journal(journal("p1", "2026-03-01T00:00:00Z"))
    target = store.read_target()
    with pytest.raises(CredentialError, match="read-only target"):
        target.verify_credentials(primary_store.credentials)
    for opened in (target.transaction(), store.snapshot()):
        with opened as snapshot:
            assert {A: ObjectState("t", "default", legal_hold=False)} == snapshot.objects([A])
            with pytest.raises(CredentialError, match="this snapshot only reads"):
                snapshot.delete("t", [A])
            with pytest.raises(CredentialError, match="this snapshot only reads"):
                snapshot.journal_step("p1", "deleted", {"n": 1})
    assert (3, 3, []) == (target.total_objects(), store.total_objects(), store.journal_steps("p1"))


def test_delete_matches_identity_and_tenant(primary_store: OpenStore) -> None:
    """Only rows matching identity and tenant go; the count is of the objects deleted."""
    store = loaded(primary_store)
    target = store.purge_target(primary_store.credentials)
    with target.transaction() as tx:
        first = tx.delete("t", [A, B, C, MISSING])
    with target.transaction() as tx:
        second = tx.delete("u", [B, B, A])
    assert (1, 1) == (first, second)
    assert [C] == list(store.object_rows([A, B, C]))
    assert 1 == target.total_objects()


def test_a_large_batch_deletes_in_one_call(primary_store: OpenStore) -> None:
    """Five thousand identities, half of another tenant's: exactly the tenant's half goes."""
    objects = [obj(f"k{i}", "t" if i % 2 else "u") for i in range(5000)]
    store = loaded(primary_store, {"tenants": [tenant("t"), tenant("u")], "objects": objects})
    ids = [ObjectId("db", f"k{i}") for i in range(5000)]
    with store.transaction(primary_store.credentials) as tx:
        deleted = tx.delete("t", ids)
    assert (2500, 2500) == (deleted, store.total_objects())


def test_the_purge_reads(primary_store: OpenStore) -> None:
    """tenant_state, objects and referrers inside a transaction, as the guards read them."""
    store = loaded(primary_store)
    with store.transaction(primary_store.credentials) as tx:
        state = (tx.tenant_state("t"), tx.tenant_state("u"), tx.tenant_state("nobody"))
        objects = tx.objects([A, C, MISSING, A])
        referrers = (tx.referrers([A]), tx.referrers([B, C]), tx.referrers([]))
    assert ((False, [("cancelled", "2026-01-01T00:00:00Z")]), (False, []), None) == state
    assert {
        A: ObjectState("t", "default", legal_hold=False),
        C: ObjectState("u", "default", legal_hold=False),
    } == objects
    assert ({B}, set(), set()) == referrers


def test_rows_keep_the_order_asked_and_their_shape(primary_store: OpenStore) -> None:
    """rows(): in the order asked, the gone left out, each with payload and refs in order."""
    store = loaded(primary_store)
    with store.transaction(primary_store.credentials) as tx:
        rows = tx.rows([C, MISSING, B, A])
    row_b = {
        "store": "db",
        "key": "b",
        "tenant": "u",
        "category": "default",
        "created_at": "2020-01-01T00:00:00Z",
        "legal_hold": False,
        "payload": None,
        "refs": [["db", "a"], ["x", "gone"]],
    }
    assert [
        {**row_b, "key": "c", "payload": b"\x00\xffc", "refs": []},
        row_b,
        {**row_b, "key": "a", "tenant": "t", "payload": b"payload a", "refs": []},
    ] == rows


def test_refs_go_with_their_object(primary_store: OpenStore) -> None:
    """Deleting an object deletes its outgoing refs (the cascade); refs to it stay."""
    store = loaded(primary_store)
    with store.transaction(primary_store.credentials) as tx:
        before = tx.referrers([A, ObjectId("x", "gone")])
        tx.delete("u", [B])
        after = tx.referrers([A, ObjectId("x", "gone")])
    assert ({B}, set()) == (before, after)
    with store.transaction(primary_store.credentials) as tx:
        tx.delete("t", [A])
    assert [] == [o["refs"] for o in store.export_inventory()["objects"] if o["refs"]]


def delete_then_fail(store: Any, credentials: PrimaryCredentials) -> None:
    """Delete a and journal it in a transaction, then fail before the block ends."""
    with store.transaction(credentials) as tx:
        tx.delete("t", [A])
        tx.journal_step("p1", "deleted", {"batch": 1})
        raise RuntimeError("boom")


def test_a_failed_transaction_rolls_back_the_delete_and_its_journal_step(
    primary_store: OpenStore,
) -> None:
    """An exception in the block: the delete and the journal step written with it both vanish."""
    store = loaded(primary_store)
    store.open_journal(journal("p1", "2026-03-01T00:00:00Z"))
    with pytest.raises(RuntimeError, match="boom"):
        delete_then_fail(store, primary_store.credentials)
    assert (3, []) == (store.total_objects(), store.journal_steps("p1"))
    with store.transaction(primary_store.credentials) as tx:
        tx.delete("t", [A])
        tx.journal_step("p1", "deleted", {"batch": 1})
    assert (2, [{"step": "deleted", "data": {"batch": 1}}]) == (
        store.total_objects(),
        store.journal_steps("p1"),
    )


def test_restore_rows_never_overwrites(primary_store: OpenStore) -> None:
    """Restoring: the missing rows come back whole, in order; a present row is left as it is."""
    store = loaded(primary_store)
    before = store.export_inventory()
    with store.transaction(primary_store.credentials) as tx:
        rows = tx.rows([B, A, C])
        tx.delete("u", [B, C])
    changed_a = {**rows[1], "category": "changed", "payload": b"other"}
    restored = store.restore_rows(primary_store.credentials, [rows[2], changed_a, rows[0], rows[2]])
    assert [C, B] == restored
    assert before == store.export_inventory()
    assert (b"payload a", b"\x00\xffc") == (store.payload(A), store.payload(C))
    assert [] == store.restore_rows(primary_store.credentials, rows)


# -- the change counter (rule 7 of the store ports) ------------------------------------------------


def counters(store: Any, tenants: list[str]) -> dict[str, int]:
    """Each tenant's change counter, read alone."""
    return {t: store.change_counter(t) for t in tenants}


def bumped(before: dict[str, int], after: dict[str, int]) -> set[str]:
    """The tenants whose counter went up; a counter that went down fails the test."""
    assert [] == [t for t in before if after[t] < before[t]]
    return {t for t in before if after[t] != before[t]}


def read_everything(store: Any, credentials: PrimaryCredentials, tenants: list[str]) -> None:
    """Every read of the port: whole-store reads, slices, and a snapshot's and a transaction's."""
    store.tenant_ids()
    store.export_inventory()
    store.total_objects()
    ids = [ObjectId(o["store"], o["key"]) for o in store.export_inventory()["objects"]]
    store.already_stored(tenants, [(o.store, o.key) for o in ids])
    store.object_rows(ids)
    for t in tenants:
        store.read_slice(t)
        store.read_counted_slice(t)
        with store.stream_counted_slice(t) as streamed:
            list(streamed.objects())
    for opened in (store.snapshot(), store.transaction(credentials)):
        with opened as tx:
            for t in tenants:
                tx.tenant_state(t)
                tx.change_counter(t)
            tx.objects(ids)
            tx.referrers(ids)
            tx.rows(ids)


def test_a_counter_reads_zero_until_a_write_counts(primary_store: OpenStore) -> None:
    """No row: 0, also after a transaction held it; an import counts its tenants."""
    store = primary_store.store
    with store.transaction(primary_store.credentials) as tx:
        held = tx.change_counter("t")
    assert (0, {"t": 0, "u": 0}) == (held, counters(store, ["t", "u"]))
    loaded(primary_store)
    after = counters(store, ["t", "u", "nobody"])
    assert ({"t", "u"}, 0) == ({t for t, n in after.items() if n > 0}, after["nobody"])


def test_a_counted_slice_is_the_slice_and_the_counter_of_one_snapshot(
    primary_store: OpenStore,
) -> None:
    """read_counted_slice gives read_slice and change_counter; snapshots read the same counter."""
    store = loaded(primary_store)
    with store.snapshot() as snapshot:
        in_snapshot = [snapshot.change_counter(t) for t in ("t", "u", "nobody")]
    assert [
        CountedSlice(store.read_slice(t), store.change_counter(t)) for t in ("t", "u", "nobody")
    ] == [store.read_counted_slice(t) for t in ("t", "u", "nobody")]
    assert [store.change_counter(t) for t in ("t", "u", "nobody")] == in_snapshot


def test_an_object_count_is_the_tenants_objects_now(primary_store: OpenStore) -> None:
    """object_count counts each tenant's objects in the store, 0 for none; a delete lowers it."""
    store = loaded(primary_store)
    owned = collections.Counter(o["tenant"] for o in store.export_inventory()["objects"])
    assert {**owned, "nobody": 0} == {t: store.object_count(t) for t in [*owned, "nobody"]}
    first = min(
        ObjectId(o["store"], o["key"])
        for o in store.read_slice("t")["objects"]
        if o["tenant"] == "t"
    )
    with store.transaction(primary_store.credentials) as tx:
        tx.delete("t", [first])
    assert owned["t"] - 1 == store.object_count("t")


def test_reads_do_not_bump_a_counter(primary_store: OpenStore) -> None:
    """Every read of the port, snapshots and write transactions included: no counter moves."""
    store = loaded(primary_store)
    before = counters(store, ["t", "u", "nobody"])
    read_everything(store, primary_store.credentials, ["t", "u", "nobody"])
    assert set() == bumped(before, counters(store, ["t", "u", "nobody"]))


def test_a_ref_from_another_tenant_bumps_the_tenant_it_names(primary_store: OpenStore) -> None:
    """A new tenant's object refs t's object a: t counts it, u (unrelated) does not."""
    store = loaded(primary_store)
    before = counters(store, ["t", "u", "w"])
    store.add_inventory({"tenants": [tenant("w")], "objects": [obj("w1", "w", refs=[("db", "a")])]})
    assert {"t", "w"} == bumped(before, counters(store, ["t", "u", "w"]))


def test_a_purges_delete_bumps_its_tenant_and_the_owners_its_refs_name(
    primary_store: OpenStore,
) -> None:
    """Deleting u's b (refs t's a and a dangling ref) bumps u and t; v, unrelated, stays."""
    store = loaded(primary_store)
    store.add_inventory({"tenants": [tenant("v")], "objects": [obj("v1", "v")]})
    before = counters(store, ["t", "u", "v"])
    with store.transaction(primary_store.credentials) as tx:
        assert 1 == tx.delete("u", [B])
    assert {"t", "u"} == bumped(before, counters(store, ["t", "u", "v"]))


def test_a_rolled_back_delete_bumps_nothing(primary_store: OpenStore) -> None:
    """The counter is written in the transaction: rolling the delete back takes the bump back."""
    store = loaded(primary_store)
    store.open_journal(journal("p1", "2026-03-01T00:00:00Z"))
    before = counters(store, ["t", "u"])
    with pytest.raises(RuntimeError, match="boom"):
        delete_then_fail(store, primary_store.credentials)
    assert set() == bumped(before, counters(store, ["t", "u"]))


@pytest.mark.parametrize(
    ("statement", "params", "expected"),
    [
        ("UPDATE tenants SET legal_hold = ? WHERE id = ?", (True, "t"), {"t"}),
        (
            "INSERT INTO events (tenant, pos, kind, at) VALUES (?, 5, 'reactivated', ?)",
            ("t", "2026-02-01T00:00:00Z"),
            {"t"},
        ),
        ("DELETE FROM events WHERE tenant = ?", ("t",), {"t"}),
        ("UPDATE objects SET legal_hold = ? WHERE key = ?", (True, "c"), {"u"}),
        ("UPDATE objects SET tenant = ? WHERE key = ?", ("t", "c"), {"t", "u"}),
        ("INSERT INTO refs VALUES ('db', 'c', 0, 'db', ?)", ("a",), {"t", "u"}),
        ("INSERT INTO refs VALUES ('db', 'a', 0, 'x', ?)", ("nowhere",), {"t"}),
        ("DELETE FROM refs WHERE from_key = ? AND pos = 0", ("b",), {"t", "u"}),
        ("UPDATE refs SET to_key = ? WHERE from_key = 'b' AND pos = 0", ("c",), {"t", "u"}),
    ],
    ids=[
        "tenant-hold",
        "event",
        "events-dropped",
        "object-hold",
        "object-moved",
        "ref-into-t",
        "dangling-ref",
        "ref-dropped",
        "ref-retargeted",
    ],
)
def test_a_write_beside_the_store_bumps_the_tenants_it_concerns(
    primary_store: OpenStore, statement: str, params: tuple[object, ...], expected: set[str]
) -> None:
    """A service writing the tables directly is counted by the triggers, for the right tenants."""
    store = loaded(primary_store)
    store.add_inventory({"tenants": [tenant("v")], "objects": [obj("v1", "v")]})
    before = counters(store, ["t", "u", "v"])
    primary_store.write(statement, params)
    assert expected == bumped(before, counters(store, ["t", "u", "v"]))


# -- journals, safe mode, runs ------------------------------------------------------------------


def test_journals_and_their_steps(primary_store: OpenStore) -> None:
    """Journals oldest first, the unfinished ones alone when asked; steps in order with data."""
    store = primary_store.store
    store.open_journal(journal("p2", "2026-03-02T00:00:00Z"))
    store.open_journal(journal("p1", "2026-03-01T00:00:00Z", "u"))
    store.add_journal_step("p1", "started", {"objects": 3, "a": [1, "x"]})
    store.add_journal_step("p1", "deleted", {})
    store.close_journal("p2", "done", "2026-03-02T01:00:00Z")
    assert ["p1", "p2"] == [j["purge_id"] for j in store.journals()]
    assert [{**journal("p1", "2026-03-01T00:00:00Z", "u"), "finished_at": None}] == store.journals(
        unfinished=True
    )
    assert ("done", "2026-03-02T01:00:00Z") == (
        store.journals()[1]["state"],
        store.journals()[1]["finished_at"],
    )
    assert [
        {"step": "started", "data": {"a": [1, "x"], "objects": 3}},
        {"step": "deleted", "data": {}},
    ] == store.journal_steps("p1")
    assert [] == store.journal_steps("p2")
    store.add_journal_step("p1", "started", {"objects": 4})
    assert (
        [{"step": "deleted", "data": {}}],
        [{"objects": 3, "a": [1, "x"]}, {"objects": 4}],
        3,
        [],
    ) == (
        store.journal_steps("p1", only=("deleted",)),
        [s["data"] for s in store.journal_steps("p1", only=["started", "nothing"])],
        len(store.journal_steps("p1", only=("deleted", "started"))),
        store.journal_steps("p1", only=()),
    )


def test_one_trip_is_active_at_a_time(primary_store: OpenStore) -> None:
    """A second trip while one is active records nothing and returns the active one."""
    store = primary_store.store
    first, second = trip("trip-1", "2026-03-01T00:00:00Z"), trip("trip-2", "2026-03-02T00:00:00Z")
    active = {**first, "reset_at": None, "reset_by": None, "reset_reason": None}
    assert first == store.add_trip(first)
    assert active == store.add_trip(second)
    assert active == store.active_trip()
    assert not store.clear_trip("trip-2", reset_at="x", reset_by=["a", "b"], reason="no")
    assert store.clear_trip(
        "trip-1", reset_at="2026-03-01T02:00:00Z", reset_by=["alice", "bob"], reason="fixed"
    )
    assert not store.clear_trip("trip-1", reset_at="x", reset_by=["a", "b"], reason="again")
    assert None is store.active_trip()
    assert second == store.add_trip(second)
    assert [
        {
            **first,
            "reset_at": "2026-03-01T02:00:00Z",
            "reset_by": ["alice", "bob"],
            "reset_reason": "fixed",
        },
        {**second, "reset_at": None, "reset_by": None, "reset_reason": None},
    ] == store.trips()


def test_record_run_sees_the_earlier_sane_runs(primary_store: OpenStore) -> None:
    """Each run gets the next id and the latest as_of and ran_at of the sane runs before it."""
    store = primary_store.store
    assert (1, None, None) == store.record_run("a1", 100.0, "r1", 110.0, sane=True)
    assert (2, 100.0, 110.0) == store.record_run("a2", 300.0, "r2", 310.0, sane=True)
    store.mark_run_insane(2)
    assert (3, 100.0, 110.0) == store.record_run("a3", 200.5, "r3", 210.5, sane=False)
    assert (4, 100.0, 110.0) == store.record_run("a4", 50.0, "r4", 60.0, sane=True)
    assert [
        {"run_id": 1, "as_of": "a1", "ran_at": "r1", "sane": True},
        {"run_id": 2, "as_of": "a2", "ran_at": "r2", "sane": False},
        {"run_id": 3, "as_of": "a3", "ran_at": "r3", "sane": False},
        {"run_id": 4, "as_of": "a4", "ran_at": "r4", "sane": True},
    ] == store.runs()


def test_store_clock(primary_store: OpenStore) -> None:
    """SQLite has no clock of its own (None); PostgreSQL gives the server's now(), aware."""
    clock = primary_store.store.store_clock()
    if primary_store.kind == "sqlite":
        assert None is clock
    else:
        assert clock is not None
        assert clock.utcoffset() is not None
        assert abs(clock - datetime.now(UTC)) < timedelta(minutes=1)


# -- receipts, archives, plans, meta ------------------------------------------------------------


def test_receipts(primary_store: OpenStore) -> None:
    """Receipts per tenant, oldest first; the same plan digest again replaces its receipt."""
    store = primary_store.store
    common = {"as_of": "2026-03-01T00:00:00Z", "backup_due": None}
    store.record_receipt(tenant="t", plan_digest="d2", executed_at="2026-03-03", purged=2, **common)
    store.record_receipt(tenant="t", plan_digest="d1", executed_at="2026-03-02", purged=1, **common)
    store.record_receipt(tenant="u", plan_digest="d1", executed_at="2026-03-01", purged=9, **common)
    store.record_receipt(
        tenant="t",
        plan_digest="d2",
        as_of="2026-03-04T00:00:00Z",
        executed_at="2026-03-04",
        purged=5,
        backup_due="2026-04-01",
    )
    assert [
        {"plan_digest": "d1", "executed_at": "2026-03-02", "purged": 1, **common},
        {
            "plan_digest": "d2",
            "as_of": "2026-03-04T00:00:00Z",
            "executed_at": "2026-03-04",
            "purged": 5,
            "backup_due": "2026-04-01",
        },
    ] == store.receipts("t")


def test_archives(primary_store: OpenStore) -> None:
    """Archive records oldest first; restored_at and removed_at are set; other columns refused."""
    store = primary_store.store
    store.add_archive(archive_record("ar-2", "2026-03-02T00:00:00Z"))
    store.add_archive(archive_record("ar-1", "2026-03-01T00:00:00Z"))
    store.mark_archive("ar-1", restored_at="2026-03-05T00:00:00Z")
    store.mark_archive("ar-2", removed_at="2026-03-06T00:00:00Z")
    with pytest.raises(ValueError, match="unknown archive column path"):
        store.mark_archive("ar-2", path="elsewhere")
    empty = {"restored_at": None, "removed_at": None}
    first = {**archive_record("ar-1", "2026-03-01T00:00:00Z"), **empty}
    second = {**archive_record("ar-2", "2026-03-02T00:00:00Z"), **empty}
    assert [
        {**first, "restored_at": "2026-03-05T00:00:00Z"},
        {**second, "removed_at": "2026-03-06T00:00:00Z"},
    ] == store.archives()
    assert (store.archives()[1], None) == (store.archive("ar-2"), store.archive("nope"))


def test_plans(primary_store: OpenStore) -> None:
    """Plan records oldest first; mark_plan sets its columns, an unknown one changes nothing."""
    store = primary_store.store
    store.add_plan(plan_record("pl-2", "2026-03-02T00:00:00Z"))
    store.add_plan(plan_record("pl-1", "2026-03-01T00:00:00Z"))
    store.mark_plan("pl-1", executed_at="2026-03-03T00:00:00Z", executed_by="bob")
    with pytest.raises(ValueError, match="unknown plan column digest"):
        store.mark_plan("pl-2", archive_id="ar-9", digest="forged")
    empty = dict.fromkeys(
        ("executed_at", "executed_by", "archive_id", "restored_at", "restored_by")
    )
    first = {**plan_record("pl-1", "2026-03-01T00:00:00Z"), **empty}
    second = {**plan_record("pl-2", "2026-03-02T00:00:00Z"), **empty}
    marked = {**first, "executed_at": "2026-03-03T00:00:00Z", "executed_by": "bob"}
    assert [marked, second] == store.plans()
    assert (marked, None) == (store.plan("pl-1"), store.plan("nope"))


def test_meta(primary_store: OpenStore) -> None:
    """A meta value is None until set, then the latest value set."""
    store = primary_store.store
    assert None is store.get_meta("audit_head")
    store.set_meta("audit_head", "h1")
    store.set_meta("audit_head", "h2")
    store.set_meta("other", "o")
    assert ("h2", "o") == (store.get_meta("audit_head"), store.get_meta("other"))


# -- concurrency both stores share ---------------------------------------------------------------


def test_a_snapshot_is_one_state_under_a_writer(primary_store: OpenStore) -> None:
    """A second runner's import while a snapshot is open does not show in that snapshot."""
    store = loaded(primary_store)
    other = primary_store.reopen()
    with store.snapshot() as snapshot:
        before = snapshot.objects([A, ObjectId("db", "new")])
        other.add_inventory({"tenants": [tenant("v")], "objects": [obj("new", "v")]})
        after = snapshot.objects([A, ObjectId("db", "new")])
        new_rows = snapshot.rows([ObjectId("db", "new")])
    assert (before, []) == (after, new_rows)
    assert 4 == store.total_objects()


# -- properties: both stores give back the same ---------------------------------------------------


@settings(
    max_examples=examples(ci=60, dev=20),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios(max_objects=10))
def test_both_stores_give_back_the_inventory_and_the_same_slices(
    postgres_roles: Provisioned, scenario: Scenario
) -> None:
    """Import a drawn inventory: export gives it back and every tenant's slice agrees, on both."""
    with both_stores(postgres_roles) as both:
        sqlite, postgres = both.sqlite, both.postgres
        for store in (sqlite, postgres):
            store.add_inventory(scenario.inventory)
        exported = (sqlite.export_inventory(), postgres.export_inventory())
        tenants = sqlite.tenant_ids()
        slices = [(sqlite.read_slice(t), postgres.read_slice(t)) for t in tenants]
    expected = normalised(scenario.inventory)
    assert (expected, expected) == exported
    assert [t["id"] for t in expected["tenants"]] == tenants
    for from_sqlite, from_postgres in slices:
        assert from_sqlite == from_postgres


# The store the counter property starts from: t's b refs t's a; u's c refs a; v's d refs c and
# nothing; v's e is alone.
COUNTED: dict[str, Any] = {
    "tenants": [
        tenant("t", event("cancelled", "2026-01-01T00:00:00Z")),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
        tenant("v"),
    ],
    "objects": [
        obj("a"),
        obj("b", refs=[("db", "a")]),
        obj("c", "u", refs=[("db", "a")]),
        obj("d", "v", refs=[("db", "c"), ("x", "gone")]),
        obj("e", "v"),
    ],
}


@attrs.define
class CounterModel:
    """What the store holds, as far as whose counter a write bumps goes (ports rule 7)."""

    tenants: list[str] = attrs.Factory(lambda: [t["id"] for t in COUNTED["tenants"]])
    owners: dict[ObjectId, str] = attrs.Factory(
        lambda: {ObjectId(o["store"], o["key"]): o["tenant"] for o in COUNTED["objects"]}
    )
    refs: list[tuple[ObjectId, int, ObjectId]] = attrs.Factory(
        lambda: [
            (ObjectId(o["store"], o["key"]), pos, ObjectId(*ref))
            for o in COUNTED["objects"]
            for pos, ref in enumerate(o.get("refs", []))
        ]
    )
    events: dict[str, int] = attrs.Factory(lambda: {"t": 1, "u": 1, "v": 0})
    imported: int = 0

    def ends(self, source: ObjectId, target: ObjectId) -> set[str]:
        """The tenants a ref concerns: the owners of those of its ends that exist."""
        return {self.owners[o] for o in (source, target) if o in self.owners}

    def objects(self) -> list[ObjectId]:
        """Every object, in a stable order."""
        return sorted(self.owners)


@attrs.frozen
class Resolved:
    """A write resolved against the model: what to run, and whose counters it must bump.

    Attributes:
        statement: SQL for the writer beside the store; None for the store's own import
            (``tenant_id`` with an object naming ``target``), purge (``ids`` of ``tenant_id``)
            or reads.
        params: the statement's parameters.
        expected: the tenants whose counter the write bumps.
    """

    statement: str | None
    params: tuple[object, ...] = ()
    expected: frozenset[str] = frozenset()
    kind: str = "read"
    tenant_id: str = ""
    ids: tuple[ObjectId, ...] = ()
    target: ObjectId | None = None


def resolve(model: CounterModel, write: StoreWrite) -> Resolved:
    """The write made concrete against the model (which it updates), and the tenants it bumps."""
    tenant_id = model.tenants[write.first % len(model.tenants)]
    objects = model.objects()
    if write.kind == "event":
        pos = model.events[tenant_id]
        model.events[tenant_id] = pos + 1
        kind = "reactivated" if write.flag else "erasure_requested"
        return Resolved(
            "INSERT INTO events (tenant, pos, kind, at) VALUES (?, ?, ?, ?)",
            (tenant_id, pos, kind, "2026-02-01T00:00:00Z"),
            frozenset({tenant_id}),
        )
    if write.kind == "tenant-hold":
        return Resolved(
            "UPDATE tenants SET legal_hold = ? WHERE id = ?",
            (write.flag, tenant_id),
            frozenset({tenant_id}),
        )
    if write.kind == "drop-events":
        had = model.events[tenant_id] > 0
        model.events[tenant_id] = 0
        return Resolved(
            "DELETE FROM events WHERE tenant = ?",
            (tenant_id,),
            frozenset({tenant_id} if had else ()),
        )
    if write.kind == "import":
        name = f"n{model.imported}"
        model.imported += 1
        target = objects[write.second % len(objects)] if write.flag and objects else None
        expected = {name} | (set() if target is None else {model.owners[target]})
        model.tenants.append(name)
        model.events[name] = 0
        model.owners[ObjectId("db", f"{name}-o")] = name
        if target is not None:
            model.refs.append((ObjectId("db", f"{name}-o"), 0, target))
        return Resolved(None, (), frozenset(expected), "import", name, target=target)
    if write.kind == "purge":
        mine = [o for o in objects if model.owners[o] == tenant_id]
        ids = mine if write.flag else mine[:1]
        gone = set(ids)
        expected = {tenant_id} if ids else set()
        expected |= {
            model.owners[to] for s, _, to in model.refs if s in gone and to in model.owners
        }
        model.refs = [r for r in model.refs if r[0] not in gone]
        for o in ids:
            del model.owners[o]
        return Resolved(None, (), frozenset(expected), "purge", tenant_id, tuple(ids))
    if write.kind == "drop-ref" and model.refs:
        source, pos, target = model.refs.pop(write.first % len(model.refs))
        return Resolved(
            "DELETE FROM refs WHERE from_store = ? AND from_key = ? AND pos = ?",
            (source.store, source.key, pos),
            frozenset(model.ends(source, target)),
        )
    if write.kind in {"object-hold", "move", "add-ref"} and objects:
        chosen = objects[write.first % len(objects)]
        owner = model.owners[chosen]
        if write.kind == "object-hold":
            return Resolved(
                "UPDATE objects SET legal_hold = ? WHERE store = ? AND key = ?",
                (write.flag, chosen.store, chosen.key),
                frozenset({owner}),
            )
        if write.kind == "move":
            new = model.tenants[write.second % len(model.tenants)]
            model.owners[chosen] = new
            return Resolved(
                "UPDATE objects SET tenant = ? WHERE store = ? AND key = ?",
                (new, chosen.store, chosen.key),
                frozenset({owner, new}),
            )
        target = objects[write.second % len(objects)] if write.flag else ObjectId("x", "gone")
        pos = 1 + max((p for s, p, _ in model.refs if s == chosen), default=-1)
        model.refs.append((chosen, pos, target))
        return Resolved(
            "INSERT INTO refs VALUES (?, ?, ?, ?, ?)",
            (chosen.store, chosen.key, pos, target.store, target.key),
            frozenset(model.ends(chosen, target)),
        )
    return Resolved(None)


def apply(
    store: Any,
    credentials: PrimaryCredentials,
    write: DirectWriter,
    resolved: Resolved,
    tenants: list[str],
) -> None:
    """Run one resolved write on ``store``: its own API for imports and purges, else directly."""
    if resolved.statement is not None:
        write(resolved.statement, resolved.params)
    elif resolved.kind == "import":
        name, target = resolved.tenant_id, resolved.target
        refs = [] if target is None else [(target.store, target.key)]
        store.add_inventory(
            {"tenants": [tenant(name)], "objects": [obj(f"{name}-o", name, refs=refs)]}
        )
    elif resolved.kind == "purge":
        with store.transaction(credentials) as tx:
            tx.change_counter(resolved.tenant_id)
            assert len(resolved.ids) == tx.delete(resolved.tenant_id, list(resolved.ids))
    else:
        read_everything(store, credentials, tenants)


@settings(
    max_examples=examples(ci=60, dev=20),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(writes=store_writes())
def test_each_write_bumps_exactly_the_tenants_it_concerns_on_both_stores(
    postgres_roles: Provisioned, writes: list[StoreWrite]
) -> None:
    """Random writes of every kind, reads among them: each bumps exactly the model's tenants."""
    credentials = postgres_roles.primary()
    with both_stores(postgres_roles) as both:
        stores: list[tuple[Any, DirectWriter]] = [
            (both.sqlite, direct_writer("sqlite", str(both.directory / "primary.db"))),
            (both.postgres, direct_writer("postgresql", postgres_roles.admin_url)),
        ]
        model = CounterModel()
        for store, _ in stores:
            store.record_primary_credentials(credentials)
            store.add_inventory(COUNTED)
        for write in writes:
            resolved = resolve(model, write)
            for store, writer in stores:
                before = counters(store, model.tenants)
                apply(store, credentials, writer, resolved, model.tenants)
                after = counters(store, model.tenants)
                assert (write, set(resolved.expected)) == (write, bumped(before, after))


# -- PostgreSQL only ----------------------------------------------------------------------------


def with_postgres(test: Any) -> Any:
    """Run ``test`` against the PostgreSQL store only."""
    return pytest.mark.parametrize("primary_store", ["postgresql"], indirect=True)(test)


@with_postgres
def test_a_second_writer_waits_for_the_open_transaction(primary_store: OpenStore) -> None:
    """While a write transaction is open, another connection's insert into objects waits."""
    store = loaded(primary_store)
    other = primary_store.reopen()
    other.tenant_ids()  # logged in before the lock is taken
    done = threading.Event()
    errors: list[BaseException] = []

    def insert() -> None:
        try:
            other.add_inventory({"tenants": [tenant("v")], "objects": [obj("new", "v")]})
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    with store.transaction(primary_store.credentials) as tx:
        tx.delete("t", [A])
        thread = threading.Thread(target=insert)
        thread.start()
        waited = not done.wait(0.5)
        seen = tx.objects([ObjectId("db", "new")])
    assert done.wait(10)
    thread.join()
    assert (True, {}, []) == (waited, seen, errors)
    assert [B, C, ObjectId("db", "new")] == sorted(
        store.object_rows([A, B, C, ObjectId("db", "new")])
    )


@with_postgres
def test_a_write_transaction_reads_what_committed_before_its_lock(
    primary_store: OpenStore,
) -> None:
    """READ COMMITTED after the lock: a transaction sees an import committed just before it."""
    store = loaded(primary_store)
    other = primary_store.reopen()
    other.add_inventory({"tenants": [tenant("v")], "objects": [obj("new", "v")]})
    with store.transaction(primary_store.credentials) as tx:
        assert 1 == tx.delete("v", [ObjectId("db", "new")])


@with_postgres
def test_the_server_refuses_a_write_in_a_snapshot(
    primary_store: OpenStore, record_property: Any
) -> None:
    """A write statement inside a snapshot fails with the server's read-only error."""
    store = loaded(primary_store)
    with (
        pytest.raises(pgerrors.ReadOnlySqlTransaction) as refused,
        store.snapshot() as snapshot,
    ):
        snapshot._db.execute("DELETE FROM twinpurge.objects")  # noqa: SLF001 -- a stray write
    assert "cannot execute DELETE in a read-only transaction" == refused.value.diag.message_primary
    assert 3 == store.total_objects()
    record_property("postgres_refusal", f"snapshot: DELETE -> {refused.value.diag.message_primary}")


@with_postgres
def test_without_credentials_the_store_cannot_even_read(primary_store: OpenStore) -> None:
    """No credentials: every call that needs the server is a CredentialError naming the variable."""
    store = PostgresStore(primary_store.store.url, None)
    calls: list[Callable[[], object]] = [
        store.tenant_ids,
        store.total_objects,
        store.export_inventory,
        lambda: store.read_slice("t"),
        lambda: store.get_meta("audit_head"),
        lambda: store.add_inventory(BASE),
        store.store_clock,
        store.open_connection,
        lambda: store.verify_credentials(primary_store.credentials),
    ]
    for call in calls:
        with pytest.raises(CredentialError) as refused:
            call()
        assert refused.value.message.startswith(
            "a PostgreSQL store needs the primary credentials to log in, even to read"
        )
        assert "TWINPURGE_PRIMARY_CREDENTIALS" in refused.value.message
    store.close()


@with_postgres
def test_backup_credentials_open_no_postgres_store(primary_store: OpenStore) -> None:
    """Backup credentials are refused before anything is opened, as require_primary words it."""
    reset_credential_domains_for_tests()
    backup = BackupCredentials(os.urandom(32), "tests: backup")
    with pytest.raises(CredentialError, match="backup credentials never open the primary store"):
        PostgresStore(primary_store.store.url, backup)  # type: ignore[arg-type]


@with_postgres
def test_another_secret_cannot_log_in(primary_store: OpenStore) -> None:
    """A store opened with credentials that are not the store's: the server refuses the login."""
    store = PostgresStore(
        primary_store.store.url, PrimaryCredentials(os.urandom(32), "tests: another")
    )
    with pytest.raises(StoreLoginError, match="refused the password of twinpurge_purge"):
        store.tenant_ids()
    store.close()


@with_postgres
def test_a_broken_connection_is_reopened(
    primary_store: OpenStore, postgres_roles: Provisioned
) -> None:
    """The server ends the session: StoreUnavailableError once, then a new connection serves."""
    store = loaded(primary_store)
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE usename = 'twinpurge_purge'"
        )
    with pytest.raises(StoreUnavailableError, match="cannot be reached or went away"):
        store.tenant_ids()
    assert ["t", "u"] == store.tenant_ids()
    with psycopg.connect(postgres_roles.admin_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE usename = 'twinpurge_purge'"
        )
    with (
        pytest.raises(StoreUnavailableError),
        store.transaction(primary_store.credentials) as tx,
    ):
        tx.delete("t", [A])
    with store.transaction(primary_store.credentials) as tx:
        assert 1 == tx.delete("t", [A])


@with_postgres
def test_open_connection_is_a_new_autocommit_purge_session(primary_store: OpenStore) -> None:
    """open_connection: a fresh autocommit session as twinpurge_purge; close() closes it."""
    store = primary_store.store
    first, second = store.open_connection(), store.open_connection()
    assert (True, ("twinpurge_purge",)) == (
        first.autocommit,
        first.execute("SELECT current_user").fetchone(),
    )
    assert (True,) == first.execute("SELECT pg_try_advisory_lock(42)").fetchone()
    assert (False,) == second.execute("SELECT pg_try_advisory_lock(42)").fetchone()
    store.close()
    assert (True, True) == (first.closed, second.closed)


@with_postgres
def test_an_insert_inside_the_stores_own_transaction_is_refused(primary_store: OpenStore) -> None:
    """An import while this store's transaction holds the lock would wait forever: UsageError."""
    store = loaded(primary_store)
    with store.transaction(primary_store.credentials):
        with pytest.raises(UsageError, match="is open; insert after it ends"):
            store.add_inventory({"tenants": [tenant("v")], "objects": []})
        started = time.monotonic()
    assert time.monotonic() - started < 5


@with_postgres
def test_a_write_transaction_holds_its_tenants_counter(primary_store: OpenStore) -> None:
    """Once a transaction read t's counter, a hold on t waits for its commit; one on u does not."""
    store = loaded(primary_store)
    before = counters(store, ["t", "u"])
    finished: dict[str, threading.Event] = {"t": threading.Event(), "u": threading.Event()}
    errors: list[BaseException] = []

    def hold(tenant_id: str) -> None:
        try:
            primary_store.write("UPDATE tenants SET legal_hold = ? WHERE id = ?", (True, tenant_id))
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)
        finally:
            finished[tenant_id].set()

    with store.transaction(primary_store.credentials) as tx:
        held = tx.change_counter("t")
        writers = [threading.Thread(target=hold, args=(t,)) for t in ("t", "u")]
        for writer in writers:
            writer.start()
        other_done = finished["u"].wait(10)
        waited = not finished["t"].wait(0.5)
        state = tx.tenant_state("t")
    assert finished["t"].wait(10)
    for writer in writers:
        writer.join()
    assert (True, True, (False, [("cancelled", "2026-01-01T00:00:00Z")]), []) == (
        other_done,
        waited,
        state,
        errors,
    )
    assert (before["t"], {"t", "u"}) == (held, bumped(before, counters(store, ["t", "u"])))
