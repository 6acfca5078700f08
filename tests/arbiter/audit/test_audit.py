"""The audit log: a verifying hash chain, and every kind of tampering named at its first record.

Concurrent appends from several processes run with a head file, and through a workspace on
both stores (``store_kind``), whose head lives in its primary store (``log`` rule 8).
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter.audit.log import AuditHead, AuditLog, AuditRecord, FileHeadStore, verify_log
from arbiter.core.errors import AuditError, AuditTamperedError
from tests import faults
from tests.builders import workspace

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.synchronize import Event

ZEROS = "0" * 64
START = datetime(2026, 5, 1, tzinfo=UTC)


class TickingClock:
    """A clock that moves one second forward at each call, from ``START``."""

    def __init__(self) -> None:
        """Start before ``START``, so that the first call gives it."""
        self.now = START - timedelta(seconds=1)

    def __call__(self) -> datetime:
        """The next instant."""
        self.now += timedelta(seconds=1)
        return self.now


class Setup(NamedTuple):
    """A log, its file and its head store."""

    log: AuditLog
    path: Path
    heads: FileHeadStore


def make_setup(directory: Path) -> Setup:
    """An empty log in ``directory`` with a ticking clock and a head file beside it."""
    path = directory / "audit.jsonl"
    heads = FileHeadStore(directory / "head.json")
    return Setup(AuditLog(path, heads, clock=TickingClock()), path, heads)


def fill(setup: Setup, count: int) -> list[AuditRecord]:
    """Append ``count`` records of alternating kinds."""
    kinds = ("plan", "agreement", "batch")
    return [
        setup.log.append(kinds[i % 3], {"i": i, "tenant": "t-1"}, actor="retention-service")
        for i in range(count)
    ]


@pytest.fixture
def five(tmp_path: Path) -> Setup:
    """A log of five good records, seq 0 to 4."""
    setup = make_setup(tmp_path)
    fill(setup, 5)
    return setup


def canonical(value: object) -> bytes:
    """The canonical JSON of the brief, written independently of the module."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sealed(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``hash`` recomputed over everything else, as a forger would."""
    rest = {key: value for key, value in fields.items() if key != "hash"}
    return {**rest, "hash": hashlib.sha256(canonical(rest)).hexdigest()}


def read_lines(path: Path) -> list[bytes]:
    """The lines of ``path``, each with its newline."""
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    """Replace the content of ``path`` with ``lines``."""
    path.write_bytes(b"".join(lines))


def parse(line: bytes) -> dict[str, Any]:
    """The JSON object of one line."""
    obj: dict[str, Any] = json.loads(line)
    return obj


def dump(obj: dict[str, Any]) -> bytes:
    """One canonical line."""
    return canonical(obj) + b"\n"


def tampering(log: AuditLog) -> AuditTamperedError:
    """The error verification raises."""
    with pytest.raises(AuditTamperedError) as info:
        log.verify()
    return info.value


def where(error: AuditTamperedError) -> tuple[int | None, int | None]:
    """The record and line an error names."""
    return error.seq, error.line


# Appending and reading.


def test_appending_builds_a_verifying_chain(tmp_path: Path) -> None:
    """Appended records verify, read back equal, count from 0 and each links to the previous."""
    setup = make_setup(tmp_path)
    written = fill(setup, 5)
    assert 5 == setup.log.verify()
    assert written == list(setup.log.records())
    assert [0, 1, 2, 3, 4] == [record.seq for record in written]
    assert [ZEROS] + [record.hash for record in written[:-1]] == [r.prev for r in written]


def test_each_line_is_the_canonical_json_of_its_record(five: Setup) -> None:
    """A line is the sorted, compact JSON of the record; hash covers everything but itself."""
    for line, record in zip(read_lines(five.path), five.log.records(), strict=True):
        obj = parse(line)
        assert ["actor", "at", "data", "hash", "kind", "prev", "seq"] == sorted(obj)
        assert dump(obj) == line
        assert sealed(obj)["hash"] == record.hash


def test_record_fields_come_from_the_arguments_and_the_clock(tmp_path: Path) -> None:
    """Kind, actor and data are recorded as given; ``at`` is the clock's instant in UTC."""
    setup = make_setup(tmp_path)
    record = setup.log.append("refusal", {"tenant": "t-9", "why": ["a", "b"]}, actor="alice")
    assert (
        "refusal",
        "alice",
        {"tenant": "t-9", "why": ["a", "b"]},
        "2026-05-01T00:00:00.000000Z",
    ) == (
        record.kind,
        record.actor,
        record.data,
        record.at,
    )


