"""The lockstep comparison of two streamed verdicts (arbiter.core.lockstep, spec §8.1, §9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, note, settings

import deleter_a
import deleter_b
from arbiter.core.arbitrate import arbitrate
from arbiter.core.compare import (
    DivergenceReport,
    FieldDifference,
    PlannerFailure,
    ReasonDifference,
    compare_verdicts,
)
from arbiter.core.errors import InputError, RefusedError, UsageError
from arbiter.core.lockstep import Decision, Lockstep, PlannerStream, StreamEnd, VerdictDigest
from arbiter.core.verdict import KeptObject, ObjectId, Verdict, verdict_from_planner
from arbiter.purge.purger import plan_digest
from tests.conftest import examples
from tests.differential.test_stream import stream_slice
from tests.strategies import Scenario, chain_scenarios, reason_changes, scenarios

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import ModuleType

SCALARS: dict[str, object] = {
    "tenant": "t",
    "as_of": "2026-02-01T00:00:00Z",
    "eligible": True,
    "reason": None,
    "primary_due": "2026-01-31T00:00:00Z",
    "backup_due": "2026-02-14T00:00:00Z",
}
NOT_DUE: dict[str, object] = {**SCALARS, "eligible": False, "reason": "not-due"}
FED = [("db", "k0"), ("db", "k1"), ("db", "k2")]
DECISIONS: list[dict[str, object]] = [
    {"store": "db", "key": "k0", "reason": None},
    {"store": "db", "key": "k1", "reason": "object-hold"},
    {"store": "db", "key": "k2", "reason": None},
]
AGREED = [
    Decision("db", "k0", None),
    Decision("db", "k1", "object-hold"),
    Decision("db", "k2", None),
]


def walk(
    first: PlannerStream,
    second: PlannerStream | None = None,
    fed: Iterable[tuple[object, object]] = FED,
    keep: int = 1000,
) -> tuple[list[Decision], BaseException | None]:
    """What a lockstep walk yields, and what it raises at the end (None: agreement)."""
    other = second if second is not None else PlannerStream("b", SCALARS, list(DECISIONS))
    seen: list[Decision] = []
    try:
        for decision in Lockstep(
            first,
            other,
            fed,
            tenant="t",
            as_of="2026-02-01T00:00:00Z",
            versions={"a": "1", "b": "1"},
            fingerprints={"slice": "0" * 64},
            keep=keep,
        ):
            seen.append(decision)  # noqa: PERF402 -- what was yielded before the raise
    except (RefusedError, InputError) as exc:
        return seen, exc
    return seen, None


def report_of(outcome: BaseException | None) -> DivergenceReport:
    """The divergence report a refused walk raised."""
    assert isinstance(outcome, RefusedError), outcome
    return outcome.report


def failed(message: str, name: str = "a") -> DivergenceReport:
    """The report of a walk refused because planner ``name`` failed with ``message``."""
    return DivergenceReport(
        tenant="t",
        as_of="2026-02-01T00:00:00Z",
        versions={"a": "1", "b": "1"},
        fingerprints={"slice": "0" * 64},
        failures=(PlannerFailure(name, "failed", message),),
    )


class Unread:
    """Objects fed that must not be read."""

    def __iter__(self) -> Unread:
        """Itself."""
        return self

    def __next__(self) -> tuple[str, str]:
        """Never an object: reading fails the test."""
        raise AssertionError("the objects fed were read")


def test_equal_streams_agree_and_yield_every_decision() -> None:
    """Equal scalars and decisions naming the objects fed: every decision, then agreement."""
    assert (AGREED, None) == walk(PlannerStream("a", SCALARS, list(DECISIONS)))


def test_ineligible_streams_agree_without_reading_what_was_fed() -> None:
    """Two equal ineligible verdicts list nothing; the objects fed are not read."""
    first = PlannerStream("a", NOT_DUE, [])
    second = PlannerStream("b", NOT_DUE, [])
    assert ([], None) == walk(first, second, fed=Unread())


def test_the_scalars_are_known_before_the_walk() -> None:
    """``scalars`` is the agreed verdict without objects; None when the scalars differ."""
    same = Lockstep(
        PlannerStream("a", SCALARS),
        PlannerStream("b", SCALARS),
        FED,
        tenant="t",
        as_of="x",
        versions={},
        fingerprints={},
    )
    differ = Lockstep(
        PlannerStream("a", SCALARS),
        PlannerStream("b", {**SCALARS, "backup_due": "2026-02-15T00:00:00Z"}),
        FED,
        tenant="t",
        as_of="x",
        versions={},
        fingerprints={},
    )
    expected = verdict_from_planner({**SCALARS, "purge": [], "kept": []})
    assert (expected, None) == (same.scalars, differ.scalars)


def test_a_different_scalar_refuses_with_the_field_and_its_objects() -> None:
    """A different due refuses, naming the field; the objects agree and are not listed."""
    changed = {**SCALARS, "backup_due": "2026-02-15T00:00:00Z"}
    seen, outcome = walk(PlannerStream("a", changed, list(DECISIONS)))
    fields = (FieldDifference("backup_due", "2026-02-15T00:00:00Z", "2026-02-14T00:00:00Z"),)
    assert ([], fields, ()) == (seen, report_of(outcome).fields, report_of(outcome).failures)


def test_eligible_against_ineligible_lists_the_eligible_objects_as_only_in_one() -> None:
    """As compare_verdicts does: the ineligible verdict lists nothing, so all are one-sided."""
    seen, outcome = walk(PlannerStream("a", NOT_DUE, []))
    report = report_of(outcome)
    expected = (
        (ObjectId("db", "k0"), ObjectId("db", "k2")),
        (KeptObject("db", "k1", "object-hold"),),
        ("eligible", "reason"),
    )
    assert [] == seen
    assert expected == (
        report.purge_only_in_b,
        report.kept_only_in_b,
        tuple(f.field for f in report.fields),
    )


def test_nothing_is_yielded_after_the_first_difference() -> None:
    """The walk stops yielding at a difference but reads on to the end, listing every one."""
    changed = [dict(DECISIONS[0]), {**DECISIONS[1], "reason": "shared"}, {**DECISIONS[2]}]
    changed[2]["reason"] = "category-keep"
    seen, outcome = walk(PlannerStream("a", SCALARS, changed))
    report = report_of(outcome)
    assert [AGREED[0]] == seen
    assert (ReasonDifference("db", "k1", "shared", "object-hold"),) == report.kept_reason_differs
    assert (KeptObject("db", "k2", "category-keep"),) == report.kept_only_in_a
    assert (ObjectId("db", "k2"),) == report.purge_only_in_b


def test_a_failure_at_the_last_position_comes_after_the_agreed_decisions() -> None:
    """Decisions are yielded as agreed; a failure at the end still refuses (rule 5)."""
    seen, outcome = walk(PlannerStream("a", SCALARS, [*DECISIONS[:2], {"store": "db"}]))
    message = "decision 2 is malformed: keys ['store'], not 'store', 'key', 'reason'"
    assert (AGREED[:2], failed(message)) == (seen, report_of(outcome))


def test_report_keeps_the_first_entries_and_counts_the_rest() -> None:
    """With keep=2 and five differences per list: two listed, three counted, five reported."""
    fed = [("db", f"k{i}") for i in range(5)]
    purged = [{"store": s, "key": k, "reason": None} for s, k in fed]
    held = [{"store": s, "key": k, "reason": "object-hold"} for s, k in fed]
    _, outcome = walk(
        PlannerStream("a", SCALARS, purged), PlannerStream("b", SCALARS, held), fed, 2
    )
    report = report_of(outcome)
    assert (ObjectId("db", "k0"), ObjectId("db", "k1")) == report.purge_only_in_a
    assert {"purge_only_in_a": 3, "kept_only_in_b": 3} == report.omitted
    assert 5 == report.count("kept_only_in_b")
    assert "purge only in a: 5; kept only in b: 5" in report.summary()
    assert "  purge only in a (5):" in report.render().splitlines()


@pytest.mark.parametrize(
    ("decisions", "message"),
    [
        (
            [["db", "k0", None], *DECISIONS[1:]],
            "decision 0 is malformed: a list, not a dict",
        ),
        (
            [DECISIONS[0], {**DECISIONS[1], "note": "x"}, DECISIONS[2]],
            (
                "decision 1 is malformed: keys ['key', 'note', 'reason', 'store'],"
                " not 'store', 'key', 'reason'"
            ),
        ),
        (
            [DECISIONS[0], {**DECISIONS[1], "store": 1}, DECISIONS[2]],
            "decision 1 is malformed: store 1 and key 'k1' are not both strings",
        ),
        (
            [DECISIONS[0], {**DECISIONS[1], "reason": "gone"}, DECISIONS[2]],
            (
                "decision 1 is malformed: reason 'gone' is neither null nor a kept reason"
                " of spec §7.2, §7.3"
            ),
        ),
        (
            [DECISIONS[0], {**DECISIONS[1], "key": "k1-not-fed"}, DECISIONS[2]],
            "decision 1 names db/k1-not-fed, but the object fed at 1 is db/k1",
        ),
        (
            [DECISIONS[1], DECISIONS[0], DECISIONS[2]],
            "decision 0 names db/k1, but the object fed at 0 is db/k0",
        ),
        (
            DECISIONS[:2],
            "decisions end after 2: the object fed at 2, db/k2, has no decision",
        ),
        (
            [*DECISIONS, {"store": "db", "key": "k3", "reason": None}],
            "decision 3 names db/k3, but only 3 objects were fed",
        ),
    ],
)
def test_a_malformed_decision_stream_is_its_planners_failure(
    decisions: list[object], message: str
) -> None:
    """Rule 3: shape, types, reasons, scope, order and length, each named with its position."""
    seen, outcome = walk(PlannerStream("a", SCALARS, decisions))
    assert failed(message) == report_of(outcome)
    assert all(decision in AGREED for decision in seen)


def test_an_ineligible_verdict_with_a_decision_fails_by_the_verdicts_own_rule() -> None:
    """Rule 3: a decision after ineligible scalars breaks the verdict's invariant 5."""
    _, outcome = walk(PlannerStream("a", NOT_DUE, DECISIONS), PlannerStream("b", NOT_DUE, []))
    assert failed("decision 0: an ineligible verdict lists no object") == report_of(outcome)


