"""Calendar dates of instants in a zone: ``ld`` and ``sod``.

Rules (spec §3):

1. ``local_date(t)`` (``ld``) is the date of the wall-clock reading of ``t`` under the offset the
   zone has at ``t``.
2. ``start_of_day(D)`` (``sod``) is the earliest instant ``t`` with ``ld(t) >= D``: local
   midnight on an ordinary day; the transition instant when midnight is skipped; the first
   midnight when it repeats; the start of the next existing date when ``D`` is skipped whole.
3. ``sod`` does not assume that ``ld`` is monotonic or that midnight exists. Because every UTC
   offset is strictly within one day, ``sod(D)`` lies in ``(M - 24 h, M + 24 h)`` where ``M`` is
   midnight of ``D`` read as if it were UTC. The window ``[M - 25 h, M + 25 h]`` is cut into
   pieces of constant offset ``o``; in a piece ``[a, b)`` the earliest qualifying instant is
   ``max(a, M - o)`` if that is before ``b``; the first piece with one gives ``sod``.
4. Offset changes are found by bisection to the microsecond between samples at most
   ``SAMPLE_STEP`` apart. This assumes no two offset changes that cancel each other lie within
   one step; in tzdata 2026 consecutive offset changes are at least 6.9 days apart.
5. ``D + n`` is plain proleptic Gregorian arithmetic, independent of the zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Final

__all__ = ["SAMPLE_STEP", "DayStarts", "local_date", "offset_changes", "start_of_day"]

SAMPLE_STEP: Final = timedelta(hours=1)
_REACH: Final = timedelta(hours=25)
_TICK: Final = timedelta(microseconds=1)


def _offset(instant: datetime, zone: tzinfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    if offset is None:  # pragma: no cover - zoneinfo always knows its offset
        raise RuntimeError(f"zone {zone!r} has no UTC offset at {instant.isoformat()}")
    return offset


def local_date(instant: datetime, zone: tzinfo) -> date:
    """Return ``ld(instant)``: the calendar date of ``instant`` in ``zone`` (spec §3).

    Args:
        instant: An aware ``datetime``.
        zone: The policy's zone.

    Returns:
        The date of the wall-clock reading of ``instant`` in ``zone``.
    """
    return instant.astimezone(zone).date()


def offset_changes(zone: tzinfo, low: datetime, high: datetime) -> list[datetime]:
    """Find the instants in ``(low, high]`` at which ``zone`` changes its UTC offset.

    Args:
        zone: A time zone.
        low: An aware ``datetime``, the exclusive start of the search.
        high: An aware ``datetime`` after ``low``, the inclusive end of the search.

    Returns:
        In increasing order, every instant ``x`` whose offset differs from that of ``x - 1 µs``
        (see rule 4 of this module for the sampling assumption).
    """
    changes: list[datetime] = []
    pending = [(low, _offset(low, zone), high, _offset(high, zone))]
    while pending:
        left, left_offset, right, right_offset = pending.pop()
        if right - left <= _TICK:
            if left_offset != right_offset:
                changes.append(right)
            continue
        if left_offset == right_offset and right - left <= SAMPLE_STEP:
            continue
        middle = left + (right - left) // 2
        middle_offset = _offset(middle, zone)
        pending.append((middle, middle_offset, right, right_offset))
        pending.append((left, left_offset, middle, middle_offset))
    changes.sort()
    return changes


def start_of_day(day: date, zone: tzinfo) -> datetime:
    """Return ``sod(day)``: the earliest instant whose date in ``zone`` is ``day`` or later.

    Args:
        day: A calendar date.
        zone: The policy's zone.

    Returns:
        The instant as an aware ``datetime`` in UTC.

    Raises:
        RuntimeError: No qualifying instant was found (cannot happen for offsets under a day).
    """
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    low, high = midnight - _REACH, midnight + _REACH
    bounds = [low, *offset_changes(zone, low, high), high]
    for start, end in pairwise(bounds):
        earliest = max(start, midnight - _offset(start, zone))
        if earliest < end:
            return earliest
    raise RuntimeError(f"no start of day for {day.isoformat()} in {zone!r}")  # pragma: no cover


class DayStarts:
    """Memoised ``sod`` and ``ld`` for one zone, for the duration of one ``plan`` call."""

    __slots__ = ("_cache", "zone")

    def __init__(self, zone: tzinfo) -> None:
        """Create an empty memo for ``zone``.

        Args:
            zone: The policy's zone.
        """
        self.zone = zone
        self._cache: dict[date, datetime] = {}

    def local_date(self, instant: datetime) -> date:
        """Return ``ld(instant)`` in this zone (see ``local_date``).

        Args:
            instant: An aware ``datetime``.

        Returns:
            The local date of ``instant``.
        """
        return local_date(instant, self.zone)

    def start(self, day: date) -> datetime:
        """Return ``sod(day)`` in this zone (see ``start_of_day``).

        Args:
            day: A calendar date.

        Returns:
            The start of ``day`` as an aware ``datetime`` in UTC.
        """
        found = self._cache.get(day)
        if found is None:
            found = start_of_day(day, self.zone)
            self._cache[day] = found
        return found
