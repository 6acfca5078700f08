"""The planner: from validated input to the verdict (spec §4.4, §7, §8).

Rules:

1. The whole input is validated before any verdict is formed, the parts that do not concern
   the tenant included (spec §4.4): policy, ``as_of``, the inventory's top level and tenants,
   the ``tenant`` argument, then every object.
2. Tenant ids are unique; a repeat is reported at ``tenants[i]``, the later tenant
   (spec §4.4 item 7). ``(store, key)`` pairs are unique; a repeat is reported at
   ``objects[i]``, the later object (spec §4.4 item 8, §8).
3. An object's ``tenant`` names a listed tenant, else the error is at ``objects[i].tenant``
   (spec §4.4 item 9); the ``tenant`` argument names a listed tenant, else the error has
   source and field ``tenant`` (spec §4.4 item 10).
4. ``inventory["objects"]`` is iterated exactly once, front to back (spec §8); what is kept
   from it does not depend on the order: the tenant's objects by identity, and the set of ref
   targets of the other tenants' objects (they are all in ``L``, spec §7.3).
5. Nothing passed in is mutated; no I/O is done beyond reading the ``tzdata`` package's data;
   the result depends only on the arguments (spec §8).
6. The verdict has exactly the keys of spec §7.5; ``purge`` and ``kept`` are empty unless the
   tenant is eligible, then partition its objects, sorted by ``(store, key)`` in code-point
   order (spec §7.1, §7.4, §7.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._clock import Zone, tzdata_zone
from ._closure import shared_candidates
from ._instant import format_instant
from ._lifecycle import cancellation, dues
from ._records import (
    Key,
    Obj,
    Policy,
    Tenant,
    read_as_of,
    read_inventory,
    read_object,
    read_policy,
    read_tenant_arg,
)
from ._retention import SHARED, object_reason, tenant_reason
from ._schema import Where

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whenever import Instant

__all__ = ["plan"]


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the verdict needs from the input, once it is all validated."""

    tenant: Tenant
    own: dict[Key, Obj]
    targets_of_others: set[Key]


def _index_tenants(tenants: tuple[Tenant, ...]) -> dict[str, Tenant]:
    """Map ids to tenants, rejecting a repeated id (rule 2)."""
    index: dict[str, Tenant] = {}
    where = Where("inventory").key("tenants")
    for position, tenant in enumerate(tenants):
        if tenant.id in index:
            where.index(position).fail(f"duplicate tenant id {tenant.id!r}")
        index[tenant.id] = tenant
    return index


def _read(inventory: object, tenant: object) -> _Scope:
    """Validate the inventory and the tenant argument in one pass over objects (rules 1-4)."""
    checked = read_inventory(inventory)
    tenants = _index_tenants(checked.tenants)
    tenant_id = read_tenant_arg(tenant)
    if tenant_id not in tenants:
        Where("tenant").key("tenant").fail(f"tenant {tenant_id!r} is not in the inventory")
    own: dict[Key, Obj] = {}
    targets_of_others: set[Key] = set()
    seen: set[Key] = set()
    objects = Where("inventory").key("objects")
    for position, raw in enumerate(checked.objects):
        where = objects.index(position)
        obj = read_object(raw, where)
        if obj.ident in seen:
            where.fail(f"duplicate object (store {obj.store!r}, key {obj.key!r})")
        seen.add(obj.ident)
        if obj.tenant not in tenants:
            where.key("tenant").fail(f"tenant {obj.tenant!r} is not in the inventory")
        if obj.tenant == tenant_id:
            own[obj.ident] = obj
        else:
            targets_of_others.update(obj.refs)
    return _Scope(tenant=tenants[tenant_id], own=own, targets_of_others=targets_of_others)


def _objects(
    scope: _Scope, policy: Policy, as_of: Instant, zone: Zone
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Split the eligible tenant's objects into purge and kept (spec §7.2-§7.4)."""
    kept: dict[Key, str] = {}
    candidates: set[Key] = set()
    targets_of_kept = set(scope.targets_of_others)
    for ident, obj in scope.own.items():
        reason = object_reason(obj, categories=policy.categories, as_of=as_of, zone=zone)
        if reason is None:
            candidates.add(ident)
        else:
            kept[ident] = reason
            targets_of_kept.update(obj.refs)
    shared = shared_candidates(
        candidates=candidates,
        targets_of_kept=targets_of_kept,
        refs={ident: scope.own[ident].refs for ident in candidates},
    )
    kept.update(dict.fromkeys(shared, SHARED))
    purge = [{"store": store, "key": key} for store, key in sorted(candidates - shared)]
    listed = [
        {"store": store, "key": key, "reason": kept[store, key]} for store, key in sorted(kept)
    ]
    return purge, listed


def plan(
    inventory: Mapping[str, object], policy: Mapping[str, object], tenant: str, as_of: str
) -> dict[str, object]:
    """Compute the verdict of spec §7 for one tenant at one instant.

    Args:
        inventory: The JSON-shaped inventory of spec §4.1; ``inventory["objects"]`` is
            iterated once.
        policy: The TOML-shaped policy of spec §4.2.
        tenant: The id of the tenant (spec §4.3).
        as_of: The instant of the verdict, as a string of spec §2.1.

    Returns:
        The verdict of spec §7.5: a new ``dict`` with the keys ``tenant``, ``as_of``,
        ``eligible``, ``reason``, ``primary_due``, ``backup_due``, ``purge`` and ``kept``.

    Raises:
        PlanInputError: The input is bad (spec §4.4); ``source`` and ``field`` say where.
        PlannerError: An internal failure (never for bad input).
    """
    checked_policy = read_policy(policy)
    now = read_as_of(as_of)
    scope = _read(inventory, tenant)
    with tzdata_zone(checked_policy.timezone) as zone:
        cancelled_at = cancellation(scope.tenant.events, now)
        due = (
            None
            if cancelled_at is None
            else dues(
                events=scope.tenant.events,
                cancelled_at=cancelled_at,
                as_of=now,
                zone=zone,
                grace_days=checked_policy.grace_days,
                backup_lag_days=checked_policy.backup_lag_days,
            )
        )
        reason = tenant_reason(
            primary_due=None if due is None else due.primary,
            legal_hold=scope.tenant.legal_hold,
            as_of=now,
        )
        purge: list[dict[str, str]] = []
        kept: list[dict[str, str]] = []
        if reason is None:
            purge, kept = _objects(scope, checked_policy, now, zone)
    return {
        "tenant": scope.tenant.id,
        "as_of": format_instant(now),
        "eligible": reason is None,
        "reason": reason,
        "primary_due": None if due is None else format_instant(due.primary),
        "backup_due": None if due is None else format_instant(due.backup),
        "purge": purge,
        "kept": kept,
    }
