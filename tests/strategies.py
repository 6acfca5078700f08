"""Hypothesis strategies for twinpurge: every generator the suite uses lives here.

The generators aim at the edges of docs/spec.md rather than at uniform noise:

- time zones with odd rules (skipped and repeated midnights, 30- and 45-minute offsets, a skipped
  date, negative DST, two-hour DST);
- instants at and around local midnights and DST transitions, written with arbitrary offsets and
  fraction widths, so that the same instant arrives in many spellings;
- events clustered around one instant, so that ties and near-ties are common;
- ``as_of`` placed at, just before and just after the computed due dates;
- dense ref graphs, long chains and cycles across tenants.

The zoneinfo arithmetic below only *steers* generation towards boundaries. Expected results are
never computed here: the planners are each other's oracle.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import copy
import functools
import typing
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

__all__ = [
    "BAD_INSTANTS",
    "KEPT_REASONS",
    "KINDS",
    "STORE_WRITES",
    "ZONES",
    "Scenario",
    "StoreWrite",
    "bad_scenarios",
    "chain_scenarios",
    "chunk_sizes",
    "config_field_paths",
    "config_paths",
    "instants",
    "reason_changes",
    "render_instant",
    "scenarios",
    "store_writes",
    "workspace_configs",
]

ZONES = (
    "UTC",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "America/Havana",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Antarctica/Troll",
    "Africa/Casablanca",
    "America/Scoresbysund",
    "Pacific/Kiritimati",
    "America/New_York",
    "Asia/Tehran",
    "Pacific/Kwajalein",
    # DST ends at 24:00: the clock goes back to 23:00 of the same date, so the first reading of
    # the next date comes an hour after the switch (found by mutation testing, see
    # docs/fault-detection.md). Beirut switches at 21:00Z, Santiago and Asuncion at 03:00Z.
    "America/Santiago",
    "Asia/Beirut",
    "America/Asuncion",
)
KINDS = ("subscribed", "cancelled", "reactivated", "erasure_requested")
CATEGORIES = ("default", "audit", "logs", "tmp", "other")
STORES = ("db", "blob", "s3")

LOW = datetime(1970, 1, 1, tzinfo=UTC)
HIGH = datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
SMALL_DELTAS = (
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(microseconds=-1),
    timedelta(seconds=1),
    timedelta(seconds=-1),
    timedelta(minutes=30),
    timedelta(minutes=-30),
    timedelta(hours=1),
    timedelta(hours=-1),
    timedelta(hours=2),
    timedelta(hours=-2),
)


@functools.cache
def transition_dates(zone: str) -> tuple[date, ...]:
    """Local dates on which ``zone`` changed its UTC offset, 1970-2040 and around 2100."""
    tz = ZoneInfo(zone)
    found: list[date] = []
    for start, days in (
        (datetime(1970, 1, 1, 12, tzinfo=UTC), 71 * 366),
        (datetime(2099, 1, 1, 12, tzinfo=UTC), 800),
    ):
        previous = start.astimezone(tz).utcoffset()
        for day in range(1, days):
            moment = start + timedelta(days=day)
            offset = moment.astimezone(tz).utcoffset()
            if offset != previous:
                found.append((moment - timedelta(days=1)).astimezone(tz).date())
                found.append(moment.astimezone(tz).date())
            previous = offset
    return tuple(found) or (date(2026, 1, 1),)


def local_midnight(zone: str, day: date, fold: int = 0) -> datetime:
    """Local midnight of ``day`` in ``zone`` as a UTC instant (a guide, not the spec's sod)."""
    return datetime.combine(day, time(0, 0, fold=fold), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def clamp(moment: datetime) -> datetime:
    """Keep a generated instant inside the range that spec §2.1 allows."""
    return min(max(moment, LOW), HIGH)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """A UTC instant near a local midnight or a DST transition of ``zone``, or anywhere."""
    anchor = draw(
        st.one_of(
            st.sampled_from(transition_dates(zone)),
            st.dates(min_value=date(1970, 1, 2), max_value=date(2110, 12, 31)),
        )
    )
    day = anchor + timedelta(days=draw(st.integers(-2, 2)))
    wall = draw(
        st.one_of(
            st.just(time(0, 0)),
            st.sampled_from((time(23, 59, 59), time(0, 30), time(1, 0), time(2, 0), time(23, 0))),
            st.times(),
        )
    )
    fold = draw(st.integers(0, 1))
    local = datetime.combine(day, wall.replace(fold=fold), tzinfo=ZoneInfo(zone))
    return clamp(local.astimezone(UTC) + draw(st.sampled_from(SMALL_DELTAS)))


@st.composite
def render_instant(draw: st.DrawFn, moment: datetime) -> str:
    """One of the many valid spellings (spec §2.1) of a UTC instant."""
    style = draw(st.sampled_from(("Z", "+00:00", "offset", "offset")))
    if style == "offset":
        minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
        if minutes == 0:
            style = "+00:00"
    if style != "offset":
        minutes = 0
    local = moment.astimezone(UTC) + timedelta(minutes=minutes)
    if not 1 <= local.year <= 9999:
        local, minutes, style = moment.astimezone(UTC), 0, "Z"
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    micro = local.microsecond
    if micro:
        digits = f"{micro:06d}"
        width = draw(st.integers(len(digits.rstrip("0")), 6))
        text += "." + digits[:width]
    elif draw(st.integers(0, 4)) == 0:
        text += "." + "0" * draw(st.integers(1, 6))
    if style == "Z":
        return text + "Z"
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{mins:02d}"


def _maybe(
    draw: st.DrawFn, record: dict[str, Any], key: str, value: object, default: object
) -> None:
    # Fields equal to their default are sometimes written out, sometimes left implicit.
    if value != default or draw(st.booleans()):
        record[key] = value


@attrs.frozen
class Scenario:
    """One planning call: the inputs both planners receive."""

    inventory: dict[str, Any]
    policy: dict[str, Any]
    tenant: str
    as_of: str

    def args(self) -> tuple[dict[str, Any], dict[str, Any], str, str]:
        """Fresh copies of the call's arguments."""
        return (copy.deepcopy(self.inventory), copy.deepcopy(self.policy), self.tenant, self.as_of)


@st.composite
def policies(draw: st.DrawFn, zone: str) -> dict[str, Any]:
    """A valid policy (spec §4.2) in ``zone``."""
    policy: dict[str, Any] = {"timezone": zone}
    _maybe(
        draw,
        policy,
        "grace_days",
        draw(st.sampled_from((30, 0, 1, 2, 29, 31)) | st.integers(0, 60)),
        30,
    )
    _maybe(
        draw, policy, "backup_lag_days", draw(st.sampled_from((14, 0, 1)) | st.integers(0, 40)), 14
    )
    names: list[str] = draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=4))
    write_empty_table: bool = draw(st.booleans())
    if names or write_empty_table:
        policy["categories"] = {
            name: (
                {"keep": True} if draw(st.booleans()) else {"retain_days": draw(st.integers(0, 45))}
            )
            for name in names
        }
    return policy


