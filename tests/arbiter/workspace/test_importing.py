"""Imports a chunk at a time (arbiter.workspace.importing): the same store, the same errors."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbiter
from arbiter import InputError, ObjectId, UsageError
from arbiter.purge.journal import strays
from arbiter.purge.recovery import STRAY_QUIET_SECONDS
from arbiter.workspace import importing
from arbiter.workspace.importing import chunked, import_chunks
from tests import tally
from tests.builders import obj, tenant, workspace
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

if TYPE_CHECKING:
    from collections.abc import Callable

EMPTY: dict[str, Any] = {"tenants": [], "objects": []}
# One error planted in a valid inventory, at a drawn object.
BREAKS = (
    "unknown field",
    "wrong type",
    "repeat",
    "unlisted tenant",
    "tenant not a string",
    "bad instant",
    "bad ref",
)


def broken(inventory: dict[str, Any], how: str, at: int) -> dict[str, Any]:
    """``inventory`` with one error of kind ``how`` at object ``at`` (or the last object)."""
    bad = copy.deepcopy(inventory)
    objects = bad["objects"]
    target = objects[min(at, len(objects) - 1)]
    if how == "unknown field":
        target["legalhold"] = True
    elif how == "wrong type":
        target["legal_hold"] = 1
    elif how == "repeat":
        objects.append({**objects[min(at, len(objects) - 1)], "refs": []})
    elif how == "unlisted tenant":
        target["tenant"] = "\x00nobody"
    elif how == "tenant not a string":
        target["tenant"] = [target["tenant"]]
    elif how == "bad instant":
        target["created_at"] = "2026-01-01T00:00:00"
    else:
        target["refs"] = [["db"]]
    return bad


def import_outcome(inventory: dict[str, Any], chunk: int, *, as_file: bool) -> tuple[str, Any]:
    """Import into a fresh workspace: its export, or the error's source, field and message."""
    with tempfile.TemporaryDirectory() as directory, workspace(Path(directory) / "ws", EMPTY) as ws:
        try:
            if as_file:
                path = Path(directory) / "inventory.json"
                path.write_text(json.dumps(inventory), "utf-8")
                ws.import_file(path, chunk_size=chunk)
            else:
                ws.import_inventory(inventory, chunk_size=chunk)
        except InputError as exc:
            assert ([], 0) == (ws.store.tenant_ids(), ws.store.total_objects())
            return "error", (exc.source, exc.field, exc.message)
        return "value", ws.export_inventory()


@settings(
    max_examples=examples(ci=60, dev=15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    scenario=scenarios(max_objects=8),
    chunk=st.integers(1, 4),
    source=st.sampled_from(["mapping", "file"]),
    broken_by=st.none() | st.tuples(st.sampled_from(BREAKS), st.integers(0, 8)),
)
def test_a_chunked_import_loads_what_a_whole_one_loads_and_fails_alike(
    scenario: Scenario, chunk: int, source: str, broken_by: tuple[str, int] | None
) -> None:
    """Any chunk size, from a mapping or a file: the whole import's store, or its error."""
    inventory = scenario.inventory
    if broken_by is not None and inventory["objects"]:
        inventory = broken(inventory, *broken_by)
    whole = import_outcome(inventory, 10_000, as_file=False)
    chunked = import_outcome(inventory, chunk, as_file=source == "file")
    tally.COUNTS[f"chunked-import-{whole[0]}"] += 1
    if whole[0] == "value" or chunked[0] == "value":
        assert whole == chunked
        return
    (source, field, message), (c_source, c_field, c_message) = whole[1], chunked[1]
    # A repeat across chunks is found by the import's transaction, with the planners' words
    # and more: the same field, and the message the planners give as its start.
    assert (source, field) == (c_source, c_field)
    assert c_message.startswith(message), (message, c_message)


def test_a_repeat_across_chunks_is_named_at_its_place_in_the_file(tmp_path: Path) -> None:
    """An object repeating one of an earlier chunk: objects[i] of the whole file, nothing loaded."""
    inventory = {
        "tenants": [tenant("t")],
        "objects": [obj(f"k{i}") for i in range(5)] + [obj("k1")],
    }
    with workspace(tmp_path / "ws", EMPTY) as ws:
        with pytest.raises(InputError) as info:
            ws.import_inventory(inventory, chunk_size=2)
        assert ("objects[5]", 0) == (info.value.field, ws.store.total_objects())
        assert info.value.message.endswith(
            "the store or an earlier object of the file already holds it"
        )


def test_a_bad_object_in_a_later_chunk_is_named_in_the_whole_file(tmp_path: Path) -> None:
    """The planners see a chunk; the error names the object's index in the file, and the file."""
    inventory = {"tenants": [tenant("t")], "objects": [obj(f"k{i}") for i in range(7)]}
    inventory["objects"][5]["legalhold"] = True
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory), "utf-8")
    with workspace(tmp_path / "ws", EMPTY) as ws:
        with pytest.raises(InputError) as info:
            ws.import_file(path, chunk_size=3)
        assert (str(path), "objects[5].legalhold") == (info.value.file, info.value.field)
        assert 0 == ws.store.total_objects()


