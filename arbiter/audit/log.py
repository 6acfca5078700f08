r"""The arbiter's tamper-evident audit log: an append-only, hash-chained JSON Lines file.

Every decision the arbiter takes (a plan, an agreement, a refusal, a batch, ...) is appended as
one record. Anyone can read the log; nobody can edit, remove, reorder or add a record without
:meth:`AuditLog.verify` noticing, unless they can also rewrite the head store.

Invariants (checked by :meth:`AuditLog.verify`; any breach is an ``AuditTamperedError``):

1. The log is a UTF-8 file of JSON Lines: one record per line, each line ending in ``\n``. A
   last line without its newline is a torn or forged write, not a record.
2. A line is exactly the canonical JSON of its record: keys sorted, separators ``,`` and ``:``,
   non-ASCII characters unescaped, no ``NaN`` or ``Infinity``. Another spelling of the same
   data is tampering, so any change to the bytes of the file is detected.
3. A record has exactly the keys ``seq``, ``at``, ``kind``, ``actor``, ``data``, ``prev`` and
   ``hash``; a missing or unknown key is tampering.
4. ``seq`` counts 0, 1, 2, ... without gap or repeat: line *n* holds record *n - 1*.
5. ``at`` is a UTC instant ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``kind`` and ``actor`` are non-empty
   strings; ``data`` is a JSON object.
6. ``hash`` is the lowercase hex SHA-256 of the canonical JSON (rule 2, UTF-8) of the record
   without its ``hash`` key.
7. ``prev`` is the ``hash`` of the previous record; for record 0 it is 64 zeros.
8. The head store holds the ``seq`` and ``hash`` of the last record, somewhere the log alone
   cannot rewrite (the arbiter's SQLite store). The log's last record equals the head, and an
   empty log has no head. Rules 6 and 7 can be recomputed by anyone who can write the file;
   this rule catches truncation and records appended by anything but :meth:`AuditLog.append`.
9. Only :meth:`AuditLog.append` writes, under an exclusive ``flock`` on the log file held for the
   whole append: it reads the last record from the file (never from memory, so several
   processes may append), writes and fsyncs one line, then writes the head. Readers take a
   shared lock to read the file's size and the head together, so they never see a half-written
   record or a head that is ahead of the file.
10. :meth:`AuditLog.append` refuses, writing nothing, unless the log's last record equals the
    head once a crashed append is recovered (rule 11): a truncated or forged log is never
    extended (which would hide the damage).
11. A crash between the line's fsync and the head's write leaves the log one record ahead of the
    head. Recovery (:meth:`AuditLog.recover`, and every :meth:`AuditLog.append` first) adopts
    exactly ONE such record, under the append lock: it must be a complete line that passes rules
    1 to 7 and chains from the head (``seq`` = head seq + 1, ``prev`` = head hash; for a log
    without head, record 0 after genesis). Recovery then appends an ``audit-recovered`` record
    naming the adopted record (seq, hash, kind, actor) and moves the head to that record in ONE
    head write, so the adoption is always on the record. Anything else past the head (two
    records, a record that does not chain, a torn line) stays tampering, and
    :meth:`AuditLog.verify` itself never adopts: it reports a record past the head as before.
12. A crash during recovery (after the ``audit-recovered`` line, before the head write) leaves
    the pair "adopted record, its ``audit-recovered`` record" past the head; recovery finishes it
    by moving the head to the second record. That pair is the only two-record state accepted:
    a forger who can write it could as well write the single record, and both stay visible.
13. A torn last line (no final newline: a power loss mid-write, or a kill in the middle of a
    write larger than a page) is tampering, never removed automatically. From the bytes alone
    it cannot be told apart from a forger who cut a record, and removing bytes is the one thing
    the log must never do on its own (it would erase the evidence). The head never points past
    a torn line (the head moves only after the line's fsync), so an operator who has looked at
    it cuts the partial line (``truncate -s``) and the log verifies again.
14. Test seam (the one shared seam, ``arbiter.durable.crash``): when the environment variable
    ``TWINPURGE_CRASH_AT`` names a crash point, the process kills itself with ``SIGKILL``
    there (``audit-before-line``, ``audit-after-line``, ``audit-after-fsync``,
    ``audit-after-head``, the same with ``audit-recover-`` for the
    recovery record, and ``audit-recover-before-head`` for rule 12); ``NAME:N`` crashes at the
    N-th time the point is reached. Unset (always, outside the fault-injection tests) it does
    nothing.
15. If the head store raises and still holds the old head, the append removes its line again.

The log does not protect against someone who can rewrite both the file and the head store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import attrs
import cattrs

from arbiter.core.canonical import canonical_digest, canonical_json
from arbiter.core.convert import strict_converter
from arbiter.core.errors import AuditError, AuditTamperedError
from arbiter.core.instants import format_instant, utc_now
from arbiter.durable.crash import CRASH_ENV, crash_point
from arbiter.durable.files import atomic_write, fsync_directory

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

__all__ = [
    "CRASH_ENV",
    "RECOVERED_KIND",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "FileHeadStore",
    "HeadStore",
    "verify_log",
]

# The kind of the record that says a crashed append's record was adopted (rule 11).
RECOVERED_KIND = "audit-recovered"
# The test seam of rule 14: the crash point at which this process kills itself.

_GENESIS = "0" * 64
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_INSTANT = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")
_TAIL_BLOCK = 4096


def _check_hex64(_inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _HEX64.match(value):
        msg = f"{attribute.name} {value!r} is not a lowercase hex SHA-256"
        raise ValueError(msg)


def _check_instant(_inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _INSTANT.match(value):
        msg = f"{attribute.name} {value!r} is not a UTC instant YYYY-MM-DDTHH:MM:SS.ffffffZ"
        raise ValueError(msg)


@attrs.frozen
class AuditRecord:
    """One line of the audit log (rules 3 to 7 of the module docstring).

    ``data`` is a plain dict for JSON's sake; do not mutate it. It takes no part in ``hash()``
    of the record, which ``hash`` (the field) covers anyway.
    """

    seq: int = attrs.field(validator=attrs.validators.ge(0))
    at: str = attrs.field(validator=_check_instant)
    kind: str = attrs.field(validator=attrs.validators.min_len(1))
    actor: str = attrs.field(validator=attrs.validators.min_len(1))
    data: dict[str, Any] = attrs.field(hash=False)
    prev: str = attrs.field(validator=_check_hex64)
    hash: str = attrs.field(validator=_check_hex64)


@attrs.frozen
class AuditHead:
    """The sequence number and hash of the last record of a log (rule 8)."""

    seq: int = attrs.field(validator=attrs.validators.ge(0))
    hash: str = attrs.field(validator=_check_hex64)


class HeadStore(Protocol):
    """Where the head of a log is kept, out of reach of whoever can rewrite the log file."""

    def read_audit_head(self) -> AuditHead | None:
        """The head last written, or None if none was ever written."""
        ...

    def write_audit_head(self, head: AuditHead) -> None:
        """Replace the head, durably, before returning."""
        ...


# Strict: no coercion, unknown keys are tampering (see arbiter.core.convert).
_CONVERTER = strict_converter()


def _digest(fields: Mapping[str, Any]) -> str:
    """Rule 6: the hash of a record's fields other than ``hash``."""
    return canonical_digest({k: v for k, v in fields.items() if k != "hash"})


