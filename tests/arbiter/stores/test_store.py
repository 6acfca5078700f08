"""The embedded store and workspace loading: slices, snapshots, import validation, round trips."""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import arbiter
from arbiter import InputError, ObjectId, SqliteStore, Workspace
from arbiter.stores.sqlite import SCHEMA
from tests.builders import event, obj, tenant, workspace
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

BASE = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [obj("a"), obj("b", "u", refs=[("db", "a")]), obj("c", "u")],
}


def test_export_gives_back_what_was_imported(tmp_path: Path) -> None:
    """Import then export: the same tenants, events, objects and refs (defaults written out)."""
    inventory = {
        "tenants": [
            tenant(
                "t",
                event("subscribed", "2025-01-01T09:00:00+09:00"),
                event("cancelled", "2026-01-01T00:00:00Z"),
                legal_hold=False,
            ),
            tenant("u", legal_hold=True),
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
            {
                "store": "db",
                "key": "b",
                "tenant": "u",
                "category": "default",
                "created_at": "2020-01-01T00:00:00Z",
                "legal_hold": False,
                "refs": [],
            },
        ],
    }
    with workspace(tmp_path / "ws", inventory) as ws:
        assert inventory == ws.export_inventory()


def test_import_refuses_path_traversal_keys(tmp_path: Path) -> None:
    """A blob key that could escape the blob directory is bad input; nothing is loaded."""
    with workspace(tmp_path / "ws", BASE) as ws:
        for key in ("../x", "/etc/passwd", "a/../../b", "a//b", "a\x00b", "a\\b", "./a"):
            bad = {"tenants": [tenant("v")], "objects": [obj(key, "v", store="blob")]}
            with pytest.raises(InputError) as info:
                ws.import_inventory(bad, {ObjectId("blob", key): b"x"})
            assert "objects[0].key" == info.value.field
        assert ["t", "u"] == ws.store.tenant_ids()
        assert [] == [p for p in Path(ws.blobs.root).rglob("*") if p.is_file()]


def test_an_import_puts_its_files_in_place_and_leaves_no_temporary(tmp_path: Path) -> None:
    """Blob files land with their rows, each holding its bytes; no temporary is left."""
    with workspace(tmp_path / "ws", BASE) as ws:
        new = {
            "tenants": [tenant("v")],
            "objects": [obj("v/1", "v", store="blob"), obj("v/2", "v", store="blob")],
        }
        ws.import_inventory(new, {ObjectId("blob", "v/1"): b"one", ObjectId("blob", "v/2"): b""})
        root = Path(ws.blobs.root)
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.*")}
        found = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
        assert ({}, {"blob/v/1": b"one", "blob/v/2": b""}) == (files, found)
        assert 5 == ws.store.total_objects()


