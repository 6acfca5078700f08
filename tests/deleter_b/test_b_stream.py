"""The streaming entry point plan_stream of spec §8.1: hand-computed examples and bad input."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

import deleter_b

from .b_support import UTC, Data, cancelled, event, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

AS_OF = "2026-05-01T00:00:00Z"
T = cancelled("t", "2020-02-01T00:00:00Z")
POLICY: Data = {
    "timezone": "UTC",
    "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
}


class Objects:
    """An ``objects`` callable over fixed records that counts its calls.

    The second call returns ``second`` when given (a slice that changed between the passes).
    """

    def __init__(self, records: Sequence[Any], second: Sequence[Any] | None = None) -> None:
        """Hold the records of the first call and, optionally, of the second."""
        self.records = records
        self.second = second
        self.calls = 0

    def __call__(self) -> Iterator[Any]:
        """Return a new iterator over the records (a generator: no length, no indexing)."""
        self.calls += 1
        records = self.second if self.calls == 2 and self.second is not None else self.records
        return (record for record in records)


def run(
    records: Sequence[Any],
    shared: Sequence[Any] = (),
    *,
    record: Any = T,
    policy: Any = POLICY,
    as_of: Any = AS_OF,
) -> tuple[Data, list[dict[str, Any]]]:
    """Call plan_stream and consume the decisions; return the scalars and the decisions."""
    result = deleter_b.plan_stream(record, Objects(records), iter(shared), policy, as_of)
    decisions = result.pop("decisions")
    return result, list(decisions)  # type: ignore[call-overload]


def reasons(decisions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Return ``(key, reason)`` of each decision, in order."""
    return [(d["key"], d["reason"]) for d in decisions]


def error_of(call: Callable[[], object]) -> tuple[str, str]:
    """Return ``(source, field)`` of the PlanInputError that ``call`` raises."""
    with pytest.raises(deleter_b.PlanInputError) as caught:
        call()
    return caught.value.source, caught.value.field


# --- verdicts ------------------------------------------------------------------------------------


def test_scalars_and_decisions_of_an_eligible_tenant() -> None:
    """Spec §8.1 rule 3: the scalar keys of §7.5 and one decision per object, in order."""
    records = [
        obj("s", "a"),
        obj("s", "b", category="audit"),
        obj("s", "c", legal_hold=True),
        obj("s", "d", category="logs", created_at="2026-04-22T00:00:00Z"),
        obj("s", "e", created_at="2026-05-01T00:00:00.000001Z"),
    ]
    scalars, decisions = run(records)
    expected: Data = {
        "tenant": "t",
        "as_of": AS_OF,
        "eligible": True,
        "reason": None,
        "primary_due": "2020-03-03T00:00:00Z",
        "backup_due": "2020-03-17T00:00:00Z",
    }
    assert expected == scalars
    assert [
        {"store": "s", "key": "a", "reason": None},
        {"store": "s", "key": "b", "reason": "category-keep"},
        {"store": "s", "key": "c", "reason": "object-hold"},
        {"store": "s", "key": "d", "reason": "category-retain"},
        {"store": "s", "key": "e", "reason": "created-after-as-of"},
    ] == decisions


def test_not_eligible_yields_nothing_and_reads_once() -> None:
    """Spec §8.1 rule 3: a tenant that is not due has no decisions; objects() is called once."""
    source = Objects([obj("s", "a"), obj("s", "b")])
    result = deleter_b.plan_stream(cancelled("t", "2026-04-20T00:00:00Z"), source, [], UTC, AS_OF)
    decisions = result.pop("decisions")
    assert [] == list(decisions)  # type: ignore[call-overload]
    assert {
        "tenant": "t",
        "as_of": AS_OF,
        "eligible": False,
        "reason": "not-due",
        "primary_due": "2026-05-21T00:00:00Z",
        "backup_due": "2026-06-04T00:00:00Z",
    } == result
    assert 1 == source.calls