def test_an_aware_clock_in_another_zone_is_recorded_in_utc(tmp_path: Path) -> None:
    """An instant at +02:00 is written as the same instant in UTC, with microseconds."""
    plus_two = timezone(timedelta(hours=2))
    path = tmp_path / "audit.jsonl"
    log = AuditLog(
        path,
        FileHeadStore(tmp_path / "head.json"),
        clock=lambda: datetime(2026, 5, 1, 2, 0, 0, 5, tzinfo=plus_two),
    )
    assert "2026-05-01T00:00:00.000005Z" == log.append("plan", {}, actor="svc").at


def test_a_whole_second_keeps_its_six_fraction_digits(tmp_path: Path) -> None:
    """Rule 5: the record's instant is fixed-width, ``.000000`` included."""
    log = AuditLog(
        tmp_path / "audit.jsonl",
        FileHeadStore(tmp_path / "head.json"),
        clock=lambda: datetime(2026, 5, 1, tzinfo=UTC),
    )
    assert "2026-05-01T00:00:00.000000Z" == log.append("plan", {}, actor="svc").at
    assert 1 == log.verify()


def test_the_head_file_is_replaced_whole_and_private(five: Setup) -> None:
    """The head file is one canonical JSON line, mode 600, with no temporary file beside it."""
    head = five.heads.read_audit_head()
    assert head is not None
    head_file = five.path.parent / "head.json"
    expected = f'{{"hash":"{head.hash}","seq":4}}\n'
    assert expected == head_file.read_text(encoding="utf-8")
    assert 0o600 == head_file.stat().st_mode & 0o777
    assert ["audit.jsonl", "head.json"] == sorted(p.name for p in five.path.parent.iterdir())


def test_a_naive_clock_raises_before_anything_is_written(tmp_path: Path) -> None:
    """A clock without time zone is refused; the log stays empty and verifies."""
    heads = FileHeadStore(tmp_path / "head.json")
    log = AuditLog(tmp_path / "audit.jsonl", heads, clock=lambda: datetime(2026, 5, 1))  # noqa: DTZ001 -- the naive instant is the point of the test
    with pytest.raises(AuditError, match="no time zone"):
        log.append("plan", {}, actor="svc")
    assert (0, None) == (log.verify(), heads.read_audit_head())


def test_the_head_store_holds_the_last_record(five: Setup) -> None:
    """After each append the head is the new record's seq and hash."""
    last = list(five.log.records())[-1]
    assert AuditHead(4, last.hash) == five.heads.read_audit_head()


def test_a_missing_log_without_head_verifies_as_empty(tmp_path: Path) -> None:
    """No file and no head is an empty log of 0 records; nothing is created by reading."""
    setup = make_setup(tmp_path)
    assert (0, [], False) == (setup.log.verify(), list(setup.log.records()), setup.path.exists())


def test_an_empty_file_without_head_verifies_as_empty(tmp_path: Path) -> None:
    """An empty file and no head is an empty log of 0 records."""
    setup = make_setup(tmp_path)
    setup.path.touch()
    assert 0 == setup.log.verify()


def test_the_first_append_creates_the_file(tmp_path: Path) -> None:
    """The file is created by the first append, holding one line."""
    setup = make_setup(tmp_path)
    setup.log.append("plan", {}, actor="svc")
    assert 1 == len(read_lines(setup.path))


def test_a_missing_directory_is_an_error_and_writes_no_head(tmp_path: Path) -> None:
    """The log's directory must exist: append raises and the head store stays empty."""
    heads = FileHeadStore(tmp_path / "head.json")
    log = AuditLog(tmp_path / "missing" / "audit.jsonl", heads)
    with pytest.raises(FileNotFoundError):
        log.append("plan", {}, actor="svc")
    assert heads.read_audit_head() is None


def test_tuples_and_mappings_read_back_as_plain_json(tmp_path: Path) -> None:
    """Data is recorded as JSON: the returned record equals what is read back (tuples as lists)."""
    setup = make_setup(tmp_path)
    record = setup.log.append("batch", {"ids": ("a", "b"), "n": {"x": (1,)}}, actor="svc")
    assert ({"ids": ["a", "b"], "n": {"x": [1]}}, [record]) == (
        record.data,
        list(setup.log.records()),
    )


