"""Durable file writes (arbiter.durable.files)."""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter.durable import files
from arbiter.durable.files import StagedFiles, atomic_write, create, remove, stray_temporaries

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


NAMES = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d/e", "d/f"]), st.binary(max_size=64)),
    max_size=6,
    unique_by=lambda item: item[0],
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NAMES, st.sampled_from(["commit", "discard"]))
def test_staged_files_change_no_target_until_committed(
    tmp_path: Path, items: list[tuple[str, bytes]], ending: str
) -> None:
    """Staging leaves every target as it was; commit puts each in place, discard none; no strays."""
    root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    (root / "d").mkdir(parents=True)
    (root / "a").write_bytes(b"old")
    before = {
        p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }
    staged = StagedFiles.write([(root / name, data) for name, data in items])
    assert len(items) == len(staged)
    staging = {p.relative_to(root).as_posix(): p.read_bytes() for p in _targets(root)}
    assert before == staging
    if ending == "commit":
        staged.commit()
        expected = before | dict(items)
    else:
        staged.discard()
        expected = before
    after = {p.relative_to(root).as_posix(): p.read_bytes() for p in _targets(root)}
    assert (expected, []) == (after, _strays(root))
    staged.discard()  # after commit or discard: nothing more happens
    assert after == {p.relative_to(root).as_posix(): p.read_bytes() for p in _targets(root)}


def _targets(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".tmp")]


def _strays(root: Path) -> list[Path]:
    return [p for d in [root, *root.rglob("*")] if d.is_dir() for p in stray_temporaries(d)]


def test_staged_files_are_synced_by_fsync_where_syncfs_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without syncfs each temporary is fsynced instead; the files land all the same."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(files, "_SYNCFS", None)
    monkeypatch.setattr(os, "fsync", fsync)
    staged = StagedFiles.write([(tmp_path / "x", b"1"), (tmp_path / "y", b"2")])
    assert 2 == len(synced)
    staged.commit()
    assert (b"1", b"2") == ((tmp_path / "x").read_bytes(), (tmp_path / "y").read_bytes())


def test_a_failed_sync_stages_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A filesystem that reports a writeback error: OSError, no temporary left, no target."""
    # A real disk cannot be made to fail writeback here; the platform call is faked to say EIO.
    monkeypatch.setattr(files, "_SYNCFS", lambda _fd: -1)
    monkeypatch.setattr(ctypes, "get_errno", lambda: errno.EIO)
    with pytest.raises(OSError, match="Input/output error") as info:
        StagedFiles.write([(tmp_path / "x", b"1")])
    assert (errno.EIO, []) == (info.value.errno, sorted(tmp_path.iterdir()))


def test_refreshing_staged_files_marks_them_written_now(tmp_path: Path) -> None:
    """Refresh moves every temporary's mtime to now; a temporary gone is FileNotFoundError."""
    staged = StagedFiles.write([(tmp_path / "x", b"1"), (tmp_path / "y", b"2")])
    temporaries = stray_temporaries(tmp_path)
    for temporary in temporaries:
        os.utime(temporary, (0, 0))
    staged.refresh()
    assert [True, True] == [t.stat().st_mtime > 1e9 for t in temporaries]
    temporaries[0].unlink()
    with pytest.raises(FileNotFoundError, match="a staged file is gone") as info:
        staged.refresh()
    assert str(temporaries[0]) == info.value.filename
    staged.discard()
    assert [] == sorted(tmp_path.iterdir())
