"""The worked examples of spec §10, with hand-computed expectations."""

from __future__ import annotations

import deleter_b

from .b_support import (
    UTC,
    Data,
    cancelled,
    eligible_at,
    event,
    inventory,
    keys,
    obj,
    reasons,
    tenant,
)


def _one(tenants: list[Data], policy: Data, as_of: str) -> Data:
    return deleter_b.plan(inventory(tenants, [obj("s", "a")]), policy, "t", as_of)


# --- §10.1 -------------------------------------------------------------------------------------


def test_tokyo_not_due_one_second_before() -> None:
    """Spec §10.1: Tokyo, c late on the 10th UTC, is not due at 2026-04-10T14:59:59Z."""
    tokyo: Data = {"timezone": "Asia/Tokyo"}
    actual = _one([cancelled("t", "2026-03-10T15:30:00Z")], tokyo, "2026-04-10T14:59:59Z")
    expected: Data = {
        "tenant": "t",
        "as_of": "2026-04-10T14:59:59Z",
        "eligible": False,
        "reason": "not-due",
        "primary_due": "2026-04-10T15:00:00Z",
        "backup_due": "2026-04-24T15:00:00Z",
        "purge": [],
        "kept": [],
    }
    assert expected == actual


def test_tokyo_eligible_at_due() -> None:
    """Spec §10.1: at 2026-04-10T15:00:00Z the Tokyo tenant is eligible."""
    tokyo: Data = {"timezone": "Asia/Tokyo"}
    actual = _one([cancelled("t", "2026-03-10T15:30:00Z")], tokyo, "2026-04-10T15:00:00Z")
    expected: Data = {
        "tenant": "t",
        "as_of": "2026-04-10T15:00:00Z",
        "eligible": True,
        "reason": None,
        "primary_due": "2026-04-10T15:00:00Z",
        "backup_due": "2026-04-24T15:00:00Z",
        "purge": [{"store": "s", "key": "a"}],
        "kept": [],
    }
    assert expected == actual


# --- §10.2 to §10.4 ----------------------------------------------------------------------------


def test_sao_paulo_skipped_midnight() -> None:
    """Spec §10.2: sod(2018-11-04) in Sao Paulo is the 01:00-02:00 transition, 03:00Z."""
    policy: Data = {"timezone": "America/Sao_Paulo"}
    actual = _one([cancelled("t", "2018-10-04T15:00:00Z")], policy, "2018-11-04T02:59:59Z")
    assert "2018-11-04T03:00:00Z" == actual["primary_due"]
    # ld(primary) = 2018-11-04, + 14 = 2018-11-18, midnight at -02:00.
    assert "2018-11-18T02:00:00Z" == actual["backup_due"]
    assert "not-due" == actual["reason"]


def test_havana_repeated_midnight() -> None:
    """Spec §10.3: sod(2025-11-02) in Havana is the first midnight, 04:00Z."""
    policy: Data = {"timezone": "America/Havana"}
    actual = _one([cancelled("t", "2025-10-02T16:00:00Z")], policy, "2025-11-02T04:00:00Z")
    assert "2025-11-02T04:00:00Z" == actual["primary_due"]
    # ld(04:00Z) = 2025-11-02, + 14 = 2025-11-16, midnight at -05:00.
    assert "2025-11-16T05:00:00Z" == actual["backup_due"]
    assert actual["eligible"] is True


def test_apia_skipped_date() -> None:
    """Spec §10.4: with grace 0, sod(2011-12-30) in Apia is the start of the 31st, 10:00Z."""
    policy: Data = {"timezone": "Pacific/Apia", "grace_days": 0}
    # 2011-12-29T22:00Z is 12:00 on the 29th at UTC-10.
    actual = _one([cancelled("t", "2011-12-29T22:00:00Z")], policy, "2011-12-30T09:59:59Z")
    assert "2011-12-30T10:00:00Z" == actual["primary_due"]
    # ld(primary) = 2011-12-31, + 14 = 2012-01-14, midnight at +14:00.
    assert "2012-01-13T10:00:00Z" == actual["backup_due"]
    assert "not-due" == actual["reason"]


# --- §10.5 -------------------------------------------------------------------------------------


