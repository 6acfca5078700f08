"""Eligibility of the tenant and the reasons objects are kept (spec §7.1, §7.2).

Rules:

1. The tenant is eligible iff it is cancelled, its ``legal_hold`` is false and
   ``as_of >= primary_due`` (spec §7.1).
2. Otherwise the reason is the first of ``active``, ``tenant-hold``, ``not-due`` that applies
   (spec §7.1).
3. An object of an eligible tenant gets the first that applies of ``created-after-as-of``
   (``created_at > as_of``: it did not exist at the verdict's instant; created exactly at
   ``as_of`` it did), ``object-hold`` (its ``legal_hold``), ``category-keep`` (its category's
   ``keep = true``) and ``category-retain`` (``retain_days = N`` and
   ``as_of < sod(ld(created_at) + N)``); with none it is a candidate (spec §7.2).
4. A category without a table in the policy has no rule (spec §7.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._clock import Zone, add_days

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whenever import Instant

    from ._records import Category, Obj

__all__ = [
    "ACTIVE",
    "CATEGORY_KEEP",
    "CATEGORY_RETAIN",
    "CREATED_AFTER_AS_OF",
    "NOT_DUE",
    "OBJECT_HOLD",
    "SHARED",
    "TENANT_HOLD",
    "object_reason",
    "tenant_reason",
]

ACTIVE: Final = "active"
TENANT_HOLD: Final = "tenant-hold"
NOT_DUE: Final = "not-due"
CREATED_AFTER_AS_OF: Final = "created-after-as-of"
OBJECT_HOLD: Final = "object-hold"
CATEGORY_KEEP: Final = "category-keep"
CATEGORY_RETAIN: Final = "category-retain"
SHARED: Final = "shared"


def tenant_reason(*, primary_due: Instant | None, legal_hold: bool, as_of: Instant) -> str | None:
    """Return why the tenant is not eligible, or ``None`` when it is (rules 1-2).

    Args:
        primary_due: The primary due when the tenant is cancelled, ``None`` when active.
        legal_hold: The tenant's ``legal_hold``.
        as_of: The instant of the verdict.

    Returns:
        ``"active"``, ``"tenant-hold"``, ``"not-due"`` or ``None`` (eligible).
    """
    if primary_due is None:
        return ACTIVE
    if legal_hold:
        return TENANT_HOLD
    if as_of < primary_due:
        return NOT_DUE
    return None


def object_reason(
    obj: Obj, *, categories: Mapping[str, Category], as_of: Instant, zone: Zone
) -> str | None:
    """Return why an object of the eligible tenant is kept, or ``None`` (rules 3-4).

    Args:
        obj: The object.
        categories: The policy's category rules.
        as_of: The instant of the verdict.
        zone: The policy's zone.

    Returns:
        ``"created-after-as-of"``, ``"object-hold"``, ``"category-keep"``,
        ``"category-retain"``, or ``None`` for a candidate.
    """
    if obj.created_at > as_of:
        return CREATED_AFTER_AS_OF
    if obj.legal_hold:
        return OBJECT_HOLD
    rule = categories.get(obj.category)
    if rule is None:
        return None
    if rule.keep:
        return CATEGORY_KEEP
    if rule.retain_days is not None:
        until = zone.start_of_day(add_days(zone.local_date(obj.created_at), rule.retain_days))
        if as_of < until:
            return CATEGORY_RETAIN
    return None
