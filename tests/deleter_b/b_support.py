"""Builders of plain-data input for the deleter_b tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import deleter_b

if TYPE_CHECKING:
    from collections.abc import Sequence

Data = dict[str, object]

CREATED = "2020-01-01T00:00:00Z"
UTC: Data = {"timezone": "UTC"}


def event(kind: str, at: str) -> Data:
    """Return an event record."""
    return {"kind": kind, "at": at}


def tenant(tid: str, events: Sequence[Data] = (), *, legal_hold: bool | None = None) -> Data:
    """Return a tenant record; ``legal_hold`` is written only when given."""
    result: Data = {"id": tid, "events": list(events)}
    if legal_hold is not None:
        result["legal_hold"] = legal_hold
    return result


def cancelled(tid: str, at: str, *, legal_hold: bool | None = None) -> Data:
    """Return a tenant that subscribed in 2020 and cancelled at ``at``."""
    events = [event("subscribed", "2020-01-01T00:00:00Z"), event("cancelled", at)]
    return tenant(tid, events, legal_hold=legal_hold)


def obj(  # noqa: PLR0913 -- one keyword per optional field of spec §4.1
    store: str,
    key: str,
    owner: str = "t",
    *,
    created_at: str = CREATED,
    category: str | None = None,
    legal_hold: bool | None = None,
    refs: Sequence[Sequence[str]] | None = None,
) -> Data:
    """Return an object record; optional fields are written only when given."""
    result: Data = {"store": store, "key": key, "tenant": owner, "created_at": created_at}
    if category is not None:
        result["category"] = category
    if legal_hold is not None:
        result["legal_hold"] = legal_hold
    if refs is not None:
        result["refs"] = [list(r) for r in refs]
    return result


def inventory(tenants: Sequence[Data], objects: Sequence[Data]) -> Data:
    """Return an inventory."""
    return {"tenants": list(tenants), "objects": list(objects)}


def keys(entries: object) -> list[tuple[str, str]]:
    """Return the ``(store, key)`` pairs of a verdict's ``purge`` or ``kept`` list."""
    assert isinstance(entries, list)
    return [(e["store"], e["key"]) for e in entries]


def reasons(verdict: Data) -> dict[str, str]:
    """Return ``key -> reason`` of a verdict's ``kept`` list."""
    kept = verdict["kept"]
    assert isinstance(kept, list)
    return {e["key"]: e["reason"] for e in kept}


def eligible_at(as_of: str, objects: Sequence[Data], policy: Data | None = None) -> Data:
    """Plan tenant ``t`` (cancelled 2020-02-01, long due, UTC) with ``objects``."""
    inv = inventory(
        [cancelled("t", "2020-02-01T00:00:00Z"), tenant("u", [event("subscribed", CREATED)])],
        objects,
    )
    return deleter_b.plan(inv, UTC if policy is None else policy, "t", as_of)
