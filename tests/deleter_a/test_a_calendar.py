"""Tests of zone loading (spec §3, §4.2) and of ld/sod (spec §3)."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deleter_a._calendar import DayStarts, local_date, offset_changes, start_of_day
from deleter_a._zones import is_safe_zone_name, load_zone, zone_names


def _zone(name: str) -> ZoneInfo:
    zone = load_zone(name)
    assert zone is not None
    return zone


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _tzif(initial: int, transitions: list[tuple[str, int]], footer: str) -> ZoneInfo:
    """Build a TZif version 2 zone: ``initial`` offset, then (UTC instant, new offset) pairs."""
    offsets = [initial, *(offset for _, offset in transitions)]
    kinds = list(dict.fromkeys(offsets))  # type 0 is the one in force before any transition
    names = b"".join(b"Z%d\x00" % number for number in range(len(kinds)))
    types = b"".join(struct.pack(">lBB", offset, 0, 4 * kinds.index(offset)) for offset in kinds)
    times = [int(_utc(at).timestamp()) for at, _ in transitions]
    indexes = bytes(kinds.index(offset) for _, offset in transitions)
    counts = (0, 0, 0, len(times), len(kinds), len(names))
    header = b"TZif2" + bytes(15) + struct.pack(">6l", *counts)
    block_v1 = struct.pack(f">{len(times)}l", *times) + indexes + types + names
    block_v2 = struct.pack(f">{len(times)}q", *times) + indexes + types + names
    data = header + block_v1 + header + block_v2 + f"\n{footer}\n".encode()
    return ZoneInfo.from_file(io.BytesIO(data), key="Test/Synthetic")


@pytest.mark.parametrize(
    "name", ["Asia/Tokyo", "UTC", "Etc/UTC", "America/Sao_Paulo", "US/Eastern"]
)
def test_a_zone_loads_from_tzdata(name: str) -> None:
    """Names listed by the tzdata package load as zones with that key."""
    assert name == _zone(name).key


@pytest.mark.parametrize(
    "name",
    [
        "",
        "America",
        "asia/tokyo",
        "localtime",
        "posixrules",
        "zones",
        "Mars/Olympus",
        "../tzdata/zones",
        "Asia/../Asia/Tokyo",
        "Asia/./Tokyo",
        "Asia//Tokyo",
        "/Asia/Tokyo",
        "Asia/Tokyo/",
        "Asia\\Tokyo",
        "Asia/Tokyo\x00",
        " Asia/Tokyo",
    ],
)
def test_a_zone_rejects_non_zones(name: str) -> None:
    """Names that are not zones of the tzdata package, or are unsafe paths, load nothing."""
    assert load_zone(name) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Asia/Tokyo", True),
        ("..", False),
        ("a/../b", False),
        ("/etc/passwd", False),
        ("a\\b", False),
        ("a\x00", False),
        ("a//b", False),
        ("", False),
    ],
)
def test_a_safe_zone_names(name: str, *, expected: bool) -> None:
    """Unsafe path forms are recognised before the zone index is consulted."""
    assert expected == is_safe_zone_name(name)


def test_a_zone_index_is_the_packages() -> None:
    """The zone index lists hundreds of zones and no directory."""
    names = zone_names()
    assert "Pacific/Apia" in names
    assert "America" not in names
    assert len(names) > 300


def test_a_local_date_tokyo() -> None:
    """ld(2026-03-10T15:30Z) in Tokyo is the 11th (spec §10.1)."""
    assert date(2026, 3, 11) == local_date(_utc("2026-03-10T15:30:00"), _zone("Asia/Tokyo"))


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [
        # spec §10.1: ordinary midnight at UTC+9.
        ("Asia/Tokyo", date(2026, 4, 11), "2026-04-10T15:00:00"),
        ("UTC", date(2026, 2, 10), "2026-02-10T00:00:00"),
        # spec §10.2: midnight skipped, 00:00 -> 01:00 at 03:00Z.
        ("America/Sao_Paulo", date(2018, 11, 4), "2018-11-04T03:00:00"),
        ("America/Sao_Paulo", date(2018, 11, 3), "2018-11-03T03:00:00"),
        ("America/Sao_Paulo", date(2018, 11, 5), "2018-11-05T02:00:00"),
        # DST ended at 00:00 (-02:00) back to 23:00 on the 17th; the 18th starts at 00:00 -03:00.
        ("America/Sao_Paulo", date(2018, 2, 18), "2018-02-18T03:00:00"),
        ("America/Sao_Paulo", date(2018, 2, 17), "2018-02-17T02:00:00"),
        # spec §10.3: midnight twice (04:00Z and 05:00Z); the first counts.
        ("America/Havana", date(2025, 11, 2), "2025-11-02T04:00:00"),
        ("America/Havana", date(2025, 11, 3), "2025-11-03T05:00:00"),
        # spec §10.4: 2011-12-30 skipped in Apia; it starts with 2011-12-31.
        ("Pacific/Apia", date(2011, 12, 29), "2011-12-29T10:00:00"),
        ("Pacific/Apia", date(2011, 12, 30), "2011-12-30T10:00:00"),
        ("Pacific/Apia", date(2011, 12, 31), "2011-12-30T10:00:00"),
        ("Pacific/Apia", date(2012, 1, 1), "2011-12-31T10:00:00"),
        # Lord Howe: +11:00 until 2026-04-05 02:00, then +10:30 (30-minute shift).
        ("Australia/Lord_Howe", date(2026, 4, 5), "2026-04-04T13:00:00"),
        ("Australia/Lord_Howe", date(2026, 4, 6), "2026-04-05T13:30:00"),
        # Lord Howe: +10:30 until 2026-10-04 02:00, then +11:00.
        ("Australia/Lord_Howe", date(2026, 10, 4), "2026-10-03T13:30:00"),
        ("Australia/Lord_Howe", date(2026, 10, 5), "2026-10-04T13:00:00"),
    ],
)
def test_a_start_of_day(name: str, day: date, expected: str) -> None:
    """Sod is the earliest instant whose local date is the day or later (spec §3)."""
    assert _utc(expected) == start_of_day(day, _zone(name))


def test_a_offset_change_found_to_the_microsecond() -> None:
    """The Sao Paulo DST start of 2018 is found exactly at 03:00:00Z."""
    low, high = _utc("2018-11-03T00:00:00"), _utc("2018-11-05T00:00:00")
    assert [_utc("2018-11-04T03:00:00")] == offset_changes(_zone("America/Sao_Paulo"), low, high)


def test_a_sod_when_local_date_goes_backwards() -> None:
    """Clocks going back from 00:30 to 23:30: sod is the first midnight, not the second."""
    zone = _tzif(3600, [("2029-12-31T23:30:00", 0)], "<Z0>0")
    assert _utc("2029-12-31T23:00:00") == start_of_day(date(2030, 1, 1), zone)


def test_a_sod_when_gap_straddles_midnight() -> None:
    """Clocks jumping from 23:30 to 00:30: sod is the transition, read 00:30 locally."""
    zone = _tzif(0, [("2029-12-31T23:30:00", 3600)], "<Z1>-1")
    assert _utc("2029-12-31T23:30:00") == start_of_day(date(2030, 1, 1), zone)


def test_a_sod_with_two_transitions_near_midnight() -> None:
    """A jump over midnight undone three hours later: sod is the first jump."""
    zone = _tzif(0, [("2029-12-31T20:00:00", 5 * 3600), ("2029-12-31T23:00:00", 0)], "<Z0>0")
    assert _utc("2029-12-31T20:00:00") == start_of_day(date(2030, 1, 1), zone)
    assert _utc("2030-01-01T00:00:00") == start_of_day(date(2030, 1, 1), ZoneInfo("UTC"))


def test_a_sod_far_future() -> None:
    """Sod works near the end of the range, where rules come from the zone's footer."""
    assert _utc("9100-07-01T04:00:00") == start_of_day(date(9100, 7, 1), _zone("America/New_York"))


def test_a_day_starts_memo() -> None:
    """The memo returns the same sod as the direct computation, also on repeated calls."""
    days = DayStarts(_zone("America/Havana"))
    first = days.start(date(2025, 11, 2))
    assert first == days.start(date(2025, 11, 2))
    assert _utc("2025-11-02T04:00:00") == first
    assert date(2025, 11, 1) == days.local_date(first - timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("America/Sao_Paulo", date(2018, 10, 30)),
        ("America/Havana", date(2025, 10, 28)),
        ("Pacific/Apia", date(2011, 12, 25)),
        ("Australia/Lord_Howe", date(2026, 4, 1)),
    ],
)
def test_a_day_starts_agree_around_transitions(name: str, first: date) -> None:
    """The memoised sod equals the direct sod on ten days around a transition."""
    zone = _zone(name)
    days = DayStarts(zone)
    for offset in range(10):
        day = first + timedelta(days=offset)
        assert start_of_day(day, zone) == days.start(day)
