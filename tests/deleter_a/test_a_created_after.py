"""Spec §7.2 rule 1 (created-after-as-of) in ``plan``, with expectations computed by hand."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

from deleter_a import plan

from .a_support import cancelled_tenant, event, inventory, obj, tenant

AS_OF = "2026-05-01T00:00:00Z"
POLICY: dict[str, object] = {
    "timezone": "UTC",
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
}


Lists = tuple[list[dict[str, str]], list[dict[str, str]]]


def _lists(verdict: dict[str, object]) -> tuple[object, object]:
    return (verdict["purge"], verdict["kept"])


def _plan(objects: list[dict[str, object]], as_of: str = AS_OF) -> dict[str, object]:
    tenants = [cancelled_tenant(), tenant("u", event("subscribed", "2025-01-01T00:00:00Z"))]
    return plan(inventory(tenants, objects), POLICY, "t", as_of)


def test_a_10_7_created_after_as_of() -> None:
    """§10.7: one microsecond after as_of, or 09:00:01+09:00, is created-after-as-of."""
    objects = [
        obj("s", "a", created_at="2026-05-01T00:00:00.000001Z"),
        obj("s", "b", created_at="2026-05-01T09:00:01+09:00"),
    ]
    expected: Lists = (
        [],
        [
            {"store": "s", "key": "a", "reason": "created-after-as-of"},
            {"store": "s", "key": "b", "reason": "created-after-as-of"},
        ],
    )
    assert expected == _lists(_plan(objects))


def test_a_10_7_created_after_beats_hold_and_keep() -> None:
    """§10.7: created-after-as-of is the first rule, before object-hold and category-keep."""
    objects = [
        obj("s", "held", created_at="2026-05-02T00:00:00Z", hold=True),
        obj("s", "kept", created_at="2026-05-02T00:00:00Z", category="audit"),
        obj("s", "logs", created_at="2026-05-02T00:00:00Z", category="logs"),
    ]
    expected: Lists = (
        [],
        [
            {"store": "s", "key": "held", "reason": "created-after-as-of"},
            {"store": "s", "key": "kept", "reason": "created-after-as-of"},
            {"store": "s", "key": "logs", "reason": "created-after-as-of"},
        ],
    )
    assert expected == _lists(_plan(objects))


def test_a_10_7_created_exactly_at_as_of_existed() -> None:
    """§10.7: created at 09:00:00+09:00 (= as_of) existed; the other rules decide."""
    objects = [
        obj("s", "held", created_at="2026-05-01T09:00:00+09:00", hold=True),
        obj("s", "kept", created_at="2026-05-01T09:00:00+09:00", category="audit"),
        obj("s", "logs", created_at="2026-05-01T09:00:00+09:00", category="logs"),
        obj("s", "plain", created_at="2026-05-01T09:00:00+09:00"),
    ]
    expected = (
        [{"store": "s", "key": "plain"}],
        [
            {"store": "s", "key": "held", "reason": "object-hold"},
            {"store": "s", "key": "kept", "reason": "category-keep"},
            {"store": "s", "key": "logs", "reason": "category-retain"},
        ],
    )
    assert expected == _lists(_plan(objects))


def test_a_10_7_created_after_as_of_is_in_l() -> None:
    """§10.7: what a created-after-as-of object refs is shared, transitively."""
    objects = [
        obj("s", "new", created_at="2026-06-01T00:00:00Z", refs=[["s", "old"]]),
        obj("s", "old", refs=[["s", "older"]]),
        obj("s", "older"),
        obj("s", "other"),
    ]
    expected = (
        [{"store": "s", "key": "other"}],
        [
            {"store": "s", "key": "new", "reason": "created-after-as-of"},
            {"store": "s", "key": "old", "reason": "shared"},
            {"store": "s", "key": "older", "reason": "shared"},
        ],
    )
    assert expected == _lists(_plan(objects))


def test_a_created_after_as_of_needs_eligibility() -> None:
    """§7.1: a tenant that is not eligible lists nothing, new objects included."""
    objects = [obj("s", "new", created_at="2026-06-01T00:00:00Z")]
    verdict = _plan(objects, as_of="2026-01-20T00:00:00Z")
    assert (False, "not-due") == (verdict["eligible"], verdict["reason"])
    assert ([], []) == _lists(verdict)


def test_a_created_after_as_of_of_another_tenant_is_not_listed() -> None:
    """§7.4: another tenant's new object is in L but never listed; what it refs is shared."""
    objects = [
        obj("s", "a"),
        obj("s", "u-new", "u", created_at="2026-06-01T00:00:00Z", refs=[["s", "a"]]),
    ]
    expected: Lists = ([], [{"store": "s", "key": "a", "reason": "shared"}])
    assert expected == _lists(_plan(objects))
