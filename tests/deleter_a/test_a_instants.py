"""Tests of the instant grammar (spec §2.1) and output form (spec §2.2)."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deleter_a import PlanInputError
from deleter_a._instants import format_instant, parse_instant


def _parse(text: object) -> datetime:
    return parse_instant(text, "inventory", "objects[0].created_at")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-10T15:30:00Z", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-11T00:30:00+09:00", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-10T12:30:00-03:00", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-10T15:30:00+00:00", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
        ("2026-03-10T15:30:00.5Z", datetime(2026, 3, 10, 15, 30, 0, 500_000, tzinfo=UTC)),
        ("2026-03-10T15:30:00.000001Z", datetime(2026, 3, 10, 15, 30, 0, 1, tzinfo=UTC)),
        ("2026-03-10T15:30:00.123456+23:59", datetime(2026, 3, 9, 15, 31, 0, 123456, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2000-02-29T00:00:00Z", datetime(2000, 2, 29, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("1969-12-31T23:00:00-01:00", datetime(1970, 1, 1, tzinfo=UTC)),
        ("9000-12-31T23:59:59.999999Z", datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("9001-01-01T05:00:00+06:00", datetime(9000, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_a_valid_instants(text: str, expected: datetime) -> None:
    """Instants of the exact grammar parse to the UTC instant they denote."""
    assert expected == _parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-10T15:30:00",  # no offset
        "2026-03-10T15:30:00-00:00",  # offset unknown
        "2026-03-10T15:30:00.1234567Z",  # seven fraction digits
        "2026-03-10T15:30:00.Z",  # dot without digits
        "2026-03-10T15:30:00,5Z",  # comma fraction
        "2026-03-10t15:30:00Z",  # lower-case separator
        "2026-03-10 15:30:00Z",  # space separator
        "2026-03-10T15:30:00z",  # lower-case Z
        "2026-03-10T15:30Z",  # no seconds
        "2026-03-10T15:30:00+0900",  # offset without colon
        "2026-03-10T15:30:00+09",  # offset without minutes
        "2026-03-10T15:30:00+24:00",  # offset hour 24
        "2026-03-10T15:30:00+09:60",  # offset minute 60
        "2026-03-10T15:30:00Z\n",  # trailing newline
        " 2026-03-10T15:30:00Z",  # leading space
        "20260310T153000Z",  # basic format
        "+2026-03-10T15:30:00Z",  # signed year
        "12026-03-10T15:30:00Z",  # five-digit year
        "\uff12026-03-10T15:30:00Z",  # full-width digit
        "2026-03-1\u0661T15:30:00Z",  # Arabic-Indic digit
        "2023-02-29T00:00:00Z",  # not a leap year
        "2100-02-29T00:00:00Z",  # century, not a leap year
        "2026-04-31T00:00:00Z",  # April has 30 days
        "2026-13-01T00:00:00Z",  # month 13
        "2026-00-01T00:00:00Z",  # month 00
        "2026-01-00T00:00:00Z",  # day 00
        "2026-01-32T00:00:00Z",  # day 32
        "2026-01-01T24:00:00Z",  # hour 24
        "2026-01-01T00:60:00Z",  # minute 60
        "2026-01-01T23:59:60Z",  # leap second
        "1969-12-31T23:59:59.999999Z",  # just before the range
        "1970-01-01T00:00:00+00:01",  # 1969-12-31T23:59Z
        "9001-01-01T00:00:00Z",  # just after the range
        "9000-12-31T23:59:59.999999-00:01",  # 9001-01-01T00:00:59Z
        "0000-01-01T00:00:00Z",  # year zero
        "9999-12-31T23:59:59-23:59",  # beyond datetime's range in UTC
        "",
    ],
)
def test_a_invalid_instants(text: str) -> None:
    """Strings that break the grammar or the range of spec §2.1 are bad input."""
    with pytest.raises(PlanInputError) as caught:
        _parse(text)
    assert ("inventory", "objects[0].created_at") == (caught.value.source, caught.value.field)


@pytest.mark.parametrize("value", [None, 0, 1.5, True, b"2026-01-01T00:00:00Z", ["x"]])
def test_a_non_string_instants(value: object) -> None:
    """A value that is not a string is a wrong type for an instant."""
    with pytest.raises(PlanInputError) as caught:
        _parse(value)
    assert "objects[0].created_at" == caught.value.field


def test_a_equal_instants_with_different_offsets() -> None:
    """Two spellings of one point in time parse to equal values."""
    assert _parse("2026-03-10T15:30:00Z") == _parse("2026-03-11T00:30:00+09:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-11T00:30:00+09:00", "2026-03-10T15:30:00Z"),
        ("2026-03-10T15:30:00.5Z", "2026-03-10T15:30:00.500000Z"),
        ("2026-03-10T15:30:00.000001-01:00", "2026-03-10T16:30:00.000001Z"),
        ("2026-03-10T15:30:00.000000Z", "2026-03-10T15:30:00Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
    ],
)
def test_a_output_form(text: str, expected: str) -> None:
    """Instants are written in UTC with six fraction digits only when needed (spec §2.2)."""
    assert expected == format_instant(_parse(text))
