"""Property tests: instant round trips (spec §2), sod (spec §3) and sharing (spec §7.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from deleter_a import plan
from deleter_a._calendar import DayStarts, local_date, start_of_day
from deleter_a._instants import EARLIEST, LATEST, format_instant, parse_instant
from deleter_a._zones import load_zone, zone_names

from .a_support import DUE_AS_OF, UTC_POLICY, cancelled_tenant, inventory, obj, tenant

ZONES = sorted(zone_names())
TICK = timedelta(microseconds=1)


@settings(max_examples=200, deadline=None)
@given(
    instant=st.datetimes(
        min_value=EARLIEST.replace(tzinfo=None) + timedelta(days=1),
        max_value=LATEST.replace(tzinfo=None) - timedelta(days=1),
    ),
    minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_a_instant_round_trip(instant: datetime, minutes: int) -> None:
    """Any in-range instant written with any offset parses back to itself and prints in UTC."""
    utc = instant.replace(tzinfo=UTC)
    local = utc + timedelta(minutes=minutes)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    offset = "Z" if minutes == 0 else f"{sign}{hours:02d}:{rest:02d}"
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond:06d}" + offset
    parsed = parse_instant(text, "as_of", "as_of")
    assert utc == parsed
    assert parsed == parse_instant(format_instant(parsed), "as_of", "as_of")
    assert EARLIEST <= parsed <= LATEST


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    day=st.dates(min_value=date(1970, 1, 3), max_value=date(2060, 12, 31)),
)
def test_a_sod_is_earliest(name: str, day: date) -> None:
    """Sod(D) has ld >= D, and no instant up to 26 h before it (every 10 min) has ld >= D."""
    zone = load_zone(name)
    assert zone is not None
    start = start_of_day(day, zone)
    assert local_date(start, zone) >= day
    assert local_date(start - TICK, zone) < day
    probe = start - timedelta(hours=26)
    while probe < start:
        assert local_date(probe, zone) < day
        probe += timedelta(minutes=10)


NAMES = [f"k{i}" for i in range(8)]


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[dict[str, object]], set[str], set[str]]:
    """Draw objects of T and U with random refs; return them with the expected purge/kept."""
    owners = draw(st.lists(st.sampled_from(["t", "t", "u", "held"]), min_size=8, max_size=8))
    targets = st.sampled_from([*NAMES, "missing"])
    objects = []
    for name, owner in zip(NAMES, owners, strict=True):
        refs = [["s", target] for target in draw(st.lists(targets, max_size=3))]
        hold = owner == "held"
        objects.append(obj("s", name, "u" if owner == "u" else "t", hold=hold, refs=refs))
    candidates = {name for name, owner in zip(NAMES, owners, strict=True) if owner == "t"}
    graph = {
        str(o["key"]): [str(ref[1]) for ref in o["refs"]]  # type: ignore[attr-defined]
        for o in objects
    }
    shared: set[str] = set()
    changed = True
    while changed:  # naive fixpoint: add candidates referred to by L or by shared candidates
        changed = False
        for source, targets_of_source in graph.items():
            if source in candidates and source not in shared:
                continue
            for target in targets_of_source:
                if target in candidates and target not in shared:
                    shared.add(target)
                    changed = True
    order = draw(st.permutations(objects))
    return list(order), candidates - shared, shared


@settings(max_examples=150, deadline=None)
@given(graph=_graphs())
def test_a_sharing_matches_naive_fixpoint(
    graph: tuple[list[dict[str, object]], set[str], set[str]],
) -> None:
    """In any order, the purge set and shared set equal those of a naive fixpoint."""
    objects, purge, shared = graph
    verdict = plan(
        inventory([cancelled_tenant(), tenant("u")], objects), UTC_POLICY, "t", DUE_AS_OF
    )
    purged = verdict["purge"]
    kept = verdict["kept"]
    assert isinstance(purged, list)
    assert isinstance(kept, list)
    assert sorted(purge) == [entry["key"] for entry in purged]
    assert sorted(shared) == sorted(entry["key"] for entry in kept if entry["reason"] == "shared")


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    first=st.dates(min_value=date(1970, 1, 3), max_value=date(2100, 1, 1)),
)
def test_a_memoised_sod_equals_direct(name: str, first: date) -> None:
    """DayStarts gives the same sod as start_of_day for runs of consecutive dates."""
    zone = load_zone(name)
    assert zone is not None
    days = DayStarts(zone)
    for offset in (0, 3, 1, 2, 40, 39):
        day = first + timedelta(days=offset)
        assert start_of_day(day, zone) == days.start(day)


LATE = datetime(2060, 12, 31, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    instant=st.datetimes(
        min_value=EARLIEST.replace(tzinfo=None) + timedelta(days=2),
        max_value=LATE.replace(tzinfo=None),
    ).map(lambda moment: moment.replace(tzinfo=UTC)),
)
def test_a_last_started_brackets_the_instant(name: str, instant: datetime) -> None:
    """last_started(t) is the latest D with sod(D) <= t: sod(D) <= t < sod(D + 1)."""
    zone = load_zone(name)
    assert zone is not None
    days = DayStarts(zone)
    last = days.last_started(instant)
    assert days.start(last) <= instant < days.start(last + timedelta(days=1))
    assert local_date(instant, zone) <= last