def test_verify_log_checks_a_log_by_path(five: Setup) -> None:
    """The convenience function verifies the log in a file against a head store."""
    assert 5 == verify_log(five.path, five.heads)


# Tampering: each case names the first bad record (seq, 1-based line).


def test_an_edited_middle_record_is_named(five: Setup) -> None:
    """Changing a value of record 2 (JSON still valid) breaks its hash: record 2 is named."""
    lines = read_lines(five.path)
    obj = parse(lines[2])
    obj["data"]["tenant"] = "t-2"
    lines[2] = dump(obj)
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "hash does not match" in error.reason


def test_an_edited_record_with_its_hash_recomputed_is_caught_at_the_next(five: Setup) -> None:
    """Re-sealing an edited record 2 keeps it self-consistent; record 3's prev no longer links."""
    lines = read_lines(five.path)
    obj = parse(lines[2])
    obj["actor"] = "mallory"
    lines[2] = dump(sealed(obj))
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (3, 4) == where(error)
    assert "prev is not the hash of record 2" in error.reason


def test_a_removed_middle_record_is_named(five: Setup) -> None:
    """Removing record 2 leaves a gap: line 3 should hold record 2 and is named."""
    lines = read_lines(five.path)
    del lines[2]
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "seq is 3, expected 2" in error.reason


def test_swapped_records_are_named(five: Setup) -> None:
    """Swapping records 1 and 2: line 2 holds record 2 where record 1 belongs."""
    lines = read_lines(five.path)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(five.path, lines)
    assert (1, 2) == where(tampering(five.log))


def test_a_renumbered_record_is_named(five: Setup) -> None:
    """Removing record 2 and renumbering the rest (re-sealed) breaks prev at line 3."""
    lines = read_lines(five.path)
    del lines[2]
    renumbered = [dump(sealed({**parse(line), "seq": i})) for i, line in enumerate(lines)]
    write_lines(five.path, renumbered)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "prev" in error.reason


@pytest.mark.parametrize("removed", [1, 2, 4])
def test_a_truncated_log_is_caught_by_the_head(five: Setup, removed: int) -> None:
    """Dropping the last records leaves a valid chain; the head names the first missing seq."""
    write_lines(five.path, read_lines(five.path)[:-removed])
    error = tampering(five.log)
    assert (5 - removed, 6 - removed) == where(error)
    assert "record missing" in error.reason


def test_a_log_truncated_to_empty_is_caught_by_the_head(five: Setup) -> None:
    """An emptied log with a head at 4 is tampering: record 0 is missing."""
    write_lines(five.path, [])
    error = tampering(five.log)
    assert (0, 1) == where(error)
    assert "log is empty but head says 4" in error.reason


def test_a_deleted_log_is_caught_by_the_head(five: Setup) -> None:
    """A deleted log file with a head at 4 is tampering, like an emptied one."""
    five.path.unlink()
    assert "log is empty but head says 4" in tampering(five.log).reason


def test_a_forged_record_with_correct_hashes_is_caught_by_the_head(five: Setup) -> None:
    """A record appended by hand links and hashes correctly, but goes past the head."""
    lines = read_lines(five.path)
    last = parse(lines[-1])
    forged = {
        "seq": 5,
        "at": "2026-05-01T00:00:05.000000Z",
        "kind": "agreement",
        "actor": "mallory",
        "data": {"tenant": "t-1"},
        "prev": last["hash"],
    }
    write_lines(five.path, [*lines, dump(sealed(forged))])
    error = tampering(five.log)
    assert (5, 6) == where(error)
    assert "record after the head" in error.reason


def test_a_replaced_last_record_with_correct_hashes_is_caught_by_the_head(five: Setup) -> None:
    """Re-sealing an edited last record keeps the chain valid, but it is not the head's record."""
    lines = read_lines(five.path)
    obj = parse(lines[-1])
    obj["kind"] = "refusal"
    lines[-1] = dump(sealed(obj))
    write_lines(five.path, lines)
    assert (4, 5) == where(tampering(five.log))


def test_an_unknown_key_is_tampering(five: Setup) -> None:
    """A record with an extra key (even re-sealed) is not an audit record."""
    lines = read_lines(five.path)
    lines[2] = dump(sealed({**parse(lines[2]), "approved_by": "mallory"}))
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "approved_by" in error.reason


def test_a_missing_key_is_tampering(five: Setup) -> None:
    """A record without ``actor`` (even re-sealed) is not an audit record."""
    lines = read_lines(five.path)
    obj = parse(lines[2])
    del obj["actor"]
    lines[2] = dump(sealed(obj))
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "actor" in error.reason


