"""The streaming entry point: one tenant planned from its slice in two passes (spec §8.1).

Rules (spec §7, §8.1):

1. Before any object is read: the policy, ``as_of`` and the tenant record are validated (paths
   ``tenant.id``, ``tenant.events[i].at``, ...), and the tenant's dues and eligibility computed
   (§5, §6, §7.1) as ``plan`` does.
2. **First pass** (inside ``plan_stream``): ``objects()`` is called once and every object is
   validated as ``plan`` validates one (§4.4), at ``objects[i]...``, whether or not ``T`` is
   eligible. Its ``tenant`` must be ``T`` (``objects[i].tenant``) and its ``(store, key)`` greater
   than the previous one's (``objects[i]``). The pass keeps only constant-size state (the count,
   the first and last ``(store, key)``, a digest: the sum of the records' hashes, the order being
   checked apart) and, when ``T`` is eligible, the objects that carry refs: their
   ``(store, key)``, refs and §7.2 reason.
3. Then ``shared`` is read once, each item validated at ``shared[j]``. When ``T`` is eligible a
   ref is kept iff it lies between the first and the last ``(store, key)`` of the first pass (a
   ref outside that range names no object of ``T``); repeats collapse in a set.
4. **Sharing** (§7.3): from the kept ``shared`` refs and the refs of ``T``'s kept objects that
   carry refs (both are refs from ``L``), a depth-first marking with an explicit stack
   (``_reachability.mark_targets``, never recursive) follows refs through candidates that carry
   refs. The marked set ``reached`` holds every target met; a candidate is ``shared`` iff its
   ``(store, key)`` is in ``reached``. An object without refs needs no entry: it is only ever a
   target.
5. **Second pass** (lazily, while ``decisions`` is consumed; only when ``T`` is eligible):
   ``objects()`` is called again and each object is validated and classified again; it is
   checked against the first pass: valid, in order, within the first pass's range, at most as
   many objects, the objects that carry refs the same ones (same position in the order, same
   refs, same reason) and none other carrying refs. The first difference raises
   ``PlanInputError`` at ``objects[i]``; at the end a different count, or a different digest
   (a difference the position checks cannot place), raises at ``objects``.
6. Each decision is ``{"store", "key", "reason"}``, in the order of ``objects()``; ``reason`` is
   ``None`` for the purge set. When ``T`` is not eligible ``decisions`` is empty and
   ``objects()`` is not called a second time.
7. §7.2 per object, without building intermediate objects: each ``created_at`` string is parsed
   once into ``(created_at > as_of, ordinal of ld(created_at))`` and memoised in a bounded cache
   (cleared when full). ``category-retain`` with ``retain_days = N`` holds iff
   ``as_of < sod(ld + N)``, i.e. ``ld + N > last_started(as_of)`` (``_calendar`` rule 6), so
   each retain category has one threshold ordinal, computed once per call.
8. Memory is bounded as §8.1 rule 5 allows: never a list of ``T``'s objects or decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

from deleter_a._calendar import DayStarts
from deleter_a._errors import PlanInputError
from deleter_a._instants import format_instant, parse_instant
from deleter_a._lifecycle import assess
from deleter_a._reachability import mark_targets
from deleter_a._validation import (
    DEFAULT_CATEGORY,
    ObjectId,
    parse_as_of,
    parse_policy,
    parse_shared_ref,
    parse_slice_object,
    parse_tenant_record,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from deleter_a._validation import Policy

__all__ = ["plan_stream"]

CREATED_AFTER: Final = "created-after-as-of"
OBJECT_HOLD: Final = "object-hold"
CATEGORY_KEEP: Final = "category-keep"
CATEGORY_RETAIN: Final = "category-retain"
SHARED: Final = "shared"
CACHE_LIMIT: Final = 4096
"""At most this many ``created_at`` strings are memoised (rule 7); the cache is then cleared."""

_INVENTORY: Final = "inventory"
_REF_LENGTH: Final = 2
_BEFORE: Final[tuple[str, str]] = ("", "")
"""Before every ``(store, key)`` (a store is never empty); the second pass starts after it."""

Refs = tuple[ObjectId, ...]
# (store, key, category, created_at as written, legal_hold, refs, §7.2 reason)
Item = tuple[str, str, str, str, bool, Refs, str | None]


class _Reader:
    """Validates slice objects and gives each its §7.2 reason (rules 2 and 7)."""

    __slots__ = ("_after", "_cache", "_keep", "_retain", "_zone", "tenant")

    def __init__(self, tenant: str, policy: Policy, as_of: datetime, days: DayStarts) -> None:
        self.tenant = tenant
        self._after = as_of
        self._zone: ZoneInfo = policy.zone
        self._keep = policy.keep
        last = days.last_started(as_of).toordinal()
        self._retain = {name: last - count for name, count in policy.retain_days.items()}
        self._cache: dict[str, tuple[bool, int]] = {}

    def read(self, value: object, index: int) -> Item:
        """Validate the ``index``-th object and classify it (§4.4, §7.2 without sharing).

        The fast path accepts a plain ``dict`` of plain values whose keys are the four required
        ones plus the optional ones it holds (so no unknown key); anything else takes the slow
        path, which validates field by field and raises the precise error.
        """
        if type(value) is dict:
            try:
                store = value["store"]
                key = value["key"]
                owner = value["tenant"]
                created = value["created_at"]
            except KeyError:
                return self._read_slowly(value, index)
            size = 4
            category: object = DEFAULT_CATEGORY
            if "category" in value:
                category = value["category"]
                size += 1
            hold: object = False
            if "legal_hold" in value:
                hold = value["legal_hold"]
                size += 1
            refs: Refs | None = ()
            if "refs" in value:
                size += 1
                refs = _fast_refs(value["refs"])
            if (
                len(value) == size
                and refs is not None
                and type(owner) is str
                and owner == self.tenant
                and type(store) is str
                and store
                and type(key) is str
                and key
                and type(created) is str
                and type(category) is str
                and category
                and (hold is True or hold is False)
            ):
                entry = self._cache.get(created)
                if entry is None:
                    entry = self._parse_created(created, index)
                if entry[0]:
                    return (store, key, category, created, hold, refs, CREATED_AFTER)
                if hold:
                    return (store, key, category, created, hold, refs, OBJECT_HOLD)
                if category in self._keep:
                    return (store, key, category, created, hold, refs, CATEGORY_KEEP)
                threshold = self._retain.get(category)
                if threshold is not None and entry[1] > threshold:
                    return (store, key, category, created, hold, refs, CATEGORY_RETAIN)
                return (store, key, category, created, hold, refs, None)
        return self._read_slowly(value, index)

    def _read_slowly(self, value: object, index: int) -> Item:
        found = parse_slice_object(value, index, self.tenant)
        created = str(cast("Mapping[str, object]", value)["created_at"])  # a checked string
        store, key, category = str(found.store), str(found.key), str(found.category)
        refs = tuple((str(store_), str(key_)) for store_, key_ in found.refs)
        reason = self._reason(created, category, hold=found.legal_hold, index=index)
        return (store, key, category, created, found.legal_hold, refs, reason)

    def _parse_created(self, created: str, index: int) -> tuple[bool, int]:
        instant = parse_instant(created, _INVENTORY, f"objects[{index}].created_at")
        entry = (instant > self._after, instant.astimezone(self._zone).toordinal())
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[created] = entry
        return entry

    def _reason(self, created: str, category: str, *, hold: bool, index: int) -> str | None:
        entry = self._cache.get(created)
        if entry is None:
            entry = self._parse_created(created, index)
        if entry[0]:
            return CREATED_AFTER
        if hold:
            return OBJECT_HOLD
        if category in self._keep:
            return CATEGORY_KEEP
        threshold = self._retain.get(category)
        if threshold is not None and entry[1] > threshold:
            return CATEGORY_RETAIN
        return None


def _fast_refs(raw: object) -> Refs | None:
    """Return the refs of a plain list of plain refs, or ``None`` to take the slow path."""
    if type(raw) is not list:
        return None
    refs: list[ObjectId] = []
    for ref in raw:
        if type(ref) is not list or len(ref) != _REF_LENGTH:
            return None
        store, key = ref
        if type(store) is not str or not store or type(key) is not str or not key:
            return None
        refs.append((store, key))
    return tuple(refs)


def _records(objects: Callable[[], Iterable[object]]) -> Iterator[object]:
    if not callable(objects):
        raise PlanInputError(_INVENTORY, "objects", "expected a callable returning the objects")
    records = objects()
    try:
        return iter(records)
    except TypeError:
        raise PlanInputError(
            _INVENTORY, "objects", f"objects() returned a {type(records).__name__}, not objects"
        ) from None


class _FirstPass:
    """What the first pass keeps (rule 2): constant-size state and the objects with refs."""

    __slots__ = ("carriers", "count", "digest", "first", "last")

    def __init__(self) -> None:
        self.count = 0
        self.digest = 0
        self.first: ObjectId | None = None
        self.last: ObjectId | None = None
        self.carriers: dict[ObjectId, tuple[Refs, str | None]] = {}


def _first_pass(
    reader: _Reader, objects: Callable[[], Iterable[object]], *, eligible: bool
) -> _FirstPass:
    state = _FirstPass()
    carriers = state.carriers
    read = reader.read
    digest = 0
    previous: ObjectId = _BEFORE
    index = -1
    for index, value in enumerate(_records(objects)):
        item = read(value, index)
        store, key, _, _, _, refs, reason = item
        ident = (store, key)
        if ident <= previous:
            raise PlanInputError(
                _INVENTORY,
                f"objects[{index}]",
                f"(store, key) = {ident!r} is not after the previous object's {previous!r}",
            )
        if previous is _BEFORE:
            state.first = ident
        previous = ident
        if eligible:
            if refs:
                carriers[ident] = (refs, reason)
            digest += hash(item)
    if index >= 0:
        state.last = previous
    state.count = index + 1
    state.digest = digest
    return state


def _shared_roots(shared: Iterable[object], first: _FirstPass, *, eligible: bool) -> set[ObjectId]:
    """Validate ``shared`` and keep the refs that may name an object of ``T`` (rule 3)."""
    try:
        items = iter(shared)
    except TypeError:
        raise PlanInputError(
            _INVENTORY, "shared", f"expected an iterable of refs, got {type(shared).__name__}"
        ) from None
    roots: set[ObjectId] = set()
    low, high = first.first, first.last
    keep = eligible and low is not None and high is not None
    for index, value in enumerate(items):
        if (
            type(value) is list
            and len(value) == _REF_LENGTH
            and type(value[0]) is str
            and value[0]
            and type(value[1]) is str
            and value[1]
        ):
            ref: ObjectId = (value[0], value[1])
        else:
            store, key = parse_shared_ref(value, index)
            ref = (str(store), str(key))
        if keep and low is not None and high is not None and low <= ref <= high:
            roots.add(ref)
    return roots


def _candidate_refs(
    carriers: Mapping[ObjectId, tuple[Refs, str | None]],
) -> Callable[[ObjectId], Refs | None]:
    def refs_of(ident: ObjectId) -> Refs | None:
        found = carriers.get(ident)
        return found[0] if found is not None and found[1] is None else None

    return refs_of


def _differs(field: str, message: str) -> PlanInputError:
    return PlanInputError(_INVENTORY, field, f"the second pass differs from the first: {message}")


def _decisions(
    reader: _Reader,
    objects: Callable[[], Iterable[object]],
    first: _FirstPass,
    reached: set[ObjectId],
) -> Iterator[dict[str, object]]:
    """Yield the decisions while reading and checking the second pass (rule 5)."""
    pending = iter(first.carriers.items())
    expected = next(pending, None)
    read = reader.read
    count, low, high = first.count, first.first, first.last
    last_index = count - 1
    digest = 0
    previous: ObjectId = _BEFORE
    index = -1
    for index, value in enumerate(_records(objects)):
        try:
            item = read(value, index)
        except PlanInputError as error:
            raise _differs(f"objects[{index}]", f"{error.field}: {error.message}") from error
        store, key, _, _, _, refs, reason = item
        ident = (store, key)
        if ident <= previous:
            raise _differs(f"objects[{index}]", f"{ident!r} is not after {previous!r}")
        if previous is _BEFORE and ident != low:
            raise _differs(f"objects[{index}]", f"it starts at {ident!r}, the first at {low!r}")
        if index >= last_index:
            if index > last_index:
                raise _differs("objects", f"it has more than the first pass's {count} objects")
            if ident != high:
                raise _differs(f"objects[{index}]", f"it ends at {ident!r}, the first at {high!r}")
        previous = ident
        if expected is not None and ident >= expected[0]:
            if (ident, (refs, reason)) != expected:
                raise _differs(f"objects[{index}]", f"the object with refs {expected[0]!r} changed")
            expected = next(pending, None)
        elif refs:
            raise _differs(f"objects[{index}]", f"{ident!r} carries refs it did not carry before")
        digest += hash(item)
        if reason is None and ident in reached:
            reason = SHARED
        yield {"store": store, "key": key, "reason": reason}
    if index != last_index:
        raise _differs("objects", f"{index + 1} objects, the first pass had {count}")
    if digest != first.digest:
        raise _differs("objects", "an object's fields changed between the passes")


def _instant_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else format_instant(instant)


def plan_stream(
    tenant: Mapping[str, object],
    objects: Callable[[], Iterable[Mapping[str, object]]],
    shared: Iterable[object],
    policy: Mapping[str, object],
    as_of: str,
) -> dict[str, object]:
    """Plan one tenant from its slice, streamed (spec §8.1).

    Args:
        tenant: ``T``'s tenant record (§4.1). Not mutated.
        objects: Returns a new iterable of ``T``'s objects in strictly increasing
            ``(store, key)`` order each time it is called; called at most twice.
        shared: The refs of the objects of other tenants, ``[store, key]`` lists; read once.
        policy: The retention policy (§4.2). Not mutated.
        as_of: The instant of the verdict (§2.1).

    Returns:
        The scalar keys of §7.5 and ``decisions``, a lazy iterator of
        ``{"store", "key", "reason"}`` in the order of ``objects()``.

    Raises:
        PlanInputError: Bad input found before or during the first pass (§4.4, §8.1 rule 6);
            the ``decisions`` iterator raises it for a difference found in the second pass.
    """
    rules = parse_policy(policy)
    now = parse_as_of(as_of)
    target = parse_tenant_record(tenant)
    days = DayStarts(rules.zone)
    assessment = assess(target, rules, now, days)
    eligible = assessment.eligible
    reader = _Reader(target.id, rules, now, days)
    first = _first_pass(reader, objects, eligible=eligible)
    reached = _shared_roots(shared, first, eligible=eligible)
    decisions: Iterator[dict[str, object]] = iter(())
    if eligible:
        kept = (refs for refs, reason in first.carriers.values() if reason is not None)
        mark_targets(reached, kept, _candidate_refs(first.carriers))
        decisions = _decisions(reader, objects, first, reached)
    return {
        "tenant": target.id,
        "as_of": format_instant(now),
        "eligible": eligible,
        "reason": assessment.reason,
        "primary_due": _instant_or_none(assessment.primary_due),
        "backup_due": _instant_or_none(assessment.backup_due),
        "decisions": decisions,
    }
