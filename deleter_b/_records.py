"""The tables describing the inventory, the policy and the call (spec §4).

Rules:

1. Inventory top level: exactly ``tenants`` and ``objects``, both required lists (spec §4.1).
2. Tenant: ``id`` (non-empty string), ``events`` (list), ``legal_hold`` (boolean, default
   ``false``) (spec §4.1).
3. Event: ``kind`` (one of ``subscribed``, ``cancelled``, ``reactivated``,
   ``erasure_requested``) and ``at`` (instant of spec §2.1) (spec §4.1, §4.4 item 5).
4. Object: ``store``, ``key``, ``tenant`` (non-empty strings), ``created_at`` (instant),
   ``category`` (non-empty string, default ``"default"``), ``legal_hold`` (boolean, default
   ``false``), ``refs`` (list, default empty) (spec §4.1).
5. Ref: a ``list`` of exactly two non-empty strings; any fault is reported at the ref's own
   path, e.g. ``objects[1].refs[0]`` (spec §4.1, §4.4 item 14, §8).
6. Policy: ``timezone`` (required, a zone of ``tzdata``), ``grace_days`` (default 30),
   ``backup_lag_days`` (default 14), ``categories`` (table of tables, default empty)
   (spec §4.2, §4.4 items 11 and 13).
7. Category: exactly one of ``keep`` and ``retain_days``; ``keep`` must be ``true``; the
   "both"/"neither" faults are reported at the category's path, ``keep = false`` at
   ``categories.<name>.keep`` (spec §4.2, §4.4 item 12).
8. The call: ``tenant`` is a string, ``as_of`` an instant (spec §4.3); their faults are
   reported with ``source`` and ``field`` both ``"tenant"`` or both ``"as_of"``.
9. Cross-record checks (duplicate ids, unknown tenants) live in the planner, which sees the
   whole input; this module checks one record at a time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ._clock import is_zone_name
from ._instant import InstantSyntaxError, parse_instant
from ._schema import (
    Field,
    Record,
    Schema,
    Where,
    choice,
    day_count,
    flag,
    list_of,
    optional,
    raw_list,
    record,
    required,
    table_of,
    text,
)

if TYPE_CHECKING:
    from whenever import Instant

__all__ = [
    "CANCELLED",
    "ERASURE_REQUESTED",
    "REACTIVATED",
    "SUBSCRIBED",
    "Category",
    "Event",
    "Inventory",
    "Key",
    "Obj",
    "Policy",
    "Tenant",
    "read_as_of",
    "read_inventory",
    "read_object",
    "read_policy",
    "read_tenant",
    "read_tenant_arg",
]

SUBSCRIBED: Final = "subscribed"
CANCELLED: Final = "cancelled"
REACTIVATED: Final = "reactivated"
ERASURE_REQUESTED: Final = "erasure_requested"
_EVENT_KINDS: Final = frozenset({SUBSCRIBED, CANCELLED, REACTIVATED, ERASURE_REQUESTED})

Key = tuple[str, str]
"""An object's identity ``(store, key)`` (spec §1)."""


_parse_instant_cached: Final = functools.lru_cache(maxsize=4096)(parse_instant)
""":func:`parse_instant` with a bounded cache: many objects share a ``created_at`` string
(a bad string raises every time; only instants, which are immutable, are cached)."""


def instant(value: object, where: Where) -> Instant:
    """Check an instant of spec §2.1 (§4.4 item 6)."""
    if not isinstance(value, str):
        where.fail(f"must be an instant string, not {type(value).__name__}")
    try:
        return _parse_instant_cached(value)
    except InstantSyntaxError as error:
        where.fail(f"bad instant {value!r}: {error}")


def zone_name(value: object, where: Where) -> str:
    """Check an IANA zone name present in the ``tzdata`` package (§4.4 item 11)."""
    name = text(value, where)
    if not is_zone_name(name):
        where.fail(f"{name!r} is not a time zone of the tzdata package")
    return name


def ref(value: object, where: Where) -> Key:
    """Check a ref: a list of exactly two non-empty strings (rule 5)."""
    if not isinstance(value, list) or len(value) != 2:  # noqa: PLR2004 -- [store, key]
        where.fail("a ref must be a list of exactly two non-empty strings [store, key]")
    store, key = value
    if not isinstance(store, str) or not isinstance(key, str) or not store or not key:
        where.fail("a ref must be a list of exactly two non-empty strings [store, key]")
    return (store, key)


def keep_true(value: object, where: Where) -> bool:
    """Check ``keep``: a boolean that is ``true`` (rule 7)."""
    if not flag(value, where):
        where.fail("keep must be true (write no table instead of keep = false)")
    return True


