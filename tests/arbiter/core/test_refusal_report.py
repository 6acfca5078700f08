"""A refusal report says what each planner did (spec §9): found missing by mutation testing."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import cattrs
import pytest

import arbiter
import deleter_b
from arbiter import Planner, PlannerFailure, RefusedError
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Mapping

A, _ = arbiter.default_planners()
AS_OF = "2026-02-01T00:00:00Z"


def _forgiving_b(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    """Planner B that silently drops the unknown field instead of rejecting it."""
    cleaned = copy.deepcopy(dict(inv))
    for record in cleaned["objects"]:
        record.pop("legalhold", None)
    return deleter_b.plan(cleaned, pol, t, at)


def test_a_rejection_opposite_a_verdict_is_reported_with_what_the_planner_said() -> None:
    """One planner rejects, the other plans: refused, and the report quotes the rejection."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [{**obj("a"), "legalhold": True}],
    }
    forgiving = Planner("b", "forgiving", _forgiving_b, deleter_b.PlanInputError)
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(inventory, {"timezone": "UTC"}, "t", AS_OF, planners=(A, forgiving))
    (failure,) = info.value.report.failures
    assert ("a", "rejected", True) == (
        failure.planner,
        failure.kind,
        "objects[0].legalhold" in failure.message,
    )
    assert isinstance(failure, PlannerFailure)


def test_the_report_names_the_tenant_and_instant_of_the_call() -> None:
    """Spec §9: a divergence report says for whom and as of when the plan was refused."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [{**obj("a"), "legalhold": True}],
    }
    forgiving = Planner("b", "forgiving", _forgiving_b, deleter_b.PlanInputError)
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(inventory, {"timezone": "UTC"}, "t", AS_OF, planners=(A, forgiving))
    assert ("t", AS_OF) == (info.value.report.tenant, info.value.report.as_of)


@pytest.mark.parametrize(
    "listed",
    [
        {"purge": [{"store": "db", "key": "a"}], "kept": []},
        {"purge": [], "kept": [{"store": "db", "key": "a", "reason": "shared"}]},
    ],
    ids=["purge-only", "kept-only"],
)
def test_an_ineligible_verdict_that_lists_any_object_is_malformed(listed: dict[str, Any]) -> None:
    """Spec §7.1: not eligible means nothing listed; a verdict listing either list is refused."""
    raw = {
        "tenant": "t",
        "as_of": AS_OF,
        "eligible": False,
        "reason": "not-due",
        "primary_due": "2026-03-01T00:00:00Z",
        "backup_due": "2026-03-15T00:00:00Z",
        **listed,
    }
    with pytest.raises(cattrs.BaseValidationError) as info:
        arbiter.verdict_from_planner(raw)
    assert "lists no object" in repr(info.value.exceptions)
