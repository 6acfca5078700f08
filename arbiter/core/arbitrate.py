"""Running both planners and deciding (spec §9).

Rules:

1. Each planner gets its own deep copy of the inputs: one planner cannot change what the other
   sees, whatever it does to its arguments.
2. A planner's verdict is structured and checked (``arbiter.core.verdict``) before comparison; a
   malformed verdict counts as a failure of that planner.
3. Agreement requires two verdicts equal in every key. Anything else refuses the plan, except that
   when both planners reject the input it is bad input (``InputError``).
4. A refusal always raises ``RefusedError`` carrying the full report; there is no code path that
   returns a plan after a divergence.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

import deleter_a
import deleter_b
from arbiter.core.canonical import canonical_digest
from arbiter.core.compare import (
    DivergenceReport,
    PlannerFailure,
    VerdictDifferences,
    compare_verdicts,
)
from arbiter.core.errors import InputError, RefusedError, UsageError
from arbiter.core.loading import load_inventory, load_policy
from arbiter.core.verdict import Verdict, verdict_from_planner

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "Agreement",
    "Planner",
    "arbitrate",
    "arbitrate_files",
    "default_planners",
    "fingerprint",
    "run_planner",
]

PlanFunction = Callable[[Mapping[str, object], Mapping[str, object], str, str], object]


@attrs.frozen
class Planner:
    """A planner as the arbiter sees it: a name, a version, a plan function, its input error.

    Tests substitute deliberately wrong planners through this type; the arbiter trusts none.
    """

    name: str
    version: str
    plan: PlanFunction
    input_error: type[BaseException]


def default_planners() -> tuple[Planner, Planner]:
    """The two independently written planners, A and B."""
    return (
        Planner("a", deleter_a.__version__, deleter_a.plan, deleter_a.PlanInputError),
        Planner("b", deleter_b.__version__, deleter_b.plan, deleter_b.PlanInputError),
    )


@attrs.frozen
class Agreement:
    """Both planners returned the same verdict: the plan.

    Attributes:
        verdict: the agreed verdict.
        versions: each planner's version, by planner name.
        fingerprints: SHA-256 of the canonical JSON of the inventory and of the policy.
    """

    verdict: Verdict
    versions: dict[str, str]
    fingerprints: dict[str, str]


def fingerprint(data: object) -> str:
    """SHA-256 of the canonical JSON form of plain data (``arbiter.core.canonical``).

    A fingerprint never fails: the planners, not the fingerprint, reject what is not JSON. A
    value JSON has no spelling for is spelt as its type (``"<set>"``); NaN, the infinities, lone
    surrogates, non-string keys and cycles are spelt as text too.

    Args:
        data: JSON-shaped plain data, or anything else.

    Returns:
        The hex digest.
    """
    try:
        return canonical_digest(data, default=_unjsonable)
    except (TypeError, ValueError, RecursionError):
        pass  # not JSON data: spelt as text below, so that the fingerprint still exists
    try:
        return canonical_digest(_spellable(data, ()), default=_unjsonable)
    except RecursionError:
        return canonical_digest(f"<{type(data).__name__} nested too deeply>")


def _unjsonable(value: object) -> str:
    return f"<{type(value).__name__}>"


def _spellable(value: object, enclosing: tuple[int, ...]) -> object:
    """``value`` with what canonical JSON refuses spelt as text; ``enclosing``: ids, for cycles."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"<float {value!r}>"
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict | list | tuple):
        if id(value) in enclosing:
            return f"<{type(value).__name__} cycle>"
        inner = (*enclosing, id(value))
        if isinstance(value, dict):
            return {
                _spellable(key if isinstance(key, str) else repr(key), inner): _spellable(
                    item, inner
                )
                for key, item in value.items()
            }
        return [_spellable(item, inner) for item in value]
    return value


_SCALARS = (str, int, float, bool, type(None))


def _copy(value: object) -> object:
    """A deep copy of plain data, several times faster than ``copy.deepcopy`` on inventories."""
    if isinstance(value, _SCALARS):
        return value
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return copy.deepcopy(value)


def _rejection(exc: BaseException) -> InputError:
    return InputError(
        source=str(getattr(exc, "source", "inventory")),
        field=str(getattr(exc, "field", "")),
        message=str(getattr(exc, "message", exc)),
    )


def _run(
    planner: Planner,
    inventory: Mapping[str, object],
    policy: Mapping[str, object],
    tenant: str,
    as_of: str,
) -> Verdict | PlannerFailure | InputError:
    try:
        raw = planner.plan(_copy(inventory), _copy(policy), tenant, as_of)  # type: ignore[arg-type]
    except planner.input_error as exc:
        return _rejection(exc)
    except Exception as exc:  # noqa: BLE001 -- any planner crash is a refusal, never a plan
        return PlannerFailure(planner.name, "failed", f"{type(exc).__name__}: {exc}")
    try:
        return verdict_from_planner(raw)
    except Exception as exc:  # noqa: BLE001 -- a malformed verdict is a failed planner
        return PlannerFailure(planner.name, "failed", f"malformed verdict: {exc!r}")