def test_cancel_and_reactivate_same_instant_is_active() -> None:
    """Spec §10.5: cancelled and reactivated at the same instant leave T active."""
    at = "2026-01-10T12:00:00Z"
    for events in (
        [event("cancelled", at), event("reactivated", at)],
        [event("reactivated", at), event("cancelled", at)],
    ):
        actual = _one([tenant("t", events)], UTC, "2027-01-01T00:00:00Z")
        assert ("active", None, None) == (
            actual["reason"],
            actual["primary_due"],
            actual["backup_due"],
        )


def test_subscribed_same_instant_as_cancel_is_later() -> None:
    """Spec §5.2: subscribed at the instant of a cancellation counts as later: active."""
    at = "2026-01-10T12:00:00Z"
    actual = _one(
        [tenant("t", [event("subscribed", at), event("cancelled", at)])],
        UTC,
        "2027-01-01T00:00:00Z",
    )
    assert "active" == actual["reason"]


def test_recancellation_counts_from_last_cancel() -> None:
    """Spec §10.5: subscribed, cancelled t1, reactivated t2, cancelled t3 gives c = t3."""
    events = [
        event("cancelled", "2026-01-01T00:00:00Z"),
        event("reactivated", "2026-02-01T00:00:00Z"),
        event("subscribed", "2025-01-01T00:00:00Z"),
        event("cancelled", "2026-03-01T10:00:00Z"),
    ]
    actual = _one([tenant("t", events)], UTC, "2026-03-02T00:00:00Z")
    # ld(t3) = 2026-03-01, + 31 = 2026-04-01; + 14 = 2026-04-15.
    assert ("2026-04-01T00:00:00Z", "2026-04-15T00:00:00Z") == (
        actual["primary_due"],
        actual["backup_due"],
    )


def test_two_cancellations_take_the_last() -> None:
    """Spec §10.5: two cancellations t1 < t2 with nothing between give c = t2."""
    events = [
        event("cancelled", "2026-01-20T00:00:00Z"),
        event("cancelled", "2026-01-05T00:00:00Z"),
    ]
    actual = _one([tenant("t", events)], UTC, "2026-01-21T00:00:00Z")
    # ld(t2) = 2026-01-20, + 31 = 2026-02-20.
    assert "2026-02-20T00:00:00Z" == actual["primary_due"]


def test_events_after_as_of_are_ignored() -> None:
    """Spec §5: a cancellation after as_of is not yet known, so T is active."""
    actual = _one([cancelled("t", "2026-01-20T00:00:00Z")], UTC, "2026-01-19T23:59:59.999999Z")
    assert ("active", None) == (actual["reason"], actual["primary_due"])


def test_reactivation_after_as_of_is_ignored() -> None:
    """Spec §5: a reactivation after as_of does not undo a known cancellation."""
    events = [
        event("cancelled", "2026-01-01T00:00:00Z"),
        event("reactivated", "2026-03-01T00:00:00Z"),
    ]
    actual = _one([tenant("t", events)], UTC, "2026-02-15T00:00:00Z")
    assert (True, "2026-02-01T00:00:00Z") == (actual["eligible"], actual["primary_due"])


# --- §10.6 -------------------------------------------------------------------------------------

_C = "2026-01-10T12:00:00Z"


def _erasure(request: str, as_of: str) -> Data:
    events = [
        event("subscribed", "2025-01-01T00:00:00Z"),
        event("cancelled", _C),
        event("erasure_requested", request),
    ]
    return _one([tenant("t", events)], UTC, as_of)


def test_erasure_request_brings_due_forward() -> None:
    """Spec §10.6: a request at 2026-01-12T08:00Z, once known, is the primary due."""
    actual = _erasure("2026-01-12T08:00:00Z", "2026-01-12T08:00:00Z")
    assert (True, "2026-01-12T08:00:00Z", "2026-01-26T00:00:00Z") == (
        actual["eligible"],
        actual["primary_due"],
        actual["backup_due"],
    )


def test_erasure_request_not_yet_known() -> None:
    """Spec §10.6: before the request's instant the normal dues apply."""
    actual = _erasure("2026-01-12T08:00:00Z", "2026-01-12T07:59:59Z")
    assert ("not-due", "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z") == (
        actual["reason"],
        actual["primary_due"],
        actual["backup_due"],
    )


