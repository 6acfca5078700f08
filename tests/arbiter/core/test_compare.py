"""The arbiter's comparison: agreement only on whole equality; every difference reported."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from arbiter import KeptObject, ObjectId, Verdict, verdict_from_planner
from arbiter.core.compare import FieldDifference, VerdictDifferences, compare_verdicts


def verdict(**changes: Any) -> Verdict:
    """An eligible verdict with two purged and two kept objects, changed as given."""
    base = Verdict(
        tenant="t",
        as_of="2026-05-01T00:00:00Z",
        eligible=True,
        reason=None,
        primary_due="2026-02-01T00:00:00Z",
        backup_due="2026-02-15T00:00:00Z",
        purge=(ObjectId("db", "a"), ObjectId("db", "b")),
        kept=(KeptObject("db", "c", "shared"), KeptObject("db", "d", "object-hold")),
    )
    return attrs.evolve(base, **changes)


def test_equal_verdicts_agree() -> None:
    """Spec §9: equal verdicts give no difference."""
    assert (VerdictDifferences(), True) == (
        compare_verdicts(verdict(), verdict()),
        compare_verdicts(verdict(), verdict()).agree,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_due", "2026-02-02T00:00:00Z"),
        ("backup_due", "2026-02-14T00:00:00Z"),
        ("tenant", "u"),
        ("as_of", "2026-05-01T00:00:01Z"),
    ],
)
def test_each_scalar_field_is_compared(field: str, value: str) -> None:
    """Spec §9: a difference in any scalar field is reported with both values."""
    diff = compare_verdicts(verdict(), verdict(**{field: value}))
    assert [field] == [d.field for d in diff.fields]
    assert value == diff.fields[0].b


def test_purge_difference_lists_objects_only_in_each() -> None:
    """Spec §9: objects purged by one planner only are listed per side."""
    diff = compare_verdicts(verdict(), verdict(purge=(ObjectId("db", "a"), ObjectId("db", "z"))))
    assert ((ObjectId("db", "b"),), (ObjectId("db", "z"),)) == (
        diff.purge_only_in_a,
        diff.purge_only_in_b,
    )


def test_kept_reason_difference_is_reported() -> None:
    """Spec §9: the same object kept for different reasons is a divergence."""
    diff = compare_verdicts(
        verdict(),
        verdict(
            kept=(KeptObject("db", "c", "category-keep"), KeptObject("db", "d", "object-hold"))
        ),
    )
    assert [("c", "shared", "category-keep")] == [
        (d.key, d.a, d.b) for d in diff.kept_reason_differs
    ]


def test_kept_only_in_one() -> None:
    """Spec §9: an object kept by one planner only is listed."""
    diff = compare_verdicts(verdict(), verdict(kept=(KeptObject("db", "c", "shared"),)))
    assert ((KeptObject("db", "d", "object-hold"),), ()) == (
        diff.kept_only_in_a,
        diff.kept_only_in_b,
    )


@pytest.mark.parametrize(
    "raw_change",
    [
        {"extra": 1},
        {"eligible": 1},
        {"eligible": "true"},
        {"reason": "due"},
        {"primary_due": "2026-02-01T00:00:00+00:00"},
        {"primary_due": "2026-02-01T00:00:00.5Z"},
        {"purge": [{"store": "db", "key": "b"}, {"store": "db", "key": "a"}]},
        {"purge": [{"store": "db", "key": "a"}, {"store": "db", "key": "a"}]},
        {"purge": [{"store": "db", "key": "c"}]},
        {"kept": [{"store": "db", "key": "c", "reason": "because"}]},
        {"kept": [{"store": "db", "key": "c", "reason": "shared", "note": "x"}]},
        {"purge": [{"store": "db", "key": 1}]},
        {"reason": "active"},
        {"backup_due": None},
    ],
)
def test_malformed_verdicts_are_refused_at_the_boundary(raw_change: dict[str, Any]) -> None:
    """Spec §7.5: a verdict breaking its form is not structured (the planner counts as failed)."""
    raw: dict[str, Any] = {
        "tenant": "t",
        "as_of": "2026-05-01T00:00:00Z",
        "eligible": True,
        "reason": None,
        "primary_due": "2026-02-01T00:00:00Z",
        "backup_due": "2026-02-15T00:00:00Z",
        "purge": [{"store": "db", "key": "a"}],
        "kept": [{"store": "db", "key": "c", "reason": "shared"}],
    }
    assert verdict_from_planner(raw).eligible is True
    raw.update(raw_change)
    with pytest.raises(Exception):  # noqa: B017, PT011 -- any structuring error is the point
        verdict_from_planner(raw)


def test_unequal_verdicts_that_no_key_tells_apart_still_diverge() -> None:
    """Rule 1's last resort: verdicts unequal in a way no key of §7.5 shows are a divergence.

    Valid verdicts cannot get there (their lists are sorted and unique); these are built past
    the validators, with the kept list in another order, to reach the guard.
    """
    with attrs.validators.disabled():
        a = verdict()
        b = verdict(kept=tuple(reversed(verdict().kept)))
    expected = VerdictDifferences(fields=(FieldDifference("verdict", repr(a), repr(b)),))
    assert expected == compare_verdicts(a, b)
