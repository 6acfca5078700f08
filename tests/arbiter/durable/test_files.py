"""Durable file writes (arbiter.durable.files)."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter.durable.files import atomic_write, create, remove, stray_temporaries

if TYPE_CHECKING:
    from pathlib import Path


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5))
def test_the_last_write_wins_and_leaves_no_temporary(tmp_path: Path, contents: list[bytes]) -> None:
    """After any sequence of writes the file holds the last content, and no temporary remains."""
    target = tmp_path / "sub" / "file.json"
    for content in contents:
        atomic_write(target, content)
    assert contents[-1] == target.read_bytes()
    assert [] == stray_temporaries(target.parent)


def test_text_is_written_as_utf8_with_the_mode_asked(tmp_path: Path) -> None:
    """Text is UTF-8; the mode is the one asked for, for replaced and created files alike."""
    atomic_write(tmp_path / "a", "é", mode=0o600)
    create(tmp_path / "b", "ü", mode=0o600)
    assert ("é", "ü") == ((tmp_path / "a").read_text("utf-8"), (tmp_path / "b").read_text("utf-8"))
    modes = {stat.S_IMODE((tmp_path / n).stat().st_mode) for n in ("a", "b")}
    assert {0o600} == modes


def test_create_never_replaces(tmp_path: Path) -> None:
    """Create refuses an existing file, leaves it as it was, and leaves no temporary."""
    target = tmp_path / "plan.json"
    create(target, b"first")
    with pytest.raises(FileExistsError):
        create(target, b"second")
    assert b"first" == target.read_bytes()
    assert [] == stray_temporaries(tmp_path)


def test_a_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    """When the rename cannot happen, the old file stays and the temporary is removed."""
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    (target / "x").write_bytes(b"keep")
    with pytest.raises(OSError, match="directory"):
        atomic_write(target, b"new")
    assert b"keep" == (target / "x").read_bytes()
    assert [] == stray_temporaries(tmp_path)


def test_stray_temporaries_are_found_and_remove_is_idempotent(tmp_path: Path) -> None:
    """A temporary left by a crash is found by name; removing twice is not an error."""
    stray = tmp_path / ".archive.gz.abc123.tmp"
    stray.write_bytes(b"half")
    (tmp_path / "archive.gz").write_bytes(b"whole")
    assert [stray] == stray_temporaries(tmp_path)
    assert (True, False) == (remove(stray), remove(stray))
    assert [] == stray_temporaries(tmp_path)
    assert [] == stray_temporaries(tmp_path / "missing")