def test_erasure_request_before_cancellation_ignored() -> None:
    """Spec §10.6: a request before c belongs to an earlier subscription and is ignored."""
    actual = _erasure("2026-01-09T00:00:00Z", "2026-01-20T00:00:00Z")
    assert ("not-due", "2026-02-10T00:00:00Z") == (actual["reason"], actual["primary_due"])


def test_erasure_request_at_cancellation_counts() -> None:
    """Spec §6: c <= r is inclusive, so a request at c makes c the primary due."""
    actual = _erasure(_C, _C)
    assert (True, _C, "2026-01-24T00:00:00Z") == (
        actual["eligible"],
        actual["primary_due"],
        actual["backup_due"],
    )


def test_earliest_erasure_request_wins() -> None:
    """Spec §6: of several requests in [c, as_of] the earliest is used."""
    events = [
        event("cancelled", _C),
        event("erasure_requested", "2026-01-15T00:00:00Z"),
        event("erasure_requested", "2026-01-11T00:00:00Z"),
        event("erasure_requested", "2026-01-30T00:00:00Z"),
    ]
    actual = _one([tenant("t", events)], UTC, "2026-01-16T00:00:00Z")
    assert "2026-01-11T00:00:00Z" == actual["primary_due"]


def test_erasure_without_cancellation_is_active() -> None:
    """Spec §6: an erasure request does not cancel an active tenant."""
    events = [event("subscribed", _C), event("erasure_requested", "2026-01-11T00:00:00Z")]
    actual = _one([tenant("t", events)], UTC, "2026-02-01T00:00:00Z")
    assert ("active", None, None) == (
        actual["reason"],
        actual["primary_due"],
        actual["backup_due"],
    )


# --- §10.7 -------------------------------------------------------------------------------------

_CATEGORIES: Data = {
    "timezone": "UTC",
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
}


def test_holds_and_categories_at_their_boundaries() -> None:
    """Spec §10.7: object-hold beats keep; keep; retain boundary is by date, not time."""
    objects = [
        obj("s", "held-audit", category="audit", legal_hold=True),
        obj("s", "audit", category="audit"),
        obj("s", "logs-0421", category="logs", created_at="2026-04-21T00:00:00Z"),
        obj("s", "logs-0421-late", category="logs", created_at="2026-04-21T00:00:01Z"),
        obj("s", "logs-0422", category="logs", created_at="2026-04-22T00:00:00Z"),
        obj("s", "plain", category="unlisted"),
        obj("s", "unheld", legal_hold=False),
    ]
    actual = eligible_at("2026-05-01T00:00:00Z", objects, _CATEGORIES)
    assert [("s", "logs-0421"), ("s", "logs-0421-late"), ("s", "plain"), ("s", "unheld")] == keys(
        actual["purge"]
    )
    assert {
        "audit": "category-keep",
        "held-audit": "object-hold",
        "logs-0422": "category-retain",
    } == reasons(actual)


def test_created_after_as_of_is_kept_first() -> None:
    """Spec §10.7: created after as_of is kept first, before hold and keep; at as_of it is not."""
    objects = [
        obj("s", "micro-later", created_at="2026-05-01T00:00:00.000001Z"),
        obj("s", "tokyo-later", created_at="2026-05-01T09:00:01+09:00"),
        obj("s", "later-held", created_at="2026-05-01T09:00:01+09:00", legal_hold=True),
        obj("s", "later-audit", category="audit", created_at="2026-05-02T00:00:00Z"),
        obj("s", "later-logs", category="logs", created_at="2026-05-02T00:00:00Z"),
        obj("s", "at-as-of", created_at="2026-05-01T09:00:00+09:00"),
        obj("s", "at-as-of-held", created_at="2026-05-01T09:00:00+09:00", legal_hold=True),
        obj("s", "at-as-of-audit", category="audit", created_at="2026-05-01T00:00:00Z"),
    ]
    actual = eligible_at("2026-05-01T00:00:00Z", objects, _CATEGORIES)
    assert [("s", "at-as-of")] == keys(actual["purge"])
    assert {
        "micro-later": "created-after-as-of",
        "tokyo-later": "created-after-as-of",
        "later-held": "created-after-as-of",
        "later-audit": "created-after-as-of",
        "later-logs": "created-after-as-of",
        "at-as-of-held": "object-hold",
        "at-as-of-audit": "category-keep",
    } == reasons(actual)


