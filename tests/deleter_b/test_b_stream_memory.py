"""plan_stream's memory is bounded by what carries refs, not by the tenant's size (spec §8.1)."""

from __future__ import annotations

import tracemalloc
from typing import TYPE_CHECKING

import deleter_b

from .b_support import Data, cancelled

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SIZE = 200_000
MIB = 1024 * 1024
AS_OF = "2026-05-01T00:00:00Z"
POLICY: Data = {"timezone": "Europe/Berlin", "categories": {"logs": {"retain_days": 30}}}
CARRY_EVERY = 100  # 1% of the objects carry one ref; 1% are named by another tenant
# Per object that rule 5 lets the planner hold (a carrier, a ref of shared naming T, a reached
# object): its identity (a tuple and two strings of about 60 bytes each), a _Carrier, its refs
# tuple, and a slot in a dict or set (including their growth). 1 KiB is a generous ceiling.
PER_HELD_OBJECT = 1024


# More distinct created_at strings than the planner's cache holds (4096), built before tracing.
CREATED = [
    f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n // 24 % 60:02d}:00Z"
    for n in range(5000)
]


def _objects(*, refs: bool) -> Callable[[], Iterator[Data]]:
    """Return an objects() callable generating T's objects lazily, new records each call."""

    def generate() -> Iterator[Data]:
        for i in range(SIZE):
            record: Data = {
                "store": "s",
                "key": f"object-{i:09d}",
                "tenant": "t",
                "created_at": CREATED[i // 40 % len(CREATED)],
            }
            if i % 10 == 3:
                record["category"] = "logs"
            if refs and i % CARRY_EVERY == 7:
                record["refs"] = [["s", f"object-{(i * 7919) % SIZE:09d}"]]
            yield record

    return generate


def _peak(objects: Callable[[], Iterator[Data]], shared: Callable[[], Iterator[list[str]]]) -> int:
    """Plan, consume the decisions, and return the peak traced memory in bytes."""
    tracemalloc.start()
    try:
        result = deleter_b.plan_stream(
            cancelled("t", "2026-01-01T00:00:00Z"), objects, shared(), POLICY, AS_OF
        )
        count = 0
        for _ in result["decisions"]:  # type: ignore[attr-defined]
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert SIZE == count
    return peak


def test_no_refs_plans_in_constant_memory() -> None:
    """Spec §8.1 rule 5: 200,000 objects without refs, streamed, peak under 4 MiB."""
    peak = _peak(_objects(refs=False), lambda: iter(()))
    assert peak < 4 * MIB, peak


def test_refs_cost_only_what_they_hold() -> None:
    """Spec §8.1 rule 5: with refs, the peak stays under 4 MiB plus 1 KiB per held object."""

    def shared() -> Iterator[list[str]]:
        for i in range(SIZE // CARRY_EVERY):
            yield ["s", f"object-{(i * 104729) % SIZE:09d}"]

    carriers = SIZE // CARRY_EVERY
    named = SIZE // CARRY_EVERY
    reached = carriers + named  # at most one target per carrier, plus what shared names
    bound = 4 * MIB + PER_HELD_OBJECT * (carriers + named + reached)
    peak = _peak(_objects(refs=True), shared)
    assert peak < bound, (peak, bound)