def test_active_and_held_tenants() -> None:
    """Spec §7.1 via §8.1: active gives no dues; a held tenant reports tenant-hold and dues."""
    active, active_decisions = run(
        [obj("s", "a")], record=tenant("t", [event("subscribed", AS_OF)])
    )
    held, held_decisions = run(
        [obj("s", "a")], record=cancelled("t", "2020-02-01T00:00:00Z", legal_hold=True)
    )
    assert ("active", None, None, []) == (
        active["reason"],
        active["primary_due"],
        active["backup_due"],
        active_decisions,
    )
    assert ("tenant-hold", "2020-03-03T00:00:00Z", []) == (
        held["reason"],
        held["primary_due"],
        held_decisions,
    )


def test_decisions_are_lazy_and_read_the_second_pass() -> None:
    """Spec §8.1 rules 2-3: one pass during the call, the second while decisions are consumed."""
    source = Objects([obj("s", "a"), obj("s", "b")])
    result = deleter_b.plan_stream(T, source, [], UTC, AS_OF)
    decisions = result["decisions"]
    assert 1 == source.calls
    assert not isinstance(decisions, list)
    assert {"store": "s", "key": "a", "reason": None} == next(decisions)  # type: ignore[call-overload]
    assert 2 == source.calls
    assert [{"store": "s", "key": "b", "reason": None}] == list(decisions)  # type: ignore[call-overload]
    assert 2 == source.calls


def test_empty_slice() -> None:
    """Spec §8.1: a tenant with no objects is eligible with no decisions."""
    scalars, decisions = run([])
    assert (True, []) == (scalars["eligible"], decisions)


# --- sharing -------------------------------------------------------------------------------------


def test_sharing_through_shared() -> None:
    """Spec §7.3 via §8.1: refs of other tenants keep what they name, and what that refs."""
    records = [
        obj("s", "a", refs=[("s", "z")]),
        obj("s", "b"),
        obj("s", "c"),
        obj("s", "z"),
    ]
    shared = [["s", "a"], ["s", "c"], ["s", "c"], ["other", "x"], ["s", "missing"]]
    _, decisions = run(records, shared)
    assert [("a", "shared"), ("b", None), ("c", "shared"), ("z", "shared")] == reasons(decisions)


def test_chains_across_the_stream() -> None:
    """Spec §7.3: chains run forwards and backwards through the stream, cycles included."""
    records = [
        obj("s", "a"),  # reached last, from f via e: a backward chain
        obj("s", "b", refs=[("s", "c")]),  # a cycle b <-> c, not reached: purged
        obj("s", "c", refs=[("s", "b")]),
        obj("s", "d", legal_hold=True, refs=[("s", "g")]),  # kept: in L
        obj("s", "e", refs=[("s", "a"), ("s", "e")]),
        obj("s", "f", refs=[("s", "e")]),
        obj("s", "g", refs=[("s", "f"), ("x", "dangling")]),
        obj("s", "h"),
    ]
    _, decisions = run(records)
    assert [
        ("a", "shared"),
        ("b", None),
        ("c", None),
        ("d", "object-hold"),
        ("e", "shared"),
        ("f", "shared"),
        ("g", "shared"),
        ("h", None),
    ] == reasons(decisions)


def test_kept_objects_are_in_l_but_not_passed_through() -> None:
    """Spec §7.3: kept objects' refs share candidates; a path never passes through a kept one."""
    records = [
        obj("s", "a", created_at="2026-06-01T00:00:00Z", refs=[("s", "b")]),
        obj("s", "b"),
        obj("s", "c", category="audit", refs=[("s", "d")]),
        obj("s", "d"),
        obj("s", "e", refs=[("s", "f")]),
        obj("s", "f", category="audit", refs=[("s", "g")]),
        obj("s", "g"),
        obj("s", "h"),
    ]
    _, decisions = run(records, [["s", "e"]])
    assert [
        ("a", "created-after-as-of"),
        ("b", "shared"),
        ("c", "category-keep"),
        ("d", "shared"),
        ("e", "shared"),
        ("f", "category-keep"),
        ("g", "shared"),
        ("h", None),
    ] == reasons(decisions)


