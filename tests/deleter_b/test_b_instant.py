"""The instant grammar of spec §2.1 and the output form of spec §2.2."""

from __future__ import annotations

import pytest
from whenever import Instant

import deleter_b
from deleter_b._instant import InstantSyntaxError, format_instant, parse_instant

from .b_support import UTC, inventory, tenant

VALID = [
    ("2026-03-10T15:30:00Z", "2026-03-10T15:30:00Z"),
    ("2026-03-11T00:30:00+09:00", "2026-03-10T15:30:00Z"),
    ("2026-03-10T10:00:00-05:30", "2026-03-10T15:30:00Z"),
    ("2026-03-10T15:30:00+00:00", "2026-03-10T15:30:00Z"),
    ("2026-03-10T15:30:00.5Z", "2026-03-10T15:30:00.500000Z"),
    ("2026-03-10T15:30:00.000001Z", "2026-03-10T15:30:00.000001Z"),
    ("2026-03-10T15:30:00.123456+01:00", "2026-03-10T14:30:00.123456Z"),
    ("2026-03-10T15:30:00.0Z", "2026-03-10T15:30:00Z"),
    ("2026-03-10T15:30:00.000000Z", "2026-03-10T15:30:00Z"),
    ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
    ("2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
    ("1969-12-31T23:00:00-01:00", "1970-01-01T00:00:00Z"),
    ("1970-01-01T23:59:00+23:59", "1970-01-01T00:00:00Z"),
    ("9000-12-31T23:59:59.999999Z", "9000-12-31T23:59:59.999999Z"),
    ("9001-01-01T00:59:59.999999+01:00", "9000-12-31T23:59:59.999999Z"),
    ("2026-12-31T23:59:59-23:59", "2027-01-01T23:58:59Z"),
]

INVALID = [
    "2026-03-10t15:30:00Z",  # lower-case t
    "2026-03-10 15:30:00Z",  # space separator
    "2026-03-10T15:30:00z",  # lower-case z
    "2026-03-10T15:30:00",  # no offset
    "2026-03-10T15:30:00-00:00",  # offset unknown
    "2026-03-10T15:30:00.1234567Z",  # seven fraction digits
    "2026-03-10T15:30:00.Z",  # dot without digits
    "2026-03-10T15:30:00,5Z",  # comma fraction
    "2026-03-10T15:30Z",  # no seconds
    "2026-03-10T15:30:60Z",  # leap second
    "2026-03-10T24:00:00Z",  # hour 24
    "2026-03-10T15:60:00Z",  # minute 60
    "2026-13-10T15:30:00Z",  # month 13
    "2026-00-10T15:30:00Z",  # month 0
    "2026-03-00T15:30:00Z",  # day 0
    "2026-04-31T15:30:00Z",  # April 31
    "2023-02-29T15:30:00Z",  # not a leap year
    "1900-02-29T15:30:00Z",  # century, not a leap year
    "2026-03-10T15:30:00+24:00",  # offset hour 24
    "2026-03-10T15:30:00+09:60",  # offset minute 60
    "2026-03-10T15:30:00+0900",  # basic offset
    "2026-03-10T15:30:00+09",  # offset without minutes
    "20260310T153000Z",  # basic format
    "2026-3-10T15:30:00Z",  # one-digit month
    "+2026-03-10T15:30:00Z",  # signed year
    "12026-03-10T15:30:00Z",  # five-digit year
    " 2026-03-10T15:30:00Z",  # leading space
    "2026-03-10T15:30:00Z\n",  # trailing newline
    "2026-03-10T15:30:00Z ",  # trailing space
    "\uff12026-03-10T15:30:00Z",  # full-width digit
    "2026-03-10T15:30:00\u0661Z",  # non-ASCII digit in the seconds place
    "2026-03-10T15:30:00Z[Asia/Tokyo]",  # zone suffix
    "1969-12-31T23:59:59.999999Z",  # before the range
    "1970-01-01T00:00:00+00:01",  # before the range by one minute
    "9001-01-01T00:00:00Z",  # after the range
    "9000-12-31T23:59:59.999999-00:01",  # after the range by one minute
    "0000-01-01T00:00:00Z",  # year zero
    "9999-12-31T23:59:59-23:59",  # far after the range
    "",
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_instants_parse_and_format(text: str, expected: str) -> None:
    """Spec §2.1/§2.2: a valid instant parses and is written back in UTC."""
    assert expected == format_instant(parse_instant(text))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_instants_are_rejected(text: str) -> None:
    """Spec §2.1: anything off the exact grammar or out of range is rejected."""
    with pytest.raises(InstantSyntaxError):
        parse_instant(text)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_as_of_is_bad_input(text: str) -> None:
    """Spec §4.4 item 6: a bad as_of raises PlanInputError with source and field as_of."""
    inv = inventory([tenant("t")], [])
    with pytest.raises(deleter_b.PlanInputError) as caught:
        deleter_b.plan(inv, UTC, "t", text)
    assert ("as_of", "as_of") == (caught.value.source, caught.value.field)


def test_equal_instants_with_different_offsets() -> None:
    """Spec §2.1: instants are equal when they denote the same point in time."""
    assert parse_instant("2026-03-11T00:30:00+09:00") == parse_instant("2026-03-10T15:30:00Z")


def test_as_of_is_reported_in_utc() -> None:
    """Spec §2.2/§7.5: as_of comes back in UTC with six fraction digits when needed."""
    inv = inventory([tenant("t")], [])
    actual = deleter_b.plan(inv, UTC, "t", "2026-03-11T00:30:00.25+09:00")
    assert "2026-03-10T15:30:00.250000Z" == actual["as_of"]


def test_format_drops_zero_microseconds() -> None:
    """Spec §2.2: a zero microsecond is written without a fraction."""
    assert "2011-12-30T10:00:00Z" == format_instant(Instant.from_utc(2011, 12, 30, 10))
