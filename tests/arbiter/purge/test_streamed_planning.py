"""The streamed planning path end to end: a store's streamed slice into the planner processes.

The two halves of issue 11's streaming path were built apart: ``stream_counted_slice`` (stores
rule 8) reads a tenant's slice from database cursors, and ``PlannerProcesses`` (the streaming
engine) plans it with each planner in its own process and compares in lockstep. Here they run
together, on both stores, for drawn inventories (the boundary scenarios, and chains entered from
another tenant, so that ``shared`` matters): the streamed plan of a tenant is exactly the
verdict ``arbitrate`` gives on the same store's ``read_slice`` (the in-memory path), plan
digest, counts and plan file included, and the two refuse alike.
"""

from __future__ import annotations

import collections
import functools
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter.core.arbitrate import Agreement, arbitrate
from arbiter.core.errors import InputError, RefusedError
from arbiter.purge.journal import read_plan_file
from arbiter.purge.purger import plan_digest
from arbiter.purge.streaming import PlannerProcesses, StreamedAgreement
from tests import tally
from tests.arbiter.stores.conftest import both_stores
from tests.conftest import examples
from tests.strategies import Scenario, chain_scenarios, chunk_sizes, scenarios

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from arbiter.stores.ports import PrimaryStore
    from tests.arbiter.stores.conftest import Provisioned


@pytest.fixture(scope="module")
def processes() -> Iterator[PlannerProcesses]:
    """Planners A and B in their processes, for the whole module."""
    with PlannerProcesses() as pool:
        yield pool


Outcome = Agreement | StreamedAgreement | InputError | RefusedError


def outcome(plan: Callable[[], Agreement | StreamedAgreement]) -> Outcome:
    """What planning gave: the agreement, or the refusal it raised."""
    try:
        return plan()
    except (InputError, RefusedError) as exc:
        return exc


def streamed(
    store: PrimaryStore,
    pool: PlannerProcesses,
    scenario: Scenario,
    plans: Path,
    chunk_size: int,
) -> Outcome | None:
    """The tenant planned from the store's streamed slice; None when the store lacks it."""
    _, policy, tid, as_of = scenario.args()
    with store.stream_counted_slice(tid) as piece:
        if piece.tenant is None:
            return None
        tenant = piece.tenant
        return outcome(
            lambda: pool.plan(
                tenant,
                piece.objects(),
                piece.shared,
                policy,
                as_of,
                plan_dir=plans,
                chunk_size=chunk_size,
            )
        )


def check_alike(expected: Outcome, got: Outcome, plans: Path) -> str:
    """The streamed outcome is the in-memory one; returns a label for the tally."""
    if not isinstance(expected, Agreement):
        assert type(expected) is type(got), (expected, got)
        assert [] == sorted(plans.iterdir())
        return "refused"
    assert isinstance(got, StreamedAgreement), got
    verdict = expected.verdict
    assert got.plan_path is not None
    assert got.plan_sha256 is not None
    plan = read_plan_file(got.plan_path, got.plan_sha256)
    assert (
        (verdict.tenant, verdict.as_of, verdict.eligible, verdict.reason),
        (verdict.primary_due, verdict.backup_due),
        plan_digest(verdict),
        verdict.purge,
        tuple(k.id for k in verdict.kept),
        dict(collections.Counter(k.reason for k in verdict.kept)),
    ) == (
        (got.tenant, got.as_of, got.eligible, got.reason),
        (got.primary_due, got.backup_due),
        got.plan_digest,
        plan.purge,
        plan.kept,
        got.kept_by_reason,
    )
    return "eligible" if verdict.eligible else str(verdict.reason)


@settings(
    max_examples=examples(ci=40, dev=15),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=st.one_of(scenarios(max_objects=10), chain_scenarios()), chunk_size=chunk_sizes())
def test_a_tenant_streamed_from_either_store_is_planned_as_its_whole_slice(
    postgres_roles: Provisioned,
    processes: PlannerProcesses,
    scenario: Scenario,
    chunk_size: int,
) -> None:
    """Store cursors into planner processes: arbitrate's verdict on read_slice, on both stores."""
    _, policy, tid, as_of = scenario.args()
    with both_stores(postgres_roles) as both:
        for kind, store in both.kinds:
            store.add_inventory(scenario.inventory)
            plans = both.directory / f"plans-{kind}"
            plans.mkdir()
            got = streamed(store, processes, scenario, plans, chunk_size)
            if got is None:
                tally.COUNTS[f"streamed-planning-{kind}-no-tenant"] += 1
                continue
            slice_: dict[str, Any] = store.read_slice(tid)
            expected = outcome(functools.partial(arbitrate, slice_, policy, tid, as_of))
            label = check_alike(expected, got, plans)
            tally.COUNTS[f"streamed-planning-{kind}-{label}"] += 1