def test_cycle_reached_from_shared_is_kept_whole() -> None:
    """Spec §10.8: a cycle of candidates with a ref from L into it is kept whole."""
    records = [obj("s", "p", refs=[("s", "q")]), obj("s", "q", refs=[("s", "p")])]
    _, decisions = run(records, [["s", "q"]])
    assert [("p", "shared"), ("q", "shared")] == reasons(decisions)


def test_order_is_code_point_order_across_stores() -> None:
    """Spec §8.1 rule 1: (store, key) in code-point order, stores first."""
    records = [obj("B", "z"), obj("a", "Z"), obj("a", "z"), obj("a", "é"), obj("b", "a")]
    _, decisions = run(records, [["a", "é"]])
    assert [("z", None), ("Z", None), ("z", None), ("é", "shared"), ("a", None)] == reasons(
        decisions
    )


def test_created_after_as_of_example_of_10_7() -> None:
    """Spec §10.7: created after as_of beats hold and keep; at as_of the other rules decide."""
    records = [
        obj("s", "a", created_at="2026-05-01T00:00:00.000001Z"),
        obj("s", "b", created_at="2026-05-01T09:00:01+09:00", legal_hold=True),
        obj("s", "c", created_at="2026-05-01T09:00:01+09:00", category="audit"),
        obj("s", "d", created_at="2026-05-01T09:00:00+09:00"),
        obj("s", "e", created_at="2026-05-01T09:00:00+09:00", legal_hold=True),
        obj("s", "f", category="logs", created_at="2026-04-21T00:00:01Z"),
        obj("s", "g", category="logs", created_at="2026-04-22T00:00:00Z"),
    ]
    _, decisions = run(records)
    assert [
        ("a", "created-after-as-of"),
        ("b", "created-after-as-of"),
        ("c", "created-after-as-of"),
        ("d", None),
        ("e", "object-hold"),
        ("f", None),
        ("g", "category-retain"),
    ] == reasons(decisions)


def test_retain_in_a_zone_with_a_skipped_midnight() -> None:
    """Spec §3/§7.2: retain_days counts local dates; sod of a skipped midnight is the jump."""
    # Sao Paulo: sod(2018-11-04) = 2018-11-04T03:00:00Z (§10.2). retain_days = 1 from a
    # creation on 2018-11-03 local keeps the object until then, and not one second longer.
    policy: Data = {"timezone": "America/Sao_Paulo", "categories": {"logs": {"retain_days": 1}}}
    records = [obj("s", "a", category="logs", created_at="2018-11-03T12:00:00-03:00")]
    record = cancelled("t", "2018-01-01T00:00:00Z")
    _, before = run(records, record=record, policy=policy, as_of="2018-11-04T02:59:59Z")
    _, at = run(records, record=record, policy=policy, as_of="2018-11-04T03:00:00Z")
    assert ([("a", "category-retain")], [("a", None)]) == (reasons(before), reasons(at))


def test_arguments_are_not_mutated() -> None:
    """Spec §8.1 rule 7: plan_stream does not mutate its arguments."""
    records = [obj("s", "a", refs=[("s", "b")]), obj("s", "b", category="audit")]
    shared = [["s", "a"]]
    before = copy.deepcopy((T, records, shared, POLICY))
    run(records, shared)
    assert before == (T, records, shared, POLICY)


# --- bad input (spec §8.1 rule 6) -----------------------------------------------------------------

GOOD = [obj("s", "a"), obj("s", "b", refs=[("s", "a")])]


def _with(position: int, **changes: object) -> list[Data]:
    records = copy.deepcopy(GOOD)
    records[position].update(changes)
    return records


