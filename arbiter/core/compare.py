"""Comparison of two planners' outcomes, and the divergence report (spec §9).

Rules:

1. Two verdicts agree only when they are equal in every key of spec §7.5: scalar fields, the
   purge set, and the kept set *with reasons*.
2. A planner that rejected the input or failed, opposite one that returned a verdict, is a
   divergence; so is any failure (an exception other than the planner's input error).
3. The report names every difference: each scalar field with both values, objects purged by one
   planner only, objects kept by one planner only, and objects kept by both for different reasons.
   Lists are complete in the data of an in-memory comparison; ``summary()`` and ``render()``
   show counts and the first entries so a report stays readable for a plan of a million objects.
4. A streamed comparison (``arbiter.core.lockstep``) keeps only the first entries of each list
   and counts the rest in ``omitted`` (by list name); counts in ``summary()`` and ``render()``
   include them.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from arbiter.core.verdict import CONVERTER, KeptObject, ObjectId, Verdict

__all__ = [
    "DivergenceReport",
    "FieldDifference",
    "PlannerFailure",
    "ReasonDifference",
    "VerdictDifferences",
    "compare_verdicts",
]

SCALAR_FIELDS = ("tenant", "as_of", "eligible", "reason", "primary_due", "backup_due")
_SHOWN = 10


@attrs.frozen
class FieldDifference:
    """A scalar field on which the planners' verdicts differ."""

    field: str
    a: str | bool | None
    b: str | bool | None


@attrs.frozen
class ReasonDifference:
    """An object both planners keep, for different reasons."""

    store: str
    key: str
    a: str
    b: str


@attrs.frozen
class PlannerFailure:
    """A planner that returned no verdict.

    Attributes:
        planner: ``"a"`` or ``"b"``.
        kind: ``"rejected"`` (it raised its input error) or ``"failed"`` (any other exception,
            or a malformed verdict).
        message: what it said.
    """

    planner: str
    kind: Literal["rejected", "failed"]
    message: str


@attrs.frozen
class DivergenceReport:
    """Everything that differs between the two planners for one call.

    Attributes:
        omitted: for each list cut short by a streamed comparison (rule 4), how many entries
            it left out; empty when every list is complete.
    """

    tenant: str
    as_of: str
    versions: dict[str, str]
    fingerprints: dict[str, str]
    failures: tuple[PlannerFailure, ...] = ()
    fields: tuple[FieldDifference, ...] = ()
    purge_only_in_a: tuple[ObjectId, ...] = ()
    purge_only_in_b: tuple[ObjectId, ...] = ()
    kept_only_in_a: tuple[KeptObject, ...] = ()
    kept_only_in_b: tuple[KeptObject, ...] = ()
    kept_reason_differs: tuple[ReasonDifference, ...] = ()
    omitted: dict[str, int] = attrs.Factory(dict)

    def count(self, name: str) -> int:
        """How many entries the list ``name`` has, those left out of it included (rule 4)."""
        return len(getattr(self, name)) + self.omitted.get(name, 0)

    def summary(self) -> str:
        """One line saying that the plan was refused and what differs."""
        parts = [f"{f.planner} {f.kind}" for f in self.failures]
        parts += [f"{d.field} differs" for d in self.fields]
        for name in (
            "purge_only_in_a",
            "purge_only_in_b",
            "kept_only_in_a",
            "kept_only_in_b",
            "kept_reason_differs",
        ):
            count = self.count(name)
            if count:
                parts.append(f"{name.replace('_', ' ')}: {count}")
        return f"planners diverge for tenant {self.tenant!r} at {self.as_of}: " + "; ".join(parts)

    def render(self) -> str:
        """A multi-line report for people: counts and the first entries of every list."""
        lines = [
            "REFUSED: " + self.summary(),
            "nothing was deleted.",
            "planner versions: " + ", ".join(f"{k}={v}" for k, v in sorted(self.versions.items())),
            "input fingerprints: "
            + ", ".join(f"{k}={v[:16]}" for k, v in sorted(self.fingerprints.items())),
        ]
        lines += [f"  planner {f.planner} {f.kind}: {f.message}" for f in self.failures]
        lines += [f"  {d.field}: a={d.a!r} b={d.b!r}" for d in self.fields]
        for name in ("purge_only_in_a", "purge_only_in_b", "kept_only_in_a", "kept_only_in_b"):
            items: tuple[ObjectId | KeptObject, ...] = getattr(self, name)
            if items:
                lines.append(f"  {name.replace('_', ' ')} ({self.count(name)}):")
                lines += [f"    {_describe(item)}" for item in items[:_SHOWN]]
                if self.count(name) > _SHOWN:
                    lines.append(f"    ... and {self.count(name) - _SHOWN} more")
        if self.kept_reason_differs:
            differs = self.count("kept_reason_differs")
            lines.append(f"  kept for different reasons ({differs}):")
            lines += [
                f"    {d.store}/{d.key}: a={d.a} b={d.b}" for d in self.kept_reason_differs[:_SHOWN]
            ]
            if differs > _SHOWN:
                lines.append(f"    ... and {differs - _SHOWN} more")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        data: dict[str, Any] = CONVERTER.unstructure(self)
        return data