@pytest.mark.parametrize(
    ("scalars", "message"),
    [
        (
            {k: v for k, v in SCALARS.items() if k != "backup_due"},
            "malformed verdict: fields missing ['backup_due'], unexpected []",
        ),
        (
            {**SCALARS, "purge": []},
            "malformed verdict: fields missing [], unexpected ['purge']",
        ),
        ({**SCALARS, "as_of": "2026-02-01T00:00:00+00:00"}, "is not a UTC instant"),
        ({**SCALARS, "reason": "gone"}, "gone not in literal"),
        ({**SCALARS, "reason": "active"}, "an eligible verdict has no reason and both dues"),
        ({**NOT_DUE, "primary_due": None}, "dues are reported exactly when"),
        ({**SCALARS, "eligible": 1}, "expected bool"),
        (["not", "a", "mapping"], "malformed verdict: a list"),
    ],
)
def test_malformed_scalars_are_their_planners_failure(scalars: Any, message: str) -> None:
    """Rule 2: the verdict's own checks, on a verdict listing no object."""
    _, outcome = walk(PlannerStream("a", scalars, DECISIONS))
    report = report_of(outcome)
    assert [("a", "failed")] == [(f.planner, f.kind) for f in report.failures]
    assert message in report.failures[0].message
    assert ((), ()) == (report.fields, report.kept_only_in_b)


