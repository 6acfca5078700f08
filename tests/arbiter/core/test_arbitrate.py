"""The arbiter runs both planners and yields a plan only on agreement (spec §9)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbiter
import deleter_a
import deleter_b
from arbiter import Planner, RefusedError
from arbiter.core.canonical import canonical_digest
from tests.builders import event, obj, tenant
from tests.conftest import examples
from tests.strategies import Scenario, scenarios

if TYPE_CHECKING:
    from collections.abc import Mapping

A, B = arbiter.default_planners()

INVENTORY = {
    "tenants": [
        tenant(
            "t",
            event("subscribed", "2025-01-01T00:00:00Z"),
            event("cancelled", "2026-01-01T00:00:00Z"),
        ),
        tenant("u"),
    ],
    "objects": [
        obj("a"),
        obj("b", legal_hold=True),
        obj("c", refs=[("db", "a")]),
        obj("o", "u", refs=[("db", "d")]),
        obj("d"),
        obj("x", "u"),
    ],
}
POLICY = {"timezone": "UTC"}
AS_OF = "2026-02-01T00:00:00Z"


def wrong(name: str, plan: Any) -> Planner:
    """A deliberately wrong planner standing in for planner A."""
    return Planner("a", f"wrong-{name}", plan, deleter_a.PlanInputError)


def _off_by_one_day(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    return deleter_a.plan(inv, {**pol, "grace_days": int(pol.get("grace_days", 30)) + 1}, t, at)  # type: ignore[call-overload]


def _ignores_holds(inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str) -> object:
    stripped = copy.deepcopy(dict(inv))
    for record in [*stripped["tenants"], *stripped["objects"]]:
        record.pop("legal_hold", None)
    return deleter_a.plan(stripped, pol, t, at)


def _ignores_reactivation(
    inv: Mapping[str, Any], pol: Mapping[str, object], t: str, at: str
) -> object:
    stripped = copy.deepcopy(dict(inv))
    for record in stripped["tenants"]:
        record["events"] = [e for e in record["events"] if e["kind"] != "reactivated"]
    return deleter_a.plan(stripped, pol, t, at)


def _loses_an_object(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    verdict["purge"] = verdict["purge"][1:]
    return verdict


def _adds_another_tenants_object(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    verdict["purge"] = sorted(
        [*verdict["purge"], {"store": "db", "key": "x"}], key=lambda o: (o["store"], o["key"])
    )
    return verdict


def _crashes(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    raise ZeroDivisionError


def _rejects(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    return deleter_a.plan(inv, pol, t, at.replace("Z", ""))  # an as_of without offset


def _malformed(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
    return {**deleter_a.plan(inv, pol, t, at), "purged_too": []}


def _vandal(inv: Any, pol: Any, t: str, at: str) -> object:
    # Mutates its arguments: the other planner must not see the change.
    inv["objects"].clear()
    pol["timezone"] = "Mars/Olympus"
    return deleter_a.plan(INVENTORY, POLICY, t, at)


@pytest.mark.parametrize(
    ("plan", "expected_summary_part"),
    [
        (_off_by_one_day, "primary_due differs"),
        (_ignores_holds, "purge only in a: 1"),
        (_loses_an_object, "purge only in b: 1"),
        (_adds_another_tenants_object, "purge only in a: 1"),
        (_crashes, "a failed"),
        (_rejects, "a rejected"),
        (_malformed, "a failed"),
    ],
    ids=[
        "off-by-one-day",
        "ignores-holds",
        "loses-object",
        "adds-foreign-object",
        "crashes",
        "rejects",
        "malformed",
    ],
)
def test_a_wrong_planner_is_refused(plan: Any, expected_summary_part: str) -> None:
    """Spec §9: a subtly wrong planner A makes the arbiter refuse, saying what differs."""
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=(wrong("x", plan), B))
    assert expected_summary_part in info.value.report.summary()
    assert "nothing was deleted" in info.value.report.render()


def _with_kept_a(verdict: dict[str, Any]) -> dict[str, Any]:
    kept = [*verdict["kept"], {"store": "db", "key": "a", "reason": "shared"}]
    return {**verdict, "kept": sorted(kept, key=lambda k: (k["store"], k["key"]))}


_NONE: dict[str, Any] = {"purge": [], "kept": []}
# A verdict breaking one cross-field rule of arbiter.core.verdict (invariants 4 and 5), and
# what the failure says.
_CROSS_FIELD = {
    "purged-and-kept": (_with_kept_a, "an object is both purged and kept"),
    "eligible-with-reason": (
        lambda v: {**v, "reason": "not-due"},
        "an eligible verdict has no reason and both dues",
    ),
    "eligible-without-due": (
        lambda v: {**v, "backup_due": None},
        "an eligible verdict has no reason and both dues",
    ),
    "ineligible-without-reason": (
        lambda v: {**v, **_NONE, "eligible": False},
        "an ineligible verdict needs a reason",
    ),
    "ineligible-with-objects": (
        lambda v: {**v, "eligible": False, "reason": "not-due"},
        "an ineligible verdict lists no object",
    ),
    "active-with-dues": (
        lambda v: {**v, **_NONE, "eligible": False, "reason": "active"},
        "dues are reported exactly when the tenant is cancelled",
    ),
    "not-due-without-dues": (
        lambda v: {
            **v,
            **_NONE,
            "eligible": False,
            "reason": "not-due",
            "primary_due": None,
            "backup_due": None,
        },
        "dues are reported exactly when the tenant is cancelled",
    ),
}


@pytest.mark.parametrize("name", sorted(_CROSS_FIELD))
def test_a_verdict_breaking_a_cross_field_rule_is_a_failure_naming_the_rule(name: str) -> None:
    """Spec §7.5: each cross-field rule a planner's verdict breaks is named in its failure."""
    change, rule = _CROSS_FIELD[name]

    def breaks(inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str) -> object:
        return change(deleter_a.plan(inv, pol, t, at))

    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=(wrong("x", breaks), B))
    expected = (
        "malformed verdict: ClassValidationError('While structuring Verdict',"
        f" [ValueError('{rule}')], <class 'arbiter.core.verdict.Verdict'>)"
    )
    assert [("a", "failed", expected)] == [
        (f.planner, f.kind, f.message) for f in info.value.report.failures
    ]


