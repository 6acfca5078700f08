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
4. The window is sampled every ``SAMPLE_STEP`` (one hour; ``DayStarts`` memoises the changes
   per UTC day so that neighbouring dates share them); between two samples with different offsets
   the changes are found by bisection to the microsecond. This assumes no two offset changes that
   cancel each other lie within one step; in tzdata 2026 consecutive offset changes are at least
   6.9 days apart.
5. ``D + n`` is plain proleptic Gregorian arithmetic, independent of the zone.
6. ``sod`` is non-decreasing in ``D`` (the set it minimises over shrinks as ``D`` grows), so for an
   instant ``t`` the dates ``D`` with ``sod(D) <= t`` are exactly those up to
   ``DayStarts.last_started(t)``; that date is at least ``ld(t)`` (``t`` itself has
   ``ld(t) >= ld(t)``), and is found by stepping forward from ``ld(t)`` while the next date has
   started.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Final

__all__ = ["SAMPLE_STEP", "DayStarts", "local_date", "offset_changes", "start_of_day"]

SAMPLE_STEP: Final = timedelta(hours=1)
_REACH: Final = timedelta(hours=25)
_TICK: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_BLOCK: Final = timedelta(days=1)


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


def _split(
    zone: tzinfo, left: datetime, left_offset: timedelta, right: datetime, right_offset: timedelta
) -> list[datetime]:
    """Bisect ``(left, right]``, at most ``SAMPLE_STEP`` long, down to its offset changes."""
    changes: list[datetime] = []
    pending = [(left, left_offset, right, right_offset)]
    while pending:
        low, low_offset, high, high_offset = pending.pop()
        if low_offset == high_offset:
            continue
        if high - low <= _TICK:
            changes.append(high)
            continue
        middle = low + (high - low) // 2
        middle_offset = _offset(middle, zone)
        pending.append((middle, middle_offset, high, high_offset))
        pending.append((low, low_offset, middle, middle_offset))
    return changes


def offset_changes(zone: tzinfo, low: datetime, high: datetime) -> list[datetime]:
    """Find the instants in ``(low, high]`` at which ``zone`` changes its UTC offset.

    The interval is sampled at ``low``, ``low + SAMPLE_STEP``, ... and ``high``; between two
    samples with different offsets the changes are found by bisection to the microsecond.

    Args:
        zone: A time zone.
        low: An aware ``datetime``, the exclusive start of the search.
        high: An aware ``datetime`` after ``low``, the inclusive end of the search.

    Returns:
        In increasing order, every instant ``x`` whose offset differs from that of ``x - 1 µs``
        (see rule 4 of this module for the sampling assumption).
    """
    samples = [low]
    while samples[-1] + SAMPLE_STEP < high:
        samples.append(samples[-1] + SAMPLE_STEP)
    samples.append(high)
    offsets = [_offset(sample, zone) for sample in samples]
    changes: list[datetime] = []
    for (left, right), (left_offset, right_offset) in zip(
        pairwise(samples), pairwise(offsets), strict=True
    ):
        changes.extend(_split(zone, left, left_offset, right, right_offset))
    return changes


def _window(day: date) -> tuple[datetime, datetime, datetime]:
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    return midnight, midnight - _REACH, midnight + _REACH


def _earliest(
    zone: tzinfo, midnight: datetime, low: datetime, high: datetime, changes: list[datetime]
) -> datetime:
    """Apply rule 3: the first piece of constant offset that reaches ``midnight`` locally."""
    for start, end in pairwise([low, *changes, high]):
        earliest = max(start, midnight - _offset(start, zone))
        if earliest < end:
            return earliest
    raise RuntimeError(f"no start of day at {midnight:%Y-%m-%d} in {zone!r}")  # pragma: no cover


def start_of_day(day: date, zone: tzinfo) -> datetime:
    """Return ``sod(day)``: the earliest instant whose date in ``zone`` is ``day`` or later.

    Args:
        day: A calendar date.
        zone: The policy's zone.

    Returns:
        The instant as an aware ``datetime`` in UTC.
    """
    midnight, low, high = _window(day)
    return _earliest(zone, midnight, low, high, offset_changes(zone, low, high))


class DayStarts:
    """Memoised ``sod`` and ``ld`` for one zone, for the duration of one ``plan`` call.

    Offset changes are memoised per UTC day (``(E + k days, E + k + 1 days]``), so the sod of
    neighbouring dates share their sampling; the result equals ``start_of_day``.
    """

    __slots__ = ("_changes", "_starts", "zone")

    def __init__(self, zone: tzinfo) -> None:
        """Create an empty memo for ``zone``.

        Args:
            zone: The policy's zone.
        """
        self.zone = zone
        self._starts: dict[date, datetime] = {}
        self._changes: dict[int, list[datetime]] = {}

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
        found = self._starts.get(day)
        if found is None:
            midnight, low, high = _window(day)
            first, last = (low - _EPOCH) // _BLOCK, (high - _EPOCH) // _BLOCK
            changes = [
                change
                for block in range(first, last + 1)
                for change in self._block_changes(block)
                if low < change <= high
            ]
            found = _earliest(self.zone, midnight, low, high, changes)
            self._starts[day] = found
        return found

    def last_started(self, instant: datetime) -> date:
        """Return the latest date ``D`` with ``sod(D) <= instant`` (rule 6).

        Args:
            instant: An aware ``datetime``.

        Returns:
            The latest date that has started at ``instant``; ``sod(D) <= instant`` iff
            ``D <= last_started(instant)``.
        """
        day = self.local_date(instant)
        while self.start(day + _BLOCK) <= instant:
            day += _BLOCK
        return day

    def _block_changes(self, block: int) -> list[datetime]:
        found = self._changes.get(block)
        if found is None:
            low = _EPOCH + block * _BLOCK
            found = offset_changes(self.zone, low, low + _BLOCK)
            self._changes[block] = found
        return found