def _reject_constant(name: str) -> object:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def _plain(value: object, where: str) -> object:
    """A copy of ``value`` as plain JSON data (dicts and lists), or an ``AuditError``."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError(f"{where} is {value!r}, which JSON cannot hold")
        return value
    if isinstance(value, Mapping):
        copy: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"{where} has the key {key!r}; JSON keys are strings")
            copy[key] = _plain(item, f"{where}[{key!r}]")
        return copy
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise AuditError(f"{where} is a {type(value).__name__}, which is not plain JSON data")


def _plain_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as it will read back from the log, or an ``AuditError`` if it is not JSON data."""
    if not isinstance(data, Mapping):
        raise AuditError(f"data is a {type(data).__name__}, not a mapping")
    try:
        parsed: dict[str, Any] = json.loads(canonical_json(_plain(data, "data")))
    except RecursionError as exc:
        raise AuditError("data is nested too deeply (or contains itself)") from exc
    except ValueError as exc:  # a lone surrogate, or an integer too long to print
        raise AuditError(f"data cannot be written as JSON: {exc}") from exc
    return parsed


def _format_instant(moment: datetime) -> str:
    """Rule 5: ``moment`` as a UTC instant with microseconds, or an ``AuditError``."""
    if moment.utcoffset() is None:
        raise AuditError(f"the clock returned {moment!r}, which has no time zone")
    return format_instant(moment, fixed_width=True)


