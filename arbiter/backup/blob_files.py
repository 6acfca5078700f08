"""The primary store's blob files, as the backup domain reads and restores them, whatever the store.

Blob objects (``[store] blob_stores``) keep their bytes in files under the blob directory, beside
either primary store (SQLite or PostgreSQL). The backup domain does not import the primary blob
directory (``arbiter.stores.blobs``, which deletes: import-linter forbids it), so it reaches the
files through these functions. Rules:

1. A blob's path is checked on its own: a store or key that could escape the blob root (empty
   parts, ``.`` or ``..``, backslashes, NUL, an absolute key) is refused (``InputError``).
2. Reading never writes; a missing file reads as None.
3. Restoring only creates: a file already there stays exactly as it is (``create`` never
   replaces one), and nothing here removes a file.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from arbiter.core.errors import InputError
from arbiter.durable.files import create

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["blob_path", "blob_paths", "read_blobs", "write_missing_blobs"]


def blob_path(root: Path, store: str, key: str) -> Path:
    """Rule 1: the file of a blob object, only if it cannot leave ``root`` (resolved).

    Raises:
        InputError: the store or key could escape the blob directory.
    """
    parts = [store, *key.split("/")]
    bad = (
        not store
        or "/" in store
        or any(p in {"", ".", ".."} for p in parts)
        or any("\\" in p or "\x00" in p for p in parts)
        or key.startswith("/")
    )
    path = (root / store / key).resolve()
    if bad or not path.is_relative_to(root):
        raise InputError(
            source="inventory",
            field="key",
            message=f"blob {store}/{key} escapes the blob directory",
        )
    return path


def read_blobs(rows: list[dict[str, Any]], blobs: Path, stores: frozenset[str]) -> None:
    """Set each row's ``blob``: its file's bytes for a blob store's object, else None (rule 2).

    Raises:
        InputError: a row's key could escape the blob directory.
    """
    root = blobs.resolve()
    for row in rows:
        row["blob"] = None
        if row["store"] in stores:
            path = blob_path(root, row["store"], row["key"])
            row["blob"] = path.read_bytes() if path.is_file() else None


def blob_paths(
    rows: Iterable[dict[str, Any]], blobs: Path, stores: frozenset[str]
) -> dict[tuple[str, str], Path]:
    """The file of every row that brings blob bytes, each path checked (before any insert).

    Raises:
        InputError: a row's key could escape the blob directory.
    """
    root = blobs.resolve()
    return {
        (row["store"], row["key"]): blob_path(root, row["store"], row["key"])
        for row in rows
        if row["store"] in stores and row["blob"] is not None
    }


def write_missing_blobs(
    inserted: Iterable[dict[str, Any]], files: dict[tuple[str, str], Path]
) -> None:
    """Write the blob file of each inserted row that has one, never over a file (rule 3)."""
    for row in inserted:
        path = files.get((row["store"], row["key"]))
        if path is not None:
            with contextlib.suppress(FileExistsError):
                create(path, row["blob"])
