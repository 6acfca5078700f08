"""Spec §8.1, the streaming entry point, with hand-computed expectations, for A and B alike.

Each test runs ``plan_stream`` of planner A and of planner B on a slice built by hand (or from an
inventory as §8.1 rule 4 says), so a rule of §8.1 that one planner gets wrong fails here by name.
"""

from __future__ import annotations

import tracemalloc
from typing import TYPE_CHECKING, Any

import pytest

import deleter_a
import deleter_b
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from types import ModuleType

AS_OF = "2026-05-01T00:00:00Z"
POLICY: dict[str, Any] = {"timezone": "UTC", "categories": {"audit": {"keep": True}}}
DUE = tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))
ACTIVE = tenant("t", event("subscribed", "2026-01-01T00:00:00Z"))


@pytest.fixture(params=["a", "b"])
def planner(request: pytest.FixtureRequest) -> ModuleType:
    """Planner A, then planner B."""
    return {"a": deleter_a, "b": deleter_b}[request.param]


class Objects:
    """``objects()`` of §8.1: a new iterator over the same records on every call, counted."""

    def __init__(
        self, records: Iterable[dict[str, Any]], second: list[dict[str, Any]] | None = None
    ) -> None:
        self.records = list(records)
        self.second = second
        self.calls = 0

    def __call__(self) -> Iterator[dict[str, Any]]:
        """The records (the ``second`` ones from the second call on, when given)."""
        self.calls += 1
        if self.calls > 1 and self.second is not None:
            return iter(self.second)
        return iter(self.records)


