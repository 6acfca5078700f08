"""The shared guards (``arbiter.purge.guards``): each refuses as typed data, or passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter.core.config import LimitsConfig
from arbiter.core.errors import GuardError
from arbiter.core.instants import format_instant
from arbiter.core.verdict import ObjectId
from arbiter.purge import guards

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SUBSCRIBED = ("subscribed", "2025-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], False),
        ([SUBSCRIBED], False),
        ([SUBSCRIBED, ("cancelled", "2026-01-01T00:00:00Z")], True),
        ([("cancelled", "2026-01-01T00:00:00Z"), SUBSCRIBED], True),
        (
            [
                SUBSCRIBED,
                ("cancelled", "2026-01-01T00:00:00Z"),
                ("reactivated", "2026-01-01T00:00:00Z"),
            ],
            False,
        ),
        (
            [("cancelled", "2026-01-01T01:00:00+01:00"), ("reactivated", "2026-01-01T00:00:00Z")],
            False,
        ),
        (
            [SUBSCRIBED, ("cancelled", "2026-01-01T00:00:00Z"), ("note", "2027-01-01T00:00:00Z")],
            True,
        ),
    ],
)
def test_latest_lifecycle_event_decides_and_a_tie_favours_reactivation(
    events: list[tuple[str, str]],
    expected: bool,  # noqa: FBT001 -- a parametrized expectation
) -> None:
    """Only a cancellation that no lifecycle event follows (or ties) counts; other kinds are ignored."""
    assert expected == guards.latest_lifecycle_is_cancellation(events)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_future_as_of_refuses_exactly_after_now_unless_looking_ahead(offset: int) -> None:
    """``future-as-of`` trips for an as_of after now, never at or before it, never for a dry run."""
    as_of = format_instant(NOW + timedelta(microseconds=offset))
    guards.check_not_ahead("t", as_of, NOW, look_ahead=True, details={})
    if offset <= 0:
        guards.check_not_ahead("t", as_of, NOW, look_ahead=False, details={})
        return
    with pytest.raises(GuardError) as info:
        guards.check_not_ahead("t", as_of, NOW, look_ahead=False, details={"backup_due": "x"})
    expected = ("future-as-of", "t", {"backup_due": "x", "now": "2026-03-01T00:00:00Z"}, 0)
    assert expected == (
        info.value.guard,
        info.value.tenant,
        info.value.details,
        info.value.purged_before,
    )


@pytest.mark.parametrize(
    ("state", "guard"),
    [
        (None, "tenant-missing"),
        ((True, [("cancelled", "2026-01-01T00:00:00Z")]), "tenant-hold"),
        ((False, [("reactivated", "2026-01-01T00:00:00Z")]), "tenant-not-cancelled"),
    ],
)
def test_tenant_state_guards_carry_the_callers_details(
    state: tuple[bool, list[tuple[str, str]]] | None, guard: str
) -> None:
    """Each tenant guard names itself and hands on the caller's details (the backup's backup_due)."""
    with pytest.raises(GuardError) as info:
        guards.check_tenant_state("t", state, {"backup_due": "2026-02-01T00:00:00Z"})
    assert (guard, {"backup_due": "2026-02-01T00:00:00Z"}) == (info.value.guard, info.value.details)


def test_a_cancelled_unheld_tenant_passes_the_tenant_guards() -> None:
    """Control: a cancelled tenant without a hold trips no tenant guard."""
    guards.check_tenant_state("t", (False, [("cancelled", "2026-01-01T00:00:00Z")]), {})


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=50))
def test_count_guard_trips_exactly_on_a_difference(deleted: int, expected: int) -> None:
    """``count-mismatch`` trips when, and only when, the counts differ."""
    tripped: str | None = None
    try:
        guards.check_count("t", deleted, expected, "counts", {"deleted": deleted})
    except GuardError as exc:
        tripped = exc.guard
    assert (None if deleted == expected else "count-mismatch") == tripped


def test_blast_radius_counts_and_share_of_the_store() -> None:
    """The count limit and the share limit (above the floor) each trip ``blast-radius``."""
    limits = LimitsConfig(max_objects_per_purge=10, max_store_fraction=0.5, fraction_floor=2)
    found: list[dict[str, object] | None] = []
    for count, total in ((11, 1000), (6, 10), (5, 10), (2, 2)):
        try:
            guards.check_blast_radius("t", count, total, limits)
            found.append(None)
        except GuardError as exc:
            found.append(exc.details)
    assert [{"purge": 11}, {"purge": 6, "total": 10}, None, None] == found


def test_scope_and_staleness_guards() -> None:
    """``foreign-object`` names the outsiders; ``stale`` trips on a changed counter only."""
    mine, theirs = ObjectId("db", "a"), ObjectId("db", "z")
    guards.check_scope("t", (mine,), frozenset({mine}))
    guards.check_unchanged("t", 7, 7)
    with pytest.raises(GuardError) as scope:
        guards.check_scope("t", (mine, theirs), frozenset({mine}))
    with pytest.raises(GuardError) as stale:
        guards.check_unchanged("t", 7, 8)
    assert [("foreign-object", {"objects": [{"store": "db", "key": "z"}]}), ("stale", {})] == [
        (scope.value.guard, scope.value.details),
        (stale.value.guard, stale.value.details),
    ]


def test_a_guard_error_after_deletions_is_a_new_error_with_the_count() -> None:
    """``after`` carries what was deleted in a typed field and leaves the original untouched."""
    original = GuardError("object-hold", "t", "held", {"key": "b"})
    later = original.after(3)
    assert ((0, 3), ("object-hold", "t", "held", {"key": "b"}), str(original)) == (
        (original.purged_before, later.purged_before),
        (later.guard, later.tenant, later.message, later.details),
        str(later),
    )


def test_kept_categories_reads_keep_true_only() -> None:
    """Only categories with ``keep = true`` are kept by the guard."""
    policy = {"categories": {"audit": {"keep": True}, "logs": {"keep": False}, "x": {}}}
    assert frozenset({"audit"}) == guards.kept_categories(policy)