def test_a_crashing_planners_failure_names_its_exception() -> None:
    """A planner that raises: its failure says which exception, and with what message."""

    def crashes_saying(inv: object, pol: object, t: str, at: str) -> object:
        del inv, pol, t, at
        message = "planted"
        raise RuntimeError(message)

    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=(wrong("x", crashes_saying), B))
    assert [("a", "failed", "RuntimeError: planted")] == [
        (f.planner, f.kind, f.message) for f in info.value.report.failures
    ]


def test_ignoring_reactivation_is_refused() -> None:
    """Spec §9: a planner that ignores a reactivation diverges from B on a reactivated tenant."""
    inventory = copy.deepcopy(INVENTORY)
    inventory["tenants"][0]["events"].append(event("reactivated", "2026-01-15T00:00:00Z"))
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(
            inventory, POLICY, "t", AS_OF, planners=(wrong("react", _ignores_reactivation), B)
        )
    assert ["eligible", "reason", "primary_due", "backup_due"] == [
        d.field for d in info.value.report.fields
    ]


def test_planners_get_separate_copies() -> None:
    """Spec §9 rule 1: a planner that vandalises its arguments changes nothing for the other."""
    agreement = arbiter.arbitrate(
        INVENTORY, POLICY, "t", AS_OF, planners=(wrong("vandal", _vandal), B)
    )
    assert ["a", "c"] == [o.key for o in agreement.verdict.purge]


def test_agreement_carries_versions_and_fingerprints() -> None:
    """Spec §9: the agreed plan records both planners' versions and the inputs' fingerprints."""
    agreement = arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF)
    assert {"a": deleter_a.__version__, "b": deleter_b.__version__} == agreement.versions
    expected = {"inventory": arbiter.fingerprint(INVENTORY), "policy": arbiter.fingerprint(POLICY)}
    assert expected == agreement.fingerprints
    assert (["a", "c"], {"b": "object-hold", "d": "shared"}) == (
        [o.key for o in agreement.verdict.purge],
        {k.key: k.reason for k in agreement.verdict.kept},
    )


@pytest.mark.parametrize("wrong_one", ["a", "b"])
def test_a_divergence_report_lists_the_kept_objects_each_side_alone_kept(wrong_one: str) -> None:
    """Spec §9: a planner purging a held object: purged by one side only, kept by the other only."""
    liar = Planner(wrong_one, "wrong-ignores-holds", _ignores_holds, deleter_a.PlanInputError)
    honest = Planner(
        "b" if wrong_one == "a" else "a", "right", deleter_a.plan, deleter_a.PlanInputError
    )
    pair = (liar, honest) if wrong_one == "a" else (honest, liar)
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=pair)
    report = info.value.report
    held = arbiter.ObjectId("db", "b")
    kept = (arbiter.KeptObject("db", "b", "object-hold"),)
    expected = {
        "a": ((held,), (), (), kept),
        "b": ((), (held,), kept, ()),
    }[wrong_one]
    got = (
        report.purge_only_in_a,
        report.purge_only_in_b,
        report.kept_only_in_a,
        report.kept_only_in_b,
    )
    assert expected == got