BAD_SLICES: list[tuple[str, Callable[[], object], tuple[str, str]]] = [
    ("tenant not a mapping", lambda: run(GOOD, record=["t"]), ("inventory", "tenant")),
    ("tenant id empty", lambda: run(GOOD, record=tenant("")), ("inventory", "tenant.id")),
    ("tenant id missing", lambda: run(GOOD, record={"events": []}), ("inventory", "tenant.id")),
    (
        "tenant unknown field",
        lambda: run(GOOD, record={**T, "legalhold": True}),
        ("inventory", "tenant.legalhold"),
    ),
    (
        "tenant hold not a boolean",
        lambda: run(GOOD, record={**T, "legal_hold": 1}),
        ("inventory", "tenant.legal_hold"),
    ),
    (
        "event instant without offset",
        lambda: run(GOOD, record=tenant("t", [event("cancelled", "2020-01-01T00:00:00")])),
        ("inventory", "tenant.events[0].at"),
    ),
    (
        "unknown event kind",
        lambda: run(GOOD, record=tenant("t", [event("paused", AS_OF)])),
        ("inventory", "tenant.events[0].kind"),
    ),
    (
        "object of another tenant",
        lambda: run([obj("s", "a"), obj("s", "b", "u")]),
        ("inventory", "objects[1].tenant"),
    ),
    (
        "repeated object",
        lambda: run([obj("s", "a"), obj("s", "a")]),
        ("inventory", "objects[1]"),
    ),
    (
        "object out of order",
        lambda: run([obj("s", "b"), obj("s", "a")]),
        ("inventory", "objects[1]"),
    ),
    (
        "store out of order",
        lambda: run([obj("t", "a"), obj("s", "b")]),
        ("inventory", "objects[1]"),
    ),
    (
        "object not a mapping",
        lambda: run([obj("s", "a"), ["s", "b"]]),
        ("inventory", "objects[1]"),
    ),
    (
        "created_at seven fraction digits",
        lambda: run(_with(1, created_at="2020-01-01T00:00:00.0000001Z")),
        ("inventory", "objects[1].created_at"),
    ),
    (
        "created_at -00:00",
        lambda: run(_with(0, created_at="2020-01-01T00:00:00-00:00")),
        ("inventory", "objects[0].created_at"),
    ),
    (
        "unknown object field",
        lambda: run(_with(1, legalhold=True)),
        ("inventory", "objects[1].legalhold"),
    ),
    (
        "store missing",
        lambda: run([{"key": "a", "tenant": "t", "created_at": AS_OF}]),
        ("inventory", "objects[0].store"),
    ),
    ("key empty", lambda: run(_with(0, key="")), ("inventory", "objects[0].key")),
    ("category empty", lambda: run(_with(0, category="")), ("inventory", "objects[0].category")),
    ("category null", lambda: run(_with(0, category=None)), ("inventory", "objects[0].category")),
    (
        "hold an integer",
        lambda: run(_with(0, legal_hold=0)),
        ("inventory", "objects[0].legal_hold"),
    ),
    ("refs not a list", lambda: run(_with(0, refs=("s", "b"))), ("inventory", "objects[0].refs")),
    ("ref too short", lambda: run(_with(1, refs=[["s"]])), ("inventory", "objects[1].refs[0]")),
    (
        "ref empty key",
        lambda: run(_with(1, refs=[["s", "a"], ["s", ""]])),
        ("inventory", "objects[1].refs[1]"),
    ),
    (
        "shared item a tuple",
        lambda: run(GOOD, [["s", "a"], ("s", "b")]),
        ("inventory", "shared[1]"),
    ),
    ("shared item three strings", lambda: run(GOOD, [["s", "a", "x"]]), ("inventory", "shared[0]")),
    (
        "shared item empty store",
        lambda: run(GOOD, [["s", "a"], ["", "a"]]),
        ("inventory", "shared[1]"),
    ),
    ("shared item not strings", lambda: run(GOOD, [[1, 2]]), ("inventory", "shared[0]")),
    (
        "shared not iterable",
        lambda: deleter_b.plan_stream(T, Objects(GOOD), 7, UTC, AS_OF),  # type: ignore[arg-type]
        ("inventory", "shared"),
    ),
    (
        "objects not callable",
        lambda: deleter_b.plan_stream(T, GOOD, [], UTC, AS_OF),  # type: ignore[arg-type]
        ("inventory", "objects"),
    ),
    (
        "objects() not iterable",
        lambda: deleter_b.plan_stream(T, lambda: 7, [], UTC, AS_OF),  # type: ignore[arg-type,return-value]
        ("inventory", "objects"),
    ),
    ("bad zone", lambda: run(GOOD, policy={"timezone": "Mars/Base"}), ("policy", "timezone")),
    (
        "keep false",
        lambda: run(GOOD, policy={"timezone": "UTC", "categories": {"a": {"keep": False}}}),
        ("policy", "categories.a.keep"),
    ),
    ("as_of lower-case t", lambda: run(GOOD, as_of="2026-05-01t00:00:00Z"), ("as_of", "as_of")),
]