# --- inventory -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A lifecycle event of a tenant (spec §4.1)."""

    kind: str
    at: Instant


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant of the inventory (spec §4.1)."""

    id: str
    events: tuple[Event, ...]
    legal_hold: bool


@dataclass(frozen=True, slots=True)
class Obj:
    """An object of the inventory (spec §4.1)."""

    store: str
    key: str
    tenant: str
    category: str
    created_at: Instant
    legal_hold: bool
    refs: tuple[Key, ...]

    @property
    def ident(self) -> Key:
        """The identity ``(store, key)``."""
        return (self.store, self.key)


@dataclass(frozen=True, slots=True)
class Inventory:
    """The checked tenants and the unread list of objects (rule 1)."""

    tenants: tuple[Tenant, ...]
    objects: list[object]


EVENT_KIND: Final = required("kind", choice(_EVENT_KINDS))
EVENT_AT: Final = required("at", instant)
EVENT: Final = Schema((EVENT_KIND, EVENT_AT))


def _event(r: Record, _: Where) -> Event:
    return Event(kind=r[EVENT_KIND], at=r[EVENT_AT])


TENANT_ID: Final = required("id", text)
TENANT_EVENTS: Final = required("events", list_of(record(EVENT, _event)))
TENANT_HOLD: Final = optional("legal_hold", flag, default=False)
TENANT: Final = Schema((TENANT_ID, TENANT_EVENTS, TENANT_HOLD))


def _tenant(r: Record, _: Where) -> Tenant:
    return Tenant(id=r[TENANT_ID], events=r[TENANT_EVENTS], legal_hold=r[TENANT_HOLD])


OBJECT_STORE: Final = required("store", text)
OBJECT_KEY: Final = required("key", text)
OBJECT_TENANT: Final = required("tenant", text)
OBJECT_CATEGORY: Final = optional("category", text, default="default")
OBJECT_CREATED: Final = required("created_at", instant)
OBJECT_HOLD: Final = optional("legal_hold", flag, default=False)
OBJECT_REFS: Final[Field[tuple[Key, ...]]] = optional("refs", list_of(ref), default=())
OBJECT: Final = Schema(
    (
        OBJECT_STORE,
        OBJECT_KEY,
        OBJECT_TENANT,
        OBJECT_CATEGORY,
        OBJECT_CREATED,
        OBJECT_HOLD,
        OBJECT_REFS,
    )
)


def _object(r: Record, _: Where) -> Obj:
    return Obj(
        store=r[OBJECT_STORE],
        key=r[OBJECT_KEY],
        tenant=r[OBJECT_TENANT],
        category=r[OBJECT_CATEGORY],
        created_at=r[OBJECT_CREATED],
        legal_hold=r[OBJECT_HOLD],
        refs=r[OBJECT_REFS],
    )


INVENTORY_TENANTS: Final = required("tenants", list_of(record(TENANT, _tenant)))
INVENTORY_OBJECTS: Final = required("objects", raw_list)
INVENTORY: Final = Schema((INVENTORY_TENANTS, INVENTORY_OBJECTS))

read_object: Final = record(OBJECT, _object)
"""Check one raw object (rule 4)."""

read_tenant: Final = record(TENANT, _tenant)
"""Check one raw tenant record (rule 2), e.g. the tenant argument of ``plan_stream``."""


def read_inventory(value: object) -> Inventory:
    """Check the inventory's top level and tenants; objects are left for one later pass.

    Args:
        value: The ``inventory`` argument.

    Returns:
        The checked tenants and the raw list of objects.

    Raises:
        PlanInputError: The top level or a tenant is bad (rules 1-3).
    """
    r = INVENTORY.read(value, Where("inventory"))
    return Inventory(tenants=r[INVENTORY_TENANTS], objects=r[INVENTORY_OBJECTS])


# --- policy ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    """A category rule: ``keep`` or ``retain_days`` (spec §4.2)."""

    keep: bool
    retain_days: int | None


@dataclass(frozen=True, slots=True)
class Policy:
    """The checked policy (spec §4.2)."""

    timezone: str
    grace_days: int
    backup_lag_days: int
    categories: dict[str, Category]


CATEGORY_KEEP: Final[Field[bool | None]] = optional("keep", keep_true, default=None)
CATEGORY_RETAIN: Final[Field[int | None]] = optional("retain_days", day_count, default=None)
CATEGORY: Final = Schema((CATEGORY_KEEP, CATEGORY_RETAIN))


def _category(r: Record, where: Where) -> Category:
    keep, retain_days = r[CATEGORY_KEEP], r[CATEGORY_RETAIN]
    if keep is not None and retain_days is not None:
        where.fail("a category holds keep or retain_days, not both")
    if keep is None and retain_days is None:
        where.fail("a category must hold keep = true or retain_days = N")
    return Category(keep=keep is not None, retain_days=retain_days)


POLICY_TIMEZONE: Final = required("timezone", zone_name)
POLICY_GRACE: Final = optional("grace_days", day_count, default=30)
POLICY_BACKUP_LAG: Final = optional("backup_lag_days", day_count, default=14)
POLICY_CATEGORIES: Final[Field[dict[str, Category]]] = optional(
    "categories", table_of(record(CATEGORY, _category)), default={}
)
POLICY: Final = Schema((POLICY_TIMEZONE, POLICY_GRACE, POLICY_BACKUP_LAG, POLICY_CATEGORIES))


def read_policy(value: object) -> Policy:
    """Check the policy (rules 6-7).

    Args:
        value: The ``policy`` argument.

    Returns:
        The checked policy.

    Raises:
        PlanInputError: The policy is bad.
    """
    r = POLICY.read(value, Where("policy"))
    return Policy(
        timezone=r[POLICY_TIMEZONE],
        grace_days=r[POLICY_GRACE],
        backup_lag_days=r[POLICY_BACKUP_LAG],
        categories=dict(r[POLICY_CATEGORIES]),
    )


# --- the call --------------------------------------------------------------------------------


def read_tenant_arg(value: object) -> str:
    """Check the ``tenant`` argument's type (rule 8); membership is the planner's job.

    Args:
        value: The ``tenant`` argument.

    Returns:
        The tenant id.

    Raises:
        PlanInputError: ``value`` is not a non-empty string.
    """
    return text(value, Where("tenant").key("tenant"))


def read_as_of(value: object) -> Instant:
    """Check the ``as_of`` argument (rule 8).

    Args:
        value: The ``as_of`` argument.

    Returns:
        The instant.

    Raises:
        PlanInputError: ``value`` is not an instant of spec §2.1.
    """
    return instant(value, Where("as_of").key("as_of"))
