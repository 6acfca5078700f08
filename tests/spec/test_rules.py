"""Example tests for every rule of docs/spec.md, with hand-computed expectations.

Each test runs against planner A alone, planner B alone, and the arbiter (both, compared), so a
rule that one planner gets wrong fails here by name as well as in the differential suite.
"""

from __future__ import annotations

import importlib.resources
import io
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import arbiter
import deleter_a
import deleter_b
from tests.builders import call, event, obj, tenant

PlanFn = Callable[[dict[str, Any], dict[str, Any], str, str], dict[str, Any]]


def _via_arbiter(
    inventory: dict[str, Any], policy: dict[str, Any], tid: str, as_of: str
) -> dict[str, Any]:
    return arbiter.verdict_to_json(arbiter.arbitrate(inventory, policy, tid, as_of).verdict)


def _a(inventory: dict[str, Any], policy: dict[str, Any], tid: str, as_of: str) -> dict[str, Any]:
    return deleter_a.plan(inventory, policy, tid, as_of)


def _b(inventory: dict[str, Any], policy: dict[str, Any], tid: str, as_of: str) -> dict[str, Any]:
    return deleter_b.plan(inventory, policy, tid, as_of)


@pytest.fixture(params=["a", "b", "arbiter"])
def plan(request: pytest.FixtureRequest) -> PlanFn:
    """Each way of computing a verdict: planner A, planner B, both through the arbiter."""
    return {"a": _a, "b": _b, "arbiter": _via_arbiter}[request.param]


def dues(plan: PlanFn, zone: str, cancelled_at: str, as_of: str, **policy: Any) -> tuple[Any, ...]:
    """(eligible, reason, primary_due, backup_due) for a tenant cancelled at ``cancelled_at``."""
    inventory, pol = call(
        [
            tenant(
                "t", event("subscribed", "2000-01-01T00:00:00Z"), event("cancelled", cancelled_at)
            )
        ],
        [],
        {"timezone": zone, **policy},
    )
    v = plan(inventory, pol, "t", as_of)
    return (v["eligible"], v["reason"], v["primary_due"], v["backup_due"])


# §10.1 -------------------------------------------------------------------------------------------


def test_tokyo_cancellation_after_1500_utc_belongs_to_the_next_day(plan: PlanFn) -> None:
    """Spec §10.1: 15:30Z is the next Tokyo day, so the count starts one day later."""
    expected = (False, "not-due", "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z")
    assert expected == dues(plan, "Asia/Tokyo", "2026-03-10T15:30:00Z", "2026-04-10T14:59:59Z")


def test_tokyo_due_exactly_at_local_midnight(plan: PlanFn) -> None:
    """Spec §10.1, §7.1: eligible from the due instant itself (as_of >= primary_due)."""
    expected = (True, None, "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z")
    assert expected == dues(plan, "Asia/Tokyo", "2026-03-10T15:30:00Z", "2026-04-10T15:00:00Z")


def test_tokyo_cancellation_before_1500_utc_is_the_same_day(plan: PlanFn) -> None:
    """Spec §3: 14:59:59Z is still 23:59:59 on the 10th in Tokyo."""
    expected = (False, "not-due", "2026-04-09T15:00:00Z", "2026-04-23T15:00:00Z")
    assert expected == dues(plan, "Asia/Tokyo", "2026-03-10T14:59:59Z", "2026-04-01T00:00:00Z")


def test_as_of_one_microsecond_before_due_is_not_due(plan: PlanFn) -> None:
    """Spec §2.1, §7.1: microseconds count; one before the due instant is not due."""
    expected = (False, "not-due", "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z")
    assert expected == dues(
        plan, "Asia/Tokyo", "2026-03-10T15:30:00Z", "2026-04-11T00:59:59.999999+10:00"
    )


# §10.2-§10.4: days whose midnight is odd ---------------------------------------------------


