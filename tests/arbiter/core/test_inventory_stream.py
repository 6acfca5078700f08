"""The streamed inventory reader against the whole-file one (arbiter.core.loading rule 8)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter.core import loading
from arbiter.core.errors import InputError
from arbiter.core.loading import MAX_DEPTH, InventoryStream, load_inventory
from tests import tally
from tests.conftest import examples
from tests.strategies import scenarios

if TYPE_CHECKING:
    from pathlib import Path

# JSON values an inventory's members might hold, right or wrong.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
# Edits that give a file one error (or none): (position as a fraction of the text, edit).
EDITS = st.tuples(
    st.floats(0, 1),
    st.sampled_from(
        ["", "}", "]", ",", ":", '"', "x", "NaN", "1", "[", "{", "\\", "\x00", " ", "é"]
    ),
    st.sampled_from(["insert", "replace", "delete", "truncate", "none"]),
)


def read_streamed(path: Path, chunk: int) -> dict[str, Any]:
    """The file read by ``InventoryStream``, put back together as one value."""
    with InventoryStream.open(path) as stream:
        chunks = list(stream.chunks(chunk))
        data = dict(stream.head)
        if stream.streamed:
            data["objects"] = [o for _, part in chunks for o in part]
        starts = [start for start, _ in chunks]
        assert list(range(0, chunk * len(chunks), chunk)) == starts
    return data


def outcome(read: Any) -> tuple[str, Any]:
    """A read's value, or its error's file, field and message."""
    try:
        return "value", read()
    except InputError as exc:
        return "error", (exc.file, exc.field, exc.message)


def edited(text: str, edit: tuple[float, str, str]) -> str:
    """``text`` with one edit applied."""
    where, piece, how = edit
    at = int(where * len(text))
    return {
        "insert": text[:at] + piece + text[at:],
        "replace": text[:at] + piece + text[at + 1 :],
        "delete": text[:at] + text[at + 1 :],
        "truncate": text[:at],
        "none": text,
    }[how]


@settings(
    max_examples=examples(ci=400, dev=100),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    scenario=scenarios(max_objects=8),
    extra=st.dictionaries(st.sampled_from(["objects", "tenants", "x"]), VALUES, max_size=1),
    order=st.permutations(["tenants", "objects", "extra"]),
    indent=st.sampled_from([None, 0, 2]),
    edit=EDITS,
    block=st.integers(1, 40),
    chunk=st.integers(1, 5),
)
def test_the_streamed_reader_reads_what_the_whole_file_reader_reads(  # noqa: PLR0913, PLR0917 -- the drawn file
    tmp_path: Path,
    scenario: Any,
    extra: dict[str, Any],
    order: list[str],
    indent: int | None,
    edit: tuple[float, str, str],
    block: int,
    chunk: int,
) -> None:
    """Any file, any block and chunk size: the same value, or the same error, as load_inventory."""
    inventory = scenario.inventory
    members = {"tenants": inventory["tenants"], "objects": inventory["objects"], **extra}
    ordered = {k: members[k] for k in order if k in members} | members
    body = ", ".join(
        f"{json.dumps(k)}: {json.dumps(v, indent=indent, ensure_ascii=False)}"
        for k, v in ordered.items()
    )
    text = edited("{" + body + "}", edit)
    path = tmp_path / f"inventory-{block}-{chunk}.json"
    path.write_text(text, "utf-8")
    whole = outcome(lambda: load_inventory(path))
    with mock.patch.object(loading, "_READ", block):
        streamed = outcome(lambda: read_streamed(path, chunk))
    tally.COUNTS[f"inventory-stream-{whole[0]}"] += 1
    assert whole == streamed


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf{}",
        b'{"tenants": [], "objects": ["\xff"]}',
        b'{"tenants": [], "objects": ["\xc3',
        b"",
        b"   ",
        b"[1, 2]",
        b'"text"',
        b"12 13",
        b'{"tenants": [], "tenants": []}',
        b'{"tenants": [], "objects": [], "objects": []}',
        b'{"objects": [], "tenants": [], "objects": 1}',
        b'{"tenants": [], "objects": [{"a": 1, "a": 2}]}',
        b'{"tenants": [], "objects": [NaN]}',
        b'{"tenants": [], "objects": [1,]}',
        b'{"tenants": [], "objects": [1 2]}',
        b'{"tenants": [], "objects": []} x',
        b'{"tenants": [],}',
        b'{"tenants" []}',
        b'{"tenants": [] "objects": []}',
        b"{1: 2}",
    ],
)
@pytest.mark.parametrize("block", [1, 3, 1 << 20])
def test_each_kind_of_bad_file_gets_the_whole_file_readers_error(
    tmp_path: Path, raw: bytes, block: int
) -> None:
    """Byte-order mark, bad UTF-8, not an object, repeats, constants, delimiters: the same error."""
    path = tmp_path / "inventory.json"
    path.write_bytes(raw)
    whole = outcome(lambda: load_inventory(path))
    with mock.patch.object(loading, "_READ", block):
        streamed = outcome(lambda: read_streamed(path, 2))
    assert ("error", whole[1]) == streamed


@pytest.mark.parametrize("where", ["tenants", "object", "late object"])
def test_nesting_too_deep_is_named_at_its_line_and_column(tmp_path: Path, where: str) -> None:
    """A bracket past MAX_DEPTH inside a streamed object: the same line and column as whole."""
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    objects = ['{"k": 1}'] * 5
    tenants = "[]"
    if where == "tenants":
        tenants = f"[{deep}]"
    else:
        objects[0 if where == "object" else 4] = f'{{"k": {deep}}}'
    path = tmp_path / "inventory.json"
    path.write_text('{"tenants": ' + tenants + ',\n "objects": [\n' + ",\n".join(objects) + "]}")
    whole = outcome(lambda: load_inventory(path))
    with mock.patch.object(loading, "_READ", 16):
        streamed = outcome(lambda: read_streamed(path, 2))
    assert "error" == whole[0]
    assert whole == streamed


def test_objects_before_tenants_are_held_and_tenants_first_are_streamed(tmp_path: Path) -> None:
    """Tenants first: objects come chunk by chunk as read; objects first: held, then chunked."""
    objects = [{"k": i} for i in range(200)]
    first = tmp_path / "tenants-first.json"
    first.write_text(json.dumps({"tenants": [], "objects": objects}))
    second = tmp_path / "objects-first.json"
    second.write_text(json.dumps({"objects": objects, "tenants": []}))
    with mock.patch.object(loading, "_READ", 8), InventoryStream.open(first) as stream:
        assert ({"tenants": []}, True) == (stream.head, stream.streamed)
        chunks = stream.chunks(3)
        assert (0, objects[:3]) == next(chunks)
        # Only what the first chunk needed has been read, not the file.
        assert stream._bytes < first.stat().st_size // 10  # noqa: SLF001 -- what was read
        assert [(i, objects[i : i + 3]) for i in range(3, 200, 3)] == list(chunks)
    with InventoryStream.open(second) as stream:
        assert ({"tenants": []}, True) == (stream.head, stream.streamed)
        assert [(i, objects[i : i + 4]) for i in range(0, 200, 4)] == list(stream.chunks(4))


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    """A missing file: InputError naming it, as the whole-file reader names it."""
    path = tmp_path / "missing.json"
    whole = outcome(lambda: load_inventory(path))
    assert whole == outcome(lambda: read_streamed(path, 2))
