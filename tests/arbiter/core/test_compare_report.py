"""Every entry of a divergence report is exact (spec §9): found missing by mutation testing."""

from __future__ import annotations

from arbiter import KeptObject, ObjectId
from arbiter.core.compare import (
    FieldDifference,
    ReasonDifference,
    VerdictDifferences,
    compare_verdicts,
)
from tests.arbiter.core.test_compare import verdict


def test_a_field_difference_carries_both_values() -> None:
    """Spec §9: the report names the field and what A and B each said."""
    diff = compare_verdicts(verdict(), verdict(backup_due="2026-02-16T00:00:00Z"))
    expected = (FieldDifference("backup_due", "2026-02-15T00:00:00Z", "2026-02-16T00:00:00Z"),)
    assert expected == diff.fields


def test_a_reason_difference_names_the_object_and_both_reasons() -> None:
    """Spec §9: an object kept for different reasons is named with A's reason and B's."""
    changed = (KeptObject("db", "c", "shared"), KeptObject("db", "d", "category-keep"))
    diff = compare_verdicts(verdict(), verdict(kept=changed))
    expected = (ReasonDifference("db", "d", "object-hold", "category-keep"),)
    assert expected == diff.kept_reason_differs


def test_a_whole_report_of_two_different_verdicts() -> None:
    """Spec §9: every kind of difference at once, and nothing else."""
    b = verdict(
        primary_due="2026-02-02T00:00:00Z",
        purge=(ObjectId("db", "a"), ObjectId("db", "e")),
        kept=(KeptObject("db", "c", "object-hold"), KeptObject("db", "f", "shared")),
    )
    expected = VerdictDifferences(
        fields=(FieldDifference("primary_due", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z"),),
        purge_only_in_a=(ObjectId("db", "b"),),
        purge_only_in_b=(ObjectId("db", "e"),),
        kept_only_in_a=(KeptObject("db", "d", "object-hold"),),
        kept_only_in_b=(KeptObject("db", "f", "shared"),),
        kept_reason_differs=(ReasonDifference("db", "c", "shared", "object-hold"),),
    )
    assert expected == compare_verdicts(verdict(), b)
