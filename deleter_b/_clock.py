"""Calendar dates in the policy's zone, from the ``tzdata`` package (spec §3).

Rules:

1. A zone name is valid iff it is listed, exactly (case included), in the ``zones`` index of
   the ``tzdata`` Python package (spec §3, §4.4 item 11). Nothing else is looked up, so a
   name can never reach the file system as a path (no ``..``, no absolute path); the name is
   also checked for path syntax, as a second line of defence.
2. The rules of a zone are the ``tzdata`` package's, not the operating system's (spec §3).
   whenever 0.11 resolves a zone ID through its search path (``get_tzpath()``, by default the
   operating system's directories) and only then the ``tzdata`` package, and it offers no
   per-call source: ``ZonedDateTime`` and friends take a zone ID, never zone data. So
   :func:`tzdata_zone` sets whenever's search path to empty for the duration of a ``with``
   block (whenever then falls back to ``tzdata``) and drops the zone from whenever's cache on
   entry and exit, so no copy loaded from elsewhere is used inside and none loaded from
   ``tzdata`` leaks out. The previous search path is restored on exit. This is global state:
   the blocks are serialized by a lock, but other code using whenever in another thread at
   the same moment sees the empty search path; no lasting change is left behind.
3. ``ld(t)`` is the date of the wall-clock reading of ``t`` in the zone (spec §3).
4. ``sod(D)`` is the earliest instant ``t`` with ``ld(t) >= D`` (spec §3):

   a. if local midnight of ``D`` exists, its **first** occurrence (whenever's ``"earlier"``
      disambiguation picks the first of a repeated time);
   b. if it is skipped (including a whole skipped date), the transition that skips it: the
      ``"earlier"`` disambiguation maps a skipped time to an instant before the transition,
      whose next transition is the first instant read as ``D`` or later. The result is
      checked to satisfy ``ld(result) >= D`` and ``ld(result - 1 s) < D``.

5. ``D + n`` is plain proleptic Gregorian arithmetic, independent of the zone (spec §3).
6. A :class:`Zone` also holds an **anchor**: a ``ZonedDateTime`` created inside the block,
   which carries a handle to the rules whenever loaded from ``tzdata`` (whenever resolves the
   zone ID once, when the value is created). ``ld`` computed from the anchor by exact
   arithmetic (:meth:`Zone.date_of`: the anchor shifted by ``t - anchor``) therefore uses the
   ``tzdata`` rules even after the block is left, with no lock held and no search path
   consulted: the streaming planner's lazy second pass relies on it (spec §8.1).
"""

from __future__ import annotations

import importlib.resources
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

import whenever
from whenever import Date, Instant, Time, TimeDelta, ZonedDateTime

from ._errors import PlannerError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Zone", "add_days", "is_zone_name", "tzdata_zone"]

_MIDNIGHT: Final = Time()
_ONE_SECOND: Final = TimeDelta(seconds=1)
_MAX_NAME_LENGTH: Final = 100
_TZ_LOCK: Final = threading.Lock()


@cache
def _tzdata_zone_names() -> frozenset[str]:
    """Return the zone names listed by the ``tzdata`` package (rule 1)."""
    index = importlib.resources.files("tzdata").joinpath("zones")
    text = index.read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _is_safe_path_syntax(name: str) -> bool:
    """Return whether ``name`` is a relative path of plain segments (rule 1)."""
    if not name.isascii() or not 0 < len(name) <= _MAX_NAME_LENGTH:
        return False
    if not all(c.isalnum() or c in "-_+/" for c in name):
        return False
    return all(segment not in {"", ".", ".."} for segment in name.split("/"))


def is_zone_name(name: str) -> bool:
    """Tell whether ``name`` is a zone of the ``tzdata`` package (rule 1).

    Args:
        name: The candidate IANA zone name.

    Returns:
        ``True`` iff the name is listed, exactly, by the ``tzdata`` package.
    """
    return _is_safe_path_syntax(name) and name in _tzdata_zone_names()


def add_days(date: Date, days: int) -> Date:
    """Return ``date + days`` in the proleptic Gregorian calendar (rule 5).

    Args:
        date: The starting date.
        days: The number of days to add (may be zero).

    Returns:
        The date ``days`` days after ``date``.
    """
    return date.add(days=days)


@dataclass(frozen=True, slots=True)
class Zone:
    """A time zone whose rules come from the ``tzdata`` package.

    Obtain it from :func:`tzdata_zone` and use it only inside that ``with`` block (rule 2),
    except :meth:`date_of`, which holds its rules itself (rule 6).

    Attributes:
        name: The IANA name, as listed by ``tzdata``.
        anchor: A date-time in the zone created inside the block, carrying the ``tzdata``
            rules (rule 6).
    """

    name: str
    anchor: ZonedDateTime

    def date_of(self, instant: Instant) -> Date:
        """Return ``ld(instant)`` from the anchor's rules, valid outside the block (rule 6).

        Args:
            instant: The instant.

        Returns:
            The date of the wall-clock reading of ``instant`` in this zone.
        """
        return (self.anchor + (instant - self.anchor.to_instant())).date()

    def local_date(self, instant: Instant) -> Date:
        """Return ``ld(instant)`` (rule 3).

        Args:
            instant: The instant.

        Returns:
            The date of the wall-clock reading of ``instant`` in this zone.
        """
        return instant.to_tz(self.name).date()

    def start_of_day(self, date: Date) -> Instant:
        """Return ``sod(date)`` (rule 4).

        Args:
            date: The calendar date ``D``.

        Returns:
            The earliest instant whose local date is ``D`` or later.

        Raises:
            PlannerError: whenever's answer breaks the postcondition of rule 4b (a planner
                failure, not bad input).
        """
        first = date.at(_MIDNIGHT).assume_tz(self.name, disambiguation="earlier")
        if first.date() == date and first.time() == _MIDNIGHT:
            return first.to_instant()
        transition = first.next_transition()
        if transition is None:
            raise PlannerError(f"no transition skips midnight of {date} in {self.name}")
        result = transition.to_instant()
        if self.local_date(result) < date or self.local_date(result - _ONE_SECOND) >= date:
            raise PlannerError(f"cannot find the start of {date} in {self.name}")
        return result


@contextmanager
def tzdata_zone(name: str) -> Iterator[Zone]:
    """Give the zone ``name`` with the rules of the ``tzdata`` package (rule 2).

    Args:
        name: A zone name for which :func:`is_zone_name` holds.

    Yields:
        The zone, valid inside the ``with`` block only, except :meth:`Zone.date_of`, which
        stays valid after it (rule 6).

    Raises:
        PlannerError: ``name`` is not a zone of ``tzdata`` (callers validate it first), or
            whenever cannot load it from ``tzdata``.
    """
    if not is_zone_name(name):
        raise PlannerError(f"{name!r} is not a zone of the tzdata package")
    with _TZ_LOCK:
        saved = whenever.get_tzpath()
        whenever.reset_tzpath([])
        whenever.clear_tzcache(only_keys=[name])
        try:
            try:
                loaded = Instant.from_utc(2000, 1, 1).to_tz(name)
            except whenever.TimeZoneNotFoundError as error:
                raise PlannerError(f"whenever cannot load {name!r} from tzdata") from error
            if loaded.tz_id != name:
                raise PlannerError(f"whenever loaded {loaded.tz_id!r} for {name!r}")
            yield Zone(name, loaded)
        finally:
            whenever.reset_tzpath(list(saved))
            whenever.clear_tzcache(only_keys=[name])