@pytest.mark.parametrize(
    ("call", "expected"), [(c, e) for _, c, e in BAD_SLICES], ids=[n for n, _, _ in BAD_SLICES]
)
def test_bad_slice_is_rejected(call: Callable[[], object], expected: tuple[str, str]) -> None:
    """Spec §8.1 rule 6: each fault of the slice raises PlanInputError at its field."""
    assert expected == error_of(call)


def test_a_record_is_checked_before_its_order() -> None:
    """Spec §8.1 rule 6: a bad field is reported at its path even in a record out of order."""
    records = [obj("s", "b"), obj("s", "a", created_at="2020-01-01T00:00:00")]
    assert ("inventory", "objects[1].created_at") == error_of(lambda: run(records))


def test_bad_input_is_rejected_when_not_eligible() -> None:
    """Spec §4.4 via §8.1 rule 6: the first pass validates even a tenant that is not due."""
    record = cancelled("t", "2026-04-30T00:00:00Z")
    source = Objects([obj("s", "a"), obj("s", "b", created_at="2020-13-01T00:00:00Z")])
    assert ("inventory", "objects[1].created_at") == error_of(
        lambda: deleter_b.plan_stream(record, source, [], UTC, AS_OF)
    )


def test_first_pass_errors_come_from_plan_stream() -> None:
    """Spec §8.1 rule 6: a fault found in the first pass is raised by plan_stream itself."""
    source = Objects([obj("s", "b"), obj("s", "a")])
    with pytest.raises(deleter_b.PlanInputError):
        deleter_b.plan_stream(T, source, [], UTC, AS_OF)
    assert 1 == source.calls


def test_a_generic_mapping_record_is_read_by_the_schema() -> None:
    """Spec §4: a record may be any mapping; faults in it are found as in a dict."""

    class Record(dict[str, object]):
        """A dict subclass: takes the schema's path."""

    records = [Record(obj("s", "a")), Record(obj("s", "b", refs=[("s", "a")], legal_hold=True))]
    _, decisions = run(records)
    assert [("a", "shared"), ("b", "object-hold")] == reasons(decisions)
    assert ("inventory", "objects[0].legal_hold") == error_of(
        lambda: run([Record({**obj("s", "a"), "legal_hold": None})])
    )


# --- a second pass that differs (spec §8.1 rule 2) ------------------------------------------------


def _second(first: list[Data], second: list[Data]) -> tuple[tuple[str, str], int]:
    """Return where the decisions iterator fails and how many decisions it gave before."""
    result = deleter_b.plan_stream(T, Objects(first, second), [], POLICY, AS_OF)
    given: list[object] = []

    def consume() -> None:
        given.extend(result["decisions"])  # type: ignore[arg-type]

    where = error_of(consume)
    return where, len(given)


