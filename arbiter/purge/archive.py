"""Restore archives: what a purge is about to delete, written and verified before it is deleted.

Rules:

1. Before the first row of a purge is deleted, every row of the purge set (all columns, the
   payload, its outgoing refs) and every blob's bytes are written to one archive and fsynced. No
   archive, no deletion. The archive is streamed: each object is encoded, hashed and compressed
   as it is read, so memory does not grow with the purge; it is verified by what was computed
   while writing (the file's SHA-256 and size, the size checked against the file on disk before
   it is linked into place, and the count of objects), not by reading it all back.
   ``read_archive`` verifies every line on restore and on recovery.
2. An archive is gzip-compressed JSON lines: a header, one line per object carrying the SHA-256
   of its own content, and a trailer with the count and a digest over all object lines. The
   SHA-256 of the whole file is recorded in the store; restore refuses an archive whose file,
   lines or trailer do not match.
3. An archive is kept until the tenant's ``backup_due`` and then removed, so it never outlives
   the backups of the data it protects.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from arbiter.core.canonical import canonical_json
from arbiter.core.errors import ArchiveError
from arbiter.durable.files import create_streamed

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["ArchiveContent", "ArchiveWritten", "read_archive", "write_archive"]

FORMAT = "twinpurge-archive-1"


@attrs.frozen
class ArchiveContent:
    """An archive read back: its header and its objects (rows with payload, refs, blob bytes)."""

    header: dict[str, Any]
    objects: tuple[dict[str, Any], ...]


def _encode(row: dict[str, Any], blob: bytes | None) -> dict[str, Any]:
    record = dict(row)
    payload = record.pop("payload", None)
    record["payload_b64"] = None if payload is None else base64.b64encode(payload).decode("ascii")
    record["blob_b64"] = None if blob is None else base64.b64encode(blob).decode("ascii")
    record["sha256"] = hashlib.sha256(canonical_json(record)).hexdigest()
    return record


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    digest = row.pop("sha256")
    if hashlib.sha256(canonical_json(row)).hexdigest() != digest:
        msg = f"object {row.get('store')}/{row.get('key')} does not match its checksum"
        raise ArchiveError(msg)
    payload = row.pop("payload_b64")
    blob = row.pop("blob_b64")
    row["payload"] = None if payload is None else base64.b64decode(payload)
    row["blob"] = None if blob is None else base64.b64decode(blob)
    return row


@attrs.frozen
class ArchiveWritten:
    """What ``write_archive`` wrote: the file's SHA-256 and size, and how many objects."""

    sha256: str
    size: int
    count: int


class _HashingWriter:
    """Passes bytes to a file, hashing and counting them on the way (rule 1)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def write_archive(
    path: Path,
    header: dict[str, Any],
    entries: Iterable[tuple[dict[str, Any], bytes | None]],
) -> ArchiveWritten:
    """Write and fsync an archive, streaming, and verify it against the file on disk (rule 1).

    Args:
        path: the archive file; must not exist.
        header: what the archive is for (tenant, plan digest, backup_due, ...).
        entries: per object, its full row (store, key, tenant, category, created_at,
            legal_hold, payload as bytes or None, refs) and its blob's bytes or None; consumed
            once, as the archive is written.

    Returns:
        The file's SHA-256 and size and the number of objects.

    Raises:
        ArchiveError: the archive could not be written, or the file on disk is not what was
            written; nothing is left at ``path``.
    """
    written: dict[str, Any] = {}

    def write(handle: BinaryIO) -> None:
        hashing = _HashingWriter(handle)
        digest = hashlib.sha256()
        count = 0
        # Level 1: an archive lives until backup_due; speed matters more than its size.
        with gzip.GzipFile(fileobj=hashing, mode="wb", mtime=0, compresslevel=1) as out:
            out.write(canonical_json({"format": FORMAT, **header}) + b"\n")
            for row, blob in entries:
                line = canonical_json(_encode(row, blob))
                digest.update(line)
                out.write(line + b"\n")
                count += 1
            out.write(canonical_json({"count": count, "digest": digest.hexdigest()}) + b"\n")
        handle.flush()
        on_disk = os.fstat(handle.fileno()).st_size
        if on_disk != hashing.size:  # before it is linked into place: nothing is left behind
            msg = f"archive {path} holds {on_disk} bytes, {hashing.size} were written"
            raise ArchiveError(msg)
        written.update(sha256=hashing.sha.hexdigest(), size=hashing.size, count=count)

    try:
        create_streamed(path, write)  # never over another archive
    except OSError as exc:
        msg = f"cannot write archive {path}: {exc}"
        raise ArchiveError(msg) from exc
    return ArchiveWritten(written["sha256"], written["size"], written["count"])


def read_archive(path: Path, sha256: str) -> ArchiveContent:
    """Read and verify an archive (rule 2).

    Args:
        path: the archive file.
        sha256: the file's SHA-256 as recorded in the store.

    Returns:
        The header and the objects.

    Raises:
        ArchiveError: missing, or any checksum, count or format mismatch.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read archive {path}: {exc.strerror}"
        raise ArchiveError(msg) from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        msg = f"archive {path} does not match the checksum recorded in the store"
        raise ArchiveError(msg)
    try:
        lines = gzip.decompress(data).decode("utf-8").splitlines()
        header = json.loads(lines[0])
        trailer = json.loads(lines[-1])
        records = [json.loads(line) for line in lines[1:-1]]
    except (OSError, ValueError, IndexError) as exc:
        msg = f"archive {path} is not readable: {exc}"
        raise ArchiveError(msg) from exc
    if header.get("format") != FORMAT:
        msg = f"archive {path} has an unknown format {header.get('format')!r}"
        raise ArchiveError(msg)
    digest = hashlib.sha256()
    for line in lines[1:-1]:
        digest.update(line.encode("utf-8"))
    if trailer != {"count": len(records), "digest": digest.hexdigest()}:
        msg = f"archive {path} trailer does not match its content"
        raise ArchiveError(msg)
    return ArchiveContent(header, tuple(_decode(r) for r in records))
