"""plan_stream agrees with plan (spec §8.1 rule 4) and plans in bounded memory (rule 5)."""

# Tests here write `assert expected == actual` (house style), which SIM300 calls yoda.

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from deleter_a import plan, plan_stream

from .a_support import event, inventory, obj, tenant

Record = dict[str, object]
SCALARS = ("tenant", "as_of", "eligible", "reason", "primary_due", "backup_due")
ZONES = ["UTC", "Asia/Tokyo", "America/Sao_Paulo", "Pacific/Apia", "Europe/Berlin"]
INSTANTS = [
    "2026-01-10T12:00:00Z",
    "2026-03-31T23:59:59Z",
    "2026-04-20T15:00:00Z",
    "2026-04-21T00:00:00+09:00",
    "2026-05-01T00:00:00Z",
    "2026-05-01T00:00:00.000001Z",
    "2026-05-01T09:00:00+09:00",
    "2026-05-02T00:00:00Z",
]
IDS = [(store, key) for store in ("r", "s") for key in ("a", "b", "c", "d", "e", "f")]
MIB = 1024 * 1024


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Record, Record, str]:
    """Draw an inventory of tenants t, u, v (random lifecycles), a policy and an as_of."""
    cancel = draw(st.sampled_from(["2026-01-10T12:00:00Z", "2026-04-25T00:00:00Z"]))
    kinds = draw(st.lists(st.sampled_from(["subscribed", "cancelled", "reactivated"]), max_size=2))
    events = [event("subscribed", "2025-01-01T00:00:00Z"), event("cancelled", cancel)]
    events += [event(kind, draw(st.sampled_from(INSTANTS))) for kind in kinds]
    tenants = [
        tenant("t", *events, hold=draw(st.sampled_from([None, False, False, True]))),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
        tenant("v", event("cancelled", "2025-06-01T00:00:00Z")),
    ]
    targets = st.sampled_from([*IDS, ("x", "missing")])
    objects = []
    for store, key in draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS))):
        refs = draw(st.one_of(st.none(), st.lists(targets.map(list), max_size=3)))
        objects.append(
            obj(
                store,
                key,
                draw(st.sampled_from(["t", "t", "t", "u", "v"])),
                created_at=draw(st.sampled_from(INSTANTS)),
                category=draw(st.sampled_from([None, "default", "audit", "logs", "misc"])),
                hold=draw(st.sampled_from([None, False, False, True])),
                refs=refs,
            )
        )
    policy: Record = {
        "timezone": draw(st.sampled_from(ZONES)),
        "grace_days": draw(st.integers(min_value=0, max_value=40)),
        "categories": {
            "audit": {"keep": True},
            "logs": {"retain_days": draw(st.integers(min_value=0, max_value=40))},
        },
    }
    as_of = draw(st.sampled_from(INSTANTS[2:]))
    return inventory(tenants, draw(st.permutations(objects))), policy, as_of


def _slice(inv: Record, name: str) -> tuple[Record, list[Record], list[object]]:
    """Build T's slice of an inventory exactly as spec §8.1 rule 4 says."""
    tenants = inv["tenants"]
    objects = inv["objects"]
    assert isinstance(tenants, list)
    assert isinstance(objects, list)
    record = next(entry for entry in tenants if entry["id"] == name)
    mine = sorted(
        (entry for entry in objects if entry["tenant"] == name),
        key=lambda entry: (entry["store"], entry["key"]),
    )
    shared = [ref for entry in objects if entry["tenant"] != name for ref in entry.get("refs", [])]
    return record, mine, shared


@settings(max_examples=300, deadline=None)
@given(case=_cases(), name=st.sampled_from(["t", "u", "v"]))
def test_a_stream_agrees_with_plan(case: tuple[Record, Record, str], name: str) -> None:
    """§8.1 rule 4: scalars equal plan's; reason None equals purge; the others equal kept."""
    inv, policy, as_of = case
    verdict = plan(inv, policy, name, as_of)
    record, mine, shared = _slice(inv, name)
    streamed = plan_stream(record, lambda: iter(mine), iter(shared), policy, as_of)
    assert [verdict[key] for key in SCALARS] == [streamed[key] for key in SCALARS]
    decisions = list(streamed["decisions"])  # type: ignore[call-overload]
    purge = [{"store": d["store"], "key": d["key"]} for d in decisions if d["reason"] is None]
    kept = [d for d in decisions if d["reason"] is not None]
    assert verdict["purge"] == purge
    assert verdict["kept"] == kept


def _tenant_objects(count: int, *, every: int = 0) -> Iterator[Record]:
    """Yield ``count`` objects of t in order; every ``every``-th one refs the next (0: none)."""
    for index in range(count):
        record = obj("s", f"k{index:07d}", created_at="2026-01-01T00:00:00Z")
        if every and index % every == 0:
            record["refs"] = [["s", f"k{index + 1:07d}"]]
        yield record


def _peak(count: int, *, every: int = 0, shared: int = 0) -> tuple[int, int]:
    """Plan a due tenant of ``count`` generated objects; return (peak bytes, decisions)."""
    record = tenant("t", event("cancelled", "2026-01-10T12:00:00Z"))
    refs = (["s", f"k{index:07d}"] for index in range(2, count, count // max(shared, 1)))
    plan_stream(record, lambda: _tenant_objects(1), [], {"timezone": "UTC"}, "2026-05-01T00:00:00Z")
    tracemalloc.start()
    try:
        verdict = plan_stream(
            record,
            lambda: _tenant_objects(count, every=every),
            refs if shared else [],
            {"timezone": "UTC"},
            "2026-05-01T00:00:00Z",
        )
        decisions = verdict["decisions"]
        assert isinstance(decisions, Iterator)
        decided = sum(1 for _ in decisions)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, decided


def test_a_stream_memory_without_refs() -> None:
    """§8.1 rule 5: 200,000 objects with no refs stream with a traced peak under 4 MiB."""
    peak, decided = _peak(200_000)
    assert 200_000 == decided
    assert peak < 4 * MIB, f"peak {peak} bytes"


def test_a_stream_memory_with_refs() -> None:
    """§8.1 rule 5: with 1% of objects carrying a ref and 1,000 shared refs, memory stays bounded.

    What rule 5 lets the planner hold here is 2,000 objects with refs (identity, one ref, a
    reason: a dict entry and three tuples, about 400 bytes each in CPython) and the reached set
    of at most 2,000 + 1,000 identities (about 150 bytes each with the set's slack), about
    1.3 MiB; the bound is the constant-memory 4 MiB plus twice that, and the peak must not grow
    with the tenant's size (a tenant half as big with as many refs peaks alike).
    """
    carriers, shared = 2_000, 1_000
    peak, decided = _peak(200_000, every=100, shared=shared)
    assert 200_000 == decided
    allowed = 4 * MIB + 2 * (carriers * 400 + (carriers + shared) * 150)
    assert peak < allowed, f"peak {peak} bytes, allowed {allowed}"
    smaller, _ = _peak(100_000, every=50, shared=shared)
    assert peak < smaller + MIB, f"peak {peak} bytes at 200,000 objects, {smaller} at 100,000"
