"""A deliberately wrong streaming planner, run by the engine in its own process (test_streaming).

It is planner A (``deleter_a.plan_stream``), made wrong in one way chosen by the tenant's id, so
that one planner process serves every case of ``tests/arbiter/purge/test_streaming.py`` (a
process per case would cost a second of start-up each). A tenant with any other id is planned
right. The ways, by tenant id:

- ``flip``: the first purged object is kept (``object-hold``), the first kept one's reason is
  changed;
- ``unfed``: decision 1 names an object that was not fed;
- ``missing``: the last decision is left out;
- ``extra``: a decision is added after the last;
- ``reorder``: decisions 0 and 1 are swapped;
- ``scalar``: ``backup_due`` is a day late;
- ``malformed``: decision 1 has a key too many;
- ``crash-first``: ``plan_stream`` raises;
- ``crash-second``: the decisions iterator raises after three decisions (the second pass);
- ``reject`` / ``reject-second``: ``PlanInputError`` from ``plan_stream`` / from the decisions;
- ``hang``: ``plan_stream`` never returns;
- ``exit``: the process exits (``os._exit(3)``) in the first pass;
- ``exit-second``: the process exits after two decisions.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import deleter_a
from deleter_a import PlanInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

__all__ = ["PlanInputError", "__version__", "plan_stream"]

__version__ = "wrong"
OTHER_REASON = {"object-hold": "category-keep"}


def _flip(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    purged = kept = False
    for decision in decisions:
        if decision["reason"] is None and not purged:
            purged = True
            yield {**decision, "reason": "object-hold"}
        elif decision["reason"] is not None and not kept:
            kept = True
            yield {**decision, "reason": OTHER_REASON.get(decision["reason"], "shared")}
        else:
            yield decision


def _unfed(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for i, decision in enumerate(decisions):
        yield {**decision, "key": decision["key"] + "-not-fed"} if i == 1 else decision


def _missing(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    listed = list(decisions)
    yield from listed[:-1]


def _extra(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from decisions
    yield {"store": "db", "key": "zzz-extra", "reason": None}


def _reorder(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    first = next(decisions)
    yield next(decisions)
    yield first
    yield from decisions


def _malformed(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for i, decision in enumerate(decisions):
        yield {**decision, "note": "x"} if i == 1 else decision


def _crash_second(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for i, decision in enumerate(decisions):
        if i == 3:
            msg = "planted crash in the second pass"
            raise RuntimeError(msg)
        yield decision


def _reject_second(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield next(decisions)
    raise PlanInputError("inventory", "objects", "planted rejection in the second pass")


def _exit_second(decisions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield next(decisions)
    yield next(decisions)
    os._exit(4)


WRONG: dict[str, Callable[[Iterator[dict[str, Any]]], Iterator[dict[str, Any]]]] = {
    "flip": _flip,
    "unfed": _unfed,
    "missing": _missing,
    "extra": _extra,
    "reorder": _reorder,
    "malformed": _malformed,
    "crash-second": _crash_second,
    "reject-second": _reject_second,
    "exit-second": _exit_second,
}


def plan_stream(
    tenant: Mapping[str, object],
    objects: Callable[[], Iterable[Mapping[str, object]]],
    shared: Iterable[object],
    policy: Mapping[str, object],
    as_of: str,
) -> dict[str, object]:
    """Planner A's streamed verdict, made wrong as the tenant's id says (see the module)."""
    mode = tenant.get("id")
    if mode == "crash-first":
        msg = "planted crash in the first pass"
        raise RuntimeError(msg)
    if mode == "reject":
        raise PlanInputError("inventory", "tenant.id", "planted rejection")
    if mode == "hang":
        time.sleep(3600)
    if mode == "exit":
        os._exit(3)
    result = deleter_a.plan_stream(tenant, objects, shared, policy, as_of)
    if mode == "scalar":
        result["backup_due"] = "2026-02-15T00:00:00Z"
    if isinstance(mode, str) and mode in WRONG:
        result["decisions"] = WRONG[mode](iter(result["decisions"]))  # type: ignore[call-overload]
    return result