def test_created_after_as_of_is_in_l() -> None:
    """Spec §10.7/§7.3: what a created-after-as-of object refs is shared, transitively."""
    objects = [
        obj("s", "new", created_at="2026-06-01T00:00:00Z", refs=[("s", "old1")]),
        obj("s", "old1", refs=[("s", "old2")]),
        obj("s", "old2"),
        obj("s", "lone"),
    ]
    actual = eligible_at("2026-05-01T00:00:00Z", objects)
    assert [("s", "lone")] == keys(actual["purge"])
    assert {"new": "created-after-as-of", "old1": "shared", "old2": "shared"} == reasons(actual)


def test_created_after_as_of_not_listed_when_not_eligible() -> None:
    """Spec §7.1: a tenant that is not eligible lists no object, created later or not."""
    inv = inventory(
        [cancelled("t", "2026-04-20T00:00:00Z")],
        [obj("s", "new", created_at="2026-06-01T00:00:00Z")],
    )
    actual = deleter_b.plan(inv, UTC, "t", "2026-05-01T00:00:00Z")
    assert ("not-due", [], []) == (actual["reason"], actual["purge"], actual["kept"])


def test_tenant_hold_lists_nothing_but_reports_dues() -> None:
    """Spec §10.7: T on legal hold gives tenant-hold, empty lists and both dues."""
    inv = inventory([cancelled("t", "2026-01-01T00:00:00Z", legal_hold=True)], [obj("s", "a")])
    actual = deleter_b.plan(inv, UTC, "t", "2026-05-01T00:00:00Z")
    expected: Data = {
        "tenant": "t",
        "as_of": "2026-05-01T00:00:00Z",
        "eligible": False,
        "reason": "tenant-hold",
        "primary_due": "2026-02-01T00:00:00Z",
        "backup_due": "2026-02-15T00:00:00Z",
        "purge": [],
        "kept": [],
    }
    assert expected == actual


def test_tenant_hold_comes_before_not_due() -> None:
    """Spec §7.1: a held tenant that is not yet due reports tenant-hold."""
    inv = inventory([cancelled("t", "2026-01-01T00:00:00Z", legal_hold=True)], [])
    actual = deleter_b.plan(inv, UTC, "t", "2026-01-02T00:00:00Z")
    assert "tenant-hold" == actual["reason"]


def test_active_comes_before_tenant_hold() -> None:
    """Spec §7.1: an active held tenant reports active, with no dues."""
    inv = inventory([tenant("t", [], legal_hold=True)], [obj("s", "a")])
    actual = deleter_b.plan(inv, UTC, "t", "2026-01-02T00:00:00Z")
    assert ("active", None, None, [], []) == (
        actual["reason"],
        actual["primary_due"],
        actual["backup_due"],
        actual["purge"],
        actual["kept"],
    )


def test_retain_days_zero_and_retain_in_zone() -> None:
    """Spec §7.2: retain_days counts local dates in Z; retain 0 keeps nothing once created."""
    policy: Data = {
        "timezone": "Asia/Tokyo",
        "categories": {"zero": {"retain_days": 0}, "one": {"retain_days": 1}},
    }
    objects = [
        obj("s", "zero", category="zero", created_at="2026-04-30T23:00:00Z"),
        # 2026-04-30T15:00Z is 2026-05-01 00:00 in Tokyo: kept until 2026-05-01T15:00Z.
        obj("s", "one-late", category="one", created_at="2026-04-30T15:00:00Z"),
        # 14:59:59Z is still 2026-04-30 in Tokyo: kept until 2026-04-30T15:00Z.
        obj("s", "one-early", category="one", created_at="2026-04-30T14:59:59Z"),
    ]
    actual = eligible_at("2026-05-01T00:00:00Z", objects, policy)
    assert [("s", "one-early"), ("s", "zero")] == keys(actual["purge"])
    assert {"one-late": "category-retain"} == reasons(actual)


# --- §10.8 -------------------------------------------------------------------------------------