def _parse_line(raw: bytes, *, seq: int, line: int) -> AuditRecord:
    """Rules 1 to 6 for one line; ``seq`` and ``line`` are its place, for the error."""

    def bad(reason: str) -> AuditTamperedError:
        return AuditTamperedError(reason, seq=seq, line=line)

    if not raw.endswith(b"\n"):
        raise bad("the line has no final newline (a torn or forged write)")
    try:
        obj = json.loads(raw[:-1].decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise bad("the line is not UTF-8") from exc
    except ValueError as exc:
        raise bad(f"the line is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise bad("the line is not a JSON object")
    try:
        record = _CONVERTER.structure(obj, AuditRecord)
    except cattrs.BaseValidationError as exc:
        raise bad("not an audit record: " + "; ".join(cattrs.transform_error(exc))) from exc
    except (TypeError, ValueError) as exc:
        raise bad(f"not an audit record: {exc}") from exc
    try:
        canonical = canonical_json(_CONVERTER.unstructure(record))
    except ValueError as exc:  # e.g. an edited exponent: 1e293 became 1e393, an infinity
        raise bad(f"the line holds a value JSON cannot carry: {exc}") from exc
    if canonical + b"\n" != raw:
        raise bad("the line is not the canonical JSON of its record")
    if _digest(obj) != record.hash:
        raise bad("hash does not match the record's content (the record was edited)")
    return record


def _lines(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """The lines in the first ``size`` bytes of ``stream``, the last one possibly unterminated."""
    stream.seek(0)
    remaining = size
    while remaining > 0:
        raw = stream.readline(remaining)
        if not raw:  # the file shrank under us: what is gone is checked against the head
            return
        remaining -= len(raw)
        yield raw


def _check(lines: Iterable[bytes], head: AuditHead | None) -> Iterator[AuditRecord]:
    """Rules 1 to 8: yield each record once it is known good; raise at the first bad one."""
    last: AuditRecord | None = None
    for record in _chain(lines, head):
        last = record
        yield record
    _check_end(last, head)


def _chain(lines: Iterable[bytes], head: AuditHead | None) -> Iterator[AuditRecord]:
    """Rules 1 to 7, and the head's record at its place: everything but where the log ends."""
    prev = _GENESIS
    for line, raw in enumerate(lines, start=1):
        expected = line - 1
        record = _parse_line(raw, seq=expected, line=line)
        if record.seq != expected:
            raise AuditTamperedError(
                f"seq is {record.seq}, expected {expected} (a record was removed, repeated, "
                "or moved)",
                seq=expected,
                line=line,
            )
        if record.prev != prev:
            previous = "64 zeros" if expected == 0 else f"the hash of record {expected - 1}"
            raise AuditTamperedError(
                f"prev is not {previous} (a record before it was edited, removed or moved)",
                seq=expected,
                line=line,
            )
        if head is not None and record.seq == head.seq and record.hash != head.hash:
            raise AuditTamperedError(
                f"record {record.seq} is not the record the head store holds as the last one",
                seq=expected,
                line=line,
            )
        prev = record.hash
        yield record


def _check_end(last: AuditRecord | None, head: AuditHead | None) -> None:
    """Rule 8: the log ends at the head's record."""
    if last is None:
        if head is not None:
            raise AuditTamperedError(
                f"log is empty but head says {head.seq} (the log was truncated)", seq=0, line=1
            )
        return
    count = last.seq + 1
    if head is None:
        raise AuditTamperedError(
            f"the head store has no head but the log has {count} records "
            "(the head was lost, or the log was forged)"
        )
    if last.seq < head.seq:
        raise AuditTamperedError(
            f"record missing: the log ends at record {last.seq} but the head says {head.seq} "
            "(the log was truncated)",
            seq=count,
            line=count + 1,
        )
    if last.seq > head.seq:
        raise AuditTamperedError(
            f"record after the head: the head says {head.seq} but the log goes on to "
            f"{last.seq} (a record was appended outside AuditLog.append, or an append crashed)",
            seq=head.seq + 1,
            line=head.seq + 2,
        )


def _last_line(fd: int, size: int) -> bytes:
    """The last line of the first ``size > 0`` bytes of ``fd``, with its newline if it has one."""
    end = size - 1  # the final newline (if any) ends the last line, it does not start it
    start = end
    while start > 0:
        block_start = max(0, start - _TAIL_BLOCK)
        newline = os.pread(fd, start - block_start, block_start).rfind(b"\n")
        if newline != -1:
            start = block_start + newline + 1
            break
        start = block_start
    return os.pread(fd, size - start, start)


def _crash_point(name: str) -> None:
    """Rule 14: the one shared seam (``arbiter.durable.crash``); inert unless asked."""
    crash_point(name)


def _recovery_data(adopted: AuditRecord, head: AuditHead | None) -> dict[str, Any]:
    """What an ``audit-recovered`` record says about the record it adopts (rule 11)."""
    return {
        "adopted": {
            "seq": adopted.seq,
            "hash": adopted.hash,
            "kind": adopted.kind,
            "actor": adopted.actor,
            "at": adopted.at,
        },
        "head_was": None if head is None else {"seq": head.seq, "hash": head.hash},
        "reason": "a record past the head that chains from it: an append crashed before "
        "moving the head",
    }


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class FileHeadStore:
    """A head store in a small JSON file, replaced atomically on each write.

    For tests and simple setups: it protects against truncation only if the file lies where
    whoever can rewrite the log cannot write.
    """

    def __init__(self, path: Path) -> None:
        """A head store in ``path`` (created on the first write; its directory must exist).

        Args:
            path: the head file.
        """
        self._path = path

    def read_audit_head(self) -> AuditHead | None:
        """The head last written.

        Returns:
            The head, or None if the file does not exist.

        Raises:
            AuditError: the file exists but does not hold a head.
            OSError: the file cannot be read.
        """
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _CONVERTER.structure(json.loads(raw), AuditHead)
        except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
            raise AuditError(f"{self._path} does not hold an audit head") from exc

    def write_audit_head(self, head: AuditHead) -> None:
        """Replace the head atomically (``arbiter.durable.files.atomic_write``).

        Args:
            head: the new head.

        Raises:
            OSError: the file cannot be written; the old head is unchanged.
        """
        # Mode 600, as the head file always had: only the arbiter reads it.
        atomic_write(self._path, canonical_json(_CONVERTER.unstructure(head)) + b"\n", mode=0o600)


class AuditLog:
    """An append-only, hash-chained audit log file with its head kept in a separate store."""

    def __init__(
        self, path: Path, heads: HeadStore, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        """A log in ``path``, created on the first append (its directory must exist).

        Args:
            path: the JSON Lines file.
            heads: where the head of the log is kept (rule 8).
            clock: gives the instant of each record; time-zone aware. Defaults to now in UTC.
        """
        self._path = path
        self._heads = heads
        self._clock = clock

    def append(self, kind: str, data: Mapping[str, Any], *, actor: str) -> AuditRecord:
        """Append one record durably, then move the head to it (rules 9 to 12, 15).

        A record a crashed append left past the head is adopted first (rule 11), with its
        ``audit-recovered`` record before this one.

        Args:
            kind: what happened, e.g. ``"plan"``, ``"agreement"``, ``"refusal"``, ``"batch"``.
            data: the details: plain JSON data (dicts with string keys, lists or tuples,
                strings, finite numbers, booleans, None). Tuples read back as lists.
            actor: who did it, e.g. ``"retention-service"`` or an operator's name.

        Returns:
            The record as written, equal to the one :meth:`records` will read.

        Raises:
            AuditError: ``kind`` or ``actor`` is not a non-empty string, ``data`` is not plain
                JSON data, or the clock gives an instant without time zone. Nothing is written.
            AuditTamperedError: the log's last record does not equal the head, and no crashed
                append explains it (rules 10 to 13); the error names the first bad record.
                Nothing is written.
            OSError: the file cannot be opened (e.g. its directory is missing) or written.
        """
        for name, value in (("kind", kind), ("actor", actor)):
            if not isinstance(value, str) or not value:
                raise AuditError(f"{name} must be a non-empty string, not {value!r}")
        plain = _plain_data(data)
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            head = self._heads.read_audit_head()
            last, size, head, _ = self._settle(fd, size, head, actor=actor)
            fields: dict[str, Any] = {
                "kind": kind,
                "actor": actor,
                "data": plain,
            }
            return self._commit(fd, size, head, last, fields, point="audit")

    def recover(self, *, actor: str) -> AuditRecord | None:
        """Adopt the record a crashed append left past the head, if there is one (rules 11, 12).

        Args:
            actor: who recovers, for the ``audit-recovered`` record.

        Returns:
            The ``audit-recovered`` record now at the head, or None if the log already ended at
            the head.

        Raises:
            AuditTamperedError: the log does not end at the head and no crashed append explains
                it; nothing is written.
            AuditError: the head store cannot be read, or the clock has no time zone.
            OSError: the log cannot be opened or written.
        """
        if not self._path.exists() and self._heads.read_audit_head() is None:
            return None  # nothing to recover, and no file to create
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            head = self._heads.read_audit_head()
            return self._settle(fd, size, head, actor=actor)[3]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        """The log file, open for appending under the exclusive lock (rule 9)."""
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self._path, flags, 0o644)
        try:  # closing the file releases the lock
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    def _commit(  # noqa: PLR0913 -- the locked file, where it ends, and the record to add
        self,
        fd: int,
        size: int,
        head: AuditHead | None,
        last: AuditRecord | None,
        fields: Mapping[str, Any],
        *,
        point: str,
    ) -> AuditRecord:
        """Write one record after ``last``, fsync it, then move the head to it (rules 9, 15)."""
        chained: dict[str, Any] = {
            "seq": 0 if last is None else last.seq + 1,
            "at": _format_instant(self._clock()),
            **fields,
            "prev": _GENESIS if last is None else last.hash,
        }
        record = AuditRecord(**chained, hash=_digest(chained))
        _crash_point(f"{point}-before-line")
        try:
            _write_all(fd, canonical_json(_CONVERTER.unstructure(record)) + b"\n")
            _crash_point(f"{point}-after-line")
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)
            raise
        if size == 0:
            fsync_directory(self._path.parent)
        _crash_point(f"{point}-after-fsync")
        try:
            self._heads.write_audit_head(AuditHead(record.seq, record.hash))
        except BaseException:
            with contextlib.suppress(Exception):
                if self._heads.read_audit_head() == head:
                    os.ftruncate(fd, size)
                    os.fsync(fd)
            raise
        _crash_point(f"{point}-after-head")
        return record

    def _settle(
        self, fd: int, size: int, head: AuditHead | None, *, actor: str
    ) -> tuple[AuditRecord | None, int, AuditHead | None, AuditRecord | None]:
        """The log's last record, equal to the head once a crashed append is recovered.

        Returns:
            The last record, the log's size, the head, and the ``audit-recovered`` record if
            one is now the head (else None).

        Raises:
            AuditTamperedError: rules 10 to 13.
        """
        if size == 0 and head is None:
            return None, size, head, None
        if size > 0 and head is not None:
            with contextlib.suppress(AuditTamperedError):
                last = _parse_line(_last_line(fd, size), seq=head.seq, line=head.seq + 1)
                if (last.seq, last.hash) == (head.seq, head.hash):
                    return last, size, head, None
        # The tail does not match: read the whole log, to recover or to name the first bad record.
        with os.fdopen(os.dup(fd), "rb") as stream:
            records = list(_chain(_lines(stream, size), head))
        after = [r for r in records if head is None or r.seq > head.seq]
        end = records[-1] if records else None
        if len(after) == 1 and (head is not None or after[0].seq == 0):
            adopted = after[0]
            recovered = self._commit(
                fd,
                size,
                head,
                adopted,
                {"kind": RECOVERED_KIND, "actor": actor, "data": _recovery_data(adopted, head)},
                point="audit-recover",
            )
            return recovered, os.fstat(fd).st_size, self._heads.read_audit_head(), recovered
        if len(after) == 2 and after[1].kind == RECOVERED_KIND:  # noqa: PLR2004 -- rule 12's pair
            adopted, recovered = after
            if recovered.data == _recovery_data(adopted, head):
                _crash_point("audit-recover-before-head")
                self._heads.write_audit_head(AuditHead(recovered.seq, recovered.hash))
                return recovered, size, self._heads.read_audit_head(), recovered
        _check_end(end, head)  # raises: the log does not end at the head
        raise AuditTamperedError("the log's last record does not equal the head")  # unreachable

    def _open_snapshot(self) -> tuple[BinaryIO | None, int, AuditHead | None]:
        """The open log, its size and the head, read together under a shared lock (rule 9)."""
        try:
            stream = self._path.open("rb")
        except FileNotFoundError:
            head = self._heads.read_audit_head()
            if head is None:
                return None, 0, None
            try:  # an append may have created the file since the first try
                stream = self._path.open("rb")
            except FileNotFoundError:
                return None, 0, head
        try:
            fcntl.flock(stream, fcntl.LOCK_SH)
            try:
                size = os.fstat(stream.fileno()).st_size
                head = self._heads.read_audit_head()
            finally:
                fcntl.flock(stream, fcntl.LOCK_UN)
        except BaseException:
            stream.close()
            raise
        return stream, size, head

    def records(self) -> Iterator[AuditRecord]:
        """The records of the log, in order, each checked before it is yielded.

        The log's size and head are read together when iteration starts; records appended
        later are not seen. The head (rule 8) is checked after the last record, so a consumer
        that stops early has not verified the log.

        Yields:
            Each record, once it is known to follow the rules of the module docstring.

        Raises:
            AuditTamperedError: at the first bad record.
            AuditError: the head store cannot be read.
            OSError: the log cannot be read.
        """
        stream, size, head = self._open_snapshot()
        if stream is None:
            yield from _check((), head)
            return
        with stream:
            yield from _check(_lines(stream, size), head)

    def verify(self) -> int:
        """Check the whole log against every rule of the module docstring.

        Returns:
            The number of records (0 for a missing or empty log with no head).

        Raises:
            AuditTamperedError: the log fails verification; the error names the first bad
                record (``seq`` and ``line``), or has ``seq`` None if the head is missing.
            AuditError: the head store cannot be read.
            OSError: the log cannot be read.
        """
        return sum(1 for _ in self.records())


def verify_log(path: Path, heads: HeadStore) -> int:
    """Check the audit log in ``path`` against its head; see :meth:`AuditLog.verify`.

    Args:
        path: the JSON Lines file.
        heads: where the head of the log is kept.

    Returns:
        The number of records.

    Raises:
        AuditTamperedError: the log fails verification, naming the first bad record.
        AuditError: the head store cannot be read.
        OSError: the log cannot be read.
    """
    return AuditLog(path, heads).verify()