FIRST = [
    obj("s", "a"),
    obj("s", "b", refs=[("s", "a")]),
    obj("s", "c"),
    obj("s", "d", category="logs"),
]

SECOND_PASSES: list[tuple[str, list[Data], tuple[tuple[str, str], int]]] = [
    ("shorter", FIRST[:3], (("inventory", "objects"), 3)),
    ("longer", [*FIRST, obj("s", "e")], (("inventory", "objects"), 4)),
    (
        "leaf category changed",
        [*FIRST[:3], obj("s", "d", category="audit")],
        (("inventory", "objects"), 4),
    ),
    (
        "leaf created_at changed",
        [*FIRST[:3], obj("s", "d", category="logs", created_at="2020-01-02T00:00:00Z")],
        (("inventory", "objects"), 4),
    ),
    (
        "leaf key changed",
        [FIRST[0], FIRST[1], obj("s", "cc"), FIRST[3]],
        (("inventory", "objects"), 4),
    ),
    (
        "carrier refs changed",
        [FIRST[0], obj("s", "b", refs=[("s", "c")]), *FIRST[2:]],
        (("inventory", "objects[1]"), 1),
    ),
    (
        "carrier lost its refs",
        [FIRST[0], obj("s", "b"), *FIRST[2:]],
        (("inventory", "objects[1]"), 1),
    ),
    (
        "leaf gained refs",
        [FIRST[0], FIRST[1], obj("s", "c", refs=[("s", "a")]), FIRST[3]],
        (("inventory", "objects[2]"), 2),
    ),
    ("carrier removed", [FIRST[0], *FIRST[2:]], (("inventory", "objects[1]"), 1)),
    (
        "now out of order",
        [FIRST[0], FIRST[1], FIRST[3], FIRST[2]],
        (("inventory", "objects[3]"), 3),
    ),
    (
        "now bad",
        [FIRST[0], FIRST[1], {**obj("s", "c"), "legal_hold": "yes"}, FIRST[3]],
        (("inventory", "objects[2]"), 2),
    ),
    (
        "now another tenant's",
        [FIRST[0], FIRST[1], obj("s", "c", "u"), FIRST[3]],
        (("inventory", "objects[2]"), 2),
    ),
]


@pytest.mark.parametrize(
    ("second", "expected"),
    [(s, e) for _, s, e in SECOND_PASSES],
    ids=[n for n, _, _ in SECOND_PASSES],
)
def test_second_pass_that_differs(
    second: list[Data], expected: tuple[tuple[str, str], int]
) -> None:
    """Spec §8.1 rule 2: the decisions iterator raises where it notices the difference."""
    assert expected == _second(FIRST, second)


def test_identical_second_pass_of_new_records_is_accepted() -> None:
    """Spec §8.1 rule 2: equal records (new objects each pass) are the same records."""
    result = deleter_b.plan_stream(T, lambda: (copy.deepcopy(r) for r in FIRST), [], POLICY, AS_OF)
    assert [("a", None), ("b", None), ("c", None), ("d", None)] == reasons(
        list(result["decisions"])  # type: ignore[call-overload]
    )


def test_decisions_hold_no_lock_while_consumed() -> None:
    """Spec §8.1 rule 3: plan and plan_stream may run while decisions are being consumed."""
    records = [obj("s", "a", category="logs", created_at="2026-04-25T00:00:00Z"), obj("s", "b")]
    result = deleter_b.plan_stream(T, Objects(records), [], POLICY, AS_OF)
    decisions = result["decisions"]
    first = next(decisions)  # type: ignore[call-overload]
    _, inner = run(records)
    rest = list(decisions)  # type: ignore[call-overload]
    assert [("a", "category-retain"), ("b", None)] == reasons([first, *rest])
    assert reasons([first, *rest]) == reasons(inner)
