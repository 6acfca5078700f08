"""Writing files so that a crash at any instant leaves either the old content or the new, whole.

Rules:

1. A file is written to a temporary file in the same directory with a unique name
   (``.NAME.RANDOM.tmp``: two writers never share one), flushed and fsynced, then renamed over
   the target, and the directory is fsynced so that the rename itself survives a crash.
2. ``create`` never replaces an existing file: the temporary file is hard-linked to the target,
   which fails if the target exists (no window in which a check and a write could race).
3. On any failure the temporary file is removed; nothing half-written is ever at the target's
   name. A crash can leave a temporary file behind; ``stray_temporaries`` finds them (they are
   named for the file they were to become) so that recovery can remove them.
5. Test seam (``arbiter.durable.crash``): ``files-temporary-written`` is reached once a
   temporary file is whole and fsynced, before it is renamed or linked into place.
4. File modes are set on the temporary file before any byte is written, so a secret is never
   readable by others, not even for an instant.
6. Many files at once (``StagedFiles``, an import's blob files) keep rules 1, 3 and 4 with one
   filesystem sync instead of one per file: every temporary is written, then all of them are
   made durable together (``syncfs`` where the platform has it, else an fsync each), and only
   then renamed into place, each directory fsynced once. A rename therefore never exposes a
   file whose bytes are not durable, and nothing is at any target until the caller commits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

from arbiter.durable.crash import crash_point

__all__ = [
    "TEMPORARY_SUFFIX",
    "StagedFiles",
    "atomic_write",
    "create",
    "create_streamed",
    "fsync_directory",
    "remove",
    "stray_temporaries",
]

TEMPORARY_SUFFIX = ".tmp"


def fsync_directory(directory: Path) -> None:
    """Make a directory's entries (a rename, a new name, a removal) durable.

    Args:
        directory: the directory.

    Raises:
        OSError: the directory cannot be opened or synced.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temporary(
    path: Path, write: Callable[[BinaryIO], object], mode: int, *, sync: bool = True
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    temporary = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        if sync:
            crash_point("files-temporary-written")  # rule 5: a crash leaves this temporary behind
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's ``syncfs(2)``: every dirty page of one filesystem in one call (rule 6)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    function = getattr(ctypes.CDLL(name, use_errno=True), "syncfs", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


_SYNCFS = _load_syncfs()


def _sync_files(paths: list[Path]) -> None:
    """Make the content of every file in ``paths`` durable, with as few syncs as possible."""
    if not paths:
        return
    if _SYNCFS is None:
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return
    devices: dict[int, Path] = {}
    for path in paths:
        devices.setdefault(path.stat().st_dev, path)
    for path in devices.values():
        fd = os.open(path, os.O_RDONLY)
        try:
            # Since Linux 5.8 syncfs reports a writeback error of any file of the filesystem.
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), str(path))
        finally:
            os.close(fd)


def _writer(data: bytes) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(data)


