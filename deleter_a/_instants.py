"""Strict parsing and formatting of instants.

Rules (spec §2):

1. An instant is exactly ``YYYY-MM-DDTHH:MM:SS[.F]OFFSET`` with ASCII digits only (§2.1); the
   whole string must match, with nothing before or after (no trailing newline either).
2. ``MM`` is ``01``-``12``; ``DD`` is a valid day of that month, leap years per the proleptic
   Gregorian calendar (so year ``0000`` is a leap year); ``HH`` is ``00``-``23``; minutes and
   seconds are ``00``-``59`` (no leap second) (§2.1).
3. ``.F`` is a dot and 1 to 6 digits, read as a fraction of a second; 7 or more digits are rejected,
   never rounded or truncated (§2.1).
4. ``OFFSET`` is ``Z`` or ``+hh:mm``/``-hh:mm`` with ``hh`` ``00``-``23`` and ``mm`` ``00``-``59``;
   ``-00:00`` and a missing offset are rejected (§2.1).
5. The instant in UTC lies in ``1970-01-01T00:00:00Z`` .. ``9000-12-31T23:59:59.999999Z``
   inclusive (§2.1). Parsed instants are aware ``datetime`` values in UTC, so equal instants
   compare equal whatever offset they were written with.
6. Output form: ``YYYY-MM-DDTHH:MM:SSZ`` when the microsecond is zero, otherwise
   ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` with exactly six digits (§2.2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from deleter_a._errors import PlanInputError

__all__ = ["EARLIEST", "LATEST", "format_instant", "parse_instant"]

EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)

_GRAMMAR: Final = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,6}))?"
    r"(?:(?P<utc>Z)|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))",
    re.ASCII,
)

_FRACTION_DIGITS: Final = 6
_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FEBRUARY: Final = 2
_MAX_HOUR: Final = 23
_MAX_MINUTE: Final = 59
_MAX_SECOND: Final = 59
_MONTHS: Final = 12
# Any local reading outside these years is out of range whatever its offset (|offset| < 24 h).
_MIN_LOCAL_YEAR: Final = EARLIEST.year - 1
_MAX_LOCAL_YEAR: Final = LATEST.year + 1


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == _FEBRUARY and _is_leap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def parse_instant(value: object, source: str, field: str) -> datetime:
    """Parse an instant written in the grammar of spec §2.1.

    Args:
        value: The raw input value; anything but a ``str`` is a wrong type.
        source: The error source to report (``"inventory"`` or ``"as_of"``).
        field: The path of ``value`` to report.

    Returns:
        The instant as an aware ``datetime`` in UTC.

    Raises:
        PlanInputError: ``value`` is not a string, does not match the grammar, names an
            impossible date or time, or lies outside the allowed range.
    """
    if not isinstance(value, str):
        raise PlanInputError(
            source, field, f"expected an instant string, got {type(value).__name__}"
        )
    match = _GRAMMAR.fullmatch(value)
    if match is None:
        raise PlanInputError(
            source, field, f"{value[:60]!r} is not an instant YYYY-MM-DDTHH:MM:SS[.F]OFFSET"
        )
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if not 1 <= month <= _MONTHS:
        raise PlanInputError(source, field, f"{value!r}: month {month:02d} does not exist")
    if not 1 <= day <= _days_in_month(year, month):
        raise PlanInputError(source, field, f"{value!r}: day {day:02d} is not in that month")
    if hour > _MAX_HOUR or minute > _MAX_MINUTE or second > _MAX_SECOND:
        raise PlanInputError(source, field, f"{value!r}: the time of day does not exist")
    fraction = match["fraction"]
    microsecond = 0 if fraction is None else int(fraction.ljust(_FRACTION_DIGITS, "0"))
    if match["utc"] is not None:
        offset = timedelta(0)
    else:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > _MAX_HOUR or off_minute > _MAX_MINUTE:
            raise PlanInputError(source, field, f"{value!r}: the UTC offset does not exist")
        if match["sign"] == "-" and off_hour == 0 and off_minute == 0:
            raise PlanInputError(source, field, f"{value!r}: offset -00:00 means 'unknown'")
        offset = timedelta(hours=off_hour, minutes=off_minute)
        if match["sign"] == "-":
            offset = -offset
    if not _MIN_LOCAL_YEAR <= year <= _MAX_LOCAL_YEAR:
        raise PlanInputError(source, field, f"{value!r} is outside 1970-01-01Z..9000-12-31Z")
    local = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)
    instant = local - offset
    if not EARLIEST <= instant <= LATEST:
        raise PlanInputError(source, field, f"{value!r} is outside 1970-01-01Z..9000-12-31Z")
    return instant


def format_instant(instant: datetime) -> str:
    """Write an instant in the output form of spec §2.2.

    Args:
        instant: An aware ``datetime``.

    Returns:
        ``YYYY-MM-DDTHH:MM:SSZ``, or ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` when the microsecond is not
        zero, in UTC.
    """
    utc = instant.astimezone(UTC)
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"