def test_sao_paulo_skipped_midnight_starts_the_day_at_0100(plan: PlanFn) -> None:
    """Spec §10.2: sod(2018-11-04) in Sao Paulo is 01:00-02:00 = 03:00Z."""
    expected = (True, None, "2018-11-04T03:00:00Z", "2018-11-18T02:00:00Z")
    assert expected == dues(
        plan, "America/Sao_Paulo", "2018-10-04T15:00:00Z", "2018-11-04T03:00:00Z"
    )


def test_sao_paulo_one_second_before_the_skipped_midnight_is_not_due(plan: PlanFn) -> None:
    """Spec §10.2: 02:59:59Z is 23:59:59 on 3 November, still not due."""
    assert (False, "not-due") == dues(
        plan, "America/Sao_Paulo", "2018-10-04T15:00:00Z", "2018-11-04T02:59:59Z"
    )[:2]


def test_havana_repeated_midnight_takes_the_first(plan: PlanFn) -> None:
    """Spec §10.3: sod(2025-11-02) in Havana is the first midnight, 04:00Z, not 05:00Z."""
    expected = (True, None, "2025-11-02T04:00:00Z", "2025-11-16T05:00:00Z")
    assert expected == dues(plan, "America/Havana", "2025-10-02T16:00:00Z", "2025-11-02T04:00:00Z")


def test_apia_skipped_date_starts_at_the_next_date(plan: PlanFn) -> None:
    """Spec §10.4: 2011-12-30 does not exist in Apia; its sod is the start of the 31st."""
    # backup: ld(due) = 2011-12-31 (+14:00), + 14 = 2012-01-14, 00:00+14:00 = 2012-01-13T10:00Z.
    expected = (True, None, "2011-12-30T10:00:00Z", "2012-01-13T10:00:00Z")
    assert expected == dues(
        plan, "Pacific/Apia", "2011-12-29T12:00:00-10:00", "2011-12-30T10:00:00Z", grace_days=0
    )


def test_lord_howe_half_hour_offset_change(plan: PlanFn) -> None:
    """Spec §3: Lord Howe moves from UTC+10:30 to UTC+11 on 5 Oct 2025; midnights follow."""
    # ld(c) = 2025-09-04 (+10:30); due date 2025-10-05: 00:00+10:30 = 2025-10-04T13:30Z;
    # backup date 2025-10-19 is in DST (+11): 2025-10-18T13:00Z.
    expected = (False, "not-due", "2025-10-04T13:30:00Z", "2025-10-18T13:00:00Z")
    assert expected == dues(
        plan, "Australia/Lord_Howe", "2025-09-04T02:00:00Z", "2025-10-04T13:29:59Z"
    )


def test_santiago_fall_back_at_midnight_starts_the_day_after_the_repeated_hour(
    plan: PlanFn,
) -> None:
    """Spec §3: 24:00 -03 becomes 23:00 -04, so 6 April 2025 starts an hour after the switch."""
    # At 03:00Z the clock goes back from 6 April 00:00 -03 to 5 April 23:00 -04: the switch
    # instant still reads 5 April. The first reading of 6 April is 00:00 -04 = 04:00Z.
    expected = (False, "not-due", "2025-04-06T04:00:00Z", "2025-04-20T04:00:00Z")
    assert expected == dues(
        plan, "America/Santiago", "2025-03-06T15:00:00Z", "2025-04-06T03:59:59Z"
    )


def test_tehran_fall_back_at_midnight_between_two_utc_hours(plan: PlanFn) -> None:
    """Spec §3: at 19:30Z Tehran's 24:00 +04:30 became 23:00 +03:30; 22 Sep 2021 starts 20:30Z."""
    # The switch lies inside a UTC hour, and the day starts an hour after it (midnight +03:30).
    # ld(primary_due) = 2021-09-22, + 14 = 2021-10-06 (+03:30, no more DST): 2021-10-05T20:30Z.
    expected = (False, "not-due", "2021-09-21T20:30:00Z", "2021-10-05T20:30:00Z")
    assert expected == dues(plan, "Asia/Tehran", "2021-08-22T08:00:00Z", "2021-09-21T20:29:59Z")


