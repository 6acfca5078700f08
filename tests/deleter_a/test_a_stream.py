"""Hand-computed examples of plan_stream (spec §8.1) and of §7.2 rule 1 through it."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from deleter_a import PlanInputError, plan_stream

from .a_support import DUE_AS_OF, UTC_POLICY, cancelled_tenant, event, obj, tenant

Record = dict[str, object]
SCALARS = ("tenant", "as_of", "eligible", "reason", "primary_due", "backup_due")


class Source:
    """A callable ``objects`` for plan_stream that counts its calls and may change per pass."""

    def __init__(self, *passes: list[Record]) -> None:
        """Yield ``passes[0]`` on the first call, ``passes[1]`` (else ``passes[0]``) later."""
        self.passes = passes
        self.calls = 0

    def __call__(self) -> Iterator[Record]:
        """Return a generator over this call's records (never a list)."""
        chosen = self.passes[min(self.calls, len(self.passes) - 1)]
        self.calls += 1
        return (record for record in chosen)


def _run(
    objects: list[Record],
    shared: list[object] | None = None,
    *,
    record: Record | None = None,
    policy: Record | None = None,
    as_of: str = DUE_AS_OF,
) -> tuple[dict[str, object], list[str]]:
    verdict = plan_stream(
        cancelled_tenant() if record is None else record,
        Source(objects),
        [] if shared is None else shared,
        UTC_POLICY if policy is None else policy,
        as_of,
    )
    decisions = verdict.pop("decisions")
    assert isinstance(decisions, Iterator)
    return verdict, [f"{d['store']}/{d['key']}:{d['reason'] or '-'}" for d in decisions]


def _rejects(objects: list[Record], shared: list[object] | None = None, **kwargs: object) -> str:
    with pytest.raises(PlanInputError) as caught:
        _run(objects, shared, **kwargs)  # type: ignore[arg-type]
    assert 1 == len(str(caught.value).splitlines())
    assert "inventory" == caught.value.source
    return caught.value.field


# Scalars and eligibility ---------------------------------------------------------------------


def test_a_stream_scalars_and_keys() -> None:
    """The result has the scalar keys of §7.5 then decisions, with plan's dues."""
    verdict = plan_stream(cancelled_tenant(), Source([]), [], UTC_POLICY, DUE_AS_OF)
    assert [*SCALARS, "decisions"] == list(verdict)
    expected = ("t", DUE_AS_OF, True, None, "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z")
    assert expected == tuple(verdict[key] for key in SCALARS)
    assert [] == list(verdict["decisions"])  # type: ignore[call-overload]


def test_a_stream_not_eligible_yields_nothing_and_reads_once() -> None:
    """§8.1 rule 3: a not-due tenant has no decisions; objects() is called once only."""
    source = Source([obj("s", "a"), obj("s", "b")])
    verdict = plan_stream(cancelled_tenant(), source, [], UTC_POLICY, "2026-01-20T00:00:00Z")
    assert (False, "not-due") == (verdict["eligible"], verdict["reason"])
    assert [] == list(verdict["decisions"])  # type: ignore[call-overload]
    assert 1 == source.calls


def test_a_stream_active_and_held_tenants() -> None:
    """§7.1: active and tenant-hold reasons, dues null when active, still reported when held."""
    active, decisions = _run([obj("s", "a")], record=tenant("t", event("subscribed", DUE_AS_OF)))
    assert (False, "active", None, None) == tuple(active[key] for key in SCALARS[2:])
    assert [] == decisions
    held_record = tenant("t", event("cancelled", "2026-01-10T12:00:00Z"), hold=True)
    held, decisions = _run([obj("s", "a")], record=held_record)
    expected = (False, "tenant-hold", "2026-02-10T00:00:00Z", "2026-02-24T00:00:00Z")
    assert expected == tuple(held[key] for key in SCALARS[2:])
    assert [] == decisions


def test_a_stream_decisions_are_lazy() -> None:
    """§8.1 rule 2: the second call of objects() happens while decisions are consumed."""
    source = Source([obj("s", "a"), obj("s", "b")])
    verdict = plan_stream(cancelled_tenant(), source, [], UTC_POLICY, DUE_AS_OF)
    assert 1 == source.calls
    decisions = verdict["decisions"]
    assert isinstance(decisions, Iterator)
    assert {"store": "s", "key": "a", "reason": None} == next(decisions)
    assert 2 == source.calls
    assert [{"store": "s", "key": "b", "reason": None}] == list(decisions)
    assert 2 == source.calls