def _relabels_a_hold(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    for kept in verdict["kept"]:
        if kept["reason"] == "object-hold":
            kept["reason"] = "shared"
    return verdict


def test_a_divergence_report_lists_objects_kept_for_different_reasons() -> None:
    """Spec §9: both keep the held object, one calling it shared: listed with both reasons."""
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(
            INVENTORY, POLICY, "t", AS_OF, planners=(wrong("relabel", _relabels_a_hold), B)
        )
    report = info.value.report
    expected = ((), (), (), (), (arbiter.ReasonDifference("db", "b", "shared", "object-hold"),))
    got = (
        report.purge_only_in_a,
        report.purge_only_in_b,
        report.kept_only_in_a,
        report.kept_only_in_b,
        report.kept_reason_differs,
    )
    assert expected == got


def test_a_divergence_report_carries_the_inputs_fingerprints() -> None:
    """Spec §9: a refusal records what both planners were given, inventory and policy."""
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(
            INVENTORY, POLICY, "t", AS_OF, planners=(wrong("loses", _loses_an_object), B)
        )
    expected = {"inventory": arbiter.fingerprint(INVENTORY), "policy": arbiter.fingerprint(POLICY)}
    assert expected == info.value.report.fingerprints


@pytest.mark.parametrize("pair", [(A, A), (A,), (A, B, A)], ids=["itself", "one", "three"])
def test_planner_pair_must_be_two_distinct_planners(pair: tuple[Planner, ...]) -> None:
    """The arbiter refuses to compare a planner with itself, or other than two, and says so."""
    with pytest.raises(arbiter.UsageError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=pair)  # type: ignore[arg-type]
    assert "arbitrate needs exactly two planners with distinct names" == str(info.value)


WRONG = {
    "off-by-one-day": _off_by_one_day,
    "ignores-holds": _ignores_holds,
    "ignores-reactivation": _ignores_reactivation,
    "loses-object": _loses_an_object,
}


@settings(max_examples=examples(ci=400, dev=100))
@given(scenario=scenarios())
def test_a_wrong_planner_never_yields_a_wrong_plan(scenario: Scenario) -> None:
    """Spec §9: whatever the input, a plan from a wrong A is only ever B's own verdict."""
    try:
        truth = arbiter.run_planner(B, *scenario.args())
    except arbiter.InputError:
        return
    for name, plan in WRONG.items():
        try:
            agreement = arbiter.arbitrate(*scenario.args(), planners=(wrong(name, plan), B))
        except RefusedError:
            continue
        assert truth == agreement.verdict, name


_ANYTHING = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sets(st.integers(), max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text() | st.integers() | st.none(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(_ANYTHING)
def test_a_fingerprint_never_fails(data: object) -> None:
    """Whatever the input holds (NaN, surrogates, sets, mixed keys), it has a fingerprint."""
    assert 64 == len(arbiter.fingerprint(data))


def test_a_fingerprint_of_json_data_is_its_canonical_digest() -> None:
    """For plain JSON data the fingerprint is core.canonical's digest, non-ASCII as itself."""
    data = {"tenant": "Zoë", "n": [1, 2.5, None, True]}
    assert canonical_digest(data) == arbiter.fingerprint(data)


def test_a_fingerprint_spells_what_json_cannot() -> None:
    """A set, NaN, a lone surrogate and a cycle are spelt as text, and so do not collide."""
    cycle: list[object] = []
    cycle.append(cycle)
    spelt = [{"x": {1}}, {"x": float("nan")}, {"x": "\udc80"}, {"x": cycle}, {1: "a", "b": 2}]
    assert len(spelt) == len({arbiter.fingerprint(data) for data in spelt})
    assert canonical_digest({"x": "<set>"}) == arbiter.fingerprint({"x": {1}})
    assert canonical_digest({"x": "<float nan>"}) == arbiter.fingerprint({"x": float("nan")})


def _a_list(_inv: Mapping[str, object], _pol: Mapping[str, object], _t: str, _at: str) -> object:
    return ["not", "a", "verdict"]


def _a_date_for_an_instant(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    return {**deleter_a.plan(inv, pol, t, at), "primary_due": "2026-03-03"}


def _purge_reversed(
    inv: Mapping[str, object], pol: Mapping[str, object], t: str, at: str
) -> object:
    verdict: dict[str, Any] = deleter_a.plan(inv, pol, t, at)
    return {**verdict, "purge": verdict["purge"][::-1]}


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (_a_list, "malformed verdict: TypeError('a verdict is a dict, not list')"),
        (
            _a_date_for_an_instant,
            (
                "malformed verdict: ClassValidationError('While structuring Verdict', [ValueError("
                "\"primary_due '2026-03-03' is not a UTC instant in the form of spec §2.2\")],"
                " <class 'arbiter.core.verdict.Verdict'>)"
            ),
        ),
        (
            _purge_reversed,
            (
                "malformed verdict: ClassValidationError('While structuring Verdict', [ValueError("
                "'purge is not sorted by (store, key) without repeats (spec §7.5)')],"
                " <class 'arbiter.core.verdict.Verdict'>)"
            ),
        ),
    ],
    ids=["a-list", "a-date", "unsorted"],
)
def test_a_malformed_verdict_is_a_failure_that_says_what_is_wrong(plan: Any, expected: str) -> None:
    """The report of a malformed verdict names what is wrong with it, for the operator."""
    with pytest.raises(RefusedError) as info:
        arbiter.arbitrate(INVENTORY, POLICY, "t", AS_OF, planners=(wrong("x", plan), B))
    assert [("a", "failed", expected)] == [
        (f.planner, f.kind, f.message) for f in info.value.report.failures
    ]
