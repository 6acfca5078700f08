"""Restore archives: what a purge is about to delete, written and verified before it is deleted.

Rules:

1. Before the first row of a purge is deleted, every row of the purge set (all columns, the
   payload, its outgoing refs) and every blob's bytes are written to one archive, fsynced, read
   back and verified. No archive, no deletion.
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
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.canonical import canonical_json
from arbiter.core.errors import ArchiveError
from arbiter.durable.files import create

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ArchiveContent", "read_archive", "write_archive"]

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


def write_archive(
    path: Path,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    blobs: dict[tuple[str, str], bytes],
) -> str:
    """Write, fsync and verify an archive (rules 1 and 2).

    Args:
        path: the archive file; must not exist.
        header: what the archive is for (tenant, plan digest, backup_due, ...).
        rows: full object rows: store, key, tenant, category, created_at, legal_hold, payload
            (bytes or None), refs.
        blobs: blob bytes by (store, key).

    Returns:
        The SHA-256 of the archive file.

    Raises:
        ArchiveError: the archive could not be written or does not read back identically.
    """
    lines = [canonical_json({"format": FORMAT, **header})]
    digest = hashlib.sha256()
    for row in rows:
        line = canonical_json(_encode(row, blobs.get((row["store"], row["key"]))))
        digest.update(line)
        lines.append(line)
    lines.append(canonical_json({"count": len(rows), "digest": digest.hexdigest()}))
    data = gzip.compress(b"\n".join(lines) + b"\n", mtime=0)
    try:
        create(path, data)  # never over another archive
    except OSError as exc:
        msg = f"cannot write archive {path}: {exc}"
        raise ArchiveError(msg) from exc
    sha = hashlib.sha256(data).hexdigest()
    content = read_archive(path, sha)
    if len(content.objects) != len(rows):
        msg = f"archive {path} does not read back what was written"
        raise ArchiveError(msg)
    return sha


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
