"""Small builders for hand-written inventories (docs/spec.md §4.1) in example tests."""

from __future__ import annotations

from typing import Any

__all__ = ["call", "event", "obj", "tenant"]


def event(kind: str, at: str) -> dict[str, Any]:
    """A lifecycle event."""
    return {"kind": kind, "at": at}


def tenant(tid: str, *events: dict[str, Any], legal_hold: bool | None = None) -> dict[str, Any]:
    """A tenant with its events; ``legal_hold`` is written only when given."""
    record: dict[str, Any] = {"id": tid, "events": list(events)}
    if legal_hold is not None:
        record["legal_hold"] = legal_hold
    return record


def obj(  # noqa: PLR0913 -- mirrors the fields of an inventory object
    key: str,
    owner: str = "t",
    *,
    store: str = "db",
    created_at: str = "2020-01-01T00:00:00Z",
    category: str | None = None,
    legal_hold: bool | None = None,
    refs: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """An inventory object; optional fields are written only when given."""
    record: dict[str, Any] = {"store": store, "key": key, "tenant": owner, "created_at": created_at}
    if category is not None:
        record["category"] = category
    if legal_hold is not None:
        record["legal_hold"] = legal_hold
    if refs is not None:
        record["refs"] = [list(r) for r in refs]
    return record


def call(
    tenants: list[dict[str, Any]],
    objects: list[dict[str, Any]],
    policy: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inventory and policy of one planning call."""
    return {"tenants": tenants, "objects": objects}, policy