@functools.cache
def transition_instants(zone: str) -> tuple[datetime, ...]:
    """The UTC instants, 1970-2111, at which ``zone``'s UTC offset changes (to the second)."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    step = timedelta(days=1)
    moment = datetime(1970, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(tz).utcoffset()
    while moment.year < 2112:
        following = moment + step
        offset = following.astimezone(tz).utcoffset()
        if offset != previous:
            low, high = moment, following  # the offset at low is previous, at high it is not
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        previous = offset
        moment = following
    return tuple(found)


def local_date(zone: str, moment: datetime) -> date:
    """ld(moment) of spec §3, to aim generation (the planners stay each other's oracle)."""
    return moment.astimezone(ZoneInfo(zone)).date()


def start_of_day(zone: str, day: date) -> datetime:
    """sod(day) of spec §3, to aim generation at due dates (not an expected result).

    The earliest instant whose local date is ``day`` or later: a local midnight of ``day`` that
    exists (the first of two), or else a transition that jumps over it (a skipped midnight or
    a skipped date).

    Raises:
        OverflowError: ``day`` is at the edge of what ``datetime`` represents.
    """
    tz = ZoneInfo(zone)
    candidates: list[datetime] = []
    for fold in (0, 1):
        moment = local_midnight(zone, day, fold)
        if moment.astimezone(tz).replace(tzinfo=None) == datetime.combine(day, time(0, 0)):
            candidates.append(moment)
    found = transition_instants(zone)
    noon = datetime.combine(day, time(12, 0), tzinfo=UTC)
    low = bisect.bisect_left(found, noon - timedelta(days=3))
    high = bisect.bisect_right(found, noon + timedelta(days=3))
    candidates += [
        s
        for s in found[low:high]
        if local_date(zone, s) >= day > local_date(zone, s - timedelta(microseconds=1))
    ]
    return min(candidates, default=local_midnight(zone, day))


@st.composite
def _due_pivot(draw: st.DrawFn, zone: str, grace: int) -> datetime | None:
    """A cancellation instant whose primary due, sod(ld(c) + 1 + grace), is near a transition.

    Returns:
        The instant, or ``None`` when ``zone`` has no transition to aim at.
    """
    found = transition_instants(zone)
    if not found:
        return None
    target = local_date(zone, draw(st.sampled_from(found))) + timedelta(
        days=draw(st.sampled_from((0, 0, 1, -1)))
    )
    wall = draw(st.sampled_from((time(0, 0), time(12, 0), time(23, 59, 59), time(3, 30))))
    try:
        return clamp(
            datetime.combine(
                target - timedelta(days=1 + grace), wall, tzinfo=ZoneInfo(zone)
            ).astimezone(UTC)
        )
    except (OverflowError, ValueError):
        return None


BEFORE = (
    timedelta(microseconds=1),
    timedelta(seconds=1),
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=40),
    timedelta(days=400),
)
AFTER = (timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(days=1))