def sorted_objects(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects in the (store, key) order of §8.1 rule 1."""
    return sorted(objects, key=lambda o: (o["store"], o["key"]))


def run(
    planner: ModuleType,
    objects: Callable[[], Iterable[Mapping[str, Any]]],
    shared: Iterable[object] = (),
    *,
    record: Mapping[str, Any] = DUE,
    as_of: str = AS_OF,
) -> tuple[dict[str, Any], list[tuple[str, str | None]]]:
    """(the scalar keys, [(key, reason)] of the decisions) of one streamed verdict."""
    result = planner.plan_stream(record, objects, shared, POLICY, as_of)
    decisions = [(d["key"], d["reason"]) for d in result["decisions"]]
    return {k: v for k, v in result.items() if k != "decisions"}, decisions


def test_the_result_has_exactly_the_keys_of_rule_3(planner: ModuleType) -> None:
    """§8.1 rule 3: the scalar keys of §7.5 and decisions, nothing else."""
    result = planner.plan_stream(DUE, Objects([obj("a")]), [], POLICY, AS_OF)
    assert {
        "tenant",
        "as_of",
        "eligible",
        "reason",
        "primary_due",
        "backup_due",
        "decisions",
    } == set(result)


def test_decisions_follow_the_stream_with_reasons(planner: ModuleType) -> None:
    """§8.1 rule 3: one decision per object, in stream order; None purges, a reason keeps."""
    objects = Objects(
        [
            obj("a"),
            obj("b", legal_hold=True),
            obj("c", category="audit"),
            obj("d", created_at="2026-05-01T00:00:00.000001Z"),
            obj("e"),
        ]
    )
    head, decisions = run(planner, objects)
    assert (
        {
            "tenant": "t",
            "as_of": AS_OF,
            "eligible": True,
            "reason": None,
            "primary_due": "2026-02-01T00:00:00Z",
            "backup_due": "2026-02-15T00:00:00Z",
        },
        [
            ("a", None),
            ("b", "object-hold"),
            ("c", "category-keep"),
            ("d", "created-after-as-of"),
            ("e", None),
        ],
    ) == (head, decisions)


def test_not_eligible_decides_nothing(planner: ModuleType) -> None:
    """§8.1 rule 3: an active tenant has no decisions and dues of None."""
    head, decisions = run(planner, Objects([obj("a")]), record=ACTIVE)
    assert ((False, "active", None), []) == (
        (head["eligible"], head["reason"], head["primary_due"]),
        decisions,
    )


def test_shared_refs_keep_their_targets_and_what_those_reach(planner: ModuleType) -> None:
    """§8.1 rule 1, §7.3: a ref of another tenant keeps its target and the chain behind it."""
    objects = Objects(
        [obj("a", refs=[("db", "b")]), obj("b", refs=[("db", "c")]), obj("c"), obj("d")]
    )
    shared = [["db", "a"], ["db", "a"], ["db", "not-t"], ["other", "x"]]
    _, decisions = run(planner, objects, shared)
    assert [("a", "shared"), ("b", "shared"), ("c", "shared"), ("d", None)] == decisions


def test_a_kept_object_later_in_the_stream_keeps_earlier_ones(planner: ModuleType) -> None:
    """§8.1 rule 2: sharing is decided over the whole stream, not the objects seen so far."""
    objects = Objects(
        [obj("a"), obj("b", refs=[("db", "a")]), obj("z", legal_hold=True, refs=[("db", "b")])]
    )
    _, decisions = run(planner, objects)
    assert [("a", "shared"), ("b", "shared"), ("z", "object-hold")] == decisions


def test_a_created_after_object_is_in_l(planner: ModuleType) -> None:
    """§7.2 rule 1, §7.3: what an object created after as_of refs is shared."""
    objects = Objects([obj("a"), obj("n", created_at="2026-06-01T00:00:00Z", refs=[("db", "a")])])
    _, decisions = run(planner, objects)
    assert [("a", "shared"), ("n", "created-after-as-of")] == decisions


def test_objects_is_called_once_per_pass(planner: ModuleType) -> None:
    """§8.1 rule 2: one pass during the call, the second while decisions are consumed."""
    objects = Objects([obj("a"), obj("b")])
    result = planner.plan_stream(DUE, objects, [], POLICY, AS_OF)
    during = objects.calls
    list(result["decisions"])
    assert (1, 2) == (during, objects.calls)


@pytest.mark.parametrize(
    ("records", "field"),
    [
        ([obj("a"), obj("b", "u")], "objects[1].tenant"),
        ([obj("b"), obj("a")], "objects[1]"),
        ([obj("a"), obj("a")], "objects[1]"),
        ([obj("a", store="db"), obj("a", store="blob")], "objects[1]"),
        ([obj("a"), {**obj("b"), "legalhold": True}], "objects[1].legalhold"),
        ([obj("a", refs=[("db", "")])], "objects[0].refs[0]"),
    ],
    ids=["foreign", "order", "repeat", "store-order", "unknown-field", "bad-ref"],
)
def test_bad_objects_name_their_place_in_the_stream(
    planner: ModuleType, records: list[dict[str, Any]], field: str
) -> None:
    """§8.1 rule 6: a bad object is bad input at objects[i], i its place in the stream."""
    with pytest.raises(planner.PlanInputError) as caught:
        run(planner, Objects(records))
    assert ("inventory", field) == (caught.value.source, caught.value.field)


@pytest.mark.parametrize(
    "bad",
    [["db"], ["db", "a", "b"], ["db", ""], "db/a", ["db", 1], None],
    ids=["short", "long", "empty", "string", "int", "none"],
)
def test_a_bad_shared_ref_is_bad_input(planner: ModuleType, bad: object) -> None:
    """§8.1 rule 6: an item of shared that is not [store, key] of non-empty strings."""
    with pytest.raises(planner.PlanInputError) as caught:
        run(planner, Objects([obj("a")]), [["db", "a"], bad])
    assert "shared[1]" == caught.value.field


def test_a_bad_tenant_record_is_bad_input(planner: ModuleType) -> None:
    """§8.1 rule 6: the tenant record is validated as §4.4 validates a tenant."""
    record = tenant("t", event("cancelled", "2026-01-01T00:00:00"))
    with pytest.raises(planner.PlanInputError) as caught:
        run(planner, Objects([obj("a")]), record=record)
    assert ("inventory", "tenant.events[0].at") == (caught.value.source, caught.value.field)


@pytest.mark.parametrize(
    "second",
    [[obj("a")], [obj("a"), obj("b"), obj("c")], [obj("a"), obj("b", legal_hold=True)]],
    ids=["shorter", "longer", "changed"],
)
def test_a_second_pass_that_differs_is_bad_input(
    planner: ModuleType, second: list[dict[str, Any]]
) -> None:
    """§8.1 rule 2: a second pass unlike the first raises from the decisions, never decides."""
    result = planner.plan_stream(DUE, Objects([obj("a"), obj("b")], second), [], POLICY, AS_OF)
    with pytest.raises(planner.PlanInputError) as caught:
        list(result["decisions"])
    assert "inventory" == caught.value.source


def _many(count: int) -> Callable[[], Iterator[dict[str, Any]]]:
    """A tenant of ``count`` objects without refs, generated afresh on every call."""

    def objects() -> Iterator[dict[str, Any]]:
        for i in range(count):
            yield {
                "store": "db",
                "key": f"k{i:09d}",
                "tenant": "t",
                "created_at": "2025-01-01T00:00:00Z",
            }

    return objects


def test_a_large_tenant_without_refs_plans_in_constant_memory(planner: ModuleType) -> None:
    """§8.1 rule 5: 200,000 objects, no refs, streamed: a peak far below one list of them."""
    tracemalloc.start()
    try:
        result = planner.plan_stream(DUE, _many(200_000), [], POLICY, AS_OF)
        purged = sum(1 for d in result["decisions"] if d["reason"] is None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A list of 200,000 such dicts alone takes about 100 MiB.
    assert (200_000, True) == (purged, peak < 4 * 2**20), peak
