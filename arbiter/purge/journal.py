"""The durable purge journal: every tenant purge leaves a record a crashed run can finish from.

A purge (automated ``purge_tenant``/``run_due``, or a manual ``execute_plan``) is journalled in
the store (tables ``journals`` and ``journal_steps``) and in a plan file. Rules:

1. Before anything else, the agreed plan is written to a new plan file in the workspace's
   journal directory (``durable.files.create``: whole or absent, never overwritten) as JSON
   lines: a header (purge id, tenant, plan digest), one line per object to purge
   (``{"purge": [store, key]}``), one per kept object (``{"kept": [store, key]}``) and a trailer
   with the counts (format ``twinpurge-purge-plan-1``, ``write_plan_file``). A plan agreed by
   streaming (``arbiter.purge.streaming``) is written as it is agreed, in format
   ``twinpurge-purge-plan-2`` (``StreamedPlanWriter``): a header (purge id, tenant), one line
   per object in ``(store, key)`` order, purged and kept interleaved, each holding the object's
   entry in the verdict's canonical JSON (``{"purge":{"key":...,"store":...}}``,
   ``{"kept":{"key":...,"reason":...,"store":...}}``), and a trailer with the plan digest
   (known only at the end) and the counts. Its SHA-256 is recorded with the journal entry
   (purge id, tenant, kind ``automated`` or ``manual``, plan id, plan digest, as_of, backup_due,
   actor). A resumed purge works from this file alone, never from a new plan. ``read_plan_file``
   reads both formats into memory; ``iter_plan_file`` streams the object lines of either, in
   file order, after checking the checksum in a first pass, and raises at the end if the file
   changed while it was read.
2. Steps are recorded durably, each before the next begins: ``archive`` (archive id and its
   SHA-256, once the archive is written and verified), ``batch`` (index and objects) for every
   committed batch, ``files`` (index) once a batch's blob files are removed, ``complete`` once
   the completeness check found nothing left behind, ``receipt`` once the receipt is recorded;
   then the journal is closed ``done``.
3. A ``batch`` step is written in the same SQLite transaction as the batch's ``DELETE``
   (``PurgeTransaction.journal_step``): a batch is committed exactly when its step is. So a
   committed batch is known after any crash and is never deleted twice.
4. A journal is closed ``refused`` when a guard stops the purge (rule 9 of
   ``arbiter.purge.purger``: the next run plans afresh), ``abandoned`` when recovery finds it
   crashed before its archive step (nothing was deleted), ``restored`` when its manual plan is
   restored. Any other journal without a ``finished_at`` is unfinished, and the next run's
   recovery (``arbiter.purge.recovery``) completes it.
5. Completeness (omission detection, ``check_completeness``): after a purge or a recovery, for
   the plan's purge list minus the objects recovery left alone on purpose (``skipped``):
   no row of the tenant with such an identity remains; no blob file of such an object remains
   once its row is gone; and no stray temporary file (``durable.files.stray_temporaries``) of
   the purge's own files (its plan file, its archive, its objects' blob files, told by name) is
   in the blob, archive or journal directories (one may hold tenant data). Another runner's
   temporary files, being written at that moment, are not this purge's omissions. Objects the plan
   keeps, and objects in neither list (created after planning), are not omissions: they are
   the tenant's remaining objects by design. Anything left behind is an omission: the journal
   stays unfinished so that the next run's recovery retries it.
6. A plan file lives as long as the purge's restore archive: once its journal is finished and
   the purge's ``backup_due`` has passed, ``Workspace.expire_archives`` removes it (a
   ``plan-file-removed`` audit record). An unfinished journal's plan file is never removed.
7. Test seam (``arbiter.durable.crash``): ``journal-after-plan``, ``journal-after-archive``,
   ``journal-after-batch`` (a batch committed, its files not yet removed),
   ``journal-between-files``, ``journal-before-complete``, ``journal-after-complete``,
   ``journal-before-receipt`` and ``journal-before-done``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import time
import uuid
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.core.errors import ArchiveError
from arbiter.core.verdict import ObjectId
from arbiter.durable.files import create, stray_temporaries

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import BinaryIO

    from arbiter.core.verdict import Verdict
    from arbiter.stores.ports import BlobTarget, JournalStore

__all__ = [
    "JournalState",
    "PlanFile",
    "StreamedPlanWriter",
    "check_completeness",
    "iter_plan_file",
    "new_purge_id",
    "read_plan_file",
    "strays",
    "write_plan_file",
]

Kind = Literal["automated", "manual"]
FORMAT = "twinpurge-purge-plan-1"
FORMAT_STREAMED = "twinpurge-purge-plan-2"
_BLOCK = 1 << 20
# Bytes of plan-file lines parsed at once: some 1,500 lines, a few hundred KiB of objects.
_LINES_BLOCK = 1 << 16
# Objects the completeness check reads per query.
_CHUNK = 4096


def new_purge_id() -> str:
    """A fresh purge id."""
    return uuid.uuid4().hex[:16]


@attrs.frozen
class PlanFile:
    """A plan file read back (rule 1).

    Attributes:
        header: the first line.
        purge: the objects to purge, in file order.
        kept: the objects kept, in file order.
        trailer: the last line (the counts; in format 2 the plan digest too).
    """

    header: dict[str, Any]
    purge: tuple[ObjectId, ...]
    kept: tuple[ObjectId, ...]
    trailer: dict[str, Any] = attrs.Factory(dict)

    @property
    def digest(self) -> str | None:
        """The plan digest the file names, in its header (format 1) or trailer (format 2)."""
        found = self.header.get("digest", self.trailer.get("digest"))
        return None if found is None else str(found)


def write_plan_file(
    directory: Path, purge_id: str, verdict: Verdict, digest: str
) -> tuple[Path, str]:
    """Write the agreed plan as JSON lines to a new file (rule 1).

    Args:
        directory: the journal directory.
        purge_id: the purge this plan is for.
        verdict: the agreed verdict.
        digest: its plan digest.

    Returns:
        The file's path and its SHA-256.

    Raises:
        OSError: the file could not be written; nothing is at its name.
    """
    header = {"format": FORMAT, "purge_id": purge_id, "tenant": verdict.tenant, "digest": digest}
    lines = [json.dumps(header, sort_keys=True)]
    lines += [json.dumps({"purge": [o.store, o.key]}) for o in verdict.purge]
    lines += [json.dumps({"kept": [k.store, k.key]}) for k in verdict.kept]
    lines.append(json.dumps({"purge_count": len(verdict.purge), "kept_count": len(verdict.kept)}))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = plan_file_path(directory, purge_id)
    create(path, data, mode=0o600)
    return path, hashlib.sha256(data).hexdigest()


def plan_file_path(directory: Path, purge_id: str) -> Path:
    """Where the plan file of ``purge_id`` lives in the journal directory ``directory``."""
    return directory / f"{purge_id}.plan.jsonl"


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True) + "\n").encode("utf-8")


class StreamedPlanWriter:
    """Writes a plan file of format 2 line by line, as its objects are agreed (rule 1).

    It writes into a file ``durable.files.create_streamed`` opened (so that the file is whole
    or absent), and hashes what it writes. Each object's line holds its entry in the verdict's
    canonical JSON (``arbiter.core.lockstep.VerdictDigest.entry``), the bytes the plan digest
    hashes: ``{"purge":{"key":...,"store":...}}`` or
    ``{"kept":{"key":...,"reason":...,"store":...}}``.

    Args:
        handle: the file, open for binary writing.
        purge_id: the purge this plan is for.
        tenant: the tenant.
    """

    def __init__(self, handle: BinaryIO, purge_id: str, tenant: str) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self.purge_count = 0
        self.kept_count = 0
        self._write(_line({"format": FORMAT_STREAMED, "purge_id": purge_id, "tenant": tenant}))

    def _write(self, *parts: bytes) -> None:
        for part in parts:
            self._hash.update(part)
            self._handle.write(part)

    def purge(self, entry: bytes) -> None:
        """The next object, to purge: its entry in the verdict's canonical JSON."""
        self._write(b'{"purge":', entry, b"}\n")
        self.purge_count += 1

    def kept(self, entry: bytes) -> None:
        """The next object, kept: its entry (with its reason) in the verdict's canonical JSON."""
        self._write(b'{"kept":', entry, b"}\n")
        self.kept_count += 1

    def finish(self, digest: str) -> str:
        """Write the trailer (the plan digest and the counts); return the file's SHA-256."""
        self._write(
            _line(
                {"digest": digest, "purge_count": self.purge_count, "kept_count": self.kept_count}
            )
        )
        return self._hash.hexdigest()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _verified_lines(path: Path, sha256: str) -> Iterator[dict[str, Any]]:
    """The parsed lines of a plan file whose SHA-256 is ``sha256``, one at a time (rule 1).

    Raises:
        ArchiveError: the file is missing or does not match, before the first line; or it
            changed while it was read, after the last.
    """
    try:
        before = _hash_file(path)
        handle = path.open("rb")
    except OSError as exc:
        msg = f"cannot read purge plan file {path}: {exc.strerror}"
        raise ArchiveError(msg) from exc
    if before != sha256:
        handle.close()
        msg = f"purge plan file {path} does not match the checksum in its journal"
        raise ArchiveError(msg)
    read = hashlib.sha256()
    rest = b""
    with handle:
        # A block of lines at a time, parsed as one JSON array: a line is one JSON value and
        # holds no raw newline (JSON escapes it), so the newlines can become commas.
        while block := handle.read(_LINES_BLOCK):
            read.update(block)
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield from json.loads(b"[" + block[: cut - 1].replace(b"\n", b",") + b"]")
        if rest:
            yield json.loads(rest)
    if read.hexdigest() != sha256:
        msg = f"purge plan file {path} changed while it was read"
        raise ArchiveError(msg)