def test_a_tenant_that_is_no_string_in_a_later_chunk_is_the_planners_error(tmp_path: Path) -> None:
    """An object's tenant given as a list, in the second chunk: the planners' own error."""
    inventory = {"tenants": [tenant("t")], "objects": [obj(f"k{i}") for i in range(4)]}
    inventory["objects"][3]["tenant"] = ["t"]
    with workspace(tmp_path / "ws", EMPTY) as ws:
        with pytest.raises(InputError) as chunked_error:
            ws.import_inventory(inventory, chunk_size=2)
        with pytest.raises(InputError) as whole:
            arbiter.validate_inventory(inventory, ws.config.policy)
        assert (whole.value.field, whole.value.message) == (
            chunked_error.value.field,
            chunked_error.value.message,
        )


def test_a_member_after_the_objects_is_judged_by_the_planners(tmp_path: Path) -> None:
    """A streamed file whose unknown top-level member follows its objects: bad input, no rows."""
    path = tmp_path / "inventory.json"
    path.write_text('{"tenants": [{"id": "t", "events": []}], "objects": [], "extra": 1}', "utf-8")
    with workspace(tmp_path / "ws", EMPTY) as ws:
        with pytest.raises(InputError) as info:
            ws.import_file(path, chunk_size=1)
        expected = arbiter.InputError  # the planners' own error for the whole inventory
        with pytest.raises(expected) as whole:
            arbiter.validate_inventory(json.loads(path.read_text()), ws.config.policy)
        assert (whole.value.field, whole.value.message) == (info.value.field, info.value.message)
        assert [] == ws.store.tenant_ids()


def test_payloads_come_from_a_directory_and_must_name_listed_objects(tmp_path: Path) -> None:
    """Payloads: a directory's files, none from outside it; a mapping's, only for listed objects."""
    inventory = {
        "tenants": [tenant("t")],
        "objects": [
            obj("k0"),
            obj("t/f", store="blob"),
            obj("t/g", store="blob"),
            obj("../../secret"),
            obj(str(tmp_path / "secret")),
        ],
    }
    (tmp_path / "secret").write_bytes(b"outside the payload directory")
    (tmp_path / "payloads" / "db").mkdir(parents=True)
    (tmp_path / "payloads" / "db" / "k0").write_bytes(b"record")
    (tmp_path / "payloads" / "blob" / "t").mkdir(parents=True)
    (tmp_path / "payloads" / "blob" / "t" / "f").write_bytes(b"file")
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory), "utf-8")
    with workspace(tmp_path / "ws", EMPTY) as ws:
        assert 5 == ws.import_file(path, tmp_path / "payloads", chunk_size=2)
        got = (
            ws.store.payload(ObjectId("db", "k0")),
            ws.blobs.read(ObjectId("blob", "t/f")),
            ws.blobs.read(ObjectId("blob", "t/g")),
            ws.store.payload(ObjectId("db", "../../secret")),
            ws.store.payload(ObjectId("db", str(tmp_path / "secret"))),
        )
        assert (b"record", b"file", None, None, None) == got
        record = [r for r in ws.audit.records() if r.kind == "import"][-1]
        assert {"tenants": 1, "objects": 5, "payloads": 2, "chunk_size": 2} == {
            k: record.data[k] for k in ("tenants", "objects", "payloads", "chunk_size")
        }
    with workspace(tmp_path / "ws2", EMPTY) as ws:
        extra = {ObjectId("db", "k0"): b"x", ObjectId("db", "unlisted"): b"y"}
        with pytest.raises(InputError) as info:
            ws.import_inventory(inventory, extra)
        assert ("payloads", "db/unlisted") == (info.value.source, info.value.field)
        assert 0 == ws.store.total_objects()
        with pytest.raises(UsageError, match="chunk size must be positive"):
            ws.import_inventory(inventory, chunk_size=0)


