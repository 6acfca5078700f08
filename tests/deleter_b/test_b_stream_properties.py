"""plan_stream agrees with plan on slices cut from generated inventories (spec §8.1 rule 4)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import deleter_b

from .b_support import Data, event, inventory, obj, tenant

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "America/Havana",
    "Pacific/Apia",
    "Antarctica/Casey",
    "Europe/Berlin",
]
INSTANTS = [
    "2011-12-29T12:00:00Z",
    "2011-12-30T10:00:00Z",
    "2018-11-03T23:30:00-03:00",
    "2018-11-04T03:00:00Z",
    "2025-11-02T04:00:00Z",
    "2025-11-02T04:30:00-05:00",
    "2026-04-20T15:00:00Z",
    "2026-04-21T00:00:00Z",
    "2026-04-30T23:59:59.999999Z",
    "2026-05-01T00:00:00Z",
    "2026-05-01T09:00:00+09:00",
    "2026-05-01T00:00:00.000001Z",
    "2026-05-02T00:00:00Z",
]
AS_OFS = ["2011-12-30T10:00:00Z", "2018-11-04T03:00:00Z", "2026-05-01T00:00:00Z"]
NAMES = [("s", "a"), ("s", "b"), ("s", "c"), ("s", "d"), ("s", "é"), ("r", "a"), ("S", "z")]
TARGETS = [*NAMES, ("x", "ghost")]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Data, Data, str]:
    """Draw an inventory with tenants t, u and v, a policy and as_of."""
    events = [event("subscribed", "2000-01-01T00:00:00Z")]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cancelled", "cancelled", "reactivated", "erasure_requested"]))
        events.append(event(kind, draw(st.sampled_from(["2005-01-01T00:00:00Z", *INSTANTS]))))
    tenants = [
        tenant("t", events, legal_hold=draw(st.sampled_from([None, False, True, False]))),
        tenant("u", [event("cancelled", "2001-01-01T00:00:00Z")]),
        tenant("v"),
    ]
    objects = []
    for store, key in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES))):
        refs = draw(st.lists(st.sampled_from(TARGETS), max_size=3))
        objects.append(
            obj(
                store,
                key,
                draw(st.sampled_from(["t", "t", "t", "u", "v"])),
                created_at=draw(st.sampled_from(INSTANTS)),
                category=draw(st.sampled_from([None, "default", "audit", "logs", "new", "none"])),
                legal_hold=draw(st.sampled_from([None, False, True, None])),
                refs=refs or draw(st.sampled_from([None, []])),
            )
        )
    objects = draw(st.permutations(objects))
    categories: Data = {"audit": {"keep": True}}
    for name in ("logs", "new"):
        days = draw(st.one_of(st.none(), st.integers(0, 4000)))
        if days is not None:
            categories[name] = {"retain_days": days}
    policy: Data = {
        "timezone": draw(st.sampled_from(ZONES)),
        "grace_days": draw(st.integers(0, 40)),
        "backup_lag_days": draw(st.integers(0, 20)),
        "categories": categories,
    }
    return inventory(tenants, objects), policy, draw(st.sampled_from(AS_OFS))


def _stream(inv: Data, policy: Data, as_of: str) -> tuple[Data, list[Any]]:
    """Cut T's slice out of ``inv`` as spec §8.1 rule 4 says and plan it."""
    tenants: list[Data] = inv["tenants"]  # type: ignore[assignment]
    objects: list[Data] = inv["objects"]  # type: ignore[assignment]
    mine = sorted(
        (o for o in objects if o["tenant"] == "t"), key=lambda o: (str(o["store"]), str(o["key"]))
    )
    shared = [r for o in objects if o["tenant"] != "t" for r in o.get("refs", [])]  # type: ignore[attr-defined]
    record = next(t for t in tenants if t["id"] == "t")
    result = deleter_b.plan_stream(record, lambda: iter(mine), shared, policy, as_of)
    decisions = result.pop("decisions")
    return result, list(decisions)  # type: ignore[call-overload]


@settings(max_examples=300, deadline=None)
@given(cases())
def test_plan_stream_agrees_with_plan(case: tuple[Data, Data, str]) -> None:
    """Spec §8.1 rule 4: equal scalars; None decisions are purge, the others are kept."""
    inv, policy, as_of = case
    verdict = deleter_b.plan(inv, policy, "t", as_of)
    scalars, decisions = _stream(inv, policy, as_of)
    purge = [{"store": d["store"], "key": d["key"]} for d in decisions if d["reason"] is None]
    kept = [d for d in decisions if d["reason"] is not None]
    expected_scalars = {k: v for k, v in verdict.items() if k not in {"purge", "kept"}}
    assert (expected_scalars, verdict["purge"], verdict["kept"]) == (scalars, purge, kept)
