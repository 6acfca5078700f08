"""Comparing two planners' streamed verdicts in lockstep (spec §8.1, §9), without I/O.

The arbiter feeds both planners one slice (``arbiter.purge.streaming``) and knows which objects
it fed, in ``(store, key)`` order. Each planner answers with its scalar fields, then one decision
per object (§8.1 rule 3). Rules:

1. The two answers are walked together with the objects fed, one position at a time; nothing is
   held but the current position and the report's bounded lists (rule 6).
2. A planner's scalar fields must be exactly those of spec §7.5 besides ``purge`` and ``kept``,
   and pass the verdict's own checks (``arbiter.core.verdict``: instants in the form of §2.2,
   reasons from the closed sets, eligible with a null reason and both dues, dues exactly when
   cancelled), checked as a verdict that lists no object. Scalars that fail make their planner
   failed.
3. A decision is a ``dict`` with exactly the keys ``store``, ``key`` and ``reason``: two strings
   and ``None`` or a kept reason (§7.2, §7.3). An ineligible verdict has no decision (the
   verdict's invariant 5). The i-th decision of an eligible verdict names the i-th object fed
   (the arbiter's own scope check: it trusts neither planner's idea of the tenant's objects),
   and there are exactly as many decisions as objects fed. A decision that breaks this makes
   its planner failed, naming the position and what is wrong; its stream is read no further.
4. A stream that ends with a ``StreamEnd`` (a rejection or failure its planner reported part
   way, e.g. from the second pass of §8.1 rule 2) makes its planner rejected or failed; so does
   an exception raised by the decisions iterator itself (``InputError``: rejected; any other:
   failed).
5. Agreement: both scalar sets valid and equal, both streams valid, their decisions equal at
   every position. Agreed decisions are yielded as they are confirmed, so that the caller can
   spill them; the caller acts on none of them before the walk has ended without an error: a
   difference may surface at the last position, or only at the end of a second pass.
6. After the first difference nothing more is yielded, but the walk goes on to the end, so that
   the report names every difference as ``compare_verdicts`` would (scalar fields, objects purged
   or kept by one planner only, objects kept for different reasons, in the same order). Each list
   keeps its first ``keep`` entries; ``DivergenceReport.omitted`` counts the rest.
7. The end: both planners rejected the input (in either pass) → ``InputError`` as the first
   planner saw it; a failure, a single rejection or any difference → ``RefusedError`` with the
   report (with failures, the report lists the failures only, as ``arbitrate``'s does); otherwise
   the walk ends normally, and the yielded decisions are the agreed plan.
8. ``VerdictDigest`` is the SHA-256 of the canonical JSON (``arbiter.core.canonical``) of the
   verdict an agreed stream stands for, computed incrementally: for the same verdict it equals
   ``plan_digest`` of the verdict held in memory. Canonical JSON sorts keys, so the kept list
   comes before the purge list: the caller keeps the purge entries (``VerdictDigest.entry``)
   aside, in order (or already joined by commas), and hands them back at the end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, get_args

import attrs

from arbiter.core.compare import (
    SCALAR_FIELDS,
    DivergenceReport,
    FieldDifference,
    PlannerFailure,
    ReasonDifference,
)
from arbiter.core.errors import InputError, RefusedError, UsageError
from arbiter.core.verdict import (
    KeptObject,
    KeptReason,
    ObjectId,
    Verdict,
    verdict_from_planner,
    verdict_to_json,
)

__all__ = [
    "Decision",
    "Lockstep",
    "PlannerStream",
    "StreamEnd",
    "VerdictDigest",
]

_KEPT_REASONS = frozenset(get_args(KeptReason))
_DECISION_KEYS = frozenset(("store", "key", "reason"))
_LISTS = (
    "purge_only_in_a",
    "purge_only_in_b",
    "kept_only_in_a",
    "kept_only_in_b",
    "kept_reason_differs",
)
KEEP = 1000


class Decision(NamedTuple):
    """One agreed decision: an object of the tenant, and why it is kept (None: purged)."""

    store: str
    key: str
    reason: KeptReason | None


@attrs.frozen
class StreamEnd:
    """The last item of a decisions stream that did not end normally (rule 4).

    Attributes:
        outcome: the rejection (``InputError``) or failure its planner reported.
    """

    outcome: InputError | PlannerFailure


@attrs.frozen
class PlannerStream:
    """One planner's streamed answer, as the arbiter received it.

    Attributes:
        name: the planner's name (``"a"``, ``"b"``).
        result: its scalar fields (§8.1 rule 3 without ``decisions``), or its rejection or
            failure when it gave none.
        decisions: its decisions, in order; may end with a ``StreamEnd``.
    """

    name: str
    result: Mapping[str, object] | InputError | PlannerFailure
    decisions: Iterable[object] = ()


@attrs.define
class _Side:
    """The walk's state for one planner."""

    name: str
    decisions: Iterator[object]
    verdict: Verdict | None = None
    failure: PlannerFailure | None = None
    rejection: InputError | None = None
    done: bool = False

    @property
    def live(self) -> bool:
        return self.verdict is not None and not self.done

    @property
    def eligible(self) -> bool:
        return self.verdict is not None and self.verdict.eligible

    def fail(self, message: str) -> None:
        self.failure = PlannerFailure(self.name, "failed", message)
        self.done = True

    def end(self, outcome: InputError | PlannerFailure) -> None:
        if isinstance(outcome, InputError):
            self.rejection = outcome
        else:
            self.failure = PlannerFailure(self.name, outcome.kind, outcome.message)
        self.done = True