def test_a_wrongly_typed_field_is_tampering(five: Setup) -> None:
    """A seq spelled as a string (even re-sealed) is not an audit record."""
    lines = read_lines(five.path)
    lines[2] = dump(sealed({**parse(lines[2]), "seq": "2"}))
    write_lines(five.path, lines)
    assert (2, 3) == where(tampering(five.log))


def test_a_line_that_is_not_json_is_tampering(five: Setup) -> None:
    """A line of garbage is named."""
    lines = read_lines(five.path)
    lines[2] = b"garbage\n"
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "not JSON" in error.reason


def test_a_record_spelled_differently_is_tampering(five: Setup) -> None:
    """The same record with spaces after separators is not canonical, so it is tampering."""
    lines = read_lines(five.path)
    lines[2] = json.dumps(parse(lines[2]), sort_keys=True).encode() + b"\n"
    write_lines(five.path, lines)
    error = tampering(five.log)
    assert (2, 3) == where(error)
    assert "canonical" in error.reason


def test_a_last_line_without_newline_is_tampering(five: Setup) -> None:
    """Removing the final newline leaves a torn last line: record 4 is named."""
    five.path.write_bytes(five.path.read_bytes()[:-1])
    error = tampering(five.log)
    assert (4, 5) == where(error)
    assert "no final newline" in error.reason


def test_a_partial_trailing_line_is_tampering(five: Setup) -> None:
    """A torn write after the last record (no newline) is named as record 5."""
    five.path.write_bytes(five.path.read_bytes() + b'{"actor":"svc","at":')
    assert (5, 6) == where(tampering(five.log))


def test_a_missing_head_is_tampering(five: Setup, tmp_path: Path) -> None:
    """Records without a head in the head store fail, saying the head is missing."""
    (tmp_path / "head.json").unlink()
    error = tampering(five.log)
    assert (None, None) == where(error)
    assert "the head store has no head but the log has 5 records" in error.reason


def test_the_message_names_the_first_bad_record(five: Setup) -> None:
    """The message of the error names the record and line, then the reason."""
    lines = read_lines(five.path)
    lines[1], lines[3] = b"garbage\n", b"garbage\n"
    write_lines(five.path, lines)
    assert str(tampering(five.log)).startswith("audit record 1 (line 2) fails verification: ")


def test_records_yields_the_good_records_before_the_first_bad_one(five: Setup) -> None:
    """Reading stops with the error at the first bad record, after yielding the ones before."""
    lines = read_lines(five.path)
    lines[3] = b"garbage\n"
    write_lines(five.path, lines)
    seen: list[int] = []
    with pytest.raises(AuditTamperedError):
        seen.extend(record.seq for record in five.log.records())
    assert [0, 1, 2] == seen


@pytest.mark.parametrize("drop_head", [False, True])
def test_append_refuses_to_extend_a_tampered_log(five: Setup, *, drop_head: bool) -> None:
    """A truncated log (or a lost head) is never extended: append raises and writes nothing."""
    if drop_head:
        five.heads.write_audit_head(AuditHead(0, "f" * 64))
        content = five.path.read_bytes()
    else:
        content = b"".join(read_lines(five.path)[:-1])
        five.path.write_bytes(content)
    head = five.heads.read_audit_head()
    with pytest.raises(AuditTamperedError):
        five.log.append("plan", {}, actor="svc")
    assert (content, head) == (five.path.read_bytes(), five.heads.read_audit_head())


def test_append_refuses_after_a_torn_write(five: Setup) -> None:
    """A partial last line stops appends until an operator resolves it."""
    five.path.write_bytes(five.path.read_bytes() + b'{"actor":')
    with pytest.raises(AuditTamperedError) as info:
        five.log.append("plan", {}, actor="svc")
    assert (5, 6) == where(info.value)


# Bad data: refused before anything is written.


