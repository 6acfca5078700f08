"""The blob directory: files behind objects of blob stores, at ``<root>/<store>/<key>``.

Rules:

1. A key reaches the file system only after ``check_blob_name`` accepted it: no empty, ``.`` or
   ``..`` segment, no absolute path, no backslash, no NUL or other control character. Import
   refuses a bad key, so it never reaches this module in normal operation.
2. Defence in depth: the resolved path must lie inside the root, or nothing is touched.
3. Files are deleted only by the arbiter, after the rows' deletion committed.
4. Deleting is a capability (rule 4 of ``arbiter.stores.ports``): a ``BlobDirectory`` reads and
   writes, and deletes only as the copy ``authorize`` returns for primary credentials that the
   store accepts; that copy checks them with the store again before each file it deletes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from arbiter.auth.credentials import PrimaryCredentials, require_primary
from arbiter.core.errors import CredentialError, InputError
from arbiter.durable.crash import crash_point
from arbiter.durable.files import StagedFiles, atomic_write, fsync_directory, remove

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from arbiter.core.verdict import ObjectId


class CredentialCheck(Protocol):
    """Whatever records the primary credentials (the store): checks them at every delete."""

    def verify_credentials(self, credentials: PrimaryCredentials) -> object:
        """Raise ``CredentialError`` unless these are the recorded primary credentials."""
        ...


__all__ = ["BlobDirectory", "CredentialCheck", "check_blob_name"]


def check_blob_name(name: str, *, what: str, field: str, multi_segment: bool = True) -> None:
    """Refuse a store name or key that could escape the blob directory.

    Args:
        name: the store name or key.
        what: ``"key"`` or ``"store"``, for the message.
        field: the inventory field, for the error.
        multi_segment: whether ``/`` may separate segments (keys) or not (store names).

    Raises:
        InputError: the name is unsafe as a path.
    """
    problem = None
    if not name:
        problem = "is empty"
    elif any(ord(c) < 0x20 or c == "\x7f" for c in name):  # noqa: PLR2004 -- control characters
        problem = "contains a control character"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/"):
        problem = "is an absolute path"
    elif not multi_segment and "/" in name:
        problem = "contains '/'"
    elif any(seg in {"", ".", ".."} for seg in name.split("/")):
        problem = "has an empty, '.' or '..' segment"
    if problem:
        raise InputError(source="inventory", field=field, message=f"blob {what} {name!r} {problem}")


class BlobDirectory:
    """Files of blob stores under one root directory."""

    def __init__(self, root: Path, blob_stores: tuple[str, ...]) -> None:
        """Use ``root`` (created if missing) for the stores named in ``blob_stores``."""
        self.root = root.resolve()
        self.blob_stores = frozenset(blob_stores)
        self._delete_access: tuple[CredentialCheck, PrimaryCredentials] | None = None
        self._inside: set[Path] = set()  # directories found (resolved) inside the root

    def authorize(self, credentials: PrimaryCredentials, store: CredentialCheck) -> BlobDirectory:
        """A copy of this directory that may delete files (rule 4).

        Args:
            credentials: the primary credentials.
            store: the store that recorded them; it checks them now and before every delete.

        Returns:
            The delete-capable copy; this directory itself stays read-and-write only.

        Raises:
            CredentialError: not primary credentials, or not the ones ``store`` recorded.
        """
        checked = require_primary(credentials, purpose="deleting blob files")
        store.verify_credentials(checked)
        copy = BlobDirectory(self.root, tuple(sorted(self.blob_stores)))
        copy._delete_access = (store, checked)
        return copy

    def is_blob_store(self, store: str) -> bool:
        """Whether objects of ``store`` are files."""
        return store in self.blob_stores

    def path(self, obj: ObjectId) -> Path:
        """The file of an object (rules 1 and 2).

        Raises:
            InputError: the store or key is unsafe.
        """
        check_blob_name(obj.store, what="store", field="store", multi_segment=False)
        check_blob_name(obj.key, what="key", field="key")
        path = self.root / obj.store / obj.key
        # The names are checked: only a symbolic link can lead out. A directory is resolved once
        # (a batch's files share a few), a file only when it is itself a link.
        if path.parent not in self._inside or path.is_symlink():
            if not path.resolve().is_relative_to(self.root):
                raise InputError(
                    source="inventory",
                    field="key",
                    message=f"blob {obj} escapes the blob directory",
                )
            if path.is_symlink():
                return path.resolve()
            self._inside.add(path.parent)
        return path

    def write(self, obj: ObjectId, data: bytes) -> None:
        """Write an object's bytes durably, whole or not at all (``durable.files``)."""
        atomic_write(self.path(obj), data)

    def stage(self, items: Iterable[tuple[ObjectId, bytes]]) -> StagedFiles:
        """Write many objects' bytes durably, in place only on ``commit`` (``durable.files`` 6).

        An import stages its files before its rows commit and puts them in place after, so a
        refused import changes no file and a crash leaves only temporaries behind.

        Args:
            items: each object and its bytes.

        Returns:
            The staged files: ``commit`` renames them into place, ``discard`` removes them.

        Raises:
            InputError: a store or key is unsafe; nothing is staged.
            OSError: a file could not be written or synced; nothing is staged.
        """
        located = [(self.path(obj), data) for obj, data in items]
        return StagedFiles.write(located)

    def read(self, obj: ObjectId) -> bytes | None:
        """An object's bytes, or None when it has no file."""
        path = self.path(obj)
        return path.read_bytes() if path.is_file() else None

    def delete(self, obj: ObjectId) -> bool:
        """Delete an object's file durably; False if there was none (rule 4).

        Raises:
            CredentialError: this directory was not authorised, or the credentials no longer
                match the store's record; no file is touched.
            InputError: the store or key is unsafe.
        """
        if self._delete_access is None:
            raise CredentialError(
                "primary", "deleting blob files needs the primary credentials (authorize)"
            )
        store, credentials = self._delete_access
        store.verify_credentials(credentials)
        return remove(self.path(obj))

    def delete_many(
        self, objects: Iterable[ObjectId]
    ) -> tuple[list[ObjectId], list[tuple[ObjectId, Exception]]]:
        """Delete many objects' files: checked once, each unlinked, each directory fsynced once.

        A purge batch's files: the credentials are checked once, not per file, and the
        directories are made durable after all the unlinks (one fsync per directory instead of
        one per file). The caller records the batch's files as removed only after this returns,
        so a crash before the fsyncs leaves the batch to recovery, which removes them again.

        Returns:
            The objects whose file was removed, and the failures (object, error) of the others;
            a missing file is neither.

        Raises:
            CredentialError: this directory was not authorised, or the credentials no longer
                match the store's record; no file is touched.
        """
        if self._delete_access is None:
            raise CredentialError(
                "primary", "deleting blob files needs the primary credentials (authorize)"
            )
        store, credentials = self._delete_access
        store.verify_credentials(credentials)
        removed: list[ObjectId] = []
        failed: list[tuple[ObjectId, Exception]] = []
        directories: set[Path] = set()
        for index, obj in enumerate(objects):
            if index:
                crash_point("journal-between-files")
            try:
                path = self.path(obj)
                path.unlink()
            except FileNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 -- reported per file; the others still go
                failed.append((obj, exc))
                continue
            removed.append(obj)
            directories.add(path.parent)
        for directory in sorted(directories):
            fsync_directory(directory)
        return removed, failed
