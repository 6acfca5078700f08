"""Property tests: sharing against a naive reference, order independence, sod, instants."""

from __future__ import annotations

import importlib.resources
from datetime import date, time
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whenever import Date, Instant, OffsetDateTime, Time, TimeDelta

import deleter_b
from deleter_b._clock import tzdata_zone
from deleter_b._instant import EARLIEST, LATEST, InstantSyntaxError, parse_instant

from .b_support import UTC, Data, cancelled, inventory, keys, obj, tenant

if TYPE_CHECKING:
    import random

AS_OF = "2026-05-01T00:00:00Z"
NAMES = [f"n{i}" for i in range(8)]
ZONES = sorted(
    line.strip()
    for line in importlib.resources.files("tzdata").joinpath("zones").read_text().splitlines()
    if line.strip()
)


@st.composite
def graphs(draw: st.DrawFn) -> list[Data]:
    """Draw T's objects (some held) and another tenant's, with refs among all names."""
    objects: list[Data] = []
    for name in NAMES:
        owner = draw(st.sampled_from(["t", "t", "u"]))
        targets = draw(st.lists(st.sampled_from([*NAMES, "ghost"]), max_size=3))
        objects.append(
            obj("s", name, owner, legal_hold=draw(st.booleans()), refs=[("s", x) for x in targets])
        )
    return objects


def _reference(objects: list[Data]) -> tuple[set[str], dict[str, str]]:
    """Naive fixpoint: repeat until stable, adding candidates referenced by kept objects."""
    kept: dict[str, str] = {}
    candidates: set[str] = set()
    for o in objects:
        if o["tenant"] == "t":
            if o["legal_hold"]:
                kept[str(o["key"])] = "object-hold"
            else:
                candidates.add(str(o["key"]))
    keepers = {str(o["key"]) for o in objects if str(o["key"]) not in candidates}
    changed = True
    while changed:
        changed = False
        for o in objects:
            if str(o["key"]) in keepers:
                refs = o["refs"]
                assert isinstance(refs, list)
                for _, target in refs:
                    if target in candidates and target not in keepers:
                        keepers.add(target)
                        kept[target] = "shared"
                        changed = True
    return candidates - keepers, kept


def _plan(objects: list[Data]) -> Data:
    inv = inventory([cancelled("t", "2020-02-01T00:00:00Z"), tenant("u")], objects)
    return deleter_b.plan(inv, UTC, "t", AS_OF)


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_sharing_matches_naive_reference(objects: list[Data]) -> None:
    """Spec §7.3/§7.4: the fixpoint agrees with a naive closure and partitions T's objects."""
    purge, kept = _reference(objects)
    actual = _plan(objects)
    listed = actual["kept"]
    assert isinstance(listed, list)
    assert sorted(purge) == [k for _, k in keys(actual["purge"])]
    assert kept == {e["key"]: e["reason"] for e in listed}


@settings(max_examples=60, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_object_order_is_irrelevant(objects: list[Data], rnd: random.Random) -> None:
    """Spec §4.1/§8: shuffling objects and refs does not change the verdict."""
    shuffled: list[Data] = []
    for o in objects:
        refs = o["refs"]
        assert isinstance(refs, list)
        shuffled.append({**o, "refs": rnd.sample(refs, len(refs))})
    rnd.shuffle(shuffled)
    assert _plan(objects) == _plan(shuffled)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.dates(min_value=date(1970, 1, 2), max_value=date(2200, 12, 31)),
)
def test_sod_is_the_earliest_instant_of_the_date(zone: str, day: date) -> None:
    """Spec §3: ld(sod(D)) >= D > ld(sod(D) - 1 microsecond), and agrees with start_of('day')."""
    local_date = Date(day)
    with tzdata_zone(zone) as z:
        start = z.start_of_day(local_date)
        assert z.local_date(start) >= local_date
        assert z.local_date(start - TimeDelta(microseconds=1)) < local_date
        noon = local_date.at(Time(12)).assume_tz(zone, disambiguation="compatible")
        if noon.date() == local_date:
            assert noon.start_of("day").to_instant() == start


@settings(max_examples=300, deadline=None)
@given(
    day=st.one_of(
        st.dates(min_value=date(1969, 12, 30), max_value=date(1970, 1, 2)),
        st.dates(min_value=date(1969, 1, 1), max_value=date(9001, 12, 31)),
        st.dates(min_value=date(9000, 12, 30), max_value=date(9001, 1, 2)),
        st.dates(),
    ),
    clock=st.times(),
    offset_minutes=st.integers(min_value=0, max_value=23 * 60 + 59),
    negative=st.booleans(),
    digits=st.integers(min_value=0, max_value=6),
)
def test_instant_grammar_matches_offset_arithmetic(
    day: date, clock: time, offset_minutes: int, *, negative: bool, digits: int
) -> None:
    """Spec §2.1: a well-formed string is local time minus offset, if in range and not -00:00."""
    fraction = f".{clock.microsecond:06d}"[: digits + 1] if digits else ""
    micro = int(fraction[1:].ljust(6, "0")) if fraction else 0
    hh, mm = divmod(offset_minutes, 60)
    text = (
        f"{day.year:04d}-{day.month:02d}-{day.day:02d}T"
        f"{clock.hour:02d}:{clock.minute:02d}:{clock.second:02d}{fraction}"
        f"{'-' if negative else '+'}{hh:02d}:{mm:02d}"
    )
    offset = TimeDelta(minutes=-offset_minutes if negative else offset_minutes)
    expected: Instant | None
    try:
        expected = OffsetDateTime(
            day.year,
            day.month,
            day.day,
            clock.hour,
            clock.minute,
            clock.second,
            nanosecond=micro * 1000,
            offset=offset,
        ).to_instant()
    except ValueError:
        expected = None
    if expected is not None and EARLIEST <= expected <= LATEST and text[-6:] != "-00:00":
        assert expected == parse_instant(text)
    else:
        with pytest.raises(InstantSyntaxError):
            parse_instant(text)


def test_instant_bounds() -> None:
    """Spec §2.1: the bounds themselves are valid instants."""
    assert (EARLIEST, LATEST) == (
        parse_instant("1970-01-01T00:00:00Z"),
        parse_instant("9000-12-31T23:59:59.999999Z"),
    )
    assert Instant.from_utc(1970, 1, 1) == EARLIEST