def _graph(extra: list[Data]) -> Data:
    objects = [
        obj("s", "a", refs=[("s", "b")]),
        obj("s", "b", refs=[("s", "c")]),
        obj("s", "c"),
        obj("s", "d"),
        obj("s", "e", refs=[("s", "e")]),
        obj("s", "f", refs=[("x", "missing")]),
        *extra,
    ]
    return eligible_at("2026-05-01T00:00:00Z", objects)


def test_sharing_chain_from_other_tenant() -> None:
    """Spec §10.8: o of another tenant refs a; a, b, c are shared; d, e, f are purged."""
    actual = _graph([obj("s", "o", "u", refs=[("s", "a")])])
    assert [("s", "d"), ("s", "e"), ("s", "f")] == keys(actual["purge"])
    assert {"a": "shared", "b": "shared", "c": "shared"} == reasons(actual)


def test_sharing_from_held_object_of_tenant() -> None:
    """Spec §10.8: T's held object h refs d, so d is shared as well."""
    actual = _graph(
        [obj("s", "o", "u", refs=[("s", "a")]), obj("s", "h", legal_hold=True, refs=[("s", "d")])]
    )
    assert [("s", "e"), ("s", "f")] == keys(actual["purge"])
    assert {
        "a": "shared",
        "b": "shared",
        "c": "shared",
        "d": "shared",
        "h": "object-hold",
    } == reasons(actual)


def test_cycle_without_ref_from_kept_is_purged() -> None:
    """Spec §10.8: a candidate cycle p -> q -> p with no ref from L is purged whole."""
    objects = [obj("s", "p", refs=[("s", "q")]), obj("s", "q", refs=[("s", "p")])]
    actual = eligible_at("2026-05-01T00:00:00Z", objects)
    assert ([("s", "p"), ("s", "q")], []) == (keys(actual["purge"]), actual["kept"])


def test_cycle_with_ref_from_kept_is_kept() -> None:
    """Spec §10.8: the same cycle with a ref from L into it is kept whole."""
    objects = [
        obj("s", "p", refs=[("s", "q")]),
        obj("s", "q", refs=[("s", "p")]),
        obj("s", "o", "u", refs=[("s", "q")]),
    ]
    actual = eligible_at("2026-05-01T00:00:00Z", objects)
    assert ([], {"p": "shared", "q": "shared"}) == (keys(actual["purge"]), reasons(actual))


def test_largest_day_counts_at_the_end_of_the_range() -> None:
    """Spec §2.1/§4.2/§6: c at the last instant with 36500-day counts still computes dues."""
    policy: Data = {"timezone": "UTC", "grace_days": 36500, "backup_lag_days": 36500}
    last = "9000-12-31T23:59:59.999999Z"
    actual = _one([cancelled("t", last)], policy, last)
    # 9000-12-31 + 36501 = 9101-01-01 - 24 days (24 leap days in 9001..9100) = 9100-12-08;
    # + 36500 = 9200-12-08 - 25 days (25 leap days in 9101..9200, 9200 is one) = 9200-11-13.
    assert ("not-due", "9100-12-08T00:00:00Z", "9200-11-13T00:00:00Z") == (
        actual["reason"],
        actual["primary_due"],
        actual["backup_due"],
    )


def test_far_future_dues_in_a_zone_with_dst_rules() -> None:
    """Spec §3: zone rules extend past the last listed transition (POSIX tail, year 9000)."""
    policy: Data = {"timezone": "Europe/Paris", "grace_days": 0, "backup_lag_days": 0}
    # 9000-07-01T12:00Z is 14:00 at +02:00 (summer); sod(9000-07-02) = 9000-07-01T22:00Z.
    # 9000-12-01T12:00Z is 13:00 at +01:00 (winter); sod(9000-12-02) = 9000-12-01T23:00Z.
    summer = _one([cancelled("t", "9000-07-01T12:00:00Z")], policy, "9000-07-01T12:00:00Z")
    winter = _one([cancelled("t", "9000-12-01T12:00:00Z")], policy, "9000-12-01T12:00:00Z")
    assert ("9000-07-01T22:00:00Z", "9000-12-01T23:00:00Z") == (
        summer["primary_due"],
        winter["primary_due"],
    )