def test_beirut_fall_back_at_midnight_in_the_middle_of_a_utc_hour_sample(plan: PlanFn) -> None:
    """Spec §3: Beirut's 00:00 +03 becomes 23:00 +02 at 21:00Z; 30 Oct 2022 starts at 22:00Z."""
    expected = (True, None, "2022-10-29T22:00:00Z", "2022-11-12T22:00:00Z")
    assert expected == dues(plan, "Asia/Beirut", "2022-09-29T09:00:00Z", "2022-10-29T22:00:00Z")


def _tzdata_midnight(zone: str, day: str) -> str:
    """Local midnight of ``day`` in ``zone`` by the tzdata package's own file, in UTC (§2.2)."""
    resource = importlib.resources.files("tzdata.zoneinfo")
    for part in zone.split("/"):
        resource = resource.joinpath(part)
    rules = ZoneInfo.from_file(io.BytesIO(resource.read_bytes()), key=zone)
    midnight = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=rules)
    return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rules_come_from_the_tzdata_package_not_the_operating_system(plan: PlanFn) -> None:
    """Spec §3: the tzdata package's rules count, where the OS's copy may differ (Cuba, 2026)."""
    # tzdata 2026 keeps Havana on -04 through the winter of 2026-27; older copies (the OS's
    # 2025b here) fall back on 1 Nov 2026, which would make this midnight 05:00Z.
    expected = _tzdata_midnight("America/Havana", "2026-11-02")
    assert (
        expected == dues(plan, "America/Havana", "2026-10-02T16:00:00Z", "2027-01-01T00:00:00Z")[2]
    )


def test_grace_and_lag_are_calendar_days_not_24_hours(plan: PlanFn) -> None:
    """Spec §3: D + n is calendar arithmetic; a DST change in between does not shift midnight."""
    # New York: c on 2026-03-01 local; +1+30 = 2026-04-01, EDT midnight = 04:00Z (not 05:00Z).
    expected = (True, None, "2026-04-01T04:00:00Z", "2026-04-15T04:00:00Z")
    assert expected == dues(
        plan, "America/New_York", "2026-03-01T17:00:00Z", "2026-04-01T04:00:00Z"
    )


def test_largest_grace_and_lag(plan: PlanFn) -> None:
    """Spec §4.2: 36500 days is a valid grace and lag (the range is inclusive)."""
    # 2026-01-10 + 1 + 36500 days = 2125-12-18; + 36500 days = 2225-11-24.
    expected = (False, "not-due", "2125-12-18T00:00:00Z", "2225-11-24T00:00:00Z")
    assert expected == dues(
        plan,
        "UTC",
        "2026-01-10T12:00:00Z",
        "2026-06-01T00:00:00Z",
        grace_days=36500,
        backup_lag_days=36500,
    )