def _object(value: Any) -> ObjectId:  # noqa: ANN401 -- a parsed line's value
    """An object line's identity: ``[store, key]`` (format 1) or its entry (format 2)."""
    if isinstance(value, dict):
        return ObjectId(value["store"], value["key"])
    return ObjectId(*value)


def read_plan_file(path: Path, sha256: str) -> PlanFile:
    """Read a plan file of either format, checked against its journal's SHA-256 (rule 1).

    Raises:
        ArchiveError: the file is missing, damaged or incomplete.
    """
    lines = list(_verified_lines(path, sha256))
    purge = tuple(_object(line["purge"]) for line in lines[1:-1] if "purge" in line)
    kept = tuple(_object(line["kept"]) for line in lines[1:-1] if "kept" in line)
    return PlanFile(lines[0], purge, kept, lines[-1])


def iter_plan_file(path: Path, sha256: str) -> Iterator[tuple[Literal["purge", "kept"], ObjectId]]:
    """Stream a plan file's object lines of either format, in file order (rule 1).

    The checksum is checked in a first pass, before anything is yielded; the lines are hashed
    again as they are read, and a file that changed in between raises after the last object.

    Args:
        path: the plan file.
        sha256: its SHA-256, as its journal recorded it.

    Yields:
        ``("purge", identity)`` or ``("kept", identity)`` per object line.

    Raises:
        ArchiveError: the file is missing, damaged, incomplete, or changed while read.
    """
    lines = _verified_lines(path, sha256)
    next(lines, None)  # the header
    pending: dict[str, Any] | None = None
    for line in lines:
        if pending is not None:
            if "purge" in pending:
                yield "purge", _object(pending["purge"])
            elif "kept" in pending:
                yield "kept", _object(pending["kept"])
        pending = line  # the last line, the trailer, is never yielded