# §7.2 and §7.3 through the stream --------------------------------------------------------------


def test_a_stream_reasons_in_order_of_objects() -> None:
    """§7.2: each decision carries its reason, in the order of objects(), rule 1 first."""
    policy: Record = {
        "timezone": "UTC",
        "categories": {"audit": {"keep": True}, "logs": {"retain_days": 10}},
    }
    objects = [
        obj("r", "z", created_at="2026-05-01T00:00:00.000001Z", hold=True),
        obj("s", "audit", category="audit"),
        obj("s", "held", category="audit", hold=True),
        obj("s", "logs-0", category="logs", created_at="2026-04-21T00:00:01Z"),
        obj("s", "logs-1", category="logs", created_at="2026-04-22T00:00:00Z"),
        obj("s", "new", created_at="2026-05-01T09:00:01+09:00", category="audit"),
        obj("s", "now", created_at="2026-05-01T09:00:00+09:00"),
    ]
    _, decisions = _run(objects, policy=policy)
    expected = [
        "r/z:created-after-as-of",
        "s/audit:category-keep",
        "s/held:object-hold",
        "s/logs-0:-",
        "s/logs-1:category-retain",
        "s/new:created-after-as-of",
        "s/now:-",
    ]
    assert expected == decisions


def test_a_stream_10_8_sharing_through_shared() -> None:
    """§10.8: o of another tenant refs a (given in shared): a, b, c shared; d, e, f purged."""
    objects = [
        obj("s", "a", refs=[["s", "b"]]),
        obj("s", "b", refs=[["s", "c"]]),
        obj("s", "c"),
        obj("s", "d"),
        obj("s", "e", refs=[["s", "e"]]),
        obj("s", "f", refs=[["x", "missing"]]),
    ]
    _, decisions = _run(objects, [["s", "a"], ["s", "a"], ["x", "other"], ["a", "a"]])
    expected = ["s/a:shared", "s/b:shared", "s/c:shared", "s/d:-", "s/e:-", "s/f:-"]
    assert expected == decisions


def test_a_stream_kept_object_shares_and_cycles() -> None:
    """§10.7/§10.8: a new object's and a held object's targets are shared; a lone cycle purged."""
    objects = [
        obj("s", "d"),
        obj("s", "h", hold=True, refs=[["s", "d"]]),
        obj("s", "new", created_at="2026-06-01T00:00:00Z", refs=[["s", "q"]]),
        obj("s", "p", refs=[["s", "q"]]),
        obj("s", "q", refs=[["s", "p"]]),
        obj("s", "x", refs=[["s", "y"]]),
        obj("s", "y", refs=[["s", "x"]]),
    ]
    _, decisions = _run(objects)
    expected = [
        "s/d:shared",
        "s/h:object-hold",
        "s/new:created-after-as-of",
        "s/p:shared",
        "s/q:shared",
        "s/x:-",
        "s/y:-",
    ]
    assert expected == decisions


def test_a_stream_long_chains_both_directions() -> None:
    """§7.3: chains of 3,000 objects pointing forward and backward across the stream are shared."""
    size = 3000
    forward = [
        obj("f", f"{i:05d}", refs=[["f", f"{i + 1:05d}"]] if i + 1 < size else None)
        for i in range(size)
    ]
    backward = [
        obj("g", f"{i:05d}", refs=[["g", f"{i - 1:05d}"]] if i else None) for i in range(size)
    ]
    loose = [obj("h", f"{i:05d}", refs=[["h", f"{i + 1:05d}"]]) for i in range(size)]
    shared: list[object] = [["f", "00000"], ["g", f"{size - 1:05d}"]]
    _, decisions = _run([*forward, *backward, *loose], shared)
    assert 3 * size == len(decisions)
    assert {"shared"} == {entry.split(":")[1] for entry in decisions[: 2 * size]}
    assert {"-"} == {entry.split(":")[1] for entry in decisions[2 * size :]}


def test_a_stream_shared_outside_range_and_foreign_is_ignored() -> None:
    """§8.1 rule 1: shared refs naming no object of T (before, between, after) change nothing."""
    objects = [obj("m", "b"), obj("m", "d")]
    _, decisions = _run(objects, [["a", "z"], ["m", "c"], ["z", "a"], ["m", "d"]])
    assert ["m/b:-", "m/d:shared"] == decisions