@attrs.define
class _Bounded:
    """The first ``keep`` entries of a report list, and how many more there were (rule 6)."""

    keep: int
    items: list[Any] = attrs.Factory(list)
    omitted: int = 0

    def add(self, item: object) -> None:
        if len(self.items) < self.keep:
            self.items.append(item)
        else:
            self.omitted += 1


_END = object()


def _scalars(name: str, result: object) -> Verdict | PlannerFailure:
    """The scalar fields as a verdict that lists no object, or why they are malformed (rule 2)."""
    if not isinstance(result, Mapping):
        return PlannerFailure(name, "failed", f"malformed verdict: a {type(result).__name__}")
    expected = set(SCALAR_FIELDS)
    if set(result) != expected:
        missing = sorted(expected - set(result))
        unexpected = sorted(repr(key) for key in set(result) - expected)
        return PlannerFailure(
            name,
            "failed",
            f"malformed verdict: fields missing {missing}, unexpected [{', '.join(unexpected)}]",
        )
    try:
        return verdict_from_planner({**result, "purge": [], "kept": []})
    except Exception as exc:  # noqa: BLE001 -- a malformed verdict is a failed planner
        return PlannerFailure(name, "failed", f"malformed verdict: {exc!r}")


def _malformed(item: object) -> str | None:
    """What is wrong with a decision (rule 3), or None when it is well formed."""
    if not isinstance(item, dict):
        return f"a {type(item).__name__}, not a dict"
    if item.keys() != _DECISION_KEYS:
        return f"keys [{', '.join(sorted(repr(k) for k in item))}], not 'store', 'key', 'reason'"
    store, key, reason = item["store"], item["key"], item["reason"]
    if not isinstance(store, str) or not isinstance(key, str):
        return f"store {store!r} and key {key!r} are not both strings"
    if reason is not None and not (isinstance(reason, str) and reason in _KEPT_REASONS):
        return f"reason {reason!r} is neither null nor a kept reason of spec §7.2, §7.3"
    return None


def _listed_by_ineligible(verdict: Verdict) -> str:
    """The verdict's own invariant an ineligible verdict with a decision breaks (rule 3)."""
    try:
        attrs.evolve(verdict, purge=(ObjectId("", ""),))
    except ValueError as exc:
        return str(exc)
    return "an ineligible verdict lists no object"  # pragma: no cover -- the verdict refuses it


def _name(identity: object) -> str:
    if isinstance(identity, tuple | list) and len(identity) == 2:  # noqa: PLR2004 -- (store, key)
        return f"{identity[0]}/{identity[1]}"
    return repr(identity)  # pragma: no cover -- the arbiter feeds (store, key) pairs


