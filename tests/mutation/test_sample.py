"""A fixed sample of mutants must be killed, so that the mutation setup cannot rot unnoticed.

The full run is ``tox -e mutation`` (docs/fault-detection.md). This sample runs mutmut itself,
through the same driver, on a few mutants per target: if mutmut, the staging, the judges or the
sampled code change so that a mutant is no longer generated, no longer makes its change, or is no
longer killed, this test fails. It never skips (a skip fails under CI=true, see conftest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.mutation.driver import TARGETS, run_sample

if TYPE_CHECKING:
    from pathlib import Path

# Each sampled mutant's name and the change it makes (``driver.changed_lines``). When a planner
# changes (spec-first), mutmut renumbers its mutants: pick new ones from the full run's report.
# (Rule 1 of spec §7.2 renumbered ``deleter_b._retention.x_object_reason``: its retain mutant
# leaves the sample until the next full run names it again.)
SAMPLE: dict[str, dict[str, list[str]]] = {
    "deleter_a": {
        "deleter_a._lifecycle.x_cancellation__mutmut_10": [
            "-return last_at if last_rank == _CANCELLED_RANK else None",
            "+return last_at if last_rank != _CANCELLED_RANK else None",
        ],
        "deleter_a._reachability.x_shared_candidates__mutmut_10": [
            "-if target in candidate_refs and target not in marked:",
            "+if target not in candidate_refs and target not in marked:",
        ],
    },
    "deleter_b": {
        "deleter_b._lifecycle.x_cancellation__mutmut_15": [
            "-if last is None or last[1] != _RANK[CANCELLED]:",
            "+if last is None or last[1] == _RANK[CANCELLED]:",
        ],
        "deleter_b._closure.x_shared_candidates__mutmut_15": [
            "-frontier = (reached & candidates) - shared",
            "+frontier = (reached | candidates) - shared",
        ],
    },
    "arbiter": {
        "arbiter.purge.guards.x_latest_lifecycle_is_cancellation__mutmut_6": [
            '-(parse_instant(at), 0 if kind == "cancelled" else 1)',
            '+(parse_instant(at), 0 if kind != "cancelled" else 1)',
        ],
        "arbiter.purge.guards.x_check_tenant_state__mutmut_1": [
            "-if state is None:",
            "+if state is not None:",
        ],
        # What a purge writes to the audit log is judged too (tests/arbiter/purge/test_reporting.py).
        # (delete_batches took an iterable and its count in issue 11: its mutants renumbered.)
        "arbiter.purge.purger.xǁPurgerǁdelete_batches__mutmut_96": [
            '-"batch",',
            '+"XXbatchXX",',
        ],
    },
}

# The arbiter's sample is judged by the test files that hold its comparison, guard and reporting
# tests, so that the sample stays well inside its time budget; the full run uses all of
# tests/arbiter.
SAMPLE_TESTS = {
    # The planners' samples are judged by the hand-computed examples and the differential suite
    # of plan(); the streaming and reach tests (many more draws) stay for the full run.
    "deleter_a": (
        "tests/spec/test_rules.py",
        "tests/spec/test_bad_input.py",
        "tests/differential/test_differential.py",
    ),
    "deleter_b": (
        "tests/spec/test_rules.py",
        "tests/spec/test_bad_input.py",
        "tests/differential/test_differential.py",
    ),
    "arbiter": (
        "tests/arbiter/purge/test_batch_guards.py",
        "tests/arbiter/core/test_compare.py",
        "tests/arbiter/core/test_arbitrate.py",
        "tests/arbiter/purge/test_shared_mistakes.py",
        "tests/arbiter/purge/test_reporting.py",
    ),
}


@pytest.mark.parametrize("target", sorted(SAMPLE))
def test_sampled_mutants_are_generated_and_killed(target: str, tmp_path: Path) -> None:
    """Every sampled mutant is generated, makes its recorded change, and is killed."""
    sample = SAMPLE[target]
    outcome = run_sample(TARGETS[target], sample, tmp_path, tests=SAMPLE_TESTS.get(target))
    expected = {name: ("killed", change) for name, change in sample.items()}
    assert expected == outcome