def _as_failure(planner: Planner, outcome: PlannerFailure | InputError) -> PlannerFailure:
    if isinstance(outcome, PlannerFailure):
        return outcome
    return PlannerFailure(planner.name, "rejected", str(outcome))


def arbitrate(
    inventory: Mapping[str, object],
    policy: Mapping[str, object],
    tenant: str,
    as_of: str,
    *,
    planners: tuple[Planner, Planner] | None = None,
) -> Agreement:
    """Run both planners on the same inputs and return their plan only if they agree.

    Args:
        inventory: the inventory as plain data (spec §4.1).
        policy: the policy as plain data (spec §4.2).
        tenant: the tenant id.
        as_of: the instant of the verdict (spec §2.1).
        planners: the two planners; A and B unless a test substitutes others.

    Returns:
        The agreement, holding the verdict both planners returned.

    Raises:
        InputError: both planners rejected the input (reported as planner A saw it).
        RefusedError: the planners diverged, or one failed; carries the report.
        UsageError: ``planners`` does not hold two planners of distinct names.
    """
    pair = planners if planners is not None else default_planners()
    if len(pair) != 2 or pair[0].name == pair[1].name:  # noqa: PLR2004 -- a pair, by definition
        raise UsageError("arbitrate needs exactly two planners with distinct names")
    first, second = pair
    outcome_a = _run(first, inventory, policy, tenant, as_of)
    outcome_b = _run(second, inventory, policy, tenant, as_of)
    versions = {first.name: first.version, second.name: second.version}
    fingerprints = {"inventory": fingerprint(inventory), "policy": fingerprint(policy)}
    if isinstance(outcome_a, InputError) and isinstance(outcome_b, InputError):
        raise outcome_a
    if isinstance(outcome_a, Verdict) and isinstance(outcome_b, Verdict):
        differences = compare_verdicts(outcome_a, outcome_b)
        if differences.agree:
            return Agreement(outcome_a, versions, fingerprints)
        failures: tuple[PlannerFailure, ...] = ()
    else:
        differences = VerdictDifferences()
        failures = tuple(
            _as_failure(planner, outcome)
            for planner, outcome in ((first, outcome_a), (second, outcome_b))
            if not isinstance(outcome, Verdict)
        )
    raise RefusedError(
        DivergenceReport(
            tenant=str(tenant),
            as_of=str(as_of),
            versions=versions,
            fingerprints=fingerprints,
            failures=failures,
            fields=differences.fields,
            purge_only_in_a=differences.purge_only_in_a,
            purge_only_in_b=differences.purge_only_in_b,
            kept_only_in_a=differences.kept_only_in_a,
            kept_only_in_b=differences.kept_only_in_b,
            kept_reason_differs=differences.kept_reason_differs,
        )
    )


def run_planner(
    planner: Planner,
    inventory: Mapping[str, object],
    policy: Mapping[str, object],
    tenant: str,
    as_of: str,
) -> Verdict:
    """Run one planner alone, for diagnosis. Its verdict is never a plan.

    Args:
        planner: the planner.
        inventory: the inventory as plain data.
        policy: the policy as plain data.
        tenant: the tenant id.
        as_of: the instant of the verdict.

    Returns:
        The planner's checked verdict.

    Raises:
        InputError: the planner rejected the input.
        RefusedError: the planner failed or returned a malformed verdict.
    """
    outcome = _run(planner, inventory, policy, tenant, as_of)
    if isinstance(outcome, InputError):
        raise outcome
    if isinstance(outcome, PlannerFailure):
        raise RefusedError(
            DivergenceReport(
                tenant=str(tenant),
                as_of=str(as_of),
                versions={planner.name: planner.version},
                fingerprints={"inventory": fingerprint(inventory), "policy": fingerprint(policy)},
                failures=(outcome,),
            )
        )
    return outcome


def arbitrate_files(
    inventory_path: str | Path,
    policy_path: str | Path,
    tenant: str,
    as_of: str,
    *,
    planners: tuple[Planner, Planner] | None = None,
) -> Agreement:
    """Load an inventory and a policy file, then ``arbitrate``.

    Args:
        inventory_path: the inventory JSON file.
        policy_path: the policy TOML file.
        tenant: the tenant id.
        as_of: the instant of the verdict.
        planners: as for ``arbitrate``.

    Returns:
        The agreement.

    Raises:
        InputError: a file is bad, or both planners rejected it; ``file`` names the file.
        RefusedError: the planners diverged.
    """
    files = {"inventory": str(inventory_path), "policy": str(policy_path)}
    inventory = load_inventory(inventory_path)
    policy = load_policy(policy_path)
    try:
        return arbitrate(inventory, policy, tenant, as_of, planners=planners)
    except InputError as exc:
        raise exc.with_file(files.get(exc.source)) from None