def test_a_stream_does_not_mutate_arguments() -> None:
    """§8.1 rule 7: the tenant record, objects, shared and policy are left as they were."""
    record = cancelled_tenant()
    objects = [obj("s", "a", refs=[["s", "b"]]), obj("s", "b", category="logs")]
    shared: list[object] = [["s", "a"]]
    policy: Record = {"timezone": "UTC", "categories": {"logs": {"retain_days": 3}}}
    before = copy.deepcopy((record, objects, shared, policy))
    verdict = plan_stream(record, Source(objects), shared, policy, DUE_AS_OF)
    list(verdict["decisions"])  # type: ignore[call-overload]
    assert before == (record, objects, shared, policy)


def test_a_stream_is_deterministic() -> None:
    """Two calls with equal input give equal scalars and decisions."""
    objects = [obj("s", "a", refs=[["s", "b"]]), obj("s", "b"), obj("s", "c", hold=True)]
    assert _run(objects, [["s", "c"]]) == _run(objects, [["s", "c"]])


# Bad input of the first pass (§8.1 rule 6) ----------------------------------------------------


GOOD = [obj("s", "a"), obj("s", "b", refs=[["s", "a"]])]


@pytest.mark.parametrize(
    ("objects", "shared", "field"),
    [
        ([obj("s", "a"), obj("s", "b", "u")], [], "objects[1].tenant"),
        ([obj("s", "b"), obj("s", "a")], [], "objects[1]"),
        ([obj("s", "a"), obj("s", "a")], [], "objects[1]"),
        ([obj("s", "a"), obj("r", "z")], [], "objects[1]"),
        (GOOD, [["s", "a"], "s/a"], "shared[1]"),
        (GOOD, [["s", "a"], ["s"]], "shared[1]"),
        (GOOD, [["s", "a", "x"]], "shared[0]"),
        (GOOD, [["s", ""]], "shared[0]"),
        (GOOD, [["s", 1]], "shared[0]"),
        (GOOD, [("s", "a")], "shared[0]"),
        (GOOD, [None], "shared[0]"),
        ([{**obj("s", "a"), "legalhold": True}], [], "objects[0].legalhold"),
        ([{"store": "s", "key": "a", "tenant": "t"}], [], "objects[0].created_at"),
        ([obj("s", "a", created_at="2026-01-01T00:00:00-00:00")], [], "objects[0].created_at"),
        ([obj("s", "a", created_at="2026-01-01T00:00:00.0000001Z")], [], "objects[0].created_at"),
        ([obj("s", "a", category="")], [], "objects[0].category"),
        ([{**obj("s", "a"), "legal_hold": 1}], [], "objects[0].legal_hold"),
        ([{**obj("s", "a"), "legal_hold": None}], [], "objects[0].legal_hold"),
        ([obj("s", "a", refs=[["s"]])], [], "objects[0].refs[0]"),
        ([{**obj("s", "a"), "refs": (("s", "b"),)}], [], "objects[0].refs"),
        ([obj("", "a")], [], "objects[0].store"),
        ([{**obj("s", "a"), "key": 3}], [], "objects[0].key"),
        ([["s", "a"]], [], "objects[0]"),
    ],
)
def test_a_stream_bad_slice(objects: list[Record], shared: list[object], field: str) -> None:
    """§8.1 rule 6 and §4.4: a bad object or shared ref is rejected at its own path."""
    assert field == _rejects(objects, shared)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"events": []}, "tenant.id"),
        (tenant(""), "tenant.id"),
        (tenant("t", event("cancelled", "2026-01-10T12:00:00")), "tenant.events[0].at"),
        (tenant("t", event("paused", DUE_AS_OF)), "tenant.events[0].kind"),
        ({**tenant("t"), "legalhold": True}, "tenant.legalhold"),
        ({**tenant("t"), "legal_hold": "no"}, "tenant.legal_hold"),
        ("t", "tenant"),
    ],
)
def test_a_stream_bad_tenant_record(record: object, field: str) -> None:
    """§8.1 rule 6: the tenant record is validated with paths under tenant."""
    assert field == _rejects(GOOD, [], record=record)


