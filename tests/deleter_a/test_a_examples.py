"""The worked examples of spec §10, with expectations computed by hand."""

from __future__ import annotations

import pytest

from deleter_a import plan

from .a_support import cancelled_tenant, event, inventory, obj, tenant

TOKYO = {"timezone": "Asia/Tokyo"}


def _dues(verdict: dict[str, object]) -> tuple[object, object, object, object]:
    return (verdict["eligible"], verdict["reason"], verdict["primary_due"], verdict["backup_due"])


def _lists(verdict: dict[str, object]) -> tuple[object, object]:
    return (verdict["purge"], verdict["kept"])


# §10.1 ---------------------------------------------------------------------------------------


def test_a_10_1_tokyo_not_due_one_second_before() -> None:
    """§10.1: ld(c) is the 11th in Tokyo; one second before 2026-04-10T15:00Z is not-due."""
    inv = inventory([cancelled_tenant(at="2026-03-10T15:30:00Z")], [obj("s", "a")])
    verdict = plan(inv, TOKYO, "t", "2026-04-10T14:59:59Z")
    assert (False, "not-due", "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z") == _dues(verdict)
    assert ([], []) == _lists(verdict)
    assert "2026-04-10T14:59:59Z" == verdict["as_of"]


def test_a_10_1_tokyo_eligible_at_due() -> None:
    """§10.1: at exactly primary_due T is eligible and its object is purged."""
    inv = inventory([cancelled_tenant(at="2026-03-10T15:30:00Z")], [obj("s", "a")])
    verdict = plan(inv, TOKYO, "t", "2026-04-11T00:00:00+09:00")
    assert (True, None, "2026-04-10T15:00:00Z", "2026-04-24T15:00:00Z") == _dues(verdict)
    assert ([{"store": "s", "key": "a"}], []) == _lists(verdict)
    assert "2026-04-10T15:00:00Z" == verdict["as_of"]


# §10.2 - §10.4 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "cancelled", "grace", "primary", "backup"),
    [
        # §10.2: sod(2018-11-04) is 01:00-02:00; backup sod(2018-11-18) is 00:00-02:00.
        (
            "America/Sao_Paulo",
            "2018-10-04T15:00:00Z",
            30,
            "2018-11-04T03:00:00Z",
            "2018-11-18T02:00:00Z",
        ),
        # §10.3: the first midnight of 2025-11-02 is 04:00Z; 2025-11-16 starts at 00:00-05:00.
        (
            "America/Havana",
            "2025-10-02T16:00:00Z",
            30,
            "2025-11-02T04:00:00Z",
            "2025-11-16T05:00:00Z",
        ),
        # §10.4: c = 2011-12-29 02:00-10:00; sod(2011-12-30) = start of the 31st (+14:00);
        # ld(primary) = 2011-12-31, backup sod(2012-01-14) = 00:00+14:00.
        ("Pacific/Apia", "2011-12-29T12:00:00Z", 0, "2011-12-30T10:00:00Z", "2012-01-13T10:00:00Z"),
    ],
)
def test_a_10_2_to_10_4_transitions(
    zone: str, cancelled: str, grace: int, primary: str, backup: str
) -> None:
    """§10.2-§10.4: dues fall on sod of a skipped midnight, a repeated midnight, a skipped date."""
    inv = inventory([cancelled_tenant(at=cancelled)], [])
    verdict = plan(inv, {"timezone": zone, "grace_days": grace}, "t", primary)
    assert (True, None, primary, backup) == _dues(verdict)


# §10.5 ---------------------------------------------------------------------------------------

T1, T2, T3 = "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z", "2026-01-10T12:00:00Z"
AS_OF = "2026-05-01T00:00:00Z"
UTC_POLICY = {"timezone": "UTC"}


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("later", ["reactivated", "subscribed"])
def test_a_10_5_same_instant_is_active(*, reverse: bool, later: str) -> None:
    """§10.5: cancelled and reactivated (or subscribed) at the same instant leave T active."""
    events = [event("cancelled", T1), event(later, "2026-01-05T09:00:00+09:00")]
    if reverse:
        events.reverse()
    verdict = plan(inventory([tenant("t", *events)], [obj("s", "a")]), UTC_POLICY, "t", AS_OF)
    assert (False, "active", None, None) == _dues(verdict)
    assert ([], []) == _lists(verdict)


