"""The lifecycle of the tenant, its dues and its eligibility.

Rules (spec §5, §6, §7.1):

1. Only ``subscribed``, ``cancelled`` and ``reactivated`` events with ``at <= as_of`` count (§5.1).
2. They are ordered by instant; at one instant ``cancelled`` sorts before ``subscribed`` and
   ``reactivated`` (§5.2), so the order key is ``(at, 0)`` for ``cancelled`` and ``(at, 1)``
   otherwise. The tenant is cancelled iff the greatest key belongs to ``cancelled``; ``c`` is its
   instant. With no such event the tenant is active (§5.3).
3. When cancelled, ``primary_due = sod(ld(c) + 1 + grace_days)``, lowered to the earliest
   ``erasure_requested`` instant ``r`` with ``c <= r <= as_of`` if there is one;
   ``backup_due = sod(ld(primary_due) + backup_lag_days)`` (§6). When active, both are ``None``.
4. The tenant is eligible iff cancelled, not on legal hold, and ``as_of >= primary_due``;
   otherwise the reason is the first of ``active``, ``tenant-hold``, ``not-due`` (§7.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from deleter_a._calendar import DayStarts
    from deleter_a._validation import Policy, Tenant

__all__ = ["Assessment", "assess", "cancellation"]

_RANK: Final = {"cancelled": 0, "subscribed": 1, "reactivated": 1}
_CANCELLED_RANK: Final = 0


@dataclass(frozen=True, slots=True)
class Assessment:
    """The tenant-level part of a verdict."""

    eligible: bool
    reason: str | None
    primary_due: datetime | None
    backup_due: datetime | None


def cancellation(tenant: Tenant, as_of: datetime) -> datetime | None:
    """Return the cancellation instant ``c`` of the tenant, or ``None`` when it is active (§5).

    Args:
        tenant: The validated tenant.
        as_of: The instant of the verdict.

    Returns:
        ``c`` when the tenant is cancelled at ``as_of``, else ``None``.
    """
    keys = [
        (event.at, _RANK[event.kind])
        for event in tenant.events
        if event.kind in _RANK and event.at <= as_of
    ]
    if not keys:
        return None
    last_at, last_rank = max(keys)
    return last_at if last_rank == _CANCELLED_RANK else None


def assess(tenant: Tenant, policy: Policy, as_of: datetime, days: DayStarts) -> Assessment:
    """Compute the tenant's dues and eligibility (spec §5, §6, §7.1).

    Args:
        tenant: The validated tenant ``T``.
        policy: The validated policy.
        as_of: The instant of the verdict.
        days: ``ld``/``sod`` in the policy's zone.

    Returns:
        Eligibility, reason and dues.
    """
    cancelled_at = cancellation(tenant, as_of)
    if cancelled_at is None:
        return Assessment(eligible=False, reason="active", primary_due=None, backup_due=None)
    primary = days.start(days.local_date(cancelled_at) + timedelta(days=1 + policy.grace_days))
    requests = [
        event.at
        for event in tenant.events
        if event.kind == "erasure_requested" and cancelled_at <= event.at <= as_of
    ]
    if requests:
        primary = min(primary, *requests)
    backup = days.start(days.local_date(primary) + timedelta(days=policy.backup_lag_days))
    reason: str | None = None
    if tenant.legal_hold:
        reason = "tenant-hold"
    elif as_of < primary:
        reason = "not-due"
    return Assessment(
        eligible=reason is None, reason=reason, primary_due=primary, backup_due=backup
    )
