"""Test-suite configuration: hypothesis profiles, no skips under CI, the differential tally."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from arbiter.auth.credentials import reset_credential_domains_for_tests
from tests import postgres, tally
from tests.mutation import import_time
from tests.webhook_server import webhook

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

__all__ = ["examples", "fresh_credential_domains", "webhook"]


@pytest.fixture(autouse=True)
def fresh_credential_domains() -> Iterator[None]:
    """Each test starts as a fresh process would: holding no credential domain."""
    reset_credential_domains_for_tests()
    yield
    reset_credential_domains_for_tests()


settings.register_profile(
    "ci",
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("quick", max_examples=50, deadline=None)
settings.register_profile("dev", deadline=None)
# Mutation runs (tests/mutation): the dev example counts, but derandomized so that a mutant's
# verdict is reproducible, no example database shared between mutants, and no shrinking (a kill
# needs one failing example, not the smallest).
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


def examples(ci: int, dev: int) -> int:
    """How many examples a property runs: ``ci`` under the ci profile, else ``dev``.

    The quick profile caps every property at its own ``max_examples``; the mutation profile
    runs the dev counts.
    """
    profile = settings.get_current_profile_name()
    if profile == "ci":
        return ci
    if profile == "quick":
        return min(dev, 50)
    return dev


# Under the mutation profile the cheapest judges run first, so that most mutants die in the first
# second (mutmut stops at the first failure): hand-computed examples, then the differential tests;
# for the arbiter, the unit tests of its guards and comparison before the slower workspace tests.
_MUTATION_ORDER = (
    "tests/spec/",
    "tests/differential/test_differential.py",
    "tests/differential/",
    "tests/arbiter/purge/test_batch_guards.py",
    "tests/arbiter/purge/test_preflight_guards.py",
    "tests/arbiter/core/test_compare.py",
    "tests/arbiter/core/test_compare_report.py",
    "tests/arbiter/core/test_arbitrate.py",
    "tests/arbiter/core/test_refusal_report.py",
    "tests/arbiter/purge/test_shared_mistakes.py",
    "tests/arbiter/purge/test_execute.py",
)


def _mutation_rank(item: pytest.Item) -> int:
    path = item.nodeid.removeprefix("mutants/")
    return next(
        (rank for rank, prefix in enumerate(_MUTATION_ORDER) if path.startswith(prefix)),
        len(_MUTATION_ORDER),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under the mutation profile, order the tests cheapest judge first (a stable sort).

    Tests marked ``static`` analyse the source text (mypy, the walk for deleting calls) or
    measure the test generators' reach; under mutmut that text holds the trampolines mutmut
    generates, which neither type-check nor call what the code calls, and a generator's reach
    says nothing about a mutant, so those tests judge nothing about a mutant's behaviour and are
    deselected there (only there: everywhere else they run).
    """
    if settings.get_current_profile_name() == "mutation":
        static = [item for item in items if item.get_closest_marker("static")]
        if static:
            config.hook.pytest_deselected(items=static)
            items[:] = [item for item in items if not item.get_closest_marker("static")]
        items.sort(key=_mutation_rank)


@pytest.fixture(autouse=True)
def _import_time_code_under_mutation() -> None:
    """Under mutmut, rebuild deleter_b's import-time tables for the active mutant (see module)."""
    if import_time.needs_rebuild(import_time.active_mutant()):
        import_time.rebuild()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, object, None]:
    """Under CI=true a skipped test is a failed test: nothing may pass by not running."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {item.nodeid}"


def _passed_properties(terminalreporter: pytest.TerminalReporter, wanted: str) -> set[str]:
    """The values the passed tests recorded under ``wanted`` (``record_property``)."""
    return {
        str(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == wanted
    }


CRASH_POINTS = (
    ("audit_crash_point", "audit crash injection"),
    ("journal_crash_point", "purge journal crash injection"),
    ("backup_crash_point", "backup purge journal crash injection"),
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under xdist, a worker hands its tally to the controller, which prints the sum."""
    output: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["tally"] = dict(tally.COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Add a finished xdist worker's tally to the controller's."""
    tally.COUNTS.update(getattr(node, "workeroutput", {}).get("tally", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report the differential examples, the crash points and PostgreSQL's refusals (xdist-safe)."""
    if tally.COUNTS:
        parts = ", ".join(f"{name}={count}" for name, count in sorted(tally.COUNTS.items()))
        terminalreporter.write_line(f"differential examples: {parts}")
    started = terminalreporter.config.stash.get(postgres.STARTED, None)
    if started is not None:
        terminalreporter.write_line(started)
    refusals = sorted(_passed_properties(terminalreporter, "postgres_refusal"))
    if refusals:
        terminalreporter.write_line(f"PostgreSQL refused {len(refusals)} statements, in its words:")
        for refusal in refusals:
            terminalreporter.write_line(f"  {refusal}")
    for name, label in CRASH_POINTS:
        points = _passed_properties(terminalreporter, name)
        if points:
            terminalreporter.write_line(f"{label}: {crash_point_summary(points)}")


def crash_point_summary(points: set[str]) -> str:
    """How many crash points were killed and recovered, and per store when a test names one.

    A test records ``point`` or ``point @store`` (``tests/arbiter/purge/test_fault_injection.py``
    runs each point on SQLite and on PostgreSQL); a point counts once however many stores ran it.
    """
    stores: dict[str, set[str]] = {}
    for value in points:
        point, _at, store = value.partition(" @")
        if store:
            stores.setdefault(store, set()).add(point)
    distinct = {value.partition(" @")[0] for value in points}
    line = f"{len(distinct)} crash points killed with SIGKILL and recovered"
    if stores:
        line += f" ({', '.join(f'{s}: {len(p)}' for s, p in sorted(stores.items()))})"
    return line