def test_a_10_5_recancellation_counts_from_last() -> None:
    """§10.5: subscribed, cancelled t1, reactivated t2, cancelled t3 gives c = t3."""
    events = [
        event("cancelled", T3),
        event("reactivated", T2),
        event("subscribed", "2025-01-01T00:00:00Z"),
        event("cancelled", T1),
    ]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (True, None, "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == _dues(verdict)


def test_a_10_5_two_cancellations_take_the_last() -> None:
    """§10.5: two cancelled events t1 < t2 with nothing between give c = t2."""
    events = [event("cancelled", T3), event("cancelled", T1)]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (True, None, "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == _dues(verdict)


def test_a_no_lifecycle_events_is_active() -> None:
    """§5.3: a tenant without subscribed/cancelled/reactivated events is active."""
    events = [event("erasure_requested", T1)]
    verdict = plan(inventory([tenant("t", *events, hold=True)], []), UTC_POLICY, "t", AS_OF)
    assert (False, "active", None, None) == _dues(verdict)


def test_a_events_after_as_of_are_ignored() -> None:
    """§5: a reactivation after as_of is not known yet; T is cancelled at as_of."""
    events = [event("cancelled", T3), event("reactivated", "2026-05-01T00:00:00.000001Z")]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (True, None, "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == _dues(verdict)


def test_a_cancellation_after_as_of_is_ignored() -> None:
    """§5: a cancellation after as_of leaves T active."""
    events = [event("subscribed", T1), event("cancelled", "2026-05-01T00:00:01Z")]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (False, "active", None, None) == _dues(verdict)


def test_a_cancellation_exactly_at_as_of_counts() -> None:
    """§5.1: an event at as_of is known (at <= as_of)."""
    verdict = plan(inventory([cancelled_tenant(at=AS_OF)], []), UTC_POLICY, "t", AS_OF)
    assert (False, "not-due", "2026-06-01T00:00:00Z", "2026-06-15T00:00:00Z") == _dues(verdict)


# §10.6 ---------------------------------------------------------------------------------------

REQUEST = "2026-01-12T08:00:00Z"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (
            "2026-01-12T07:59:59Z",
            (False, "not-due", "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z"),
        ),
        ("2026-01-12T08:00:00Z", (True, None, "2026-01-12T08:00:00Z", "2026-01-26T00:00:00Z")),
        ("2026-03-01T00:00:00Z", (True, None, "2026-01-12T08:00:00Z", "2026-01-26T00:00:00Z")),
    ],
)
def test_a_10_6_erasure_request(as_of: str, expected: tuple[object, ...]) -> None:
    """§10.6: an erasure request after c moves primary_due to it once as_of reaches it."""
    tenants = [tenant("t", event("cancelled", T3), event("erasure_requested", REQUEST))]
    assert expected == _dues(plan(inventory(tenants, []), UTC_POLICY, "t", as_of))


def test_a_10_6_request_before_cancellation_is_ignored() -> None:
    """§10.6: a request before c belongs to an earlier subscription."""
    events = [event("erasure_requested", "2026-01-09T00:00:00Z"), event("cancelled", T3)]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (True, None, "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == _dues(verdict)


def test_a_10_6_earliest_request_wins_and_c_itself_counts() -> None:
    """§6: of several requests in [c, as_of], the earliest; one at c itself qualifies."""
    events = [
        event("erasure_requested", REQUEST),
        event("cancelled", T3),
        event("erasure_requested", "2026-01-10T21:00:00+09:00"),
    ]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert (True, None, "2026-01-10T12:00:00Z", "2026-01-24T00:00:00Z") == _dues(verdict)


def test_a_request_with_microseconds_in_output() -> None:
    """§2.2: a due with a fraction is written with six digits."""
    events = [event("cancelled", T3), event("erasure_requested", "2026-01-12T08:00:00.25Z")]
    verdict = plan(inventory([tenant("t", *events)], []), UTC_POLICY, "t", AS_OF)
    assert "2026-01-12T08:00:00.250000Z" == verdict["primary_due"]


# §10.7 ---------------------------------------------------------------------------------------

CATEGORIES = {
    "timezone": "UTC",
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
}


def test_a_10_7_holds_and_categories() -> None:
    """§10.7: object-hold beats keep; keep; retain boundaries count by date; unknown category."""
    objects = [
        obj("s", "held", category="audit", hold=True),
        obj("s", "audit", category="audit"),
        obj("s", "logs-0", category="logs", created_at="2026-04-21T00:00:00Z"),
        obj("s", "logs-1", category="logs", created_at="2026-04-21T00:00:01Z"),
        obj("s", "logs-2", category="logs", created_at="2026-04-22T00:00:00Z"),
        obj("s", "logs-3", category="logs", created_at="2026-04-21T23:59:59.999999Z"),
        obj("s", "misc", category="misc"),
        obj("s", "plain", hold=False),
    ]
    verdict = plan(inventory([cancelled_tenant()], objects), CATEGORIES, "t", AS_OF)
    assert (True, None) == (verdict["eligible"], verdict["reason"])
    expected_purge = [
        {"store": "s", "key": "logs-0"},
        {"store": "s", "key": "logs-1"},
        {"store": "s", "key": "logs-3"},
        {"store": "s", "key": "misc"},
        {"store": "s", "key": "plain"},
    ]
    expected_kept = [
        {"store": "s", "key": "audit", "reason": "category-keep"},
        {"store": "s", "key": "held", "reason": "object-hold"},
        {"store": "s", "key": "logs-2", "reason": "category-retain"},
    ]
    assert (expected_purge, expected_kept) == _lists(verdict)


def test_a_retain_counts_dates_in_the_zone() -> None:
    """§7.2: retain_days counts from ld(created_at) in Z (Tokyo: 23:00Z is the next day)."""
    policy = {"timezone": "Asia/Tokyo", "categories": {"logs": {"retain_days": 1}}}
    objects = [
        obj("s", "a", category="logs", created_at="2026-04-29T14:59:59Z"),  # ld = 04-29
        obj("s", "b", category="logs", created_at="2026-04-29T15:00:00Z"),  # ld = 04-30
    ]
    # sod(04-30) = 04-29T15:00Z <= as_of; sod(05-01) = 04-30T15:00Z > as_of.
    verdict = plan(inventory([cancelled_tenant()], objects), policy, "t", "2026-04-30T14:00:00Z")
    expected = (
        [{"store": "s", "key": "a"}],
        [{"store": "s", "key": "b", "reason": "category-retain"}],
    )
    assert expected == _lists(verdict)


def test_a_retain_zero_days() -> None:
    """§7.2: retain_days = 0 keeps nothing that existed at as_of: sod(ld(created_at)) <= as_of."""
    policy = {"timezone": "UTC", "categories": {"logs": {"retain_days": 0}}}
    objects = [obj("s", "a", category="logs", created_at="2026-05-01T00:00:00Z")]
    verdict = plan(inventory([cancelled_tenant()], objects), policy, "t", AS_OF)
    assert ([{"store": "s", "key": "a"}], []) == _lists(verdict)


def test_a_10_7_tenant_hold() -> None:
    """§10.7: a held tenant gets tenant-hold, dues still reported, nothing listed."""
    tenants = [tenant("t", event("cancelled", T3), hold=True)]
    verdict = plan(inventory(tenants, [obj("s", "a")]), CATEGORIES, "t", AS_OF)
    assert (False, "tenant-hold", "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == _dues(verdict)
    assert ([], []) == _lists(verdict)


def test_a_reason_order_hold_before_not_due() -> None:
    """§7.1: tenant-hold is reported before not-due."""
    tenants = [tenant("t", event("cancelled", T3), hold=True)]
    verdict = plan(inventory(tenants, []), UTC_POLICY, "t", "2026-01-11T00:00:00Z")
    assert (False, "tenant-hold") == (verdict["eligible"], verdict["reason"])


def test_a_reason_order_active_before_hold() -> None:
    """§7.1: active is reported before tenant-hold; dues are null."""
    tenants = [tenant("t", event("subscribed", T1), hold=True)]
    verdict = plan(inventory(tenants, []), UTC_POLICY, "t", AS_OF)
    assert (False, "active", None, None) == _dues(verdict)


# §10.8 ---------------------------------------------------------------------------------------


def _ids(entries: object) -> list[str]:
    assert isinstance(entries, list)
    return [f"{entry['key']}:{entry.get('reason', '-')}" for entry in entries]


def _sharing(extra: list[dict[str, object]]) -> dict[str, object]:
    objects = [
        obj("s", "a", refs=[["s", "b"]]),
        obj("s", "b", refs=[["s", "c"]]),
        obj("s", "c"),
        obj("s", "d"),
        obj("s", "e", refs=[["s", "e"]]),
        obj("s", "f", refs=[["x", "missing"]]),
        obj("s", "o", "u", refs=[["s", "a"]]),
        *extra,
    ]
    tenants = [cancelled_tenant(), tenant("u", event("subscribed", T1))]
    return plan(inventory(tenants, objects), UTC_POLICY, "t", AS_OF)


def test_a_10_8_sharing() -> None:
    """§10.8: a, b, c are shared through o of another tenant; d, e, f are purged."""
    verdict = _sharing([])
    assert ["d:-", "e:-", "f:-"] == _ids(verdict["purge"])
    assert ["a:shared", "b:shared", "c:shared"] == _ids(verdict["kept"])


def test_a_10_8_held_object_shares() -> None:
    """§10.8: a held object h of T that refs d makes d shared."""
    verdict = _sharing([obj("s", "h", hold=True, refs=[["s", "d"]])])
    assert ["e:-", "f:-"] == _ids(verdict["purge"])
    assert ["a:shared", "b:shared", "c:shared", "d:shared", "h:object-hold"] == _ids(
        verdict["kept"]
    )


def test_a_10_8_cycle_without_ref_from_l_is_purged() -> None:
    """§10.8: a candidate cycle p -> q -> p with no ref from L is purged whole."""
    verdict = _sharing([obj("s", "p", refs=[["s", "q"]]), obj("s", "q", refs=[["s", "p"]])])
    assert ["d:-", "e:-", "f:-", "p:-", "q:-"] == _ids(verdict["purge"])


def test_a_10_8_cycle_with_ref_from_l_is_kept() -> None:
    """§10.8: the same cycle with a ref from L into it is kept whole."""
    extra = [
        obj("s", "p", refs=[["s", "q"]]),
        obj("s", "q", refs=[["s", "p"]]),
        obj("s", "w", "u", refs=[["s", "q"]]),
    ]
    verdict = _sharing(extra)
    assert ["d:-", "e:-", "f:-"] == _ids(verdict["purge"])
    assert ["a:shared", "b:shared", "c:shared", "p:shared", "q:shared"] == _ids(verdict["kept"])