def test_both_rejecting_is_bad_input_as_the_first_saw_it() -> None:
    """Rule 7: both rejected, in either pass: A's InputError."""
    a = InputError(source="inventory", field="objects[1]", message="bad")
    b = InputError(source="inventory", field="objects[2]", message="worse")
    first_pass = walk(PlannerStream("a", a), PlannerStream("b", b))
    second_pass = walk(
        PlannerStream("a", SCALARS, [DECISIONS[0], StreamEnd(a)]),
        PlannerStream("b", b),
    )
    assert ([], a) == first_pass
    assert ([], a) == second_pass


def test_one_rejection_opposite_a_verdict_refuses() -> None:
    """Rule 7: a single rejection (here from the second pass) is a divergence."""
    rejection = InputError(source="inventory", field="objects", message="passes differ")
    _, outcome = walk(PlannerStream("a", SCALARS, [*DECISIONS, StreamEnd(rejection)]))
    expected = (PlannerFailure("a", "rejected", "objects: passes differ"),)
    assert expected == report_of(outcome).failures


def test_a_failure_reported_part_way_or_raised_by_the_iterator_is_a_failure() -> None:
    """Rule 4: a StreamEnd failure, or an exception from the decisions iterator."""

    def crashing() -> Iterator[object]:
        yield DECISIONS[0]
        raise ZeroDivisionError("planted")

    ended = PlannerStream(
        "a", SCALARS, [DECISIONS[0], StreamEnd(PlannerFailure("x", "failed", "died"))]
    )
    assert failed("died") == report_of(walk(ended)[1])
    assert failed("ZeroDivisionError: planted") == report_of(
        walk(PlannerStream("a", SCALARS, crashing()))[1]
    )
    b_failed = walk(
        PlannerStream("a", SCALARS, DECISIONS),
        PlannerStream("b", PlannerFailure("b", "failed", "gone")),
    )
    assert failed("gone", "b") == report_of(b_failed[1])


