"""ld and sod in the policy's zone from the tzdata package (spec §3)."""

from __future__ import annotations

import importlib.resources
from typing import TYPE_CHECKING

import pytest
import whenever
from whenever import Date, Instant

import deleter_b
from deleter_b._clock import is_zone_name, tzdata_zone

from .b_support import cancelled, inventory

if TYPE_CHECKING:
    from pathlib import Path

SOD = [
    # zone, date, expected sod (UTC), why
    ("Asia/Tokyo", Date(2026, 4, 11), "2026-04-10T15:00:00Z"),  # §10.1
    ("America/Sao_Paulo", Date(2018, 11, 3), "2018-11-03T03:00:00Z"),  # day before, -03:00
    ("America/Sao_Paulo", Date(2018, 11, 4), "2018-11-04T03:00:00Z"),  # skipped midnight §10.2
    ("America/Sao_Paulo", Date(2018, 11, 5), "2018-11-05T02:00:00Z"),  # day after, -02:00
    ("America/Havana", Date(2025, 11, 1), "2025-11-01T04:00:00Z"),  # -04:00
    ("America/Havana", Date(2025, 11, 2), "2025-11-02T04:00:00Z"),  # first of two §10.3
    ("America/Havana", Date(2025, 11, 3), "2025-11-03T05:00:00Z"),  # -05:00
    ("Pacific/Apia", Date(2011, 12, 29), "2011-12-29T10:00:00Z"),  # -10:00
    ("Pacific/Apia", Date(2011, 12, 30), "2011-12-30T10:00:00Z"),  # skipped date §10.4
    ("Pacific/Apia", Date(2011, 12, 31), "2011-12-30T10:00:00Z"),  # +14:00
    ("Australia/Lord_Howe", Date(2025, 10, 4), "2025-10-03T13:30:00Z"),  # +10:30
    ("Australia/Lord_Howe", Date(2025, 10, 5), "2025-10-04T13:30:00Z"),  # 02:00 -> 02:30 later
    ("Australia/Lord_Howe", Date(2025, 10, 6), "2025-10-05T13:00:00Z"),  # +11:00
    ("Australia/Lord_Howe", Date(2025, 4, 6), "2025-04-05T13:00:00Z"),  # 02:00 -> 01:30 later
    ("Australia/Lord_Howe", Date(2025, 4, 7), "2025-04-06T13:30:00Z"),  # +10:30 again
    # A fold that crosses midnight: 00:01 (-01:30) back to 22:01 (-03:30) the day before.
    ("America/St_Johns", Date(1988, 10, 30), "1988-10-30T01:30:00Z"),
    # A 3-hour fold across midnight: 02:00 (+11) back to 23:00 (+08) the day before.
    ("Antarctica/Casey", Date(2010, 3, 5), "2010-03-04T13:00:00Z"),
    # Midnight repeated as 24:00 -> 23:00: midnight then occurs once, an hour after.
    ("Africa/Cairo", Date(2025, 10, 31), "2025-10-30T22:00:00Z"),
    ("UTC", Date(9100, 1, 1), "9100-01-01T00:00:00Z"),
]

LD = [
    ("Asia/Tokyo", "2026-03-10T15:30:00Z", Date(2026, 3, 11)),
    ("Asia/Tokyo", "2026-03-10T14:59:59.999999Z", Date(2026, 3, 10)),
    ("America/Havana", "2025-11-02T03:59:59Z", Date(2025, 11, 1)),
    ("America/Havana", "2025-11-02T04:30:00Z", Date(2025, 11, 2)),
    ("America/Havana", "2025-11-02T05:30:00Z", Date(2025, 11, 2)),
    ("Pacific/Apia", "2011-12-30T09:59:59Z", Date(2011, 12, 29)),
    ("Pacific/Apia", "2011-12-30T10:00:00Z", Date(2011, 12, 31)),
    ("America/St_Johns", "1988-10-30T01:31:00Z", Date(1988, 10, 29)),
]


@pytest.mark.parametrize(("zone", "date", "expected"), SOD)
def test_start_of_day(zone: str, date: Date, expected: str) -> None:
    """Spec §3: sod(D) is the earliest instant whose local date is D or later."""
    with tzdata_zone(zone) as z:
        assert Instant(expected) == z.start_of_day(date)