@st.composite
def _cancelled_history(
    draw: st.DrawFn, cancelled: datetime, normal_due: datetime
) -> tuple[list[tuple[str, datetime]], datetime | None]:
    """Events of a tenant whose last lifecycle event is ``cancelled``, before any ``as_of``.

    Returns:
        The (kind, instant) events, and the earliest erasure request at or after the
        cancellation (``None`` when there is none).
    """
    events = [
        (draw(st.sampled_from(KINDS)), clamp(cancelled - draw(st.sampled_from(BEFORE))))
        for _ in range(draw(st.integers(0, 3)))
    ]
    events.append(("cancelled", cancelled))
    if draw(st.integers(0, 5)) == 0:
        events.append(("cancelled", cancelled))  # the same event twice
    request = None
    if draw(st.integers(0, 3)) == 0:
        # An erasure request at the cancellation, just after it, or around the normal due.
        request = clamp(
            draw(
                st.sampled_from((cancelled, normal_due))
                | st.just(cancelled + draw(st.sampled_from(BEFORE)))
            )
            + draw(st.sampled_from(SMALL_DELTAS[:5]))
        )
        request = max(request, cancelled)
        events.append(("erasure_requested", request))
    return events, request


@st.composite
def _as_of_near_due(
    draw: st.DrawFn, zone: str, due: datetime, request: datetime | None, lag: int
) -> datetime:
    """``as_of`` at, just before or (mostly) after a primary due or the backup due."""
    bases = [due] if request is None else [due, request]
    base = draw(st.sampled_from(bases))
    choice = draw(st.integers(0, 9))
    if choice < 3:
        return clamp(base + draw(st.sampled_from(SMALL_DELTAS)))
    if choice < 4:
        with contextlib.suppress(OverflowError):
            backup = start_of_day(zone, local_date(zone, base) + timedelta(days=lag))
            return clamp(backup + draw(st.sampled_from(SMALL_DELTAS)))
        return base
    if choice < 6:
        # At the first change of offset after the due: as_of itself at an odd instant.
        found = transition_instants(zone)
        i = bisect.bisect_left(found, base)
        if i < len(found):
            return clamp(found[i] + draw(st.sampled_from(SMALL_DELTAS[:5])))
    return clamp(
        base
        + timedelta(days=draw(st.sampled_from((1, 1, 2, 7)) | st.integers(0, 60)))
        + draw(st.sampled_from(SMALL_DELTAS))
    )


@st.composite
def _created_at(
    draw: st.DrawFn,
    zone: str,
    pivot: datetime,
    as_of: datetime,
    retain_days: int | None,
) -> datetime:
    """An object's creation: around the pivot, anywhere, around ``as_of`` or its retain boundary."""
    choice = draw(st.integers(0, 11 if retain_days is not None else 7))
    if choice < 2:
        return pivot
    if choice < 5:
        return clamp(
            pivot + timedelta(days=draw(st.integers(-60, 5))) + draw(st.sampled_from(SMALL_DELTAS))
        )
    if choice < 6:
        return draw(instants(zone))
    if choice < 8 or retain_days is None:
        # created_at just before, at or after as_of (spec §7.2 rule 1).
        return clamp(as_of + draw(st.sampled_from(SMALL_DELTAS)))
    # Around the retain boundary: kept while as_of < sod(ld(created_at) + N) (spec §7.2 rule 4).
    day = local_date(zone, as_of) - timedelta(
        days=retain_days - draw(st.sampled_from((0, 0, 1, 1, -1)))
    )
    try:
        start = start_of_day(zone, day)
        end = start_of_day(zone, day + timedelta(days=1)) - timedelta(microseconds=1)
    except OverflowError:
        return as_of
    return clamp(draw(st.sampled_from((start, end, start + (end - start) / 2))))