@attrs.frozen
class JournalState:
    """A journal entry with what its steps say (rule 2)."""

    record: dict[str, Any]
    steps: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, store: JournalStore, record: dict[str, Any]) -> JournalState:
        """The state of ``record``'s journal, from ``store``."""
        return cls(record, tuple(store.journal_steps(record["purge_id"])))

    @property
    def purge_id(self) -> str:
        """The purge's id."""
        return str(self.record["purge_id"])

    @property
    def archive(self) -> tuple[str, str] | None:
        """(archive id, SHA-256) once the archive step is recorded."""
        for step in self.steps:
            if step["step"] == "archive":
                return str(step["data"]["archive_id"]), str(step["data"]["sha256"])
        return None

    def _done(self, name: str) -> bool:
        return any(step["step"] == name for step in self.steps)

    @property
    def committed(self) -> tuple[ObjectId, ...]:
        """Objects of committed batches, in order."""
        return tuple(
            ObjectId(*o) for s in self.steps if s["step"] == "batch" for o in s["data"]["objects"]
        )

    @property
    def batches(self) -> int:
        """How many batches committed."""
        return sum(1 for s in self.steps if s["step"] == "batch")

    @property
    def skipped(self) -> tuple[ObjectId, ...]:
        """Objects recovery left alone because a guard no longer allowed deleting them."""
        return tuple(
            ObjectId(*o) for s in self.steps if s["step"] == "skipped" for o in s["data"]["objects"]
        )

    @property
    def complete(self) -> bool:
        """Whether the completeness check passed."""
        return self._done("complete")

    @property
    def receipt(self) -> bool:
        """Whether the receipt is recorded."""
        return self._done("receipt")


