"""Instants: the strict grammar of spec §2.1 and the output form of spec §2.2.

Rules:

1. An input instant is accepted only if it matches, as a whole string,
   ``YYYY-MM-DDTHH:MM:SS[.F]OFFSET`` with ASCII digits only (spec §2.1). The check is done
   here, by this module's own grammar, before whenever sees any value: whenever's ISO and
   RFC 3339 parsers accept variants the spec forbids (lower-case ``t``, a space, more
   fraction digits, ``-00:00``).
2. ``MM`` is ``01``-``12``, ``DD`` exists in that month of the proleptic Gregorian calendar,
   ``HH`` ``00``-``23``, minutes and seconds ``00``-``59`` (no leap second) (spec §2.1).
3. ``.F`` has 1 to 6 digits; it is never rounded or truncated (spec §2.1).
4. ``OFFSET`` is ``Z`` or ``+hh:mm``/``-hh:mm`` with ``hh`` ``00``-``23`` and ``mm``
   ``00``-``59``; ``-00:00`` and a missing offset are rejected (spec §2.1).
5. The instant in UTC lies in ``[1970-01-01T00:00:00Z, 9000-12-31T23:59:59.999999Z]``
   (spec §2.1).
6. Instants are whenever ``Instant`` values, so equality and order are those of points in
   time, whatever the offsets written (spec §2.1).
7. Output is UTC, ``YYYY-MM-DDTHH:MM:SSZ`` or, with a non-zero microsecond, exactly six
   fraction digits before the ``Z`` (spec §2.2).
"""

from __future__ import annotations

import re
from typing import Final

from whenever import Instant, TimeDelta

__all__ = ["EARLIEST", "LATEST", "InstantSyntaxError", "format_instant", "parse_instant"]

EARLIEST: Final = Instant.from_utc(1970, 1, 1)
"""The earliest instant the input may hold (rule 5)."""

LATEST: Final = Instant.from_utc(9000, 12, 31, 23, 59, 59, nanosecond=999_999_000)
"""The latest instant the input may hold (rule 5)."""

_GRAMMAR: Final = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,6}))?"
    r"(?P<offset>Z|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))",
)

_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_HOUR: Final = 23
_MAX_MINUTE: Final = 59
_MAX_SECOND: Final = 59
_MONTHS: Final = 12
_FRACTION_DIGITS: Final = 6
_NANOS_PER_MICRO: Final = 1000
# An offset is under 24 hours, so a local year outside these bounds cannot be in range.
_MIN_LOCAL_YEAR: Final = 1969
_MAX_LOCAL_YEAR: Final = 9001


class InstantSyntaxError(ValueError):
    """A string is not an instant of spec §2.1; the message says why."""


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and _is_leap(year):  # noqa: PLR2004 -- February is month 2
        return 29
    return _DAYS_IN_MONTH[month - 1]


def parse_instant(text: str) -> Instant:
    """Parse an instant written as spec §2.1 demands.

    Args:
        text: The string to parse.

    Returns:
        The instant it denotes.

    Raises:
        InstantSyntaxError: ``text`` breaks the grammar, names a date or time that does not
            exist, has the offset ``-00:00``, or lies outside the range of rule 5.
    """
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        raise InstantSyntaxError(
            "not an instant of the form YYYY-MM-DDTHH:MM:SS[.F](Z|+hh:mm|-hh:mm) "
            "with 1 to 6 fraction digits"
        )
    year, month, day = (int(match[name]) for name in ("year", "month", "day"))
    hour, minute, second = (int(match[name]) for name in ("hour", "minute", "second"))
    if not 1 <= month <= _MONTHS:
        raise InstantSyntaxError(f"month {match['month']} does not exist")
    if not 1 <= day <= _days_in_month(year, month):
        raise InstantSyntaxError(f"day {match['day']} does not exist in {year:04d}-{month:02d}")
    if hour > _MAX_HOUR or minute > _MAX_MINUTE or second > _MAX_SECOND:
        raise InstantSyntaxError("time of day out of range (00:00:00 to 23:59:59)")
    fraction = match["fraction"]
    micro = int(fraction.ljust(_FRACTION_DIGITS, "0")) if fraction is not None else 0
    offset_seconds = 0
    if match["offset"] != "Z":
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > _MAX_HOUR or off_minute > _MAX_MINUTE:
            raise InstantSyntaxError(f"offset {match['offset']} out of range")
        if match["offset"] == "-00:00":
            raise InstantSyntaxError("offset -00:00 means 'offset unknown' (RFC 3339 §4.3)")
        offset_seconds = (off_hour * 60 + off_minute) * 60
        if match["sign"] == "-":
            offset_seconds = -offset_seconds
    if not _MIN_LOCAL_YEAR <= year <= _MAX_LOCAL_YEAR:
        raise InstantSyntaxError("outside 1970-01-01T00:00:00Z..9000-12-31T23:59:59.999999Z")
    local_as_utc = Instant.from_utc(
        year, month, day, hour, minute, second, nanosecond=micro * _NANOS_PER_MICRO
    )
    instant = local_as_utc - TimeDelta(seconds=offset_seconds)
    if not EARLIEST <= instant <= LATEST:
        raise InstantSyntaxError("outside 1970-01-01T00:00:00Z..9000-12-31T23:59:59.999999Z")
    return instant


def format_instant(instant: Instant) -> str:
    """Write an instant in the output form of spec §2.2.

    Args:
        instant: The instant; its sub-microsecond part must be zero (true of every instant
            deleter_b computes, by rule 3 and because zone transitions fall on whole seconds).

    Returns:
        ``YYYY-MM-DDTHH:MM:SSZ``, or ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` when the microsecond is
        not zero.
    """
    utc = instant.to_fixed_offset()
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    micro, _ = divmod(utc.nanosecond, _NANOS_PER_MICRO)
    if micro:
        text += f".{micro:06d}"
    return text + "Z"
