"""The lifecycle of the tenant and its dues (spec §5, §6).

Rules:

1. Only ``subscribed``, ``cancelled`` and ``reactivated`` events with ``at <= as_of`` count
   (spec §5.1); later events are not yet known.
2. They are ordered by instant; at the same instant ``cancelled`` comes first, so a
   ``subscribed`` or ``reactivated`` at that instant is later (spec §5.2). Only the last event
   matters, so it is found as the maximum of ``(at, rank)`` with rank 0 for ``cancelled`` and
   1 otherwise: no sort, and the input order of events is irrelevant.
3. The tenant is cancelled at ``c`` iff the last event is ``cancelled`` at ``c``; otherwise,
   with no such event too, it is active (spec §5.3).
4. ``primary_due = sod(ld(c) + 1 + grace_days)`` (spec §6).
5. The earliest ``erasure_requested`` at ``r`` with ``c <= r <= as_of``, if any, lowers it to
   ``min(primary_due, r)`` (spec §6).
6. ``backup_due = sod(ld(primary_due) + backup_lag_days)`` (spec §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._clock import Zone, add_days
from ._records import CANCELLED, ERASURE_REQUESTED, REACTIVATED, SUBSCRIBED, Event

if TYPE_CHECKING:
    from collections.abc import Iterable

    from whenever import Instant

__all__ = ["Dues", "cancellation", "dues"]

_RANK = {CANCELLED: 0, SUBSCRIBED: 1, REACTIVATED: 1}


@dataclass(frozen=True, slots=True)
class Dues:
    """The two due instants of a cancelled tenant (spec §6)."""

    primary: Instant
    backup: Instant


def cancellation(events: Iterable[Event], as_of: Instant) -> Instant | None:
    """Return ``c`` when the tenant is cancelled at ``as_of``, else ``None`` (rules 1-3).

    Args:
        events: The tenant's events, in any order.
        as_of: The instant of the verdict.

    Returns:
        The instant of the last lifecycle event when it is a cancellation; ``None`` when the
        tenant is active.
    """
    last: tuple[Instant, int] | None = None
    for event in events:
        rank = _RANK.get(event.kind)
        if rank is None or event.at > as_of:
            continue
        if last is None or (event.at, rank) > last:
            last = (event.at, rank)
    if last is None or last[1] != _RANK[CANCELLED]:
        return None
    return last[0]


def dues(  # noqa: PLR0913 -- the six inputs of spec §6, all keyword-only
    *,
    events: Iterable[Event],
    cancelled_at: Instant,
    as_of: Instant,
    zone: Zone,
    grace_days: int,
    backup_lag_days: int,
) -> Dues:
    """Compute the dues of a cancelled tenant (rules 4-6).

    Args:
        events: The tenant's events, in any order.
        cancelled_at: ``c``, from :func:`cancellation`.
        as_of: The instant of the verdict.
        zone: The policy's zone.
        grace_days: The policy's ``grace_days``.
        backup_lag_days: The policy's ``backup_lag_days``.

    Returns:
        ``primary_due`` and ``backup_due``.
    """
    primary = zone.start_of_day(add_days(zone.local_date(cancelled_at), 1 + grace_days))
    requests = [
        event.at
        for event in events
        if event.kind == ERASURE_REQUESTED and cancelled_at <= event.at <= as_of
    ]
    if requests:
        primary = min(primary, *requests)
    backup = zone.start_of_day(add_days(zone.local_date(primary), backup_lag_days))
    return Dues(primary=primary, backup=backup)