@st.composite
def scenarios(draw: st.DrawFn, *, max_objects: int = 12, max_refs: int = 3) -> Scenario:
    """A valid planning call aimed at the boundaries of docs/spec.md.

    Most calls (four in five) plan a tenant whose last lifecycle event is a cancellation,
    with ``as_of`` at, just before or after its computed due, so that eligibility, every kept
    reason and purges are exercised; the others mix events freely around one instant, which
    reaches ``active``, ``not-due``, ties and ignored events. ``tests/differential/test_reach.py``
    asserts the shares.
    """
    zone = draw(st.sampled_from(ZONES))
    policy = draw(policies(zone))
    grace = policy.get("grace_days", 30)
    lag = policy.get("backup_lag_days", 14)
    pivot = draw(instants(zone))
    if draw(st.integers(0, 4)) < 4:
        # Aim the primary due near a transition: a cancellation on the local date D - 1 - grace
        # makes primary_due = sod(D) for a date D at a change of offset (spec §3, §6).
        aimed = draw(_due_pivot(zone, grace))
        pivot = pivot if aimed is None else aimed
    tenant_ids = draw(
        st.lists(
            st.sampled_from(("t0", "t1", "t2", "t3", "tenant-ä", "T0")),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    tenant = draw(st.sampled_from(tenant_ids))
    focused = draw(st.integers(0, 4)) < 4
    near = st.sampled_from(
        (
            timedelta(0),
            timedelta(0),
            timedelta(seconds=1),
            timedelta(seconds=-1),
            timedelta(days=1),
            timedelta(days=-1),
            timedelta(hours=5),
            timedelta(days=-40),
            timedelta(days=3),
        )
    )
    tenants: list[dict[str, Any]] = []
    event_moments: list[datetime] = [pivot]
    focus_as_of: datetime | None = None
    for tid in tenant_ids:
        timeline: list[tuple[str, datetime]] = []
        if focused and tid == tenant:
            # T cancelled at the pivot; as_of aimed at its due (spec §6, §7.1).
            try:
                normal = start_of_day(zone, local_date(zone, pivot) + timedelta(days=1 + grace))
            except OverflowError:
                normal = pivot
            timeline, request = draw(_cancelled_history(pivot, normal))
            focus_as_of = draw(_as_of_near_due(zone, normal, request, lag))
            if draw(st.integers(0, 3)) == 0:
                # An event at or after as_of: known at as_of only when at it (spec §5).
                late_kind = draw(st.sampled_from(KINDS))
                timeline.append((late_kind, clamp(focus_as_of + draw(st.sampled_from(AFTER)))))
            timeline = draw(st.permutations(timeline))
        else:
            for _ in range(draw(st.integers(0, 6))):
                timeline.append(
                    (draw(st.sampled_from(KINDS)), clamp(pivot + draw(near) + draw(near)))
                )
            if draw(st.integers(0, 2)) > 0:
                # Most tenants end cancelled, so that dues, eligibility and purges are exercised.
                late = draw(
                    st.sampled_from((timedelta(0), timedelta(seconds=1), timedelta(days=7)))
                )
                position = draw(st.integers(0, len(timeline)))
                timeline.insert(position, ("cancelled", clamp(pivot + late)))
        event_moments += [moment for _, moment in timeline]
        events = [{"kind": kind, "at": draw(render_instant(moment))} for kind, moment in timeline]
        record: dict[str, Any] = {"id": tid, "events": events}
        # Rarer for the focused tenant (its reason would hide the objects); a value other than
        # 0 marks a hold, so that hypothesis's simplest draws do not all hold.
        odds = 11 if focused and tid == tenant else 6
        _maybe(draw, record, "legal_hold", draw(st.integers(0, odds)) == odds, False)
        tenants.append(record)

    if focus_as_of is not None:
        as_of_moment = focus_as_of
    else:
        # as_of at, just before or just after the day boundaries that decide eligibility.
        base_day = (draw(st.sampled_from(event_moments))).astimezone(ZoneInfo(zone)).date()
        boundary_day = base_day + timedelta(
            days=draw(st.sampled_from((1 + grace, grace, 2 + grace, 0, 1, 31, 45)))
        )
        try:
            boundary = local_midnight(zone, boundary_day, fold=draw(st.integers(0, 1)))
        except OverflowError:
            boundary = pivot
        choice = draw(st.integers(0, 9))
        if choice < 6:
            as_of_moment = clamp(boundary + draw(st.sampled_from(SMALL_DELTAS)))
        elif choice < 8:
            as_of_moment = draw(st.sampled_from(event_moments))
        else:
            as_of_moment = draw(instants(zone))

    ids = draw(
        st.lists(
            st.tuples(
                st.sampled_from(STORES),
                st.sampled_from(("k0", "k1", "k2", "k3", "k4", "k5", "a/b", "Ω")),
            ),
            unique=True,
            min_size=2 if focused else 0,
            max_size=max_objects,
        )
    )
    dangling = [("db", "missing"), ("nowhere", "k0")]
    configured = sorted(policy.get("categories", {}))
    objects: list[dict[str, Any]] = []
    for store, key in ids:
        # A category with a rule one time in three, without one (a candidate) most other times.
        unruled = [c for c in CATEGORIES if c not in configured] or list(CATEGORIES)
        category = draw(
            st.sampled_from(
                (unruled, unruled, CATEGORIES, configured or CATEGORIES, configured or CATEGORIES)
            ).flatmap(st.sampled_from)
        )
        rule = policy.get("categories", {}).get(category, {})
        created = draw(_created_at(zone, pivot, as_of_moment, rule.get("retain_days")))
        obj: dict[str, Any] = {
            "store": store,
            "key": key,
            "tenant": draw(st.sampled_from([tenant, tenant, tenant, *tenant_ids])),
            "created_at": draw(render_instant(created)),
        }
        _maybe(draw, obj, "category", category, "default")
        _maybe(draw, obj, "legal_hold", draw(st.integers(0, 9)) == 9, False)
        refs = draw(st.lists(st.sampled_from([*ids, *dangling]), max_size=max_refs)) if ids else []
        _maybe(draw, obj, "refs", [list(r) for r in refs], [])
        objects.append(obj)

    return Scenario(
        inventory={"tenants": tenants, "objects": objects},
        policy=policy,
        tenant=tenant,
        as_of=draw(render_instant(as_of_moment)),
    )


@st.composite
def chain_scenarios(draw: st.DrawFn) -> Scenario:
    """An eligible tenant whose objects form long chains and cycles, entered or not from outside."""
    length = draw(st.integers(1, 300))
    cycle = draw(st.booleans())
    objects: list[dict[str, Any]] = []
    for i in range(length):
        refs = [["db", f"c{i + 1}"]] if i + 1 < length else ([["db", "c0"]] if cycle else [])
        objects.append(
            {
                "store": "db",
                "key": f"c{i}",
                "tenant": "t",
                "created_at": "2020-01-01T00:00:00Z",
                "refs": refs,
            }
        )
    entry = draw(st.one_of(st.none(), st.integers(0, length - 1)))
    outside: dict[str, Any] = {
        "store": "db",
        "key": "o",
        "tenant": "u",
        "created_at": "2020-01-01T00:00:00Z",
    }
    if entry is not None:
        outside["refs"] = [["db", f"c{entry}"]]
    held = draw(st.one_of(st.none(), st.integers(0, length - 1)))
    if held is not None:
        objects[held]["legal_hold"] = True
    tenants = [
        {"id": "t", "events": [{"kind": "cancelled", "at": "2021-01-01T00:00:00Z"}]},
        {"id": "u", "events": []},
    ]
    return Scenario(
        inventory={"tenants": tenants, "objects": [*objects, outside]},
        policy={"timezone": "UTC"},
        tenant="t",
        as_of="2022-01-01T00:00:00Z",
    )


BAD_INSTANTS = (
    "2026-01-01T00:00:00",  # no offset
    "2026-01-01 00:00:00Z",  # space separator
    "2026-01-01t00:00:00Z",  # lower-case t
    "2026-01-01T00:00:00z",  # lower-case z
    "2026-01-01T00:00:00-00:00",  # offset unknown (RFC 3339 §4.3)
    "2026-01-01T00:00:00.1234567Z",  # seven fraction digits
    "2026-01-01T00:00:00.Z",  # empty fraction
    "2026-01-01T24:00:00Z",  # hour 24
    "2026-01-01T00:00:60Z",  # leap second
    "2026-02-29T00:00:00Z",  # not a leap year
    "2026-13-01T00:00:00Z",  # month 13
    "2026-01-01T00:00:00+24:00",  # offset hour 24
    "2026-01-01T00:00:00+0100",  # offset without colon
    "1969-12-31T23:59:59Z",  # before the range
    "1970-01-01T00:59:59+01:00",  # before the range, by its offset
    "9001-01-01T00:00:00Z",  # after the range
    "26-01-01T00:00:00Z",  # two-digit year
    "2026-1-01T00:00:00Z",  # one-digit month
    "2026-01-01T00:00:00Z ",  # trailing space
    "",
    # Found missing by mutation testing (docs/fault-detection.md): each way to break a field.
    "2026-00-10T00:00:00Z",  # month 0
    "2026-01-00T00:00:00Z",  # day 0
    "2026-04-31T00:00:00Z",  # 31 April
    "2024-02-30T00:00:00Z",  # 30 February of a leap year
    "2100-02-29T00:00:00Z",  # a century that is not a leap year
    "2026-01-01T00:60:00Z",  # minute 60
    "2026-01-01T00:00:00+23:60",  # offset minute 60
    "0001-01-01T00:00:00Z",  # far before the range
    "9999-12-31T23:59:59Z",  # far after the range
)


def _records(inventory: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = [("", inventory)]
    for i, tenant in enumerate(inventory["tenants"]):
        found.append((f"tenants[{i}]", tenant))
        found += [(f"tenants[{i}].events[{j}]", e) for j, e in enumerate(tenant["events"])]
    found += [(f"objects[{i}]", o) for i, o in enumerate(inventory["objects"])]
    return found


@st.composite
def bad_scenarios(draw: st.DrawFn) -> tuple[str, Scenario]:
    """A valid scenario broken in exactly one way that spec §4.4 calls bad input.

    Returns:
        A short description of the fault (for the failure message) and the broken scenario.
    """
    base = draw(scenarios(max_objects=6))
    inventory, policy, tenant, as_of = base.args()
    fault = draw(
        st.sampled_from(
            (
                "unknown-field",
                "missing-field",
                "wrong-type",
                "empty-string",
                "event-kind",
                "bad-instant",
                "bad-as-of",
                "duplicate-tenant",
                "duplicate-object",
                "orphan-object",
                "unknown-tenant",
                "zone",
                "category",
                "days",
                "bad-ref",
            )
        )
    )
    records = _records(inventory)
    choices: list[tuple[dict[str, Any], str]]
    if fault == "unknown-field":
        target = draw(st.sampled_from([r for _, r in records] + [policy]))
        target[
            draw(st.sampled_from(("legalhold", "Legal_hold", "note", "hold", "tenant_id", "id ")))
        ] = True
    elif fault == "missing-field":
        choices = [
            (r, k)
            for _, r in records
            for k in (
                "tenants",
                "objects",
                "id",
                "events",
                "kind",
                "at",
                "store",
                "key",
                "tenant",
                "created_at",
            )
            if k in r
        ]
        choices.append((policy, "timezone"))
        record, key = draw(st.sampled_from(choices))
        del record[key]
    elif fault == "wrong-type":
        choices = [(r, k) for _, r in records for k in r if k not in {"tenants", "objects"}]
        choices += [(policy, k) for k in policy]
        record, key = draw(st.sampled_from(choices))
        current = record[key]
        replacements: list[object] = [None]
        if isinstance(current, bool):
            replacements += [0, 1, "true", "false"]
        elif isinstance(current, int):
            replacements += [float(current), True, str(current)]
        elif isinstance(current, str):
            replacements += [1, [current], {"value": current}]
        elif isinstance(current, list):
            replacements += ["[]", {}]
        elif isinstance(current, dict):
            replacements += [[], "x"]
        record[key] = draw(st.sampled_from(replacements))
    elif fault == "empty-string":
        choices = [
            (r, k)
            for _, r in records
            for k in ("id", "store", "key", "tenant", "category")
            if k in r
        ]
        if not choices:
            inventory["tenants"][0]["id"] = ""
        else:
            record, key = draw(st.sampled_from(choices))
            record[key] = ""
    elif fault == "event-kind":
        tenants = inventory["tenants"]
        tenants[0]["events"].append(
            {
                "kind": draw(
                    st.sampled_from(("canceled", "Cancelled", "deleted", "", "subscribe"))
                ),
                "at": as_of,
            }
        )
    elif fault == "bad-instant":
        choices = [(r, k) for _, r in records for k in ("at", "created_at") if k in r]
        if not choices:
            inventory["tenants"][0]["events"].append(
                {"kind": "subscribed", "at": draw(st.sampled_from(BAD_INSTANTS))}
            )
        else:
            record, key = draw(st.sampled_from(choices))
            record[key] = draw(st.sampled_from(BAD_INSTANTS))
    elif fault == "bad-as-of":
        as_of = draw(st.sampled_from(BAD_INSTANTS))
    elif fault == "duplicate-tenant":
        inventory["tenants"].append(
            {"id": draw(st.sampled_from([t["id"] for t in inventory["tenants"]])), "events": []}
        )
    elif fault == "duplicate-object":
        if inventory["objects"]:
            twin = copy.deepcopy(draw(st.sampled_from(inventory["objects"])))
            twin["category"] = "other"
            inventory["objects"].append(twin)
        else:
            one = {"store": "db", "key": "x", "tenant": tenant, "created_at": as_of}
            inventory["objects"] += [one, dict(one)]
    elif fault == "orphan-object":
        inventory["objects"].append(
            {"store": "db", "key": "orphan", "tenant": "nobody", "created_at": as_of}
        )
    elif fault == "unknown-tenant":
        tenant = draw(st.sampled_from(("nobody", "", "T1 ", "t0 ")))
        if tenant in {t["id"] for t in inventory["tenants"]}:
            tenant = "nobody"
    elif fault == "zone":
        bad_zone = draw(
            st.sampled_from(
                (
                    "Mars/Olympus",
                    "",
                    "../../etc/passwd",
                    "/usr/share/zoneinfo/UTC",
                    "utc ",
                    "Asia/Tokyo/",
                    "Asia//Tokyo",
                )
            )
        )
        policy["timezone"] = bad_zone
    elif fault == "category":
        policy.setdefault("categories", {})[draw(st.sampled_from(CATEGORIES))] = draw(
            st.sampled_from(
                ({"keep": True, "retain_days": 3}, {}, {"keep": False}, {"retain": 3}, {"keep": 1})
            )
        )
    elif fault == "days":
        key = draw(st.sampled_from(("grace_days", "backup_lag_days", "retain_days")))
        value = draw(st.sampled_from((-1, 36501, 10**20, -(10**20))))
        if key == "retain_days":
            policy.setdefault("categories", {})["logs"] = {"retain_days": value}
        else:
            policy[key] = value
    else:  # bad-ref
        bad = draw(
            st.sampled_from(
                (
                    ["db"],
                    ["db", "k0", "x"],
                    [],
                    ["db", 1],
                    ["", "k0"],
                    ["db", ""],
                    "db/k0",
                    {"store": "db", "key": "k0"},
                    [None, "k0"],
                )
            )
        )
        holder: dict[str, Any] = {
            "store": "db",
            "key": "refholder",
            "tenant": tenant,
            "created_at": as_of,
            "refs": [bad],
        }
        inventory["objects"].append(holder)
    return fault, Scenario(inventory=inventory, policy=policy, tenant=tenant, as_of=as_of)


# --- twinpurge.toml --------------------------------------------------------------------------

# The keys of the [policy] table (docs/spec.md §4.2); ``*`` stands for any category name.
POLICY_FIELD_PATHS = frozenset(
    {
        "policy.timezone",
        "policy.grace_days",
        "policy.backup_lag_days",
        "policy.categories",
        "policy.categories.*.keep",
        "policy.categories.*.retain_days",
    }
)

# Any text TOML and UTF-8 can carry: everything but lone surrogates.
_TOML_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_PATHS = _TOML_TEXT | st.sampled_from(("a/b.jsonl", "../outside", "/abs/olute", "sp ace", "é/ü"))
_POSITIVE_FLOATS = st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False)
# PostgreSQL store URLs as twinpurge.toml holds them: server and database, no user or password.
_STORE_URLS = st.builds(
    "{}://{}:{}/{}".format,
    st.sampled_from(["postgresql", "postgres"]),
    st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True),
    st.integers(1, 65535),
    st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
)
_POSITIVE_INTS = st.integers(1, 2**63 - 1)
_NATURALS = st.integers(0, 2**63 - 1)


def _config_classes() -> Any:
    from arbiter.core import config  # noqa: PLC0415 -- only the config strategies need it

    return config


@st.composite
def _webhooks(draw: st.DrawFn) -> object:
    config = _config_classes()
    host = draw(st.sampled_from(("alerts.example", "127.0.0.1", "hooks.example:8443")))
    return config.WebhookConfig(
        url=f"https://{host}/{draw(_TOML_TEXT)}",
        timeout_seconds=draw(_POSITIVE_FLOATS),
        retries=draw(_NATURALS),
        backoff_seconds=draw(st.floats(min_value=0, allow_nan=False, allow_infinity=False)),
    )


@st.composite
def workspace_configs(draw: st.DrawFn) -> Any:
    """A valid ``WorkspaceConfig`` in which every field of every nested class may vary."""
    config = _config_classes()
    policy = draw(st.sampled_from(ZONES).flatmap(policies))
    lag = policy.get("backup_lag_days", 14)
    # Rule 6 of arbiter.core.config: a retention lock must stay below backup_lag_days.
    lock = draw(st.just(0) | (st.integers(1, lag - 1) if lag > 1 else st.just(0)))
    keys = draw(st.lists(st.binary(min_size=32, max_size=32), unique=True, max_size=3))
    names = draw(st.lists(_TOML_TEXT, unique=True, min_size=len(keys), max_size=len(keys)))
    return config.WorkspaceConfig(
        policy=policy,
        store=config.StoreConfig(
            database=draw(_PATHS),
            url=draw(st.none() | _STORE_URLS),
            blobs=draw(_PATHS),
            blob_stores=tuple(draw(st.lists(_TOML_TEXT, max_size=3))),
        ),
        limits=config.LimitsConfig(
            max_objects_per_purge=draw(_POSITIVE_INTS),
            max_store_fraction=draw(
                st.floats(min_value=0, max_value=1, exclude_min=True, allow_nan=False)
            ),
            fraction_floor=draw(_NATURALS),
            batch_size=draw(_POSITIVE_INTS),
            stream_from=draw(_NATURALS),
        ),
        audit=config.AuditConfig(log=draw(_PATHS)),
        alerts=config.AlertsConfig(
            log=draw(_PATHS),
            reports=draw(_PATHS),
            failures=draw(_PATHS),
            webhooks=tuple(draw(st.lists(_webhooks(), max_size=2))),
        ),
        manual=config.ManualConfig(
            approvals_required=draw(st.integers(2, 2**63 - 1)),
            approval_expiry_hours=draw(_POSITIVE_FLOATS),
            rehearsal_required_above=draw(_NATURALS),
            max_objects_per_purge=draw(_POSITIVE_INTS),
            archives=draw(_PATHS),
        ),
        operators={
            name: config.OperatorConfig(public_key=base64.b64encode(key).decode("ascii"))
            for name, key in zip(names, keys, strict=True)
        },
        backup=config.BackupConfig(site=draw(_PATHS), retention_lock_days=lock),
        safe_mode=config.SafeModeConfig(
            max_bad_tenants=draw(_POSITIVE_INTS),
            max_bad_share=draw(
                st.floats(min_value=0, max_value=1, exclude_min=True, allow_nan=False)
            ),
            min_attempted=draw(_POSITIVE_INTS),
            clock_tolerance_hours=draw(_POSITIVE_FLOATS),
            locks=draw(_PATHS),
        ),
    )


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def config_field_paths(cls: type, prefix: str = "") -> frozenset[str]:
    """Every field path of attrs class ``cls`` and the classes nested in it, as a config holds.

    A mapping's or a sequence's items are written ``*``; the ``policy`` table's paths are the
    keys of docs/spec.md §4.2. Fields that are not part of the file (``eq=False``, such as
    ``directory``) are left out.

    Args:
        cls: an attrs class, e.g. ``WorkspaceConfig``.
        prefix: the path of ``cls`` itself.

    Returns:
        The dotted paths.
    """
    paths: set[str] = set()
    for field in attrs.fields(cls):
        if not field.eq:
            continue
        path = f"{prefix}{field.name}"
        if path == "policy":
            paths |= POLICY_FIELD_PATHS
            continue
        paths.add(path)
        annotation = _field_type(cls, field.name)
        for inner in (annotation, *typing.get_args(annotation)):
            if attrs.has(inner):
                nested = path if inner is annotation else f"{path}.*"
                paths |= config_field_paths(inner, f"{nested}.")
    return frozenset(paths)


def _default(field: attrs.Attribute[Any]) -> object:
    factory = getattr(field.default, "factory", None)  # an attrs.Factory
    return factory() if callable(factory) else field.default


def config_paths(value: object, prefix: str = "") -> frozenset[str]:
    """The field paths at which ``value`` (a config) differs from the defaults, or has no default.

    A field is reached when the strategy gives it a value of its own: its class's default is
    not enough (a field the strategy never sets would otherwise count as covered).

    Args:
        value: an attrs config instance.
        prefix: the path of ``value`` itself.

    Returns:
        The dotted paths, in the form of ``config_field_paths``.
    """
    paths: set[str] = set()
    for field in attrs.fields(typing.cast("type[attrs.AttrsInstance]", type(value))):
        if not field.eq:
            continue
        path = f"{prefix}{field.name}"
        item = getattr(value, field.name)
        if path == "policy":
            paths |= _policy_paths(item)
            continue
        if field.default is attrs.NOTHING or item != _default(field):
            paths.add(path)
        if attrs.has(type(item)):
            paths |= config_paths(item, f"{path}.")
        elif isinstance(item, dict | tuple):
            for inner in item.values() if isinstance(item, dict) else item:
                if attrs.has(type(inner)):
                    paths |= config_paths(inner, f"{path}.*.")
    return frozenset(paths)


def _policy_paths(policy: dict[str, Any]) -> set[str]:
    paths = {f"policy.{key}" for key in policy}
    for category in policy.get("categories", {}).values():
        paths |= {f"policy.categories.*.{key}" for key in category}
    return paths


# -- writes to a primary store, for its change counter (``arbiter.stores.ports`` rule 7) ---------

# What a write does: an event, a tenant's or an object's hold, an object moved to another tenant,
# a ref added (to an object or dangling) or dropped, an event dropped, a new tenant imported
# (its object refs an existing one or not), some objects deleted by a purge, or only reads.
STORE_WRITES = (
    "event",
    "tenant-hold",
    "object-hold",
    "move",
    "add-ref",
    "drop-ref",
    "drop-events",
    "import",
    "purge",
    "read",
)


@attrs.frozen
class StoreWrite:
    """One abstract write; ``first`` and ``second`` pick rows of the state it is applied to.

    The test resolves them against its model of the store (modulo the number of candidates), so
    that every drawn sequence is valid whatever the writes before it did.
    """

    kind: str
    first: int
    second: int
    flag: bool


def store_writes(*, max_size: int = 12) -> st.SearchStrategy[list[StoreWrite]]:
    """Sequences of writes of every kind, reads among them."""
    write = st.builds(
        StoreWrite,
        kind=st.sampled_from(STORE_WRITES),
        first=st.integers(0, 50),
        second=st.integers(0, 50),
        flag=st.booleans(),
    )
    return st.lists(write, min_size=1, max_size=max_size)


def chunk_sizes() -> st.SearchStrategy[int]:
    """Decisions per message of the streaming engine: small, so that streams cross chunks."""
    return st.integers(1, 7)


KEPT_REASONS = ("created-after-as-of", "object-hold", "category-keep", "category-retain", "shared")


def reason_changes() -> st.SearchStrategy[list[tuple[int, str | None]]]:
    """Changes to a stream of decisions: (position, modulo its length; the new reason or None)."""
    return st.lists(
        st.tuples(st.integers(0, 300), st.sampled_from((None, *KEPT_REASONS))), max_size=6
    )