def test_both_failing_lists_both_failures() -> None:
    """Each planner's failure is reported, the second's found by reading its stream on."""
    _, outcome = walk(
        PlannerStream("a", SCALARS, DECISIONS[:1]),
        PlannerStream("b", SCALARS, [*DECISIONS[:2], {"store": "db", "key": "k2"}]),
    )
    assert [("a", "failed"), ("b", "failed")] == [
        (f.planner, f.kind) for f in report_of(outcome).failures
    ]


def test_a_walk_runs_once_and_needs_two_names() -> None:
    """UsageError for a second walk, and for two planners of one name."""
    comparison = Lockstep(
        PlannerStream("a", NOT_DUE),
        PlannerStream("b", NOT_DUE),
        FED,
        tenant="t",
        as_of="x",
        versions={},
        fingerprints={},
    )
    list(comparison)
    with pytest.raises(UsageError):
        iter(comparison)
    with pytest.raises(UsageError):
        Lockstep(
            PlannerStream("a", NOT_DUE),
            PlannerStream("a", NOT_DUE),
            FED,
            tenant="t",
            as_of="x",
            versions={},
            fingerprints={},
        )


# --- with the real planners, in this process ------------------------------------------------


def planner_stream(planner: ModuleType, name: str, scenario: Scenario) -> PlannerStream:
    """``plan_stream`` of ``planner`` on the scenario's slice (§8.1 rule 4), as a stream."""
    record, objects, shared = stream_slice(scenario)
    _, policy, _, as_of = scenario.args()
    try:
        result: dict[str, Any] = planner.plan_stream(record, objects, shared, policy, as_of)
    except planner.PlanInputError as exc:
        return PlannerStream(
            name, InputError(source=exc.source, field=exc.field, message=exc.message)
        )
    decisions = result.pop("decisions")
    return PlannerStream(name, result, decisions)


def fed(scenario: Scenario) -> list[tuple[object, object]]:
    """The identities of the slice's objects, in order."""
    _, objects, _ = stream_slice(scenario)
    return [(o["store"], o["key"]) for o in objects()]


def collected(scalars: Verdict, decisions: Iterable[Decision]) -> Verdict:
    """The in-memory verdict a stream of decisions stands for."""
    listed = list(decisions)
    return verdict_from_planner(
        {
            **{k: getattr(scalars, k) for k in ("tenant", "as_of", "eligible", "reason")},
            "primary_due": scalars.primary_due,
            "backup_due": scalars.backup_due,
            "purge": [{"store": d.store, "key": d.key} for d in listed if d.reason is None],
            "kept": [d._asdict() for d in listed if d.reason is not None],
        }
    )


def streamed_digest(scalars: Verdict, decisions: Iterable[Decision]) -> str:
    """VerdictDigest over a stream, the purge entries kept aside as the engine keeps them."""
    digest = VerdictDigest(scalars)
    purges = []
    for decision in decisions:
        if decision.reason is None:
            purges.append(VerdictDigest.entry(decision))
        else:
            digest.add_kept(VerdictDigest.entry(decision))
    return digest.hexdigest(purges)


def check_agreement(scenario: Scenario) -> None:
    """The walk over both planners' streams yields exactly the verdict of arbitrate."""
    agreement = arbitrate(*scenario.args())
    comparison = Lockstep(
        planner_stream(deleter_a, "a", scenario),
        planner_stream(deleter_b, "b", scenario),
        fed(scenario),
        tenant=scenario.tenant,
        as_of=scenario.as_of,
        versions={},
        fingerprints={},
    )
    scalars = comparison.scalars
    assert scalars is not None
    decisions = list(comparison)
    assert agreement.verdict == collected(scalars, decisions)
    assert plan_digest(agreement.verdict) == streamed_digest(scalars, decisions)