def strays(directories: Iterable[Path], *, quiet_for: float = 0.0) -> list[Path]:
    """Stray temporary files in ``directories`` and below (rule 5), sorted.

    Args:
        directories: where to look.
        quiet_for: only files unmodified for at least this many seconds: a file a live writer
            is filling (another runner's archive, say) keeps being modified until it is renamed.
    """
    found: list[Path] = []
    now = time.time()
    for directory in directories:
        if not directory.is_dir():
            continue
        for root, _dirs, _files in os.walk(directory):
            for path in stray_temporaries(Path(root)):
                with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
                    if now - path.stat().st_mtime >= quiet_for:
                        found.append(path)
    return sorted(found)


def check_completeness(  # noqa: PLR0913 -- what the check compares
    store: JournalStore,
    blobs: BlobTarget | None,
    tenant: str,
    *,
    purged: Iterable[ObjectId],
    skipped: Iterable[ObjectId],
    temp_dirs: Iterable[Path],
    own_files: Iterable[str] = (),
) -> list[str]:
    """The omissions of a purge (rule 5): what it should have removed and did not.

    Args:
        store: the store (rows are read as they are now).
        blobs: the blob files, if any.
        tenant: the purged tenant.
        purged: the plan's purge list, read once, a chunk at a time (it may stream from the
            plan file).
        skipped: objects recovery left alone on purpose.
        temp_dirs: where stray temporary files are looked for.
        own_files: the names of the purge's own files besides its objects' blob files (its
            plan file, its archive id); only temporary files of these, or of the purged blobs,
            are its omissions (rule 5).

    Returns:
        One line per omission; empty when the purge is complete.
    """
    left_alone = set(skipped)
    found = strays(temp_dirs)
    ours = {p for p in found if any(p.name.startswith(f".{name}.") for name in own_files)}
    rows: list[str] = []
    files: list[str] = []
    # A chunk at a time: a purge list read from its plan file is never held whole.
    targets = (o for o in purged if o not in left_alone)
    while chunk := list(itertools.islice(targets, _CHUNK)):
        owners = store.object_rows(chunk)
        rows += [
            f"row {o.store}/{o.key} of {tenant} remains" for o in chunk if owners.get(o) == tenant
        ]
        if blobs is not None:
            files += [
                f"file of {o.store}/{o.key} remains after its row was deleted"
                for o in chunk
                if o not in owners and blobs.is_blob_store(o.store) and blobs.read(o) is not None
            ]
        if found:  # pathlib interns each name it parses: only when there is a stray to match
            names = {PurePosixPath(o.key).name for o in chunk}
            ours.update(p for p in found if any(p.name.startswith(f".{name}.") for name in names))
    return [*rows, *files, *(f"stray temporary file {p}" for p in found if p in ours)]