def test_verdict_does_not_depend_on_the_machines_time_zone(
    plan: PlanFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spec §2.2, §8: instants are written in UTC whatever the process's local time zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        expected = (True, None, "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z")
        assert expected == dues(plan, "Asia/Tokyo", "2026-03-10T15:30:00Z", "2026-04-10T15:00:00Z")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_zero_grace_and_lag(plan: PlanFn) -> None:
    """Spec §6: grace 0 is the start of the next day; lag 0 is the start of the due's own day."""
    expected = (True, None, "2026-01-11T00:00:00Z", "2026-01-11T00:00:00Z")
    assert expected == dues(
        plan, "UTC", "2026-01-10T23:59:59Z", "2026-01-11T00:00:00Z", grace_days=0, backup_lag_days=0
    )


# §5, §10.5: lifecycle ----------------------------------------------------------------------------


def verdict_for(
    plan: PlanFn, events: list[dict[str, Any]], as_of: str, *, legal_hold: bool | None = None
) -> dict[str, Any]:
    """The verdict for a UTC tenant ``t`` with the given events and no objects."""
    inventory, pol = call([tenant("t", *events, legal_hold=legal_hold)], [], {"timezone": "UTC"})
    return plan(inventory, pol, "t", as_of)


def test_no_events_is_active(plan: PlanFn) -> None:
    """Spec §5: a tenant with no lifecycle event is active; no dues."""
    v = verdict_for(plan, [], "2026-01-01T00:00:00Z")
    assert (False, "active", None, None) == (
        v["eligible"],
        v["reason"],
        v["primary_due"],
        v["backup_due"],
    )


def test_cancel_and_reactivate_at_the_same_instant_is_active(plan: PlanFn) -> None:
    """Spec §5.2, §10.5: at the same instant reactivation counts as later (keep)."""
    at = "2026-01-01T10:00:00Z"
    v = verdict_for(
        plan, [event("reactivated", at), event("cancelled", at)], "2027-01-01T00:00:00Z"
    )
    assert "active" == v["reason"]


def test_cancel_and_subscribe_at_the_same_instant_in_different_offsets_is_active(
    plan: PlanFn,
) -> None:
    """Spec §2.1, §5.2: the same instant spelt with another offset is still a tie."""
    v = verdict_for(
        plan,
        [
            event("cancelled", "2026-01-01T10:00:00Z"),
            event("subscribed", "2026-01-01T19:00:00+09:00"),
        ],
        "2027-01-01T00:00:00Z",
    )
    assert "active" == v["reason"]


def test_re_cancellation_counts_from_the_last_cancellation(plan: PlanFn) -> None:
    """Spec §10.5: subscribed, cancelled, reactivated, cancelled: c is the last cancellation."""
    events = [
        event("subscribed", "2025-01-01T00:00:00Z"),
        event("cancelled", "2025-06-01T00:00:00Z"),
        event("reactivated", "2025-06-10T00:00:00Z"),
        event("cancelled", "2025-09-15T12:00:00Z"),
    ]
    v = verdict_for(plan, events, "2025-10-16T00:00:00Z")
    assert (True, "2025-10-16T00:00:00Z", "2025-10-30T00:00:00Z") == (
        v["eligible"],
        v["primary_due"],
        v["backup_due"],
    )


def test_two_cancellations_use_the_last(plan: PlanFn) -> None:
    """Spec §10.5: two cancellations in a row: c is the later one."""
    events = [
        event("cancelled", "2025-06-01T00:00:00Z"),
        event("cancelled", "2025-06-20T00:00:00Z"),
    ]
    v = verdict_for(plan, events, "2025-07-01T00:00:00Z")
    assert (False, "not-due", "2025-07-21T00:00:00Z") == (
        v["eligible"],
        v["reason"],
        v["primary_due"],
    )


def test_events_after_as_of_are_ignored(plan: PlanFn) -> None:
    """Spec §5: a reactivation after as_of is not yet known; the tenant is due."""
    events = [
        event("cancelled", "2025-01-01T00:00:00Z"),
        event("reactivated", "2025-03-01T00:00:01Z"),
    ]
    v = verdict_for(plan, events, "2025-03-01T00:00:00Z")
    assert (True, None) == (v["eligible"], v["reason"])


def test_events_listed_out_of_order_are_ordered_by_instant(plan: PlanFn) -> None:
    """Spec §4.1, §5.2: list order carries no meaning."""
    events = [
        event("cancelled", "2025-05-01T00:00:00Z"),
        event("subscribed", "2025-01-01T00:00:00Z"),
    ]
    v = verdict_for(plan, events, "2026-01-01T00:00:00Z")
    assert (True, "2025-06-01T00:00:00Z") == (v["eligible"], v["primary_due"])


def test_only_erasure_request_is_active(plan: PlanFn) -> None:
    """Spec §5: an erasure request alone does not cancel a tenant."""
    v = verdict_for(
        plan, [event("erasure_requested", "2025-01-01T00:00:00Z")], "2026-01-01T00:00:00Z"
    )
    assert "active" == v["reason"]


# §6, §10.6: erasure requests ---------------------------------------------------------------------

ERASURE_EVENTS = [
    event("subscribed", "2025-01-01T00:00:00Z"),
    event("cancelled", "2026-01-10T12:00:00Z"),
    event("erasure_requested", "2026-01-12T08:00:00Z"),
]


def test_erasure_request_brings_the_due_forward(plan: PlanFn) -> None:
    """Spec §10.6: the request instant becomes primary_due; backup_due counts from its date."""
    v = verdict_for(plan, ERASURE_EVENTS, "2026-01-12T08:00:00Z")
    assert (True, "2026-01-12T08:00:00Z", "2026-01-26T00:00:00Z") == (
        v["eligible"],
        v["primary_due"],
        v["backup_due"],
    )


def test_erasure_request_after_as_of_is_not_known(plan: PlanFn) -> None:
    """Spec §10.6: before the request, the normal due applies."""
    v = verdict_for(plan, ERASURE_EVENTS, "2026-01-12T07:59:59Z")
    assert (False, "not-due", "2026-02-10T00:00:00Z") == (
        v["eligible"],
        v["reason"],
        v["primary_due"],
    )


def test_erasure_request_before_cancellation_is_ignored(plan: PlanFn) -> None:
    """Spec §10.6: a request before c belongs to an earlier subscription."""
    events = [
        event("erasure_requested", "2026-01-09T00:00:00Z"),
        event("cancelled", "2026-01-10T12:00:00Z"),
    ]
    v = verdict_for(plan, events, "2026-01-20T00:00:00Z")
    assert (False, "2026-02-10T00:00:00Z") == (v["eligible"], v["primary_due"])


def test_erasure_request_at_the_cancellation_instant_counts(plan: PlanFn) -> None:
    """Spec §6: c <= r includes r == c."""
    at = "2026-01-10T12:00:00Z"
    v = verdict_for(plan, [event("cancelled", at), event("erasure_requested", at)], at)
    assert (True, at, "2026-01-24T00:00:00Z") == (v["eligible"], v["primary_due"], v["backup_due"])


def test_earliest_of_several_erasure_requests(plan: PlanFn) -> None:
    """Spec §6: the earliest request with c <= r <= as_of wins."""
    events = [
        event("cancelled", "2026-01-10T12:00:00Z"),
        event("erasure_requested", "2026-01-15T00:00:00Z"),
        event("erasure_requested", "2026-01-11T00:00:00.5Z"),
    ]
    v = verdict_for(plan, events, "2026-01-20T00:00:00Z")
    assert "2026-01-11T00:00:00.500000Z" == v["primary_due"]


def test_erasure_request_later_than_the_normal_due_changes_nothing(plan: PlanFn) -> None:
    """Spec §6: primary_due is the minimum of the two."""
    events = [
        event("cancelled", "2026-01-10T12:00:00Z"),
        event("erasure_requested", "2026-03-01T00:00:00Z"),
    ]
    v = verdict_for(plan, events, "2026-03-02T00:00:00Z")
    assert "2026-02-10T00:00:00Z" == v["primary_due"]


# §7: holds, categories, sharing ------------------------------------------------------------------

ELIGIBLE = tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))
AS_OF = "2026-05-01T00:00:00Z"


