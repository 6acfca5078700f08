"""The arbiter's guards: checks that trust neither planner, for the primary and the backup purge.

Rules:

1. A guard that trips raises ``GuardError``: typed data naming the guard, the tenant, a message
   for people and plain details for the alert and the audit log. A guard that passes returns
   nothing. Guard names are stable: alerts, audit records and operators' runbooks name them.
2. Every guard judges the state it is given as read *now* (re-read by the caller inside the
   transaction that deletes, or just before), never the planners' view of it.
3. The tenant's lifecycle is the arbiter's own reading of spec §5, without ``as_of``: the latest
   of its ``subscribed``/``cancelled``/``reactivated`` events, ties favouring reactivation, must be
   a cancellation. A later reactivation stops a primary purge and keeps the backups.
4. ``as_of`` in the future is refused unless the caller only looks ahead (a dry run): nothing is
   deleted ahead of schedule.
5. This module deletes nothing and imports nothing that deletes (no purger, no store
   implementation, no workspace, no manual purge): the backup domain uses it, and import-linter
   forbids it any import path to code that deletes primary data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.errors import GuardError
from arbiter.core.instants import format_instant, parse_instant

if TYPE_CHECKING:
    from datetime import datetime

    from arbiter.core.config import LimitsConfig
    from arbiter.core.verdict import ObjectId
    from arbiter.stores.ports import PurgeTransaction

__all__ = [
    "check_batch",
    "check_blast_radius",
    "check_count",
    "check_not_ahead",
    "check_scope",
    "check_tenant_state",
    "check_unchanged",
    "kept_categories",
    "latest_lifecycle_is_cancellation",
]

TenantState = tuple[bool, list[tuple[str, str]]]
_LIFECYCLE = frozenset({"subscribed", "cancelled", "reactivated"})
_LISTED = 100  # objects named in a guard's details; the count is always complete


def latest_lifecycle_is_cancellation(events: list[tuple[str, str]]) -> bool:
    """Whether the tenant's latest lifecycle event is a cancellation (rule 3).

    Args:
        events: ``(kind, at)`` pairs of the tenant as stored now, in any order.

    Returns:
        True only when there is a lifecycle event and the latest (reactivation winning a tie)
        is ``cancelled``.

    Raises:
        ValueError: an event's instant is not an instant with an offset.
    """
    # A tie sorts the cancellation (0) below the other kinds (1): the reactivation wins it.
    lifecycle = [
        (parse_instant(at), 0 if kind == "cancelled" else 1)
        for kind, at in events
        if kind in _LIFECYCLE
    ]
    return bool(lifecycle) and max(lifecycle)[1] == 0


def check_not_ahead(
    tenant: str, as_of: str, now: datetime, *, look_ahead: bool, details: Mapping[str, object]
) -> None:
    """Guard ``future-as-of`` (rule 4).

    Args:
        tenant: the tenant.
        as_of: the instant of the verdict.
        now: the current instant.
        look_ahead: whether the caller only looks ahead (a dry run), deleting nothing.
        details: what the caller adds to the guard's details.

    Raises:
        GuardError: ``as_of`` is after ``now`` and the caller would delete.
    """
    if not look_ahead and parse_instant(as_of) > now:
        raise GuardError(
            "future-as-of",
            tenant,
            f"as_of {as_of} is after now ({format_instant(now)}); only a dry run may look ahead",
            {**details, "now": format_instant(now)},
        )


def check_tenant_state(
    tenant: str, state: TenantState | None, details: Mapping[str, object]
) -> None:
    """Guards ``tenant-missing``, ``tenant-hold`` and ``tenant-not-cancelled`` (rules 2 and 3).

    Args:
        tenant: the tenant.
        state: ``(legal_hold, events)`` of the tenant as stored now, or None when it is gone.
        details: what the caller adds to the guard's details.

    Raises:
        GuardError: the tenant is gone, under legal hold, or not cancelled.
    """
    if state is None:
        raise GuardError("tenant-missing", tenant, "the tenant no longer exists", dict(details))
    legal_hold, events = state
    if legal_hold:
        raise GuardError("tenant-hold", tenant, "the tenant is under legal hold now", dict(details))
    if not latest_lifecycle_is_cancellation(events):
        raise GuardError(
            "tenant-not-cancelled",
            tenant,
            "the tenant's latest lifecycle event is not a cancellation",
            dict(details),
        )


def check_blast_radius(tenant: str, count: int, total: int, limits: LimitsConfig) -> None:
    """Guard ``blast-radius``: the purge set against the object and store-fraction limits.

    Args:
        tenant: the tenant.
        count: objects in the purge set.
        total: objects in the whole store.
        limits: the limits in force.

    Raises:
        GuardError: ``count`` exceeds ``max_objects_per_purge``, or exceeds both
            ``fraction_floor`` and ``max_store_fraction`` of ``total``.
    """
    if count > limits.max_objects_per_purge:
        raise GuardError(
            "blast-radius",
            tenant,
            f"{count} objects exceed max_objects_per_purge {limits.max_objects_per_purge}",
            {"purge": count},
        )
    if count > limits.fraction_floor and count > limits.max_store_fraction * total:
        raise GuardError(
            "blast-radius",
            tenant,
            f"{count} of {total} objects exceed max_store_fraction {limits.max_store_fraction}",
            {"purge": count, "total": total},
        )


def check_scope(tenant: str, purge: tuple[ObjectId, ...], own: frozenset[ObjectId]) -> None:
    """Guard ``foreign-object`` before planning is trusted: every object must be the tenant's.

    Args:
        tenant: the tenant.
        purge: the purge set.
        own: the tenant's objects in its slice as read now.

    Raises:
        GuardError: an object of the purge set is not among ``own``.
    """
    outside = [o for o in purge if o not in own]
    if outside:
        raise GuardError(
            "foreign-object",
            tenant,
            f"{len(outside)} planned objects are not the tenant's, e.g. {outside[0]}",
            {"objects": [attrs.asdict(o) for o in outside[:_LISTED]]},
        )


def check_unchanged(tenant: str, planned: int, current: int) -> None:
    """Guard ``stale``: nothing that can change the verdict was written since planning.

    The tenant's change counter (rule 7 of ``arbiter.stores.ports``) read now must be the one
    expected: read with the planning slice, or after the purge's own previous batch.

    Args:
        tenant: the tenant.
        planned: the counter expected.
        current: the counter read now.

    Raises:
        GuardError: the counters differ.
    """
    if planned != current:
        raise GuardError("stale", tenant, "the tenant's data changed since planning", {})


def check_count(
    tenant: str, deleted: int, expected: int, message: str, details: Mapping[str, object]
) -> None:
    """Guard ``count-mismatch``: a deletion must delete exactly what it was to delete.

    Args:
        tenant: the tenant.
        deleted: what was deleted.
        expected: what was to be deleted.
        message: what the counts are of, for people.
        details: the counts, for the alert and the audit log.

    Raises:
        GuardError: the counts differ (the caller's transaction rolls back).
    """
    if deleted != expected:
        raise GuardError("count-mismatch", tenant, message, dict(details))


def kept_categories(policy: Mapping[str, Any]) -> frozenset[str]:
    """The categories the policy keeps whatever the planners say (``keep = true``).

    Args:
        policy: the retention policy.

    Returns:
        The category names.
    """
    categories = policy.get("categories", {})
    return frozenset(
        name
        for name, table in categories.items()
        if isinstance(table, Mapping) and table.get("keep") is True
    )


def check_batch(
    tx: PurgeTransaction,
    tenant: str,
    batch: list[ObjectId],
    purge_set: frozenset[ObjectId],
    keep_categories: frozenset[str],
) -> None:
    """The guards of one batch, inside the transaction that will delete it (rule 2).

    Args:
        tx: the open transaction; every guard reads through it.
        tenant: the tenant.
        batch: the objects about to be deleted.
        purge_set: the whole purge set (a referrer inside it goes too).
        keep_categories: categories the policy keeps.

    Raises:
        GuardError: ``tenant-missing``, ``tenant-hold``, ``tenant-not-cancelled``,
            ``object-missing``, ``foreign-object``, ``object-hold``, ``category-keep`` or
            ``shared``.
    """
    check_tenant_state(tenant, tx.tenant_state(tenant), {})
    objects = tx.objects(batch)
    for obj in batch:
        found = objects.get(obj)
        where: dict[str, object] = {"store": obj.store, "key": obj.key}
        if found is None:
            raise GuardError(
                "object-missing", tenant, f"{obj.store}/{obj.key} no longer exists", where
            )
        if found.tenant != tenant:
            raise GuardError(
                "foreign-object",
                tenant,
                f"{obj.store}/{obj.key} belongs to {found.tenant!r}",
                {**where, "owner": found.tenant},
            )
        if found.legal_hold:
            raise GuardError(
                "object-hold", tenant, f"{obj.store}/{obj.key} is under legal hold now", where
            )
        if found.category in keep_categories:
            raise GuardError(
                "category-keep",
                tenant,
                f"{obj.store}/{obj.key} is in kept category {found.category!r}",
                where,
            )
    outside = sorted(tx.referrers(batch) - purge_set)
    if outside:
        raise GuardError(
            "shared",
            tenant,
            f"{outside[0].store}/{outside[0].key} (not purged) refs an object of the batch",
            {"referrers": [attrs.asdict(o) for o in outside[:_LISTED]]},
        )