class Lockstep:
    """Two planners' streamed verdicts walked against the objects fed (rules 1 to 7).

    Iterate over it once: it yields the agreed decisions, then ends normally on agreement or
    raises. ``scalars`` is known before the walk.

    Args:
        first: planner A's answer.
        second: planner B's answer.
        fed: the identities ``(store, key)`` of the objects fed to both, in order (pairs).
        tenant: the tenant planned, for the report.
        as_of: the instant asked for, for the report.
        versions: each planner's version, for the report.
        fingerprints: the inputs' fingerprints, for the report.
        keep: how many entries each list of the report keeps (rule 6).

    Raises:
        UsageError: the two planners have the same name, or ``keep`` is negative.
    """

    def __init__(  # noqa: PLR0913 -- the two answers, what was fed, and the report's context
        self,
        first: PlannerStream,
        second: PlannerStream,
        fed: Iterable[Sequence[object]],
        *,
        tenant: str,
        as_of: str,
        versions: Mapping[str, str],
        fingerprints: Mapping[str, str],
        keep: int = KEEP,
    ) -> None:
        if first.name == second.name or keep < 0:
            raise UsageError("a lockstep walk needs two distinct planners and keep >= 0")
        self._sides = (self._side(first), self._side(second))
        self._fed = fed
        self._tenant = str(tenant)
        self._as_of = str(as_of)
        self._versions = dict(versions)
        self._fingerprints = dict(fingerprints)
        self._lists = {name: _Bounded(keep) for name in _LISTS}
        self._walked = False
        a, b = (side.verdict for side in self._sides)
        self._fields: tuple[FieldDifference, ...] = ()
        if a is not None and b is not None:
            self._fields = tuple(
                FieldDifference(name, getattr(a, name), getattr(b, name))
                for name in SCALAR_FIELDS
                if getattr(a, name) != getattr(b, name)
            )
        self._agreeing = a is not None and b is not None and not self._fields

    @staticmethod
    def _side(stream: PlannerStream) -> _Side:
        side = _Side(stream.name, iter(stream.decisions))
        if isinstance(stream.result, InputError):
            side.rejection = stream.result
            side.done = True
        elif isinstance(stream.result, PlannerFailure):
            side.failure = PlannerFailure(stream.name, stream.result.kind, stream.result.message)
            side.done = True
        else:
            checked = _scalars(stream.name, stream.result)
            if isinstance(checked, PlannerFailure):
                side.failure = checked
                side.done = True
            else:
                side.verdict = checked
        return side

    @property
    def scalars(self) -> Verdict | None:
        """The agreed scalar fields, as a verdict that lists no object; None if they differ."""
        return self._sides[0].verdict if self._agreeing else None

    def __iter__(self) -> Iterator[Decision]:
        """Walk both streams to their end, yielding the agreed decisions (rules 1 to 7).

        Raises:
            InputError: both planners rejected the input.
            RefusedError: a planner failed, one rejected, or they differ; carries the report.
            UsageError: the walk was started before.
        """
        if self._walked:
            raise UsageError("a lockstep walk runs once")
        self._walked = True
        return self._walk()

    def _walk(self) -> Iterator[Decision]:
        a, b = self._sides
        fed = iter(self._fed)
        index = 0
        while a.live or b.live:
            eligible = (a.live and a.eligible) or (b.live and b.eligible)
            identity = next(fed, _END) if eligible else _END
            got_a = self._step(a, index, identity) if a.live else None
            got_b = self._step(b, index, identity) if b.live else None
            if got_a is not None and got_b is not None and got_a == got_b:
                if self._agreeing:
                    yield Decision(got_a["store"], got_a["key"], got_a["reason"])
            elif got_a is not None or got_b is not None:
                self._agreeing = False
                self._differ(got_a, got_b)
            index += 1
        self._finish()

    def _step(self, side: _Side, index: int, identity: object) -> dict[str, Any] | None:
        """Side's decision at ``index``, checked (rules 3 and 4); None once it ended or failed."""
        try:
            item = next(side.decisions, _END)
        except InputError as exc:
            side.end(exc)
            return None
        except Exception as exc:  # noqa: BLE001 -- a planner's crash is its failure, never a plan
            side.fail(f"{type(exc).__name__}: {exc}")
            return None
        if type(item) is StreamEnd:
            side.end(item.outcome)
            return None
        verdict = side.verdict
        assert verdict is not None  # noqa: S101 -- only live sides step
        if item is _END:
            side.done = True
            if verdict.eligible and identity is not _END:
                side.fail(
                    f"decisions end after {index}: the object fed at {index},"
                    f" {_name(identity)}, has no decision"
                )
            return None
        if not verdict.eligible:
            side.fail(f"decision {index}: {_listed_by_ineligible(verdict)}")
            return None
        wrong = _malformed(item)
        if wrong is not None:
            side.fail(f"decision {index} is malformed: {wrong}")
            return None
        decision: dict[str, Any] = item  # type: ignore[assignment]  # checked just above
        if identity is _END:
            side.fail(
                f"decision {index} names {decision['store']}/{decision['key']}, but only {index}"
                " objects were fed"
            )
            return None
        if decision["store"] != identity[0] or decision["key"] != identity[1]:  # type: ignore[index]
            side.fail(
                f"decision {index} names {decision['store']}/{decision['key']}, but the object"
                f" fed at {index} is {_name(identity)}"
            )
            return None
        return decision

    def _differ(self, got_a: dict[str, Any] | None, got_b: dict[str, Any] | None) -> None:
        """Record a difference at one position (rule 6), as ``compare_verdicts`` lists it."""
        a, b = self._sides
        if got_a is not None and got_b is not None:
            if got_a["reason"] is None or got_b["reason"] is None:
                self._one_side(got_a, "a")
                self._one_side(got_b, "b")
            else:
                self._lists["kept_reason_differs"].add(
                    ReasonDifference(got_a["store"], got_a["key"], got_a["reason"], got_b["reason"])
                )
            return
        # One decision only: the other planner's verdict is ineligible (it lists nothing), or
        # the other planner failed here or before (then the report lists failures only).
        for got, other, name in ((got_a, b, "a"), (got_b, a, "b")):
            if got is not None and other.failure is None and other.rejection is None:
                self._one_side(got, name)

    def _one_side(self, got: dict[str, Any], name: str) -> None:
        if got["reason"] is None:
            self._lists[f"purge_only_in_{name}"].add(ObjectId(got["store"], got["key"]))
        else:
            self._lists[f"kept_only_in_{name}"].add(
                KeptObject(got["store"], got["key"], got["reason"])
            )

    def _finish(self) -> None:
        """Rule 7: return on agreement, else raise."""
        a, b = self._sides
        if a.rejection is not None and b.rejection is not None:
            raise a.rejection
        failures = tuple(
            side.failure
            if side.failure is not None
            else PlannerFailure(side.name, "rejected", str(side.rejection))
            for side in (a, b)
            if side.failure is not None or side.rejection is not None
        )
        if self._agreeing and not failures:
            return
        lists: dict[str, Any] = {}
        omitted: dict[str, int] = {}
        if not failures:
            for name, bounded in self._lists.items():
                lists[name] = tuple(bounded.items)
                if bounded.omitted:
                    omitted[name] = bounded.omitted
        raise RefusedError(
            DivergenceReport(
                tenant=self._tenant,
                as_of=self._as_of,
                versions=self._versions,
                fingerprints=self._fingerprints,
                failures=failures,
                fields=() if failures else self._fields,
                omitted=omitted,
                **lists,
            )
        )


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# A string as canonical JSON spells it (``ensure_ascii=False``): the encoder's own C function.
_string = json.encoder.encode_basestring