def _describe(item: ObjectId | KeptObject) -> str:
    if isinstance(item, KeptObject):
        return f"{item.store}/{item.key} ({item.reason})"
    return f"{item.store}/{item.key}"


@attrs.frozen
class VerdictDifferences:
    """What differs between two verdicts, in every key of spec §7.5 (rules 1 and 3).

    Attributes:
        fields: scalar fields that differ, with both values.
        purge_only_in_a: objects only the first verdict purges, sorted.
        purge_only_in_b: objects only the second verdict purges, sorted.
        kept_only_in_a: objects only the first verdict keeps, in its order.
        kept_only_in_b: objects only the second verdict keeps, in its order.
        kept_reason_differs: objects both keep, for different reasons.
    """

    fields: tuple[FieldDifference, ...] = ()
    purge_only_in_a: tuple[ObjectId, ...] = ()
    purge_only_in_b: tuple[ObjectId, ...] = ()
    kept_only_in_a: tuple[KeptObject, ...] = ()
    kept_only_in_b: tuple[KeptObject, ...] = ()
    kept_reason_differs: tuple[ReasonDifference, ...] = ()

    @property
    def agree(self) -> bool:
        """Whether nothing differs."""
        return self == _NO_DIFFERENCE


_NO_DIFFERENCE = VerdictDifferences()


def compare_verdicts(a: Verdict, b: Verdict) -> VerdictDifferences:
    """Compare two verdicts in every key of spec §7.5.

    Args:
        a: planner A's verdict (or the approved one).
        b: planner B's verdict (or the current one).

    Returns:
        The differences; ``agree`` is true when there are none.
    """
    fields = tuple(
        FieldDifference(name, getattr(a, name), getattr(b, name))
        for name in SCALAR_FIELDS
        if getattr(a, name) != getattr(b, name)
    )
    purge_a, purge_b = a.purge_ids, b.purge_ids
    kept_a, kept_b = a.kept_reasons, b.kept_reasons
    differences = VerdictDifferences(
        fields=fields,
        purge_only_in_a=tuple(sorted(purge_a - purge_b)),
        purge_only_in_b=tuple(sorted(purge_b - purge_a)),
        kept_only_in_a=tuple(k for k in a.kept if k.id not in kept_b),
        kept_only_in_b=tuple(k for k in b.kept if k.id not in kept_a),
        kept_reason_differs=tuple(
            ReasonDifference(k.store, k.key, k.reason, kept_b[k.id])
            for k in a.kept
            if k.id in kept_b and kept_b[k.id] != k.reason
        ),
    )
    # Invariant 1: unequal verdicts with no recorded difference is impossible; guard anyway.
    if differences.agree and a != b:
        return VerdictDifferences(fields=(FieldDifference("verdict", repr(a), repr(b)),))
    return differences
