"""The verdict as the arbiter holds it: typed, frozen, checked at the boundary.

A planner returns plain data (spec §7.5). The arbiter never trusts that data: it structures it
with a strict cattrs converter before comparing, so a planner that returns a malformed verdict is
a failed planner, not a source of silently wrong deletions.

Invariants checked when a verdict is structured:

1. Exactly the keys of spec §7.5 are present; unknown keys are errors (at every level).
2. Instants are in the output form of spec §2.2 (UTC, ``Z``, zero or six fraction digits).
3. ``reason`` and each kept reason are from the closed sets of spec §7.
4. ``purge`` and ``kept`` are sorted by ``(store, key)`` and hold no identity twice, together.
5. An eligible verdict has ``reason`` null and both dues; an ineligible one lists no object; an
   active one has no dues.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

import attrs

from arbiter.core.convert import strict_converter

__all__ = [
    "CONVERTER",
    "IneligibleReason",
    "KeptObject",
    "KeptReason",
    "ObjectId",
    "Verdict",
    "verdict_from_planner",
    "verdict_to_json",
]

IneligibleReason = Literal["active", "tenant-hold", "not-due"]
KeptReason = Literal[
    "created-after-as-of", "object-hold", "category-keep", "category-retain", "shared"
]

_OUTPUT_INSTANT = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z\Z")


def _check_instant(_inst: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _OUTPUT_INSTANT.match(value):
        msg = f"{attribute.name} {value!r} is not a UTC instant in the form of spec §2.2"
        raise ValueError(msg)


@attrs.frozen(order=True)
class ObjectId:
    """The identity of an object: its store and its key within the store."""

    store: str
    key: str


@attrs.frozen(order=True)
class KeptObject:
    """An object of the tenant that is not purged, and why (spec §7.2, §7.3)."""

    store: str
    key: str
    reason: KeptReason = attrs.field(validator=attrs.validators.in_(get_args(KeptReason)))

    @property
    def id(self) -> ObjectId:
        """The object's identity."""
        return ObjectId(self.store, self.key)


def _check_sorted_unique(
    _inst: object, attribute: attrs.Attribute[Any], value: tuple[ObjectId | KeptObject, ...]
) -> None:
    ids = [(item.store, item.key) for item in value]
    if ids != sorted(set(ids)):
        msg = f"{attribute.name} is not sorted by (store, key) without repeats (spec §7.5)"
        raise ValueError(msg)


@attrs.frozen
class Verdict:
    """One planner's answer for one tenant at one instant (spec §7.5)."""

    tenant: str
    as_of: str = attrs.field(validator=_check_instant)
    eligible: bool
    reason: IneligibleReason | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.in_(get_args(IneligibleReason)))
    )
    primary_due: str | None = attrs.field(validator=_check_instant)
    backup_due: str | None = attrs.field(validator=_check_instant)
    purge: tuple[ObjectId, ...] = attrs.field(validator=_check_sorted_unique)
    kept: tuple[KeptObject, ...] = attrs.field(validator=_check_sorted_unique)

    def __attrs_post_init__(self) -> None:
        """Check the cross-field rules (invariants 4 and 5 above)."""
        purged = {(o.store, o.key) for o in self.purge}
        if any((k.store, k.key) in purged for k in self.kept):
            msg = "an object is both purged and kept"
            raise ValueError(msg)
        if self.eligible:
            if self.reason is not None or self.primary_due is None or self.backup_due is None:
                msg = "an eligible verdict has no reason and both dues"
                raise ValueError(msg)
        else:
            if self.reason is None:
                msg = "an ineligible verdict needs a reason"
                raise ValueError(msg)
            if self.purge or self.kept:
                msg = "an ineligible verdict lists no object"
                raise ValueError(msg)
            if (self.primary_due is None) != (self.reason == "active") or (
                self.backup_due is None
            ) != (self.reason == "active"):
                msg = "dues are reported exactly when the tenant is cancelled"
                raise ValueError(msg)

    @property
    def purge_ids(self) -> frozenset[ObjectId]:
        """The identities of the purge set."""
        return frozenset(self.purge)

    @property
    def kept_reasons(self) -> dict[ObjectId, KeptReason]:
        """Each kept object's identity mapped to its reason."""
        return {k.id: k.reason for k in self.kept}


# Strict: no coercion, unknown keys refused at every level (see arbiter.core.convert).
CONVERTER = strict_converter()


def verdict_from_planner(raw: object) -> Verdict:
    """Structure a planner's plain-data verdict, checking every invariant of this module.

    Args:
        raw: what the planner returned.

    Returns:
        The typed verdict.

    Raises:
        cattrs.BaseValidationError: the data breaks the verdict's shape or invariants.
        TypeError: the data is not a mapping.
        ValueError: a cross-field invariant is broken.
    """
    if not isinstance(raw, dict):
        msg = f"a verdict is a dict, not {type(raw).__name__}"
        raise TypeError(msg)
    return CONVERTER.structure(raw, Verdict)


def verdict_to_json(verdict: Verdict) -> dict[str, Any]:
    """Unstructure a verdict to the plain data of spec §7.5 (lists, not tuples).

    Args:
        verdict: the verdict.

    Returns:
        JSON-ready plain data.
    """
    data: dict[str, Any] = CONVERTER.unstructure(verdict)
    data["purge"] = list(data["purge"])
    data["kept"] = list(data["kept"])
    return data