def test_a_streamed_import_holds_a_chunk_not_the_file(tmp_path: Path) -> None:
    """30,000 objects imported from a file 1,000 at a time: peak traced memory under 12 MiB."""
    count = 30_000
    path = tmp_path / "inventory.json"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"tenants": [{"id": "t", "events": []}], "objects": [')
        handle.write(
            ",\n".join(
                json.dumps(
                    obj(f"k{i:06d}", refs=[("db", f"k{i + 1:06d}")] if i % 100 == 0 else None)
                )
                for i in range(count)
            )
        )
        handle.write("]}")
    with workspace(tmp_path / "ws", EMPTY) as ws:
        tracemalloc.start()
        try:
            assert count == ws.import_file(path, chunk_size=1_000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == ws.store.total_objects()
    # Read whole, the file takes 32 MiB traced; a chunk, the tenants and a 1 MiB block, 6.4 MiB.
    assert peak < 12 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"


BLOBS = {
    "tenants": [tenant("t")],
    "objects": [obj(f"t/{i}", store="blob") for i in range(6)],
}


def blob_payloads(
    on_chunk: Callable[[int], None],
) -> Callable[[list[ObjectId]], dict[ObjectId, bytes]]:
    """A payload source that calls ``on_chunk(n)`` before giving the n-th chunk's payloads."""
    calls = [0]

    def source(identities: list[ObjectId]) -> dict[ObjectId, bytes]:
        on_chunk(calls[0])
        calls[0] += 1
        return {o: o.key.encode() for o in identities}

    return source


def import_blobs(ws: arbiter.Workspace, on_chunk: Callable[[int], None]) -> None:
    """Import ``BLOBS`` two objects a chunk, calling ``on_chunk(n)`` before chunk n's payloads."""
    import_chunks(
        ws.store,
        ws.blobs,
        {"tenants": BLOBS["tenants"]},
        chunked(BLOBS["objects"], 2),
        blob_payloads(on_chunk),
        policy=ws.config.policy,
    )


def test_an_import_whose_staged_file_a_recovery_removed_imports_nothing(tmp_path: Path) -> None:
    """A concurrent recovery takes a staged file as a stray: the import fails before committing."""
    with workspace(tmp_path / "ws", EMPTY) as ws:
        root = Path(ws.blobs.root)

        def recover_strays(chunk: int) -> None:
            if chunk == 2:  # the files of chunks 0 and 1 are staged
                for stray in strays([root]):
                    stray.unlink()

        with pytest.raises(FileNotFoundError, match="a staged file is gone"):
            import_blobs(ws, recover_strays)
        assert ([], 0) == (ws.store.tenant_ids(), ws.store.total_objects())
        assert [] == [p for p in root.rglob("*") if p.is_file()]


def test_a_long_import_keeps_its_staged_files_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged files aged past recovery's quiet time are refreshed by the next chunk."""
    monkeypatch.setattr(importing, "REFRESH_SECONDS", 0.0)
    seen: list[list[Path]] = []
    with workspace(tmp_path / "ws", EMPTY) as ws:
        root = Path(ws.blobs.root)

        def age_then_look(chunk: int) -> None:
            if chunk == 1:
                for stray in strays([root]):
                    os.utime(stray, (0, 0))
            if chunk == 2:
                seen.append(strays([root], quiet_for=STRAY_QUIET_SECONDS))

        import_blobs(ws, age_then_look)
        assert [[]] == seen
        assert {f"t/{i}": f"t/{i}".encode() for i in range(6)} == {
            p.relative_to(root / "blob").as_posix(): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file()
        }