@attrs.define
class StagedFiles:
    """Many files written durably together, put in place only on ``commit`` (rule 6).

    Use ``StagedFiles.write(items)``; then ``commit`` once what the files belong to is
    recorded (an import's rows), or ``discard`` to leave every target as it was.
    """

    # Each target and its temporary's name (None once renamed into place). The temporary is
    # found again by ``with_name``: only files this object created are ever removed.
    _staged: list[tuple[Path, str | None]]

    @classmethod
    def write(cls, items: Iterable[tuple[Path, bytes]], *, mode: int = 0o644) -> StagedFiles:
        """Write every ``(path, data)`` to its own temporary file, all of them durable on return.

        Args:
            items: each target and its whole content.
            mode: the files' permission bits.

        Returns:
            The staged files; no target has changed yet.

        Raises:
            OSError: a file could not be written or synced; every temporary is removed.
        """
        staged = cls([])
        try:
            for path, data in items:
                temporary = _write_temporary(path, _writer(data), mode, sync=False)
                staged._staged.append((path, temporary.name))
            _sync_files(staged._temporaries())
            crash_point("files-temporary-written")  # rule 5, once for the whole set
        except BaseException:
            staged.discard()
            raise
        return staged

    def _temporaries(self) -> list[Path]:
        return [path.with_name(name) for path, name in self._staged if name is not None]

    def __len__(self) -> int:
        """How many files are staged."""
        return len(self._staged)

    def refresh(self) -> None:
        """Mark every temporary as just written (its modification time: now).

        Recovery removes temporaries untouched for a while as strays of a crashed write
        (``arbiter.purge.recovery`` rule 2); a long import refreshes its own as it goes, and
        last just before its rows commit, so that none can go before it renames them.

        Raises:
            FileNotFoundError: a temporary is gone; the caller must not commit what it belongs to.
        """
        for temporary in self._temporaries():
            try:
                os.utime(temporary)
            except FileNotFoundError:
                raise FileNotFoundError(
                    errno.ENOENT,
                    "a staged file is gone before it was put in place (recovery removes"
                    " temporaries untouched for ten minutes)",
                    str(temporary),
                ) from None

    def commit(self) -> None:
        """Rename every temporary over its target, then fsync each directory once.

        Raises:
            OSError: a rename or a directory sync failed; the files renamed before it are in
                place, the others' temporaries are removed.
        """
        directories: set[Path] = set()
        try:
            for index, (path, name) in enumerate(self._staged):
                if name is None:
                    continue
                path.with_name(name).replace(path)
                directories.add(path.parent)
                self._staged[index] = (path, None)
        finally:
            self._remove_temporaries()
            for directory in sorted(directories):
                fsync_directory(directory)

    def discard(self) -> None:
        """Remove every temporary not yet renamed; no target changes (a no-op after commit)."""
        self._remove_temporaries()

    def _remove_temporaries(self) -> None:
        for index, (path, name) in enumerate(self._staged):
            if name is not None:
                temporary = path.with_name(name)
                temporary.unlink(missing_ok=True)
                self._staged[index] = (path, None)


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path``, replacing what was there, all or nothing (rules 1, 3, 4).

    Args:
        path: the target; its directory is created if missing.
        data: the whole new content; text is written as UTF-8.
        mode: the file's permission bits.

    Raises:
        OSError: the file could not be written; the old content, if any, is unchanged.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temporary = _write_temporary(path, lambda handle: handle.write(raw), mode)
    try:
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def create(path: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` to a new file at ``path``, all or nothing, never over an existing file.

    Args:
        path: the target; its directory is created if missing.
        data: the whole content; text is written as UTF-8.
        mode: the file's permission bits.

    Raises:
        FileExistsError: ``path`` exists already; it is left as it was.
        OSError: the file could not be written; nothing is at ``path``.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    create_streamed(path, lambda handle: handle.write(raw), mode=mode)


def create_streamed(path: Path, write: Callable[[BinaryIO], object], *, mode: int = 0o644) -> None:
    """``create``, with the content written by ``write`` as it is produced (rules 1 to 5).

    For content too large to hold in memory (a restore archive): ``write`` gets the temporary
    file, open for binary writing, and writes into it; it is flushed, fsynced, then linked into
    place exactly as ``create`` does.

    Args:
        path: the target; its directory is created if missing.
        write: writes the whole content into the file it is given.
        mode: the file's permission bits.

    Raises:
        FileExistsError: ``path`` exists already; it is left as it was.
        OSError: the file could not be written; nothing is at ``path``.
        Exception: whatever ``write`` raises; nothing is at ``path``.
    """
    temporary = _write_temporary(path, write, mode)
    try:
        os.link(temporary, path)  # rule 2: fails if ``path`` exists
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(path.parent)


def remove(path: Path) -> bool:
    """Remove a file durably (the directory is fsynced); a missing file is not an error.

    Args:
        path: the file.

    Returns:
        True when a file was removed, False when there was none.

    Raises:
        OSError: the file exists but could not be removed.
    """
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_directory(path.parent)
    return True


def stray_temporaries(directory: Path) -> list[Path]:
    """Temporary files a crashed write left in ``directory`` (rule 3), oldest name first.

    Args:
        directory: where to look (not recursively); a missing directory has none.

    Returns:
        The paths, sorted.
    """
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.name.startswith(".") and p.name.endswith(TEMPORARY_SUFFIX) and p.is_file()
    )