def objects_verdict(
    plan: PlanFn,
    objects: list[dict[str, Any]],
    policy: dict[str, Any] | None = None,
    *,
    others: list[dict[str, Any]] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """(purged keys, kept key -> reason) for the eligible tenant ``t``."""
    inventory, pol = call(
        [ELIGIBLE, tenant("u"), *(others or [])], objects, policy or {"timezone": "UTC"}
    )
    v = plan(inventory, pol, "t", AS_OF)
    assert v["eligible"] is True
    return [o["key"] for o in v["purge"]], {k["key"]: k["reason"] for k in v["kept"]}


CATEGORY_POLICY = {
    "timezone": "UTC",
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
}


def test_object_hold_wins_over_category_keep(plan: PlanFn) -> None:
    """Spec §7.2, §10.7: the first reason that applies is object-hold."""
    purged, kept = objects_verdict(
        plan, [obj("h", category="audit", legal_hold=True)], CATEGORY_POLICY
    )
    assert ([], {"h": "object-hold"}) == (purged, kept)


def test_category_keep(plan: PlanFn) -> None:
    """Spec §7.2: a category with keep = true keeps its objects."""
    assert ([], {"a": "category-keep"}) == objects_verdict(
        plan, [obj("a", category="audit")], CATEGORY_POLICY
    )


@pytest.mark.parametrize(
    ("created_at", "expected_kept"),
    [
        ("2026-04-21T00:00:00Z", {}),
        ("2026-04-21T23:59:59.999999Z", {}),
        ("2026-04-22T00:00:00Z", {"l": "category-retain"}),
        ("2026-04-21T23:30:00-01:00", {"l": "category-retain"}),
        ("2026-04-22T00:30:00+01:00", {}),
    ],
)
def test_category_retain_at_its_boundary(
    plan: PlanFn, created_at: str, expected_kept: dict[str, str]
) -> None:
    """Spec §10.7: retained while as_of < sod(ld(created_at) + N); the date is what counts."""
    purged, kept = objects_verdict(
        plan, [obj("l", category="logs", created_at=created_at)], CATEGORY_POLICY
    )
    assert (expected_kept, [] if expected_kept else ["l"]) == (kept, purged)


def test_retain_days_zero_retains_nothing_that_existed_at_as_of(plan: PlanFn) -> None:
    """Spec §7.2: with retain_days 0 only objects created after as_of stay, by rule 1."""
    policy = {"timezone": "UTC", "categories": {"x": {"retain_days": 0}}}
    objects = [
        obj("old", category="x"),
        obj("today", category="x", created_at=AS_OF),
        obj("new", category="x", created_at="2026-05-02T00:00:00Z"),
    ]
    assert (["old", "today"], {"new": "created-after-as-of"}) == objects_verdict(
        plan, objects, policy
    )


@pytest.mark.parametrize(
    ("created_at", "expected_kept"),
    [
        ("2026-05-01T00:00:00.000001Z", {"n": "created-after-as-of"}),
        ("2026-05-01T09:00:01+09:00", {"n": "created-after-as-of"}),
        ("2026-04-30T20:00:01-04:00", {"n": "created-after-as-of"}),
        ("2026-05-01T09:00:00+09:00", {}),
        ("2026-04-30T23:59:59.999999Z", {}),
    ],
)
def test_created_after_as_of_at_its_boundary(
    plan: PlanFn, created_at: str, expected_kept: dict[str, str]
) -> None:
    """Spec §7.2 rule 1, §10.7: kept iff created_at > as_of, compared as instants."""
    purged, kept = objects_verdict(plan, [obj("n", created_at=created_at)])
    assert (expected_kept, [] if expected_kept else ["n"]) == (kept, purged)


def test_created_after_as_of_wins_over_every_other_reason(plan: PlanFn) -> None:
    """Spec §7.2, §10.7: rule 1 comes first, before holds and categories."""
    later = "2026-06-01T00:00:00Z"
    objects = [
        obj("h", legal_hold=True, created_at=later),
        obj("k", category="audit", created_at=later),
        obj("r", category="logs", created_at=later),
    ]
    assert ([], dict.fromkeys(("h", "k", "r"), "created-after-as-of")) == objects_verdict(
        plan, objects, CATEGORY_POLICY
    )


def test_what_a_created_after_object_refs_is_shared(plan: PlanFn) -> None:
    """Spec §7.3, §10.7: an object created after as_of is in L, so its refs' targets stay."""
    objects = [obj("a"), obj("n", created_at="2026-06-01T00:00:00Z", refs=[("db", "a")])]
    assert ([], {"a": "shared", "n": "created-after-as-of"}) == objects_verdict(plan, objects)


def test_largest_retain_days_retains(plan: PlanFn) -> None:
    """Spec §4.2, §7.2: retain_days 36500 is valid and retains for a hundred years."""
    policy = {"timezone": "UTC", "categories": {"x": {"retain_days": 36500}}}
    assert ([], {"a": "category-retain"}) == objects_verdict(plan, [obj("a", category="x")], policy)


def test_unconfigured_category_has_no_rule(plan: PlanFn) -> None:
    """Spec §7.2: a category with no table is purged like the default."""
    assert (["m"], {}) == objects_verdict(plan, [obj("m", category="misc")], CATEGORY_POLICY)


def test_default_category_can_be_configured(plan: PlanFn) -> None:
    """Spec §7.2: objects without a category are in "default", which may have a rule."""
    policy = {"timezone": "UTC", "categories": {"default": {"keep": True}}}
    assert ([], {"d": "category-keep"}) == objects_verdict(plan, [obj("d")], policy)


def test_tenant_hold_lists_nothing_but_reports_dues(plan: PlanFn) -> None:
    """Spec §7.1, §10.7: a held tenant is not eligible, lists no object, still has dues."""
    inventory, pol = call(
        [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"), legal_hold=True)],
        [obj("a")],
        {"timezone": "UTC"},
    )
    v = plan(inventory, pol, "t", AS_OF)
    expected: tuple[object, ...] = (
        False,
        "tenant-hold",
        "2026-02-01T00:00:00Z",
        "2026-02-15T00:00:00Z",
        [],
        [],
    )
    assert expected == (
        v["eligible"],
        v["reason"],
        v["primary_due"],
        v["backup_due"],
        v["purge"],
        v["kept"],
    )


def test_active_takes_precedence_over_tenant_hold(plan: PlanFn) -> None:
    """Spec §7.1: reason is the first that applies: active before tenant-hold."""
    inventory, pol = call([tenant("t", legal_hold=True)], [], {"timezone": "UTC"})
    assert "active" == plan(inventory, pol, "t", AS_OF)["reason"]


def test_tenant_hold_takes_precedence_over_not_due(plan: PlanFn) -> None:
    """Spec §7.1: tenant-hold before not-due."""
    inventory, pol = call(
        [tenant("t", event("cancelled", "2026-04-30T00:00:00Z"), legal_hold=True)],
        [],
        {"timezone": "UTC"},
    )
    assert "tenant-hold" == plan(inventory, pol, "t", AS_OF)["reason"]


def test_not_due_lists_no_object(plan: PlanFn) -> None:
    """Spec §7.1: an ineligible verdict lists no object."""
    inventory, pol = call(
        [tenant("t", event("cancelled", "2026-04-30T00:00:00Z"))], [obj("a")], {"timezone": "UTC"}
    )
    v = plan(inventory, pol, "t", AS_OF)
    assert ("not-due", [], []) == (v["reason"], v["purge"], v["kept"])


def test_sharing_through_a_chain_from_another_tenant(plan: PlanFn) -> None:
    """Spec §10.8: o (tenant u) -> a -> b -> c keeps the chain; d, e (self ref), f (dangling) go."""
    objects = [
        obj("a", refs=[("db", "b")]),
        obj("b", refs=[("db", "c")]),
        obj("c"),
        obj("d"),
        obj("e", refs=[("db", "e")]),
        obj("f", refs=[("x", "missing")]),
        obj("o", "u", refs=[("db", "a")]),
    ]
    expected = (["d", "e", "f"], {"a": "shared", "b": "shared", "c": "shared"})
    assert expected == objects_verdict(plan, objects)


def test_sharing_from_a_kept_object_of_the_tenant(plan: PlanFn) -> None:
    """Spec §10.8: a held object of T that refs a candidate keeps it as shared."""
    objects = [obj("h", legal_hold=True, refs=[("db", "d")]), obj("d")]
    assert ([], {"d": "shared", "h": "object-hold"}) == objects_verdict(plan, objects)


def test_ref_from_a_candidate_to_a_kept_object_keeps_nothing_more(plan: PlanFn) -> None:
    """Spec §7.3: refs point from the needing object; a candidate needing a kept one is purged."""
    objects = [obj("c", refs=[("db", "h")]), obj("h", legal_hold=True)]
    assert (["c"], {"h": "object-hold"}) == objects_verdict(plan, objects)


def test_cycle_without_entry_is_purged_and_with_entry_is_kept(plan: PlanFn) -> None:
    """Spec §10.8: a candidate cycle goes whole, or stays whole when L refs into it."""
    cycle = [obj("p", refs=[("db", "q")]), obj("q", refs=[("db", "p")])]
    assert (["p", "q"], {}) == objects_verdict(plan, cycle)
    entered = [*cycle, obj("o", "u", refs=[("db", "q")])]
    assert ([], {"p": "shared", "q": "shared"}) == objects_verdict(plan, entered)


def test_ref_from_an_active_tenant_keeps_even_through_store_names(plan: PlanFn) -> None:
    """Spec §4.1: identity is (store, key); a ref to the same key in another store is dangling."""
    objects = [obj("k", store="db"), obj("k", store="blob"), obj("o", "u", refs=[("blob", "k")])]
    inventory, pol = call([ELIGIBLE, tenant("u")], objects, {"timezone": "UTC"})
    v = plan(inventory, pol, "t", AS_OF)
    assert ([{"store": "db", "key": "k"}], [{"store": "blob", "key": "k", "reason": "shared"}]) == (
        v["purge"],
        v["kept"],
    )


def test_long_chain_does_not_recurse(plan: PlanFn) -> None:
    """Spec §7.3: a chain of 5000 candidates entered from outside is kept whole, no recursion."""
    n = 5000
    objects = [
        obj(f"c{i:05d}", refs=[("db", f"c{i + 1:05d}")] if i + 1 < n else []) for i in range(n)
    ]
    objects.append(obj("o", "u", refs=[("db", "c00000")]))
    purged, kept = objects_verdict(plan, objects)
    assert ([], n, {"shared"}) == (purged, len(kept), set(kept.values()))


def test_output_is_sorted_by_store_then_key_in_code_point_order(plan: PlanFn) -> None:
    """Spec §7.5: purge and kept sorted by (store, key) in code-point order."""
    objects = [
        obj("b", store="x"),
        obj("a", store="y"),
        obj("Z", store="x"),
        obj("é", store="x"),
        obj("a", store="X"),
    ]
    inventory, pol = call([ELIGIBLE, tenant("u")], objects, {"timezone": "UTC"})
    v = plan(inventory, pol, "t", AS_OF)
    expected = [("X", "a"), ("x", "Z"), ("x", "b"), ("x", "é"), ("y", "a")]
    assert expected == [(o["store"], o["key"]) for o in v["purge"]]


def test_verdict_form(plan: PlanFn) -> None:
    """Spec §7.5, §2.2: exactly the keys of the verdict, instants in UTC with Z."""
    inventory, pol = call(
        [tenant("t", event("cancelled", "2026-01-01T09:00:00+09:00"))],
        [obj("a", "t")],
        {"timezone": "Asia/Tokyo"},
    )
    v = plan(inventory, pol, "t", "2026-05-01T09:30:00.25+09:00")
    expected = {
        "tenant": "t",
        "as_of": "2026-05-01T00:30:00.250000Z",
        "eligible": True,
        "reason": None,
        "primary_due": "2026-01-31T15:00:00Z",
        "backup_due": "2026-02-14T15:00:00Z",
        "purge": [{"store": "db", "key": "a"}],
        "kept": [],
    }
    assert expected == v


def test_other_tenants_objects_never_appear(plan: PlanFn) -> None:
    """Spec §7.4: a verdict lists only T's objects."""
    inventory, pol = call(
        [ELIGIBLE, tenant("u", event("cancelled", "2020-01-01T00:00:00Z"))],
        [obj("a", "t"), obj("b", "u")],
        {"timezone": "UTC"},
    )
    v = plan(inventory, pol, "t", AS_OF)
    assert ["a"] == [o["key"] for o in v["purge"] + v["kept"]]


def test_range_edges_are_valid(plan: PlanFn) -> None:
    """Spec §2.1: the first and last instants of the range are accepted, by their UTC value."""
    inventory, pol = call(
        [tenant("t", event("subscribed", "1970-01-01T00:00:00Z"))], [], {"timezone": "UTC"}
    )
    assert (
        "9000-12-31T23:59:59.999999Z"
        == plan(inventory, pol, "t", "9001-01-01T00:59:59.999999+01:00")["as_of"]
    )
    assert "1970-01-01T00:00:00Z" == plan(inventory, pol, "t", "1969-12-31T19:00:00-05:00")["as_of"]