def test_an_import_refused_in_a_later_chunk_changes_no_file_and_no_row(tmp_path: Path) -> None:
    """A repeat of a stored object found in the third chunk: no file changes, no row is added."""
    first = {"tenants": [tenant("v")], "objects": [obj("v/1", "v", store="blob")]}
    with workspace(tmp_path / "ws", first, payloads={ObjectId("blob", "v/1"): b"old"}) as ws:
        again = {
            "tenants": [tenant("w")],
            "objects": [obj(f"w/{i}", "w", store="blob") for i in range(4)]
            + [obj("v/1", "w", store="blob")],
        }
        payloads = {ObjectId(o["store"], o["key"]): b"new" for o in again["objects"]}
        with pytest.raises(InputError, match="already holds it") as info:
            ws.import_inventory(again, payloads, chunk_size=2)
        assert "objects[4]" == info.value.field
        root = Path(ws.blobs.root)
        found = {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
        assert {"blob/v/1": b"old"} == found
        assert (["v"], 1) == (ws.store.tenant_ids(), ws.store.total_objects())


def test_import_validates_like_planning(tmp_path: Path) -> None:
    """Import rejects what the planners reject (spec §4.4), naming the field; nothing loaded."""
    with workspace(tmp_path / "ws", BASE) as ws:
        bad = {"tenants": [tenant("v")], "objects": [{**obj("z", "v"), "legalhold": True}]}
        with pytest.raises(InputError) as info:
            ws.import_inventory(bad, file="new.json")
        assert ("new.json", "objects[0].legalhold") == (info.value.file, info.value.field)
        assert 3 == ws.store.total_objects()


def test_import_refuses_a_duplicate_of_a_stored_object(tmp_path: Path) -> None:
    """An identity already in the store is bad input; nothing of the new file is loaded."""
    with workspace(tmp_path / "ws", BASE) as ws:
        bad = {"tenants": [tenant("v")], "objects": [obj("new", "v"), obj("a", "v")]}
        with pytest.raises(InputError):
            ws.import_inventory(bad)
        assert ["t", "u"] == ws.store.tenant_ids()


def test_slice_holds_the_tenant_and_its_referrers(tmp_path: Path) -> None:
    """The slice: T's objects, other tenants' objects that ref them, and those tenants."""
    with workspace(tmp_path / "ws", BASE) as ws:
        piece = ws.store.read_slice("t")
    assert (["t", "u"], ["a", "b"]) == (
        [t["id"] for t in piece["tenants"]],
        [o["key"] for o in piece["objects"]],
    )


@settings(max_examples=examples(ci=150, dev=30), suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(max_objects=10))
def test_verdict_on_the_slice_equals_the_verdict_on_everything(scenario: Scenario) -> None:
    """The slice read from the store gives both planners' verdict on the whole inventory."""
    try:
        whole = arbiter.arbitrate(*scenario.args()).verdict
    except (arbiter.InputError, arbiter.RefusedError):
        return
    with (
        tempfile.TemporaryDirectory() as directory,
        workspace(Path(directory) / "ws", scenario.inventory, policy=scenario.policy) as ws,
    ):
        piece = ws.store.read_slice(scenario.tenant)
    assert (
        whole == arbiter.arbitrate(piece, scenario.policy, scenario.tenant, scenario.as_of).verdict
    )


def test_slice_is_one_snapshot_under_a_concurrent_writer(tmp_path: Path) -> None:
    """A writer adding object-and-ref pairs in one transaction never shows half a pair to a reader."""
    with workspace(tmp_path / "ws", BASE) as ws:
        database = Path(ws.config.path(ws.config.store.database))
        credentials = ws.require_credentials("a concurrent writer")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        store = SqliteStore(database)
        try:
            for i in range(150):
                with store.transaction(credentials) as tx:
                    db = tx._db  # noqa: SLF001 -- a second service writing to the same store
                    db.execute(
                        "INSERT INTO objects VALUES ('db', ?, 'u', 'default', '2020-01-01T00:00:00Z', 0, NULL)",
                        (f"w{i}",),
                    )
                    db.execute("INSERT INTO refs VALUES ('db', ?, 0, 'db', 'a')", (f"w{i}",))
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)
        finally:
            store.close()
            stop.set()

    reader = SqliteStore(database)
    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    while not stop.is_set() or seen == 0:
        piece = reader.read_slice("t")
        keys = {o["key"] for o in piece["objects"]}
        referrers = {o["key"] for o in piece["objects"] if ["db", "a"] in o["refs"]}
        assert {k for k in keys if k.startswith("w")} == {k for k in referrers if k.startswith("w")}
        seen += 1
    thread.join()
    reader.close()
    assert [] == errors
    assert 150 + 1 == len(SqliteStore(database).read_slice("t")["objects"]) - 1


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    """Creating a workspace where one exists is a usage error; the old config stays."""
    with workspace(tmp_path / "ws", BASE):
        pass
    before = (tmp_path / "ws" / "twinpurge.toml").read_text(encoding="utf-8")
    with pytest.raises(arbiter.UsageError):
        Workspace.create(tmp_path / "ws", arbiter.WorkspaceConfig(policy={"timezone": "UTC"}))
    assert before == (tmp_path / "ws" / "twinpurge.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        ('timezone = "UTC"', 'timezone = "Mars/Base"', "policy.timezone"),
        ('timezone = "UTC"', 'timezone = "UTC"\nlegalhold = true', "policy.legalhold"),
        ("batch_size = 2", "batch_size = 0", "limits"),
        ("batch_size = 2", 'batch_size = "2"', "limits.batch_size"),
        ("batch_size = 2", "batchsize = 2", "limits.batchsize"),
        ('log = "audit.jsonl"', "log = 7", "audit.log"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path: Path, replace: str, by: str, field: str) -> None:
    """A bad twinpurge.toml is InputError naming the file and the field."""
    with workspace(tmp_path / "ws", BASE):
        pass
    path = tmp_path / "ws" / "twinpurge.toml"
    text = path.read_text(encoding="utf-8")
    assert replace in text
    path.write_text(text.replace(replace, by), encoding="utf-8")
    with pytest.raises(InputError) as info:
        Workspace.open(tmp_path / "ws")
    assert (str(path), field) == (info.value.file, info.value.field)


def test_paths_are_relative_to_the_config_not_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every path resolves against the workspace directory, wherever the process runs."""
    with workspace(tmp_path / "ws", BASE):
        pass
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with Workspace.open(tmp_path / "ws") as ws:
        assert 3 == ws.store.total_objects()
    assert [] == list(elsewhere.iterdir())


def payload_of(ws: Workspace, store: str, key: str) -> Any:
    """A record's payload or a blob's bytes."""
    identity = ObjectId(store, key)
    return ws.blobs.read(identity) if ws.blobs.is_blob_store(store) else ws.store.payload(identity)


def test_payloads_land_in_rows_and_files(tmp_path: Path) -> None:
    """Record payloads go to the database; blob payloads to files under blobs/STORE/KEY."""
    inventory = {"tenants": [tenant("t")], "objects": [obj("r"), obj("dir/f.bin", store="blob")]}
    payloads = {ObjectId("db", "r"): b"row", ObjectId("blob", "dir/f.bin"): b"\x00\xffbytes"}
    with workspace(tmp_path / "ws", inventory, payloads=payloads) as ws:
        assert (b"row", b"\x00\xffbytes") == (
            payload_of(ws, "db", "r"),
            payload_of(ws, "blob", "dir/f.bin"),
        )
        assert (tmp_path / "ws" / "blobs" / "blob" / "dir" / "f.bin").is_file()


def _schema_before_the_counter() -> str:
    """The SQLite schema as it was before the change counter: no counter table, no trigger."""
    statements = re.split(r";\n(?=CREATE)", SCHEMA.strip())
    kept = [s for s in statements if "change_counters" not in s]
    assert len(kept) + 13 == len(statements)  # the counter's table and its twelve triggers
    return ";\n".join(kept) + ";\n"


def test_a_store_created_before_the_counter_gets_it_when_opened(tmp_path: Path) -> None:
    """An older database opens with the counter: every tenant reads 0, and writes count again."""
    path = tmp_path / "primary.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(_schema_before_the_counter())
    old.executescript(
        "INSERT INTO tenants VALUES ('t', 0, 1), ('u', 0, 1);"
        "INSERT INTO objects VALUES ('db', 'a', 't', 'default', '2020-01-01T00:00:00Z', 0, NULL);"
    )
    old.close()
    store = SqliteStore(path)
    try:
        before = (store.change_counter("t"), store.read_counted_slice("t").counter)
        store.add_inventory({"tenants": [], "objects": [obj("b", "u", refs=[("db", "a")])]})
        triggers = sorted(
            row[0]
            for row in store._db.execute(  # noqa: SLF001 -- the schema itself is what is checked
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            )
        )
        after = (store.change_counter("t"), store.change_counter("u"))
    finally:
        store.close()
    assert ((0, 0), 12) == (before, len(triggers))
    assert (True, True) == (after[0] > 0, after[1] > 0)


def test_a_batchs_reads_and_delete_look_identities_up_never_scan_a_table(tmp_path: Path) -> None:
    """objects, referrers, rows and delete search the tables' indexes (SQLite store rule 8)."""
    path = tmp_path / "primary.sqlite3"
    credentials = arbiter.PrimaryCredentials(os.urandom(32), "tests: query plans")
    store = SqliteStore(path)
    statements: list[str] = []
    try:
        store.record_primary_credentials(credentials)
        store.add_inventory(
            {
                "tenants": [tenant("t"), tenant("u")],
                "objects": [obj(f"k{i}", refs=[("db", f"k{i + 1}")]) for i in range(50)]
                + [obj("u1", "u", refs=[("db", "k3")])],
            }
        )
        batch = [ObjectId("db", f"k{i}") for i in range(0, 50, 2)]
        store._db.set_trace_callback(statements.append)  # noqa: SLF001 -- what the store runs
        with store.transaction(credentials) as tx:
            found = (len(tx.objects(batch)), len(tx.referrers(batch)), len(tx.rows(batch)))
            deleted = tx.delete("t", batch)
        store._db.set_trace_callback(None)  # noqa: SLF001 -- as above
    finally:
        store.close()
    # SQLite traces a statement again as each trigger it fires starts: five distinct ones.
    reads = [s for s in statements if s.startswith(("SELECT o.", "SELECT r.", "DELETE"))]
    planner = sqlite3.connect(path)
    try:
        steps = {
            detail
            for statement in set(reads)
            for *_, detail in planner.execute(f"EXPLAIN QUERY PLAN {statement}")
        }
    finally:
        planner.close()
    assert ((25, 24, 25), 25, 5) == (found, deleted, len(set(reads)))
    assert [] == sorted(s for s in steps if re.match(r"SCAN (objects|refs)\b|.*AUTOMATIC", s))
