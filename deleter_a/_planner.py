"""The planner: from validated input to a verdict.

Rules (spec §4.4, §7, §8):

1. The whole input is validated before any verdict is returned: policy, ``as_of``, the
   inventory's top level and tenants, the ``tenant`` argument, then every object (§4.4).
2. ``inventory["objects"]`` is read in exactly one forward pass (``iter`` is called on it once)
   and the result does not depend on the order of objects (§8).
3. During the pass each ``(store, key)`` must be new (§4.4 item 8). When ``T`` is eligible, each
   of ``T``'s objects gets the first of ``created-after-as-of`` (``created_at > as_of``),
   ``object-hold``, ``category-keep``, ``category-retain`` that applies, or becomes a candidate
   (§7.2); the ref targets of every other object (the set ``L``, which includes ``T``'s kept
   objects, ``created-after-as-of`` ones too) are collected as roots for the sharing mark (§7.3).
4. When ``T`` is not eligible, ``purge`` and ``kept`` are empty (§7.1).
5. The verdict has exactly the keys of §7.5; ``purge`` and ``kept`` are sorted by
   ``(store, key)`` in code-point order; instants are written in the form of §2.2.
6. The planner does no I/O beyond reading the tzdata package, keeps no state between calls other
   than memoised zones, and never mutates its arguments (§8).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from deleter_a._calendar import DayStarts
from deleter_a._errors import PlanInputError
from deleter_a._instants import format_instant
from deleter_a._lifecycle import assess
from deleter_a._reachability import shared_candidates
from deleter_a._validation import (
    ObjectId,
    Policy,
    StoredObject,
    parse_as_of,
    parse_inventory_head,
    parse_object,
    parse_policy,
    parse_tenant_argument,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["plan"]


def _object_reason(
    obj: StoredObject, policy: Policy, as_of: datetime, days: DayStarts
) -> str | None:
    if obj.created_at > as_of:
        return "created-after-as-of"
    if obj.legal_hold:
        return "object-hold"
    if obj.category in policy.keep:
        return "category-keep"
    retain = policy.retain_days.get(obj.category)
    if retain is not None:
        kept_until = days.start(days.local_date(obj.created_at) + timedelta(days=retain))
        if as_of < kept_until:
            return "category-retain"
    return None


def _instant_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


def plan(
    inventory: Mapping[str, object], policy: Mapping[str, object], tenant: str, as_of: str
) -> dict[str, object]:
    """Compute the deletion verdict for one tenant at one instant (spec §7).

    Args:
        inventory: The JSON-shaped inventory (§4.1) as Python builtins. Not mutated;
            ``inventory["objects"]`` is iterated exactly once.
        policy: The TOML-shaped retention policy (§4.2) as Python builtins. Not mutated.
        tenant: The id of the tenant ``T`` (§4.3).
        as_of: The instant of the verdict (§2.1).

    Returns:
        The verdict of §7.5: a ``dict`` with the keys ``tenant``, ``as_of``, ``eligible``,
        ``reason``, ``primary_due``, ``backup_due``, ``purge`` and ``kept``.

    Raises:
        PlanInputError: Any part of the input is bad (§4.4).
    """
    rules = parse_policy(policy)
    now = parse_as_of(as_of)
    tenants, objects = parse_inventory_head(inventory)
    target = parse_tenant_argument(tenant, tenants)
    days = DayStarts(rules.zone)
    assessment = assess(target, rules, now, days)
    eligible = assessment.eligible

    seen: set[ObjectId] = set()
    roots: list[ObjectId] = []
    candidates: dict[ObjectId, tuple[ObjectId, ...]] = {}
    kept: dict[ObjectId, str] = {}
    for index, value in enumerate(objects):
        obj = parse_object(value, index, tenants)
        ident = obj.ident
        if ident in seen:
            raise PlanInputError(
                "inventory", f"objects[{index}]", f"duplicate object (store, key) = {ident!r}"
            )
        seen.add(ident)
        if not eligible:
            continue
        if obj.tenant == target.id:
            reason = _object_reason(obj, rules, now, days)
            if reason is None:
                candidates[ident] = obj.refs
                continue
            kept[ident] = reason
        roots.extend(obj.refs)

    for ident in shared_candidates(roots, candidates):
        del candidates[ident]
        kept[ident] = "shared"

    return {
        "tenant": target.id,
        "as_of": format_instant(now),
        "eligible": eligible,
        "reason": assessment.reason,
        "primary_due": _instant_or_none(assessment.primary_due),
        "backup_due": _instant_or_none(assessment.backup_due),
        "purge": [{"store": store, "key": key} for store, key in sorted(candidates)],
        "kept": [
            {"store": store, "key": key, "reason": kept[store, key]} for store, key in sorted(kept)
        ],
    }