def _json(value: object) -> bytes:
    """Canonical JSON (``arbiter.core.canonical`` rule 1)."""
    return _CANONICAL.encode(value).encode("utf-8")


class VerdictDigest:
    """SHA-256 of an agreed verdict's canonical JSON, computed from its stream (rule 8).

    Feed the kept decisions' entries (``entry``) in order with ``add_kept``; keep the entries of
    the purged ones, in order; ``hexdigest`` takes them back at the end. For the same verdict
    the result equals ``plan_digest`` of the verdict held in memory (the SHA-256 of
    ``canonical_json(verdict_to_json(verdict))``).

    Args:
        scalars: the agreed scalar fields, as a verdict that lists no object.

    Raises:
        UsageError: ``scalars`` lists objects.
    """

    def __init__(self, scalars: Verdict) -> None:
        if scalars.purge or scalars.kept:
            raise UsageError("a verdict digest starts from the scalar fields alone")
        data = verdict_to_json(scalars)
        keys = sorted(data)
        pairs = [_json(key) + b":" + _json(data[key]) for key in keys]
        kept, purge = keys.index("kept"), keys.index("purge")
        self._middle = b"]," + b",".join(pairs[kept + 1 : purge]) + b"," + _json("purge") + b":["
        self._tail = b"]" + b"".join(b"," + pair for pair in pairs[purge + 1 :]) + b"}"
        head = b"{" + b"".join(pair + b"," for pair in pairs[:kept]) + _json("kept") + b":["
        self._hash = hashlib.sha256(head)
        self._first = True
        self._finished = False

    @staticmethod
    def entry(decision: Decision) -> bytes:
        """The decision's entry in the verdict's canonical JSON (in ``purge`` or ``kept``)."""
        # {"key":...,"store":...} or {"key":...,"reason":...,"store":...}, spelt by hand for
        # speed: canonical JSON sorts the keys and spells strings as the encoder does.
        if decision.reason is None:
            return f'{{"key":{_string(decision.key)},"store":{_string(decision.store)}}}'.encode()
        return (
            f'{{"key":{_string(decision.key)},"reason":{_string(decision.reason)}'
            f',"store":{_string(decision.store)}}}'
        ).encode()

    def add_kept(self, entry: bytes) -> None:
        """Hash the next kept decision's ``entry`` (after every kept entry before it)."""
        if self._finished:
            raise UsageError("a verdict digest is finished once")
        self._hash.update(entry if self._first else b"," + entry)
        self._first = False

    def hexdigest(self, purge_entries: Iterable[bytes]) -> str:
        """The digest, given every purge entry in order; once.

        Raises:
            UsageError: called twice.
        """

        def joined() -> Iterator[bytes]:
            first = True
            for entry in purge_entries:
                yield entry if first else b"," + entry
                first = False

        return self.hexdigest_joined(joined())

    def hexdigest_joined(self, purge_list: Iterable[bytes]) -> str:
        """The digest, given the purge entries already joined by commas, in blocks; once.

        Raises:
            UsageError: called twice.
        """
        if self._finished:
            raise UsageError("a verdict digest is finished once")
        self._finished = True
        self._hash.update(self._middle)
        for block in purge_list:
            self._hash.update(block)
        self._hash.update(self._tail)
        return self._hash.hexdigest()
