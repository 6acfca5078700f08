"""Crash recovery: exactly one record past the head is adopted, on the record; nothing else is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from arbiter.audit.log import RECOVERED_KIND, AuditHead, AuditRecord
from arbiter.core.errors import AuditTamperedError
from tests.arbiter.audit.test_audit import (
    Setup,
    dump,
    fill,
    make_setup,
    parse,
    read_lines,
    sealed,
    tampering,
    where,
    write_lines,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def five(tmp_path: Path) -> Setup:
    """A log of five good records, seq 0 to 4."""
    setup = make_setup(tmp_path)
    fill(setup, 5)
    return setup


def crashed_append(setup: Setup, kind: str = "batch") -> AuditRecord:
    """Append one record, then put the old head back: an append killed before its head write."""
    head = setup.heads.read_audit_head()
    record = setup.log.append(kind, {"tenant": "t-1"}, actor="retention-service")
    if head is None:
        (setup.path.parent / "head.json").unlink()  # a head store that was never written
    else:
        setup.heads.write_audit_head(head)
    return record


def test_a_crashed_append_fails_verification_until_recovered(five: Setup) -> None:
    """AuditLog.verify never adopts: the record past the head is reported until recover runs."""
    crashed_append(five)
    assert (5, 6) == where(tampering(five.log))


def test_recover_adopts_the_one_record_and_says_so(five: Setup) -> None:
    """AuditLog.recover appends an audit-recovered record naming the adopted one and moves the head."""
    adopted = crashed_append(five)
    recovered = five.log.recover(actor="operator")
    assert recovered is not None
    expected = {
        "seq": adopted.seq,
        "hash": adopted.hash,
        "kind": adopted.kind,
        "actor": adopted.actor,
        "at": adopted.at,
    }
    assert (6, RECOVERED_KIND, "operator", adopted.hash) == (
        recovered.seq,
        recovered.kind,
        recovered.actor,
        recovered.prev,
    )
    assert expected == recovered.data["adopted"]
    assert {"seq": 4, "hash": read_head_hash(five, 4)} == recovered.data["head_was"]
    assert AuditHead(6, recovered.hash) == five.heads.read_audit_head()
    assert 7 == five.log.verify()


def read_head_hash(setup: Setup, seq: int) -> str:
    """The hash of record ``seq`` as the file holds it."""
    return str(parse(read_lines(setup.path)[seq])["hash"])


def test_recover_on_an_intact_log_writes_nothing(five: Setup) -> None:
    """A log that ends at its head is left as it is."""
    content, head = five.path.read_bytes(), five.heads.read_audit_head()
    assert five.log.recover(actor="operator") is None
    assert (content, head) == (five.path.read_bytes(), five.heads.read_audit_head())


def test_recover_on_a_missing_log_creates_nothing(tmp_path: Path) -> None:
    """No log and no head: nothing to recover, and no file is created."""
    setup = make_setup(tmp_path)
    assert (None, False) == (setup.log.recover(actor="operator"), setup.path.exists())


def test_the_next_append_recovers_first(five: Setup) -> None:
    """An append after a crash adopts the record, records the recovery, then appends its own."""
    crashed_append(five)
    record = five.log.append("plan", {}, actor="retention-service")
    kinds = [r.kind for r in five.log.records()]
    assert (7, ["batch", RECOVERED_KIND, "plan"]) == (record.seq, kinds[5:])
    assert 8 == five.log.verify()


def test_a_crash_on_the_first_append_is_recovered(tmp_path: Path) -> None:
    """Record 0 without any head (the first append crashed) is adopted too."""
    setup = make_setup(tmp_path)
    crashed_append(setup)
    recovered = setup.log.recover(actor="operator")
    assert recovered is not None
    assert ({"seq": 0}, None) == (
        {"seq": recovered.data["adopted"]["seq"]},
        recovered.data["head_was"],
    )
    assert 2 == setup.log.verify()


def test_a_crash_during_recovery_is_finished_by_moving_the_head(five: Setup) -> None:
    """Adopted record plus its audit-recovered record past the head: the head moves, no new line."""
    crashed_append(five)
    head = five.heads.read_audit_head()
    recovered = five.log.recover(actor="operator")
    assert recovered is not None
    assert head is not None
    five.heads.write_audit_head(head)  # the recovery's head write never happened
    content = five.path.read_bytes()
    assert recovered == five.log.recover(actor="operator")
    assert (content, AuditHead(6, recovered.hash)) == (
        five.path.read_bytes(),
        five.heads.read_audit_head(),
    )
    assert 7 == five.log.verify()


def unchanged_after_refusal(setup: Setup) -> AuditTamperedError:
    """Recovery and append both refuse; the file and the head are left exactly as they were."""
    content, head = setup.path.read_bytes(), setup.heads.read_audit_head()
    with pytest.raises(AuditTamperedError) as info:
        setup.log.recover(actor="operator")
    with pytest.raises(AuditTamperedError):
        setup.log.append("plan", {}, actor="svc")
    assert (content, head) == (setup.path.read_bytes(), setup.heads.read_audit_head())
    return info.value


def test_two_records_past_the_head_stay_tampering(five: Setup) -> None:
    """Two unheaded records are not one crash: refused, naming the first of them."""
    head = five.heads.read_audit_head()
    fill(five, 2)
    assert head is not None
    five.heads.write_audit_head(head)
    error = unchanged_after_refusal(five)
    assert ((5, 6), True) == (where(error), "record after the head" in error.reason)


def test_a_forged_pair_that_is_not_a_recovery_stays_tampering(five: Setup) -> None:
    """A second record of kind audit-recovered that does not name the first is not rule 12."""
    crashed_append(five)
    lines = read_lines(five.path)
    last = parse(lines[-1])
    forged = {
        "seq": 6,
        "at": "2026-05-01T00:00:09.000000Z",
        "kind": RECOVERED_KIND,
        "actor": "mallory",
        "data": {"adopted": {"seq": 2}},
        "prev": last["hash"],
    }
    write_lines(five.path, [*lines, dump(sealed(forged))])
    assert (5, 6) == where(unchanged_after_refusal(five))


def test_a_record_past_the_head_that_does_not_chain_stays_tampering(five: Setup) -> None:
    """A re-sealed record whose prev is not the head's hash is a forgery, not a crash."""
    lines = read_lines(five.path)
    forged = {
        "seq": 5,
        "at": "2026-05-01T00:00:05.000000Z",
        "kind": "executed",
        "actor": "mallory",
        "data": {},
        "prev": "a" * 64,
    }
    write_lines(five.path, [*lines, dump(sealed(forged))])
    error = unchanged_after_refusal(five)
    assert ((5, 6), True) == (where(error), "prev" in error.reason)


def test_a_torn_line_past_the_head_stays_tampering(five: Setup) -> None:
    """A complete record cut short (no newline) is never adopted nor removed (rule 13)."""
    crashed_append(five)
    five.path.write_bytes(five.path.read_bytes()[:-7])
    error = unchanged_after_refusal(five)
    assert ((5, 6), True) == (where(error), "no final newline" in error.reason)


def test_a_record_past_a_truncated_log_stays_tampering(five: Setup) -> None:
    """Removing the head's record and appending one in its place is caught at the head's seq."""
    lines = read_lines(five.path)
    write_lines(five.path, lines[:-1])
    head = five.heads.read_audit_head()
    assert head is not None
    five.heads.write_audit_head(AuditHead(3, str(parse(lines[3])["hash"])))
    five.log.append("batch", {}, actor="mallory")
    five.heads.write_audit_head(head)
    error = unchanged_after_refusal(five)
    assert (4, 5) == where(error)


def test_a_lost_head_with_many_records_stays_tampering(five: Setup) -> None:
    """Only record 0 can be adopted without a head: five records without one are not a crash."""
    (five.path.parent / "head.json").unlink()  # the head store lost its head
    error = unchanged_after_refusal(five)
    assert (None, None) == where(error)