@pytest.mark.parametrize(
    "data",
    [
        {"ids": {"a", "b"}},
        {"when": datetime(2026, 5, 1, tzinfo=UTC)},
        {"raw": b"bytes"},
        {"x": math.nan},
        {"x": [1, math.inf]},
        {"nested": {1: "int key"}},
        {"obj": object()},
        {"bad": "\ud800"},
    ],
    ids=["set", "datetime", "bytes", "nan", "inf", "int-key", "object", "lone-surrogate"],
)
def test_unserialisable_data_raises_before_anything_is_written(
    five: Setup, data: dict[str, Any]
) -> None:
    """Data that is not plain JSON raises AuditError; the file and the head are unchanged."""
    content, head = five.path.read_bytes(), five.heads.read_audit_head()
    with pytest.raises(AuditError, match=r"^data"):
        five.log.append("plan", data, actor="svc")
    assert (content, head, 5) == (five.path.read_bytes(), five.heads.read_audit_head(), 5)
    assert 5 == five.log.verify()


def test_unserialisable_data_does_not_create_the_log(tmp_path: Path) -> None:
    """A refused first append leaves no file and no head."""
    setup = make_setup(tmp_path)
    with pytest.raises(AuditError):
        setup.log.append("plan", {"ids": {1}}, actor="svc")
    assert (False, None) == (setup.path.exists(), setup.heads.read_audit_head())


@pytest.mark.parametrize(("kind", "actor"), [("", "svc"), ("plan", "")])
def test_empty_kind_or_actor_is_refused(five: Setup, kind: str, actor: str) -> None:
    """Kind and actor must be non-empty; nothing is written."""
    content = five.path.read_bytes()
    with pytest.raises(AuditError, match="must be a non-empty string"):
        five.log.append(kind, {}, actor=actor)
    assert content == five.path.read_bytes()


class FailingHeads:
    """A head store whose next write fails, like a busy database."""

    def __init__(self, inner: FileHeadStore) -> None:
        """Wrap a working store."""
        self.inner = inner
        self.fail_next = True

    def read_audit_head(self) -> AuditHead | None:
        """The wrapped store's head."""
        return self.inner.read_audit_head()

    def write_audit_head(self, head: AuditHead) -> None:
        """Fail once, then write through."""
        if self.fail_next:
            self.fail_next = False
            msg = "database is locked"
            raise OSError(msg)
        self.inner.write_audit_head(head)


def test_a_failed_head_write_takes_the_line_back(five: Setup) -> None:
    """If the head store raises and keeps the old head, the line is removed; appends go on."""
    content = five.path.read_bytes()
    log = AuditLog(five.path, FailingHeads(five.heads))
    with pytest.raises(OSError, match="database is locked"):
        log.append("plan", {}, actor="svc")
    assert content == five.path.read_bytes()
    assert 5 == log.append("plan", {}, actor="svc").seq
    assert 6 == log.verify()


# The file head store.


def test_file_head_store_is_empty_until_written(tmp_path: Path) -> None:
    """A head file that does not exist reads as no head."""
    assert FileHeadStore(tmp_path / "head.json").read_audit_head() is None


def test_file_head_store_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The last head written is read back; only the head file remains in the directory."""
    heads = FileHeadStore(tmp_path / "head.json")
    heads.write_audit_head(AuditHead(1, "a" * 64))
    heads.write_audit_head(AuditHead(2, "b" * 64))
    assert (AuditHead(2, "b" * 64), ["head.json"]) == (
        heads.read_audit_head(),
        [p.name for p in tmp_path.iterdir()],
    )


@pytest.mark.parametrize("content", [b"", b"{", b'{"seq":1}', b'{"seq":1,"hash":"x"}'])
def test_a_corrupt_head_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    """A head file that does not hold a head raises AuditError."""
    (tmp_path / "head.json").write_bytes(content)
    with pytest.raises(AuditError, match="does not hold an audit head"):
        FileHeadStore(tmp_path / "head.json").read_audit_head()


# Several processes.


def append_many(directory: str, worker: int, count: int, start: Event) -> None:
    """Append ``count`` records as ``worker-N`` once ``start`` is set (runs in a child process)."""
    path = Path(directory)
    log = AuditLog(path / "audit.jsonl", FileHeadStore(path / "head.json"))
    start.wait()
    for i in range(count):
        log.append("batch", {"worker": worker, "i": i}, actor=f"worker-{worker}")


def append_many_to_workspace(directory: str, worker: int, count: int, start: Event) -> None:
    """``append_many`` through a workspace's own log, its head in the store (a child process)."""
    with faults.opened(Path(directory)) as ws:
        start.wait()
        for i in range(count):
            ws.audit.append("batch", {"worker": worker, "i": i}, actor=f"worker-{worker}")


