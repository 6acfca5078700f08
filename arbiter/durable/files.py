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
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Callable

from arbiter.durable.crash import crash_point

__all__ = [
    "TEMPORARY_SUFFIX",
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


def _write_temporary(path: Path, write: Callable[[BinaryIO], object], mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    temporary = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        crash_point("files-temporary-written")  # rule 5: a crash leaves this temporary behind
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


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
