"""The streaming entry point: one tenant planned from its slice, in two passes (spec §8.1).

Rules:

1. The arguments are checked in this order: policy, ``as_of``, the tenant record (paths
   ``tenant.id``, ``tenant.events[i].at``, ...), ``objects`` (a callable), ``shared`` (every
   item a list of exactly two non-empty strings, else ``shared[j]``), then the first pass
   over ``objects()``. Every fault of the slice has ``source`` ``"inventory"`` (the slice is
   the inventory of spec §4.4); policy and ``as_of`` faults are reported as by :func:`plan`.
2. First pass (during the call). Each record is validated as spec §4.4 validates an object
   (same paths and messages as :func:`plan`, ``objects[i]...``, ``i`` the 0-based position in
   the pass); besides, its ``tenant`` must be T (``objects[i].tenant``) and its
   ``(store, key)`` must be greater than the previous record's (``objects[i]``). The pass is
   always made, so bad input is rejected also when T is not eligible.
3. What is held (spec §8.1 rule 5). Before the first pass, the refs of ``shared`` (by store,
   then key, repeats merged). When T is eligible, during the first pass: every object of T
   that carries refs, as its identity, position, §7.2 status and refs (a :class:`_Carrier`),
   and the identities of T's objects that ``shared`` names; after the pass the rest of
   ``shared`` is dropped. When T is not eligible nothing is held. Besides: a bounded cache of
   the ``created_at`` strings already read (rule 7), a running digest and a count. No list of
   T's objects or of the decisions is ever built.
4. Sharing (spec §7.3), after the first pass. Only carriers can pass sharing on, so the
   level-synchronous fixpoint of :mod:`deleter_b._closure` runs over the carriers:
   ``seeds`` = the objects ``shared`` names plus the targets of carriers kept by §7.2 (in
   ``L``); ``frontier = targets(frontier) & candidate carriers - shared``. The set
   ``reached`` = ``seeds`` plus the targets of the shared carriers holds every object that a
   path from ``L`` through candidates reaches; an object of T without refs is such a path's
   last step only, so a candidate is ``shared`` iff it is in ``reached``.
5. Second pass (while ``decisions`` is consumed, only when T is eligible). ``objects()`` is
   called again and each record read exactly as in the first pass; its decision is its §7.2
   reason, else ``shared`` when it is in ``reached``, else ``None`` (purge), yielded in the
   order of the records. A difference from the first pass raises :class:`PlanInputError`
   from the iterator, at ``objects[i]`` for the first record where it is noticed: a record
   that is now bad, out of order or of another tenant; a record at a carrier's position that
   is not that carrier (identity, refs and §7.2 reason compared exactly); refs at a position
   where the first pass had none. It is raised at ``objects`` when the passes differ in
   length or, at the end, in their digests: the XOR of the hashes of every record's
   normalized fields (a missing optional field and its default are the same), which notices
   a changed record that carries no refs. That is the one difference that cannot be located
   in constant memory; the order of the records is fixed by rule 2, so an XOR suffices.
6. ``plan_stream`` agrees with :func:`plan` on a slice cut from an inventory (spec §8.1
   rule 4): the scalars come from the same functions; the §7.2 reasons use the same order of
   rules, with ``category-retain`` decided by a threshold date (rule 7).
7. Speed. ``created_at`` strings are parsed once each, while at most ``_CACHE_LIMIT`` are
   cached (the cache is emptied when full: memory stays bounded): the cache maps the string
   to ``created_at > as_of`` and, when a category has ``retain_days``, ``ld(created_at)``,
   computed from the zone's anchor, so that no lock or search path is needed during the
   second pass (:mod:`deleter_b._clock` rule 6). ``as_of < sod(ld(c) + N)`` holds iff
   ``ld(c) > M - N`` with ``M`` the last date whose ``sod`` is not after ``as_of`` (``sod``
   is non-decreasing), so each ``retain_days`` category is one date comparison. Records that
   are plain ``dict`` with well-typed values take a fast path; anything else is read by the
   schema of :mod:`deleter_b._records`, which raises the precise error.
8. Nothing passed in is mutated; no I/O beyond reading ``tzdata``; the result depends only on
   the arguments (the digest uses Python's ``hash``, which only decides whether a difference
   is noticed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from ._clock import Zone, add_days, tzdata_zone
from ._closure import shared_candidates
from ._errors import PlanInputError
from ._instant import format_instant
from ._lifecycle import cancellation, dues
from ._records import instant, read_as_of, read_object, read_policy, read_tenant, ref
from ._retention import (
    CATEGORY_KEEP,
    CATEGORY_RETAIN,
    CREATED_AFTER_AS_OF,
    OBJECT_HOLD,
    SHARED,
    tenant_reason,
)
from ._schema import Where

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from whenever import Date, Instant

    from ._records import Key, Policy

__all__ = ["plan_stream"]

_NO_REFS: Final[tuple[Key, ...]] = ()
_ABSENT: Final[Any] = None
_NO_KEYS: Final[frozenset[str]] = frozenset()
_CACHE_LIMIT: Final = 4096
_KEEP: Final = "keep"
_SLICE: Final = Where("inventory")
_OBJECTS: Final = _SLICE.key("objects")


@dataclass(frozen=True, slots=True)
class _Carrier:
    """An object of T that carries refs, as held between the passes (rule 3)."""

    position: int
    ident: Key
    reason: str | None
    refs: tuple[Key, ...]


class _Rules:
    """What classifying one record needs: T, ``as_of``, the zone and the category rules."""

    __slots__ = ("as_of", "categories", "dated", "tenant_id", "times", "zone")

    def __init__(
        self, tenant_id: str, as_of: Instant, zone: Zone | None, categories: dict[str, object]
    ) -> None:
        """Hold the rules; ``categories`` maps a name to ``_KEEP`` or a threshold date."""
        self.tenant_id = tenant_id
        self.as_of = as_of
        self.zone = zone
        self.categories = categories
        self.dated = zone is not None and any(v is not _KEEP for v in categories.values())
        self.times: dict[str, tuple[bool, Date | None]] = {}

    def time(self, created: str, position: int) -> tuple[bool, Date | None]:
        """Return ``(created_at > as_of, ld(created_at) or None)`` for a string (rule 7)."""
        cached = self.times.get(created)
        if cached is not None:
            return cached
        when = instant(created, _OBJECTS.index(position).key("created_at"))
        day = self.zone.date_of(when) if self.dated and self.zone is not None else None
        result = (when > self.as_of, day)
        if len(self.times) >= _CACHE_LIMIT:
            self.times.clear()
        self.times[created] = result
        return result


@dataclass(slots=True)
class _Tally:
    """What a finished pass reports: how many records, and the digest of their fields."""

    count: int = 0
    digest: int = 0


Row = tuple[str, str, "str | None", tuple["Key", ...]]
"""A record as read: ``(store, key, §7.2 reason or None, refs)``."""


def _read(
    records: Iterator[object],
    *,
    rules: _Rules,
    tally: _Tally,
    classify: bool,
    limit: int | None = None,
) -> Iterator[Row]:
    """Read the records of one pass: validate, check order and tenant, classify (rules 2, 7).

    Args:
        records: The iterator returned by ``objects()``.
        rules: T, ``as_of`` and the category rules.
        tally: Receives the count and the digest once the records are exhausted.
        classify: Whether to compute the §7.2 reasons (T is eligible); else ``None``.
        limit: For the second pass: the first pass's count; more records is a difference,
            and any bad input found is reported as a difference (rule 5).

    Yields:
        One row per record, in the order of the records.

    Raises:
        PlanInputError: A record is bad, of another tenant, or not after the previous.
    """
    tenant_id = rules.tenant_id
    times = rules.times
    categories = rules.categories
    position = 0
    digest = 0
    last_store = last_key = ""
    store: str
    key: str
    created: str
    category: str
    hold: bool
    refs: tuple[Key, ...]
    try:
        for raw in records:
            if position == limit:
                raise _differs("objects", f"it yields more than the {limit} objects of the first")
            if type(raw) is dict and len(raw) == 4:  # noqa: PLR2004 -- the required fields
                try:
                    store = raw["store"]
                    key = raw["key"]
                    created = raw["created_at"]
                    fast = raw["tenant"] == tenant_id
                except KeyError:
                    fast = False
                if (
                    fast
                    and type(store) is str
                    and type(key) is str
                    and type(created) is str
                    and store
                    and key
                ):
                    category = "default"
                    hold = False
                    refs = _NO_REFS
                else:
                    store, key, created, category, hold, refs = _slow(raw, position, tenant_id)
            else:
                store, key, created, category, hold, refs = _general(raw, position, tenant_id)
            # The digest of rule 5; a record with the defaults hashes only what it must have.
            if hold or refs or category != "default":
                digest ^= hash((store, key, created, category, hold, refs))
            else:
                digest ^= hash((store, key, created))
            when = times.get(created)
            if when is None:
                when = rules.time(created, position)
            if store < last_store or (store == last_store and key <= last_key):
                _OBJECTS.index(position).fail(
                    f"(store {store!r}, key {key!r}) is not after the previous object's"
                    f" (store {last_store!r}, key {last_key!r})"
                )
            last_store = store
            last_key = key
            reason: str | None = None
            if not classify:
                pass
            elif when[0]:
                reason = CREATED_AFTER_AS_OF
            elif hold:
                reason = OBJECT_HOLD
            else:
                rule = categories.get(category)
                if rule is None:
                    pass
                elif rule is _KEEP:
                    reason = CATEGORY_KEEP
                elif when[1] is not None and when[1] > rule:  # type: ignore[operator]
                    reason = CATEGORY_RETAIN
            yield store, key, reason, refs
            position += 1
    except PlanInputError as error:
        if limit is None or error.field == "objects":
            raise
        raise _differs(_OBJECTS.index(position).path, str(error)) from error
    tally.count = position
    tally.digest = digest


def _refs(listed: list[object], position: int) -> tuple[Key, ...]:
    """Return the checked refs of the record at ``position`` (spec §4.4 item 14)."""
    refs: list[Key] = []
    for index, item in enumerate(listed):
        if (
            type(item) is list
            and len(item) == 2  # noqa: PLR2004 -- [store, key]
            and type(item[0]) is str
            and type(item[1]) is str
            and item[0] != ""
            and item[1] != ""
        ):
            refs.append((item[0], item[1]))
        else:
            refs.append(ref(item, _OBJECTS.index(position).key("refs").index(index)))
    return tuple(refs)


def _general(
    raw: object, position: int, tenant_id: str
) -> tuple[str, str, str, str, bool, tuple[Key, ...]]:
    """Read a record with optional fields: a ``dict`` of well-typed values, else the schema."""
    if type(raw) is not dict:
        return _slow(raw, position, tenant_id)
    size = 4
    category = raw.get("category", _ABSENT)
    if category is None:
        category = "default"
    else:
        size += 1
    hold = raw.get("legal_hold", _ABSENT)
    if hold is None:
        hold = False
    else:
        size += 1
    listed = raw.get("refs", _ABSENT)
    if listed is None:
        listed = _NO_REFS
    else:
        size += 1
    store = raw.get("store", _ABSENT)
    key = raw.get("key", _ABSENT)
    created = raw.get("created_at", _ABSENT)
    if (
        len(raw) == size
        and type(store) is str
        and type(key) is str
        and type(created) is str
        and type(category) is str
        and type(hold) is bool
        and store
        and key
        and category
        and (listed is _NO_REFS or type(listed) is list)
        and raw.get("tenant", _ABSENT) == tenant_id
    ):
        refs = _refs(cast("list[object]", listed), position) if listed else _NO_REFS
        return store, key, created, category, hold, refs
    return _slow(raw, position, tenant_id)


def _slow(
    raw: object, position: int, tenant_id: str
) -> tuple[str, str, str, str, bool, tuple[Key, ...]]:
    """Read a record by the schema, which raises the precise error (rule 7)."""
    where = _OBJECTS.index(position)
    obj = read_object(raw, where)
    if obj.tenant != tenant_id:
        where.key("tenant").fail(f"the object belongs to {obj.tenant!r}, not to {tenant_id!r}")
    created = raw["created_at"]  # type: ignore[index]  # a Mapping, checked by read_object
    return obj.store, obj.key, str(created), obj.category, obj.legal_hold, obj.refs


def _read_shared(shared: object) -> dict[str, set[str]]:
    """Check ``shared`` and index its refs by store, then key (rules 1, 3)."""
    where = _SLICE.key("shared")
    try:
        items = iter(shared)  # type: ignore[call-overload]
    except TypeError:
        where.fail(f"must be an iterable of refs, not {type(shared).__name__}")
    by_store: dict[str, set[str]] = {}
    for index, item in enumerate(items):
        store, key = ref(item, where.index(index))
        by_store.setdefault(store, set()).add(key)
    return by_store


def _check_callable(objects: object) -> None:
    """Check that ``objects`` is a callable (rule 1)."""
    if not callable(objects):
        _SLICE.key("objects").fail(
            f"must be a callable returning the objects, not {type(objects).__name__}"
        )


def _call_objects(objects: Callable[[], object]) -> Iterator[object]:
    """Call ``objects`` and return an iterator over what it returns (rule 1)."""
    where = _SLICE.key("objects")
    records = objects()
    try:
        return iter(cast("Iterable[object]", records))
    except TypeError:
        where.fail(f"objects() must return an iterable, not {type(records).__name__}")


def _retain_rules(policy: Policy, zone: Zone, as_of: Instant) -> dict[str, object]:
    """Map each category to ``_KEEP`` or its threshold ``M - N`` (rule 7)."""
    last = zone.local_date(as_of)
    while zone.start_of_day(add_days(last, 1)) <= as_of:
        last = add_days(last, 1)
    rules: dict[str, object] = {}
    for name, category in policy.categories.items():
        if category.keep:
            rules[name] = _KEEP
        elif category.retain_days is not None:
            rules[name] = add_days(last, -category.retain_days)
    return rules


@dataclass(slots=True)
class _Held:
    """What the first pass leaves for the second (rule 3)."""

    count: int
    digest: int
    carriers: dict[Key, _Carrier]
    reached: dict[str, set[str]]


def _share(carriers: dict[Key, _Carrier], hits: set[Key]) -> dict[str, set[str]]:
    """Return ``reached`` of rule 4, indexed by store then key."""
    seeds: set[Key] = set(hits)
    refs: dict[Key, tuple[Key, ...]] = {}
    candidates: set[Key] = set()
    for ident, carrier in carriers.items():
        if carrier.reason is None:
            candidates.add(ident)
            refs[ident] = carrier.refs
        else:
            seeds.update(carrier.refs)
    shared = shared_candidates(candidates=candidates, targets_of_kept=seeds, refs=refs)
    reached: dict[str, set[str]] = {}
    for store, key in seeds:
        reached.setdefault(store, set()).add(key)
    for ident in shared:
        for store, key in refs[ident]:
            reached.setdefault(store, set()).add(key)
    return reached


def _first_pass(
    records: Iterator[object], rules: _Rules, shared: dict[str, set[str]], *, eligible: bool
) -> _Held:
    """Validate every record and hold what rule 3 allows (rules 2-4)."""
    tally = _Tally()
    rows = _read(records, rules=rules, tally=tally, classify=eligible)
    carriers: dict[Key, _Carrier] = {}
    hits: set[Key] = set()
    if not eligible:
        for _ in rows:
            pass
        return _Held(count=tally.count, digest=tally.digest, carriers=carriers, reached={})
    current_store = ""
    named: frozenset[str] | set[str] = _NO_KEYS
    for position, (store, key, reason, refs) in enumerate(rows):
        if refs:
            ident = (store, key)
            carriers[ident] = _Carrier(position, ident, reason, refs)
        if store != current_store:
            current_store = store
            named = shared.get(store, _NO_KEYS)
        if key in named:
            hits.add((store, key))
    reached = _share(carriers, hits)
    return _Held(count=tally.count, digest=tally.digest, carriers=carriers, reached=reached)


def _differs(field: str, message: str) -> PlanInputError:
    """Return the error for a second pass that differs from the first (rule 5)."""
    return PlanInputError("inventory", field, f"the second pass differs from the first: {message}")


def _second_pass(
    objects: Callable[[], Iterable[object]], rules: _Rules, held: _Held
) -> Iterator[dict[str, str | None]]:
    """Yield the decisions while checking the records against the first pass (rule 5)."""
    tally = _Tally()
    rows = _read(_call_objects(objects), rules=rules, tally=tally, classify=True, limit=held.count)
    upcoming = iter(held.carriers.values())
    carrier = next(upcoming, None)
    reached = held.reached
    current_store = ""
    keys: frozenset[str] | set[str] = _NO_KEYS
    for position, (store, key, reason, refs) in enumerate(rows):
        if refs or (carrier is not None and carrier.position == position):
            if carrier is None or carrier.position != position:
                raise _differs(_OBJECTS.index(position).path, "refs where there were none")
            if carrier.ident != (store, key) or carrier.refs != refs or carrier.reason != reason:
                raise _differs(
                    _OBJECTS.index(position).path, "another object, other refs or another reason"
                )
            carrier = next(upcoming, None)
        if reason is None:
            if store != current_store:
                current_store = store
                keys = reached.get(store, _NO_KEYS)
            if key in keys:
                yield {"store": store, "key": key, "reason": SHARED}
                continue
        yield {"store": store, "key": key, "reason": reason}
    if tally.count != held.count:
        raise _differs("objects", f"{tally.count} objects, not the {held.count} of the first")
    if tally.digest != held.digest:
        raise _differs("objects", "the fields of an object changed")


def plan_stream(
    tenant: Mapping[str, object],
    objects: Callable[[], Iterable[Mapping[str, object]]],
    shared: Iterable[object],
    policy: Mapping[str, object],
    as_of: str,
) -> dict[str, object]:
    """Plan T = ``tenant["id"]`` from its slice, in two passes over ``objects()`` (spec §8.1).

    Args:
        tenant: T's tenant record (spec §4.1).
        objects: Returns a new iterable of T's objects in strictly increasing
            ``(store, key)`` order each time it is called; called at most twice.
        shared: The refs of the objects of other tenants, ``[store, key]`` lists.
        policy: The policy of spec §4.2.
        as_of: The instant of the verdict (spec §2.1).

    Returns:
        A new ``dict`` with the scalar keys of spec §7.5 and ``decisions``: a lazy iterator of
        ``{"store", "key", "reason"}`` in the order of ``objects()`` (empty unless eligible).

    Raises:
        PlanInputError: The input is bad (spec §4.4, §8.1 rule 6); from the ``decisions``
            iterator when the second pass differs from the first.
        PlannerError: An internal failure (never for bad input).
    """
    checked_policy = read_policy(policy)
    now = read_as_of(as_of)
    checked = read_tenant(tenant, _SLICE.key("tenant"))
    cancelled_at = cancellation(checked.events, now)
    with tzdata_zone(checked_policy.timezone) as zone:
        due = (
            None
            if cancelled_at is None
            else dues(
                events=checked.events,
                cancelled_at=cancelled_at,
                as_of=now,
                zone=zone,
                grace_days=checked_policy.grace_days,
                backup_lag_days=checked_policy.backup_lag_days,
            )
        )
        reason = tenant_reason(
            primary_due=None if due is None else due.primary,
            legal_hold=checked.legal_hold,
            as_of=now,
        )
        eligible = reason is None
        categories = _retain_rules(checked_policy, zone, now) if eligible else {}
    rules = _Rules(checked.id, now, zone if eligible else None, categories)
    _check_callable(objects)
    named = _read_shared(shared)
    records = _call_objects(objects)
    held = _first_pass(records, rules, named, eligible=eligible)
    del named
    decisions: Iterator[dict[str, str | None]] = (
        _second_pass(objects, rules, held) if eligible else iter(())
    )
    return {
        "tenant": checked.id,
        "as_of": format_instant(now),
        "eligible": eligible,
        "reason": reason,
        "primary_due": None if due is None else format_instant(due.primary),
        "backup_due": None if due is None else format_instant(due.backup),
        "decisions": decisions,
    }
