"""Strict validation of the inventory, the policy and the call arguments.

Rules (spec §4):

1. Every mapping holds only the keys the spec lists for it; an unknown key is reported at its own
   path, e.g. ``objects[2].legalhold`` (§4.4 item 1). Keys that are not strings are unknown.
2. Required keys must be present (§4.4 item 2); optional keys take the spec's defaults.
3. Types are exact (§4.4 item 3): a boolean is a ``bool``; an integer is an ``int`` that is not a
   ``bool`` (``bool`` subclasses ``int`` in Python) and never a ``float``; a list is a ``list``;
   a mapping is a ``collections.abc.Mapping``; ``None`` is a wrong type everywhere.
4. Strings the spec requires to be non-empty are non-empty (§4.4 item 4).
5. Event kinds are one of the four of §4.1 (§4.4 item 5); instants follow §2.1 (item 6).
6. Tenant ids are unique (item 7); ``(store, key)`` pairs are unique (item 8, checked by the
   planner during its single pass); an object's ``tenant`` names a listed tenant (item 9); the
   call's tenant is listed (item 10).
7. The policy names a zone of the tzdata package (item 11); a category table holds exactly one of
   ``keep = true`` and ``retain_days`` (item 12); day counts lie in ``0..36500`` (item 13).
8. A ref is a list of exactly two non-empty strings (item 14); a bad ref is reported at the ref's
   own path, e.g. ``objects[1].refs[0]``.
8a. A slice (§8.1 rule 6) is validated with the same rules: the tenant record at ``tenant``
   (``tenant.id``, ``tenant.events[i].at``, ...), each object at ``objects[i]`` (its ``tenant``
   must be the slice's tenant, else ``objects[i].tenant``), each ref of ``shared`` at
   ``shared[j]``; the source is ``"inventory"`` for all of them.
9. Paths are 0-based; a name that is not printable is written in the path as its ``repr``, so a
   path is always one line.
10. Validation reads its arguments and never mutates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from deleter_a._errors import PlanInputError
from deleter_a._instants import parse_instant
from deleter_a._zones import load_zone

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

__all__ = [
    "EVENT_KINDS",
    "Event",
    "ObjectId",
    "Policy",
    "StoredObject",
    "Tenant",
    "parse_as_of",
    "parse_inventory_head",
    "parse_object",
    "parse_policy",
    "parse_shared_ref",
    "parse_slice_object",
    "parse_tenant_argument",
    "parse_tenant_record",
]

ObjectId = tuple[str, str]

EVENT_KINDS: Final = frozenset({"subscribed", "cancelled", "reactivated", "erasure_requested"})
MAX_DAYS: Final = 36_500
DEFAULT_GRACE_DAYS: Final = 30
DEFAULT_BACKUP_LAG_DAYS: Final = 14
DEFAULT_CATEGORY: Final = "default"
_REF_LENGTH: Final = 2

_INVENTORY: Final = "inventory"
_POLICY: Final = "policy"

_INVENTORY_KEYS: Final = frozenset({"tenants", "objects"})
_TENANT_KEYS: Final = frozenset({"id", "legal_hold", "events"})
_EVENT_KEYS: Final = frozenset({"kind", "at"})
_OBJECT_KEYS: Final = frozenset(
    {"store", "key", "tenant", "category", "created_at", "legal_hold", "refs"}
)
_POLICY_KEYS: Final = frozenset({"timezone", "grace_days", "backup_lag_days", "categories"})
_CATEGORY_KEYS: Final = frozenset({"keep", "retain_days"})


@dataclass(frozen=True, slots=True)
class Event:
    """A validated tenant event (§4.1)."""

    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Tenant:
    """A validated tenant (§4.1)."""

    id: str
    legal_hold: bool
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A validated object (§4.1)."""

    store: str
    key: str
    tenant: str
    category: str
    created_at: datetime
    legal_hold: bool
    refs: tuple[ObjectId, ...]

    @property
    def ident(self) -> ObjectId:
        """The object's identity ``(store, key)``."""
        return (self.store, self.key)


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated retention policy (§4.2)."""

    zone: ZoneInfo
    grace_days: int
    backup_lag_days: int
    keep: frozenset[str]
    retain_days: Mapping[str, int]


def _name(key: object) -> str:
    if isinstance(key, str) and key and key.isprintable():
        return key
    return repr(key)


def _child(path: str, key: object) -> str:
    return f"{path}.{_name(key)}" if path else _name(key)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return f"{type(value).__name__} {value!r}"
    return type(value).__name__


def _mapping(
    value: object, source: str, path: str, allowed: frozenset[str]
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PlanInputError(source, path, f"expected a table/object, got {_describe(value)}")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise PlanInputError(source, _child(path, key), "unknown field")
    return value


def _required(table: Mapping[str, object], key: str, source: str, path: str) -> object:
    if key not in table:
        raise PlanInputError(source, _child(path, key), "required field is missing")
    return table[key]


def _string(value: object, source: str, path: str) -> str:
    if not isinstance(value, str):
        raise PlanInputError(source, path, f"expected a string, got {_describe(value)}")
    if not value:
        raise PlanInputError(source, path, "must be a non-empty string")
    return value


def _boolean(value: object, source: str, path: str) -> bool:
    if not isinstance(value, bool):
        raise PlanInputError(source, path, f"expected a boolean, got {_describe(value)}")
    return value


def _day_count(value: object, source: str, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanInputError(source, path, f"expected an integer, got {_describe(value)}")
    if not 0 <= value <= MAX_DAYS:
        raise PlanInputError(source, path, f"{value} is outside 0..{MAX_DAYS}")
    return value


def _list(value: object, source: str, path: str) -> list[object]:
    if not isinstance(value, list):
        raise PlanInputError(source, path, f"expected a list, got {_describe(value)}")
    return value


def parse_policy(policy: object) -> Policy:
    """Validate the policy (spec §4.2).

    Args:
        policy: The TOML-shaped policy as Python builtins.

    Returns:
        The validated policy with its zone loaded and defaults filled in.

    Raises:
        PlanInputError: The policy is bad input (source ``"policy"``).
    """
    table = _mapping(policy, _POLICY, "", _POLICY_KEYS)
    zone_field = _string(_required(table, "timezone", _POLICY, ""), _POLICY, "timezone")
    zone = load_zone(zone_field)
    if zone is None:
        raise PlanInputError(
            _POLICY, "timezone", f"{zone_field[:60]!r} is not a zone of the tzdata package"
        )
    grace = DEFAULT_GRACE_DAYS
    if "grace_days" in table:
        grace = _day_count(table["grace_days"], _POLICY, "grace_days")
    lag = DEFAULT_BACKUP_LAG_DAYS
    if "backup_lag_days" in table:
        lag = _day_count(table["backup_lag_days"], _POLICY, "backup_lag_days")
    keep: set[str] = set()
    retain: dict[str, int] = {}
    if "categories" in table:
        categories = table["categories"]
        if not isinstance(categories, Mapping):
            raise PlanInputError(
                _POLICY, "categories", f"expected a table of tables, got {_describe(categories)}"
            )
        for name, rule in categories.items():
            path = _child("categories", name)
            if not isinstance(name, str) or not name:
                raise PlanInputError(_POLICY, path, "a category name must be a non-empty string")
            _parse_category(rule, path, name, keep, retain)
    return Policy(
        zone=zone,
        grace_days=grace,
        backup_lag_days=lag,
        keep=frozenset(keep),
        retain_days=retain,
    )


def _parse_category(
    rule: object, path: str, name: str, keep: set[str], retain: dict[str, int]
) -> None:
    table = _mapping(rule, _POLICY, path, _CATEGORY_KEYS)
    has_keep, has_retain = "keep" in table, "retain_days" in table
    if has_keep and has_retain:
        raise PlanInputError(_POLICY, path, "a category holds keep or retain_days, not both")
    if has_keep:
        keep_path = _child(path, "keep")
        if not _boolean(table["keep"], _POLICY, keep_path):
            raise PlanInputError(_POLICY, keep_path, "keep must be true (omit the table instead)")
        keep.add(name)
    elif has_retain:
        retain[name] = _day_count(table["retain_days"], _POLICY, _child(path, "retain_days"))
    else:
        raise PlanInputError(_POLICY, path, "a category needs keep = true or retain_days")


def parse_as_of(as_of: object) -> datetime:
    """Validate the ``as_of`` argument (spec §4.3).

    Args:
        as_of: The instant at which the verdict is computed.

    Returns:
        ``as_of`` as an aware ``datetime`` in UTC.

    Raises:
        PlanInputError: ``as_of`` is not an instant of §2.1 (source and field ``"as_of"``).
    """
    return parse_instant(as_of, "as_of", "as_of")


def _parse_event(value: object, path: str) -> Event:
    table = _mapping(value, _INVENTORY, path, _EVENT_KEYS)
    kind_path = _child(path, "kind")
    kind = _required(table, "kind", _INVENTORY, path)
    if not isinstance(kind, str):
        raise PlanInputError(_INVENTORY, kind_path, f"expected a string, got {_describe(kind)}")
    if kind not in EVENT_KINDS:
        raise PlanInputError(_INVENTORY, kind_path, f"unknown event kind {kind[:60]!r}")
    at = parse_instant(_required(table, "at", _INVENTORY, path), _INVENTORY, _child(path, "at"))
    return Event(kind=kind, at=at)


def _parse_tenant(value: object, path: str) -> Tenant:
    table = _mapping(value, _INVENTORY, path, _TENANT_KEYS)
    ident = _string(_required(table, "id", _INVENTORY, path), _INVENTORY, _child(path, "id"))
    events_path = _child(path, "events")
    events = _list(_required(table, "events", _INVENTORY, path), _INVENTORY, events_path)
    hold = False
    if "legal_hold" in table:
        hold = _boolean(table["legal_hold"], _INVENTORY, _child(path, "legal_hold"))
    parsed = tuple(
        _parse_event(event, f"{events_path}[{index}]") for index, event in enumerate(events)
    )
    return Tenant(id=ident, legal_hold=hold, events=parsed)


def parse_inventory_head(inventory: object) -> tuple[dict[str, Tenant], list[object]]:
    """Validate the inventory's top level and its tenants (spec §4.1).

    The objects are not read here: the planner reads them in its single pass (``parse_object``).

    Args:
        inventory: The JSON-shaped inventory as Python builtins.

    Returns:
        The tenants by id, and the (unread) list of objects.

    Raises:
        PlanInputError: The top level or a tenant is bad input (source ``"inventory"``).
    """
    table = _mapping(inventory, _INVENTORY, "", _INVENTORY_KEYS)
    tenants_value = _list(_required(table, "tenants", _INVENTORY, ""), _INVENTORY, "tenants")
    objects = _list(_required(table, "objects", _INVENTORY, ""), _INVENTORY, "objects")
    tenants: dict[str, Tenant] = {}
    for index, value in enumerate(tenants_value):
        path = f"tenants[{index}]"
        tenant = _parse_tenant(value, path)
        if tenant.id in tenants:
            raise PlanInputError(_INVENTORY, path, f"duplicate tenant id {tenant.id[:60]!r}")
        tenants[tenant.id] = tenant
    return tenants, objects


def parse_tenant_argument(tenant: object, tenants: Mapping[str, Tenant]) -> Tenant:
    """Validate the ``tenant`` argument (spec §4.3).

    Args:
        tenant: The id of the tenant the verdict is for.
        tenants: The inventory's tenants by id.

    Returns:
        The tenant named by ``tenant``.

    Raises:
        PlanInputError: ``tenant`` is not a string naming a listed tenant (source and field
            ``"tenant"``).
    """
    if not isinstance(tenant, str):
        raise PlanInputError("tenant", "tenant", f"expected a string, got {_describe(tenant)}")
    found = tenants.get(tenant)
    if found is None:
        raise PlanInputError("tenant", "tenant", f"the inventory lists no tenant {tenant[:60]!r}")
    return found


def _parse_ref(value: object, path: str) -> ObjectId:
    message = "a ref is a list of exactly two non-empty strings"
    if not isinstance(value, list) or len(value) != _REF_LENGTH:
        raise PlanInputError(_INVENTORY, path, message)
    store, key = value
    if not (isinstance(store, str) and store and isinstance(key, str) and key):
        raise PlanInputError(_INVENTORY, path, message)
    return (store, key)


def parse_object(value: object, index: int, tenants: Mapping[str, Tenant]) -> StoredObject:
    """Validate one object of the inventory (spec §4.1).

    Args:
        value: The raw object.
        index: Its 0-based position in ``inventory["objects"]``.
        tenants: The inventory's tenants by id.

    Returns:
        The validated object with defaults filled in.

    Raises:
        PlanInputError: The object is bad input (source ``"inventory"``).
    """
    found = _parse_object_fields(value, f"objects[{index}]")
    if found.tenant not in tenants:
        raise PlanInputError(
            _INVENTORY,
            f"objects[{index}].tenant",
            f"no tenant {found.tenant[:60]!r} is listed",
        )
    return found


def parse_slice_object(value: object, index: int, tenant: str) -> StoredObject:
    """Validate the ``index``-th object of a slice of the tenant ``tenant`` (spec §8.1 rule 6).

    Args:
        value: The raw object.
        index: Its 0-based position in the pass over ``objects()``.
        tenant: The id of the slice's tenant ``T``.

    Returns:
        The validated object with defaults filled in.

    Raises:
        PlanInputError: The object is bad input, or belongs to another tenant than ``T``
            (``objects[i].tenant``).
    """
    found = _parse_object_fields(value, f"objects[{index}]")
    if found.tenant != tenant:
        raise PlanInputError(
            _INVENTORY,
            f"objects[{index}].tenant",
            f"the object belongs to {found.tenant[:60]!r}, not to the slice's tenant",
        )
    return found


def parse_tenant_record(value: object) -> Tenant:
    """Validate the tenant record of a slice (spec §8.1 rules 1 and 6), at the path ``tenant``.

    Args:
        value: The raw tenant record (§4.1).

    Returns:
        The validated tenant.

    Raises:
        PlanInputError: The record is bad input (source ``"inventory"``, e.g. ``tenant.id``).
    """
    return _parse_tenant(value, "tenant")


def parse_shared_ref(value: object, index: int) -> ObjectId:
    """Validate the ``index``-th ref of a slice's ``shared`` (spec §8.1 rule 6).

    Args:
        value: The raw ref.
        index: Its 0-based position in ``shared``.

    Returns:
        The ref as ``(store, key)``.

    Raises:
        PlanInputError: ``value`` is not a list of exactly two non-empty strings (``shared[j]``).
    """
    return _parse_ref(value, f"shared[{index}]")


def _parse_object_fields(value: object, path: str) -> StoredObject:
    table = _mapping(value, _INVENTORY, path, _OBJECT_KEYS)
    store = _string(_required(table, "store", _INVENTORY, path), _INVENTORY, _child(path, "store"))
    key = _string(_required(table, "key", _INVENTORY, path), _INVENTORY, _child(path, "key"))
    tenant_path = _child(path, "tenant")
    tenant = _string(_required(table, "tenant", _INVENTORY, path), _INVENTORY, tenant_path)
    created_at = parse_instant(
        _required(table, "created_at", _INVENTORY, path), _INVENTORY, _child(path, "created_at")
    )
    category = DEFAULT_CATEGORY
    if "category" in table:
        category = _string(table["category"], _INVENTORY, _child(path, "category"))
    hold = False
    if "legal_hold" in table:
        hold = _boolean(table["legal_hold"], _INVENTORY, _child(path, "legal_hold"))
    refs: tuple[ObjectId, ...] = ()
    if "refs" in table:
        refs_path = _child(path, "refs")
        raw_refs = _list(table["refs"], _INVENTORY, refs_path)
        refs = tuple(
            _parse_ref(ref, f"{refs_path}[{number}]") for number, ref in enumerate(raw_refs)
        )
    return StoredObject(
        store=store,
        key=key,
        tenant=tenant,
        category=category,
        created_at=created_at,
        legal_hold=hold,
        refs=refs,
    )
