"""Reading the operator's inputs: as_of per spec §2.1, the nesting limit, positions in the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.core.config import LimitsConfig, WorkspaceConfig
from arbiter.core.convert import strict_converter
from arbiter.core.errors import InputError
from arbiter.core.loading import (
    MAX_DEPTH,
    as_of_or_now,
    check_as_of,
    load_inventory,
    read_json_file,
)
from arbiter.workspace.workspace import Workspace
from tests.builders import event, obj, tenant
from tests.conftest import examples

if TYPE_CHECKING:
    from pathlib import Path

INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 -- naive bounds; the offset is drawn apart
    max_value=datetime(9000, 12, 30),  # noqa: DTZ001 -- as above
)
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).filter(lambda m: m != 0)


@given(INSTANTS, OFFSETS, st.integers(0, 6))
def test_every_spec_instant_is_accepted_as_given(
    moment: datetime, minutes: int, digits: int
) -> None:
    """Any §2.1 instant inside the range, in any offset and fraction length, is returned as is."""
    sign = "-" if minutes < 0 else "+"
    offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits else ""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + offset
    assert text == check_as_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-11-25T00:00:00",
        "2026-11-25T00:00:00-00:00",
        "2026-11-25t00:00:00Z",
        "2026-11-25T00:00:00.1234567Z",
        "2026-11-25T00:00:60Z",
        "2026-02-29T00:00:00Z",
        "2026-11-25T00:00:00+24:00",
        "2026-11-25T00:00:00+01:60",
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T00:59:59+01:00",
        "9001-01-01T00:00:00Z",
        "9000-12-31T23:59:59-00:01",
        "\u0662\u0660\u0662\u0666-11-25T00:00:00Z",
        "2026-11-25T00:00:00Z\n",
    ],
)
def test_a_malformed_as_of_is_input_error_naming_as_of(text: str) -> None:
    """Empty, malformed, unreal, -00:00 or out-of-range: an InputError naming as_of."""
    with pytest.raises(InputError) as caught:
        check_as_of(text)
    assert ("as_of", "as_of") == (caught.value.source, caught.value.field)


def test_as_of_omitted_is_now_and_empty_is_bad() -> None:
    """None means now (spec §2.2's form); an empty string is bad input, not now."""
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert "2026-11-25T00:00:00Z" == as_of_or_now(None, lambda: now)
    with pytest.raises(InputError):
        as_of_or_now("", lambda: now)


def _nested(depth: int) -> str:
    """An inventory document nesting ``depth`` levels in all, a string of brackets beside it."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"objects": [{inner}], "tenants": ["[[[[{"[" * MAX_DEPTH}"]}}'


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_inventory_is_input_error_naming_file_and_place(tmp_path: Path, depth: int) -> None:
    """Deeper than MAX_DEPTH: an InputError naming file, line and column, never RecursionError."""
    path = tmp_path / "deep.json"
    path.write_text(_nested(depth), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    column = len('{"objects": [') + (MAX_DEPTH - 1)
    assert (str(path), f"line 1 column {column}") == (caught.value.file, caught.value.field)


def test_nesting_up_to_the_limit_parses_and_brackets_in_strings_do_not_count(
    tmp_path: Path,
) -> None:
    """Exactly MAX_DEPTH levels parse; brackets inside strings are text, not nesting."""
    path = tmp_path / "deep.json"
    path.write_text(_nested(MAX_DEPTH), encoding="utf-8")
    assert ["objects", "tenants"] == sorted(load_inventory(path))


@attrs.frozen
class _Body:
    """A stand-in for a plan file or restore request: what read_json_file structures into."""

    body: list[object]


def test_deep_plan_file_is_input_error(tmp_path: Path) -> None:
    """A plan file nested 100,000 deep: an InputError naming the file, never RecursionError."""
    path = tmp_path / "plan.json"
    path.write_text('{"body": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_json_file(path, _Body, source="plan", converter=strict_converter())
    # `{"body": ` is 9 characters; the 65th level is its 64th "[", at column 10 + 63.
    assert (str(path), "plan", "line 1 column 73") == (
        caught.value.file,
        caught.value.source,
        caught.value.field,
    )


def test_import_names_the_duplicate_at_its_place_in_the_file(tmp_path: Path) -> None:
    """Workspace.import_inventory: a duplicate of a stored object is objects[0] of the file."""
    config = WorkspaceConfig(
        policy={"timezone": "UTC", "grace_days": 30, "backup_lag_days": 14}, limits=LimitsConfig()
    )
    with Workspace.create(tmp_path / "ws", config) as workspace:
        stored = {
            "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
            "objects": [obj("a"), obj("b"), obj("c")],
        }
        workspace.import_inventory(json.loads(json.dumps(stored)))
        with pytest.raises(InputError) as caught:
            workspace.import_inventory(
                {"tenants": [tenant("v")], "objects": [obj("b", "v")]}, file="one.json"
            )
    assert ("one.json", "objects[0]") == (caught.value.file, caught.value.field)


@settings(max_examples=examples(ci=60, dev=15), deadline=None)
@given(
    stored=st.sets(st.sampled_from("abcdefgh"), max_size=6),
    incoming=st.lists(st.sampled_from("abcdefghij"), unique=True, min_size=1, max_size=6),
    tenant_clash=st.booleans(),
)
def test_an_import_is_checked_against_the_store_at_its_first_repeat(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    stored: set[str],
    incoming: list[str],
    tenant_clash: bool,
) -> None:
    """A file repeating stored identities is refused at its first repeat; nothing is loaded."""
    config = WorkspaceConfig(policy={"timezone": "UTC"})
    directory = tmp_path_factory.mktemp("ws") / "ws"
    file_tenant = "t" if tenant_clash else "v"
    with Workspace.create(directory, config) as workspace:
        workspace.import_inventory(
            {"tenants": [tenant("t")], "objects": [obj(k) for k in sorted(stored)]}
        )
        before = workspace.export_inventory()
        clash = [i for i, k in enumerate(incoming) if k in stored]
        expected = "tenants[0]" if tenant_clash else (f"objects[{clash[0]}]" if clash else None)
        try:
            workspace.import_inventory(
                {
                    "tenants": [tenant(file_tenant)],
                    "objects": [obj(k, file_tenant) for k in incoming],
                }
            )
        except InputError as exc:
            outcome: tuple[str | None, bool] = (exc.field, before == workspace.export_inventory())
        else:
            outcome = (
                None,
                len(before["objects"]) + len(incoming) == workspace.store.total_objects(),
            )
    assert (expected, True) == outcome


def test_workspace_run_due_refuses_a_bad_as_of_before_any_work(tmp_path: Path) -> None:
    """Workspace.run_due("yesterday"), dry or not: InputError; audit log and alerts untouched."""
    config = WorkspaceConfig(
        policy={"timezone": "UTC", "grace_days": 30, "backup_lag_days": 14}, limits=LimitsConfig()
    )
    with Workspace.create(tmp_path / "ws", config) as workspace:
        workspace.import_inventory({"tenants": [tenant("t")], "objects": [obj("a")]}, actor="test")
        log = workspace.config.path(workspace.config.audit.log)
        before = log.read_bytes()
        for dry_run in (True, False):
            with pytest.raises(InputError):
                workspace.run_due("yesterday", dry_run=dry_run)
            with pytest.raises(InputError):
                workspace.purge_tenant("t", "", dry_run=dry_run)
        after = log.read_bytes()
    assert (before, False) == (after, (tmp_path / "ws" / "alerts.jsonl").exists())