@pytest.mark.parametrize(("zone", "instant", "expected"), LD)
def test_local_date(zone: str, instant: str, expected: Date) -> None:
    """Spec §3: ld(t) is the date of the wall-clock reading of t in Z."""
    with tzdata_zone(zone) as z:
        assert expected == z.local_date(Instant(instant))


def test_lord_howe_dues_across_half_hour_shift() -> None:
    """Spec §6 in Lord_Howe: dues land on local midnight at +10:30 and at +11:00."""
    # c = 2025-09-01T00:00Z is 10:30 local on 2025-09-01; + 31 = 2025-10-02 at +10:30;
    # ld(primary) + 14 = 2025-10-16 at +11:00.
    inv = inventory([cancelled("t", "2025-09-01T00:00:00Z")], [])
    actual = deleter_b.plan(inv, {"timezone": "Australia/Lord_Howe"}, "t", "2025-09-02T00:00:00Z")
    assert ("2025-10-01T13:30:00Z", "2025-10-15T13:00:00Z") == (
        actual["primary_due"],
        actual["backup_due"],
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Asia/Tokyo", True),
        ("UTC", True),
        ("Etc/GMT-14", True),
        ("America/Argentina/Buenos_Aires", True),
        ("US/Eastern", True),
        ("asia/tokyo", False),
        ("Asia/Tokyo/", False),
        ("Asia//Tokyo", False),
        ("./UTC", False),
        ("../UTC", False),
        ("/UTC", False),
        ("Asia\\Tokyo", False),
        ("zones", False),
        ("__init__.py", False),
        ("localtime", False),
        ("", False),
    ],
)
def test_zone_names(name: str, *, expected: bool) -> None:
    """Spec §4.4 item 11: only names listed by the tzdata package are zones."""
    assert expected == is_zone_name(name)


def _swap_tzpath(target: list[str]) -> tuple[str, ...]:
    saved = whenever.get_tzpath()
    whenever.reset_tzpath(target)
    whenever.clear_tzcache(only_keys=["Asia/Tokyo"])
    return saved


def test_rules_come_from_tzdata_not_search_path(tmp_path: Path) -> None:
    """Spec §3: a different Asia/Tokyo on whenever's search path is not used, and is restored."""
    fake = importlib.resources.files("tzdata").joinpath("zoneinfo", "UTC").read_bytes()
    (tmp_path / "Asia").mkdir()
    (tmp_path / "Asia" / "Tokyo").write_bytes(fake)
    saved = _swap_tzpath([str(tmp_path)])
    try:
        utc = Instant.from_utc(2026, 1, 1)
        assert whenever.TimeDelta() == utc.to_tz("Asia/Tokyo").offset  # the fake is active
        inv = inventory([cancelled("t", "2026-03-10T15:30:00Z")], [])
        actual = deleter_b.plan(inv, {"timezone": "Asia/Tokyo"}, "t", "2026-04-10T15:00:00Z")
        assert ("2026-04-10T15:00:00Z", True) == (actual["primary_due"], actual["eligible"])
        assert (str(tmp_path),) == whenever.get_tzpath()  # the search path is restored
        assert whenever.TimeDelta() == utc.to_tz("Asia/Tokyo").offset  # and so is the lookup
    finally:
        _swap_tzpath(list(saved))


def test_plan_leaves_search_path_unchanged() -> None:
    """Spec §8: planning does not leave whenever's global search path changed."""
    before = whenever.get_tzpath()
    inv = inventory([cancelled("t", "2026-03-10T15:30:00Z")], [])
    deleter_b.plan(inv, {"timezone": "Europe/Paris"}, "t", "2026-04-10T15:00:00Z")
    assert before == whenever.get_tzpath()


def test_search_path_restored_after_error() -> None:
    """The search path is restored when planning fails inside the zone block."""
    before = whenever.get_tzpath()
    with pytest.raises(deleter_b.PlannerError), tzdata_zone("UTC"):
        raise deleter_b.PlannerError
    assert before == whenever.get_tzpath()


def test_tzdata_zone_refuses_unknown_name() -> None:
    """The zone block refuses a name tzdata does not list, as a planner failure."""
    with pytest.raises(deleter_b.PlannerError), tzdata_zone("../etc/passwd"):
        pass  # pragma: no cover