def run_appenders(target: Callable[[str, int, int, Event], None], directory: Path) -> None:
    """Four processes append 50 records each to the log in ``directory``, all started at once."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=target, args=(str(directory), worker, 50, start))
        for worker in range(4)
    ]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=60)
    assert [0, 0, 0, 0] == [process.exitcode for process in workers]


def check_workers_chain(records: list[AuditRecord]) -> None:
    """Each of the four workers' 50 records is in the log, once and in its order."""
    mine = [r for r in records if r.actor.startswith("worker-")]
    assert Counter({f"worker-{w}": 50 for w in range(4)}) == Counter(r.actor for r in mine)
    for worker in range(4):
        assert list(range(50)) == [r.data["i"] for r in mine if r.data["worker"] == worker]


def test_concurrent_appends_from_several_processes_form_one_chain_with_a_head_file(
    tmp_path: Path,
) -> None:
    """4 processes x 50 appends give exactly 200 records that verify, each worker's in order."""
    run_appenders(append_many, tmp_path)
    log = AuditLog(tmp_path / "audit.jsonl", FileHeadStore(tmp_path / "head.json"))
    assert 200 == log.verify()
    check_workers_chain(list(log.records()))


def test_concurrent_appends_from_several_processes_form_one_chain(
    tmp_path: Path, workspace_admin_url: str | None
) -> None:
    """4 workspace processes x 50 appends: 200 more records that verify, each worker's in order.

    The head is where a workspace keeps it, in its primary store: on both stores
    (``store_kind``), so on PostgreSQL every append writes the head to the server.
    """
    directory = tmp_path / "ws"
    workspace(directory, {"tenants": [], "objects": []}, admin_url=workspace_admin_url).close()
    with faults.opened(directory) as ws:
        before = ws.audit.verify()
    run_appenders(append_many_to_workspace, directory)
    with faults.opened(directory) as ws:
        assert before + 200 == ws.audit.verify()
        check_workers_chain(list(ws.audit.records()))


# Properties.

JSON_VALUES: st.SearchStrategy[object] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3)
# Any byte, biased towards those that can respell JSON without changing its value.
BYTES = (
    st.sampled_from(list(b" \t\n\r")) | st.sampled_from(list(b'"\\/eE0.+-,:')) | st.integers(0, 255)
)
APPENDS = st.lists(
    st.tuples(st.text(min_size=1, max_size=6), JSON_OBJECTS, st.text(min_size=1, max_size=6)),
    min_size=1,
    max_size=4,
)


@given(appends=APPENDS)
def test_any_json_data_reads_back_equal(appends: list[tuple[str, dict[str, object], str]]) -> None:
    """For any kinds, actors and JSON data, the records read back equal those appended."""
    with tempfile.TemporaryDirectory() as directory:
        setup = make_setup(Path(directory))
        written = [setup.log.append(kind, data, actor=actor) for kind, data, actor in appends]
        assert written == list(setup.log.records())


def edit_position(edit: st.DataObject, content: bytes, *, insert: bool) -> int:
    """A position to edit in ``content``, biased to JSON punctuation where a respelling hides."""
    last = len(content) if insert else len(content) - 1
    punctuation = {i + d for i, byte in enumerate(content) if byte in b":,{}[]eE." for d in (0, 1)}
    near = sorted(i for i in punctuation if i <= last)
    return edit.draw(st.integers(0, last) | st.sampled_from(near))


@given(appends=APPENDS, edit=st.data())
def test_any_single_byte_edit_is_detected(
    appends: list[tuple[str, dict[str, object], str]], edit: st.DataObject
) -> None:
    """For any appends, replacing, deleting or inserting one byte fails verification."""
    with tempfile.TemporaryDirectory() as directory:
        setup = make_setup(Path(directory))
        for kind, data, actor in appends:
            setup.log.append(kind, data, actor=actor)
        original = setup.path.read_bytes()
        operation = edit.draw(st.sampled_from(["replace", "delete", "insert"]))
        if operation == "insert":
            at = edit_position(edit, original, insert=True)
            byte = edit.draw(BYTES)
            changed = original[:at] + bytes([byte]) + original[at:]
        else:
            at = edit_position(edit, original, insert=False)
            if operation == "delete":
                changed = original[:at] + original[at + 1 :]
            else:
                byte = edit.draw(BYTES)
                changed = original[:at] + bytes([byte]) + original[at + 1 :]
        setup.path.write_bytes(changed)
        if changed == original:
            assert len(appends) == setup.log.verify()
        else:
            with pytest.raises(AuditTamperedError):
                setup.log.verify()
