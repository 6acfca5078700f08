"""Builders of plain-data inputs shared by the deleter_a tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterator

Item = TypeVar("Item")

EPOCH_CREATED = "2026-01-01T00:00:00Z"


def event(kind: str, at: str) -> dict[str, object]:
    """Return an inventory event."""
    return {"kind": kind, "at": at}


def tenant(ident: str, *events: dict[str, object], hold: bool | None = None) -> dict[str, object]:
    """Return an inventory tenant with the given events."""
    result: dict[str, object] = {"id": ident, "events": list(events)}
    if hold is not None:
        result["legal_hold"] = hold
    return result


def obj(  # noqa: PLR0913 - one keyword per optional field of spec §4.1
    store: str,
    key: str,
    owner: str = "t",
    *,
    created_at: str = EPOCH_CREATED,
    category: str | None = None,
    hold: bool | None = None,
    refs: list[list[str]] | None = None,
) -> dict[str, object]:
    """Return an inventory object; optional fields are present only when given."""
    result: dict[str, object] = {
        "store": store,
        "key": key,
        "tenant": owner,
        "created_at": created_at,
    }
    if category is not None:
        result["category"] = category
    if hold is not None:
        result["legal_hold"] = hold
    if refs is not None:
        result["refs"] = refs
    return result


def cancelled_tenant(ident: str = "t", at: str = "2026-01-10T12:00:00Z") -> dict[str, object]:
    """Return a tenant that subscribed once and was cancelled at ``at``."""
    return tenant(ident, event("subscribed", "2025-01-01T00:00:00Z"), event("cancelled", at))


def inventory(
    tenants: list[dict[str, object]], objects: list[dict[str, object]]
) -> dict[str, object]:
    """Return an inventory with the given tenants and objects."""
    return {"tenants": tenants, "objects": objects}


UTC_POLICY: dict[str, object] = {"timezone": "UTC"}
# With c = 2026-01-10T12:00:00Z in UTC, primary_due is 2026-02-10T00:00:00Z (spec §10.6).
DUE_AS_OF = "2026-05-01T00:00:00Z"


class CountingList(list[Item]):
    """A list that counts how often it is iterated."""

    iterations: int = 0

    def __iter__(self) -> Iterator[Item]:
        """Count the call, then iterate as a list does."""
        self.iterations += 1
        return super().__iter__()