def test_a_stream_bad_object_of_a_tenant_not_due() -> None:
    """§4.4: the whole slice is validated even when T is not eligible."""
    bad = {**obj("s", "b"), "legal_hold": None}
    field = _rejects([obj("s", "a"), bad], as_of="2026-01-20T00:00:00Z")
    assert "objects[1].legal_hold" == field
    assert "shared[0]" == _rejects(GOOD, [["s"]], as_of="2026-01-20T00:00:00Z")


def test_a_stream_bad_policy_and_as_of() -> None:
    """§4.4: the policy and as_of are validated as for plan, with their own sources."""
    with pytest.raises(PlanInputError) as policy_error:
        plan_stream(cancelled_tenant(), Source(GOOD), [], {"timezone": "Mars/Base"}, DUE_AS_OF)
    assert ("policy", "timezone") == (policy_error.value.source, policy_error.value.field)
    with pytest.raises(PlanInputError) as as_of_error:
        plan_stream(cancelled_tenant(), Source(GOOD), [], UTC_POLICY, "2026-05-01")
    assert ("as_of", "as_of") == (as_of_error.value.source, as_of_error.value.field)


def test_a_stream_bad_arguments() -> None:
    """Objects that is not a callable of an iterable, or shared not iterable, is bad input."""
    with pytest.raises(PlanInputError) as not_callable:
        plan_stream(cancelled_tenant(), GOOD, [], UTC_POLICY, DUE_AS_OF)  # type: ignore[arg-type]
    assert "objects" == not_callable.value.field
    with pytest.raises(PlanInputError) as not_iterable:
        plan_stream(cancelled_tenant(), lambda: 3, [], UTC_POLICY, DUE_AS_OF)  # type: ignore[arg-type,return-value]
    assert "objects" == not_iterable.value.field
    with pytest.raises(PlanInputError) as bad_shared:
        plan_stream(cancelled_tenant(), Source(GOOD), 3, UTC_POLICY, DUE_AS_OF)  # type: ignore[arg-type]
    assert "shared" == bad_shared.value.field


# The second pass checked against the first (§8.1 rule 2) ----------------------------------------


FIRST = [obj("s", "a"), obj("s", "b", refs=[["s", "c"]]), obj("s", "c"), obj("s", "d")]


def _second(second: list[Record]) -> tuple[list[dict[str, object]], PlanInputError]:
    verdict = plan_stream(cancelled_tenant(), Source(FIRST, second), [], UTC_POLICY, DUE_AS_OF)
    decisions = verdict["decisions"]
    assert isinstance(decisions, Iterator)
    seen: list[dict[str, object]] = []
    with pytest.raises(PlanInputError) as caught:
        seen.extend(decisions)
    assert "inventory" == caught.value.source
    return seen, caught.value


@pytest.mark.parametrize(
    ("second", "field", "before"),
    [
        (FIRST[:3], "objects", 3),
        ([*FIRST, obj("s", "e")], "objects", 4),
        ([FIRST[0], obj("s", "b", refs=[["s", "d"]]), *FIRST[2:]], "objects[1]", 1),
        ([FIRST[0], obj("s", "b"), *FIRST[2:]], "objects[1]", 1),
        ([FIRST[0], *FIRST[2:], obj("s", "e")], "objects[1]", 1),
        ([FIRST[0], obj("s", "b", hold=True, refs=[["s", "c"]]), *FIRST[2:]], "objects[1]", 1),
        ([*FIRST[:3], obj("s", "d", refs=[["s", "a"]])], "objects[3]", 3),
        ([obj("r", "a"), *FIRST[1:]], "objects[0]", 0),
        ([*FIRST[:3], obj("s", "e")], "objects[3]", 3),
        ([FIRST[1], FIRST[0], *FIRST[2:]], "objects[0]", 0),
        ([*FIRST[:3], obj("s", "d", owner="u")], "objects[3]", 3),
        ([*FIRST[:3], obj("s", "d", hold=True)], "objects", 4),
        ([obj("s", "a", category="logs"), *FIRST[1:]], "objects", 4),
    ],
)
def test_a_stream_second_pass_differs(second: list[Record], field: str, before: int) -> None:
    """§8.1 rule 2: a difference raises from decisions at the first differing object's field."""
    seen, error = _second(second)
    assert field == error.field
    assert before == len(seen)
    assert "differs" in error.message