@settings(max_examples=examples(ci=150, dev=60))
@given(scenario=scenarios())
def test_the_agreed_stream_is_the_verdict_of_arbitrate(scenario: Scenario) -> None:
    """Real planners: the decisions walked are arbitrate's verdict; the digests are equal."""
    check_agreement(scenario)


@settings(max_examples=examples(ci=40, dev=15))
@given(scenario=chain_scenarios())
def test_the_agreed_stream_is_the_verdict_of_arbitrate_on_chains(scenario: Scenario) -> None:
    """Real planners on long chains and cycles: the same."""
    check_agreement(scenario)


def changed(stream: PlannerStream, changes: list[tuple[int, str | None]]) -> list[dict[str, Any]]:
    """The stream's decisions with the reasons at the drawn positions replaced."""
    decisions: list[dict[str, Any]] = list(stream.decisions)  # type: ignore[arg-type]
    for position, reason in changes:
        if decisions:
            decisions[position % len(decisions)] = {
                **decisions[position % len(decisions)],
                "reason": reason,
            }
    return decisions


@settings(max_examples=examples(ci=150, dev=50))
@given(scenario=scenarios(), changes=reason_changes())
def test_the_streamed_report_lists_what_compare_verdicts_lists(
    scenario: Scenario, changes: list[tuple[int, str | None]]
) -> None:
    """A's decisions changed anywhere: the same lists, in the same order, as in memory."""
    a = planner_stream(deleter_a, "a", scenario)
    b = planner_stream(deleter_b, "b", scenario)
    assert isinstance(a.result, dict)
    decisions = changed(a, changes)
    scalars = verdict_from_planner({**a.result, "purge": [], "kept": []})
    in_memory_a = collected(scalars, [Decision(**d) for d in decisions])
    b_decisions = list(b.decisions)
    in_memory_b = collected(scalars, [Decision(**d) for d in b_decisions])  # type: ignore[arg-type]
    expected = compare_verdicts(in_memory_a, in_memory_b)
    seen, outcome = walk(
        PlannerStream("a", a.result, decisions),
        PlannerStream("b", b.result, b_decisions),
        fed(scenario),
    )
    note(f"changes {changes}: {outcome}")
    if expected.agree:
        assert (None, in_memory_a) == (outcome, collected(scalars, seen))
        return
    report = report_of(outcome)
    assert (
        expected.fields,
        expected.purge_only_in_a,
        expected.purge_only_in_b,
        expected.kept_only_in_a,
        expected.kept_only_in_b,
        expected.kept_reason_differs,
    ) == (
        report.fields,
        report.purge_only_in_a,
        report.purge_only_in_b,
        report.kept_only_in_a,
        report.kept_only_in_b,
        report.kept_reason_differs,
    )


# --- the digest --------------------------------------------------------------------------------


def test_the_digest_equals_plan_digest_for_non_ascii_and_ineligible_verdicts() -> None:
    """Rule 8 on hand-made verdicts: escapes, non-ASCII keys, no objects."""
    verdict = verdict_from_planner(
        {
            **SCALARS,
            "tenant": 'tenant-ä "quoted"',
            "purge": [{"store": "db", "key": "a\\b"}, {"store": "db", "key": "Ω\n"}],
            "kept": [{"store": "blob", "key": "é/1", "reason": "shared"}],
        }
    )
    scalars = verdict_from_planner(
        {**SCALARS, "tenant": 'tenant-ä "quoted"', "purge": [], "kept": []}
    )
    stream = [
        Decision("blob", "é/1", "shared"),
        Decision("db", "a\\b", None),
        Decision("db", "Ω\n", None),
    ]
    not_due = verdict_from_planner({**NOT_DUE, "purge": [], "kept": []})
    assert plan_digest(verdict) == streamed_digest(scalars, stream)
    assert plan_digest(not_due) == streamed_digest(not_due, [])


def test_a_digest_starts_from_scalars_and_finishes_once() -> None:
    """UsageError for a verdict that lists objects, and for a second hexdigest."""
    listing = verdict_from_planner({**SCALARS, "purge": [{"store": "db", "key": "k"}], "kept": []})
    with pytest.raises(UsageError):
        VerdictDigest(listing)
    digest = VerdictDigest(verdict_from_planner({**SCALARS, "purge": [], "kept": []}))
    digest.hexdigest([])
    with pytest.raises(UsageError):
        digest.hexdigest([])
