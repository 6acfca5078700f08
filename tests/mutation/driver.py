"""Mutation testing of the planners and of the arbiter's comparison and guards, with mutmut.

Usage (from the repository root; ``tox -e mutation`` runs the first line)::

    python -m tests.mutation.driver run                 # every target, full run, then report
    python -m tests.mutation.driver run deleter_b       # one target
    python -m tests.mutation.driver run deleter_a --mutants 'deleter_a._lifecycle.x_assess*'
    python -m tests.mutation.driver report              # re-read the last results

How a target is judged (docs/fault-detection.md):

- ``deleter_a`` and ``deleter_b``: only the *shared* tests, ``tests/spec`` (hand-computed
  examples) and ``tests/differential`` (the other planner is the oracle). The planners' own unit
  tests are not run: the claim measured is that the other planner catches the mistake.
- ``arbiter``: ``tests/arbiter``, over the comparison (``_compare.py``, ``_verdict.py``), the
  decision in ``arbitrate`` (``_arbiter.py``) and the guards of ``_execute.py``.

Each target is copied to ``mutants/<target>/`` (git-ignored) with a generated mutmut
configuration, so targets with different judges never share mutmut's state and an edit in the
working tree during a run does not change what is being measured. Hypothesis runs under the
``mutation`` profile (tests/conftest.py): dev example counts, derandomized, no shrinking.

A surviving mutant listed in ``tests/mutation/equivalent.json`` (with the mutated lines it must
still have) counts as equivalent; any other survivor counts as surviving. The report is written to
``mutants/report.json`` and printed; the exit code is 1 when a target misses its target score.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "TARGETS",
    "MutantResult",
    "Target",
    "changed_lines",
    "load_equivalents",
    "main",
    "mutmut_executable",
    "read_results",
    "run_mutmut",
    "stage",
]

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "mutants"
EQUIVALENTS = Path(__file__).with_name("equivalent.json")
PACKAGES = ("deleter_a", "deleter_b", "arbiter")
STATUS_BY_EXIT_CODE = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
TIMEOUT_CODES = frozenset({36, -24, 24, 152, 255})


@dataclass(frozen=True)
class Target:
    """One thing under mutation: what to mutate, which tests judge it, the score it must reach.

    Attributes:
        name: The target's name (also its staging directory under ``mutants/``).
        package: The package whose files mutmut mutates.
        files: The files mutated (globs relative to the repository root).
        tests: The pytest selection that judges every mutant.
        scope: Globs of mutant names that are counted (e.g. the guard functions); others are
            generated but neither run nor counted.
        required_score: Killed / (generated - equivalent) must reach this.
    """

    name: str
    package: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    scope: tuple[str, ...]
    required_score: float


_SHARED_TESTS = ("tests/spec", "tests/differential")

TARGETS: dict[str, Target] = {
    "deleter_a": Target(
        name="deleter_a",
        package="deleter_a",
        files=("deleter_a/*.py",),
        tests=_SHARED_TESTS,
        scope=("deleter_a.*",),
        required_score=0.98,
    ),
    "deleter_b": Target(
        name="deleter_b",
        package="deleter_b",
        files=("deleter_b/*.py",),
        tests=_SHARED_TESTS,
        scope=("deleter_b.*",),
        required_score=0.98,
    ),
    "arbiter": Target(
        name="arbiter",
        package="arbiter",
        files=(
            "arbiter/_compare.py",
            "arbiter/_verdict.py",
            "arbiter/_arbiter.py",
            "arbiter/_execute.py",
        ),
        tests=("tests/arbiter",),
        scope=(
            "arbiter._compare.x_compare_verdicts__mutmut_*",
            "arbiter._verdict.*",
            "arbiter._arbiter.x_arbitrate__mutmut_*",
            "arbiter._arbiter.x__run__mutmut_*",
            "arbiter._arbiter.x__as_failure__mutmut_*",
            "arbiter._execute.x__chunks__mutmut_*",
            "arbiter._execute.x__latest_lifecycle_is_cancellation__mutmut_*",
            "arbiter._execute.x__kept_categories__mutmut_*",
            "arbiter._execute.xǁPurgerǁ_purge__mutmut_*",
            "arbiter._execute.xǁPurgerǁ_check_before__mutmut_*",
            "arbiter._execute.xǁPurgerǁexecute_verdict__mutmut_*",
            "arbiter._execute.xǁPurgerǁ_execute__mutmut_*",
            "arbiter._execute.xǁPurgerǁ_check_batch__mutmut_*",
        ),
        required_score=1.0,
    ),
}


@dataclass(frozen=True)
class MutantResult:
    """The outcome of one mutant.

    Attributes:
        name: mutmut's name for it, e.g. ``deleter_a._lifecycle.x_assess__mutmut_7``.
        status: ``killed``, ``survived``, ``no tests``, ``timeout``, ``not checked`` or another
            mutmut status.
        seconds: How long its tests ran.
    """

    name: str
    status: str
    seconds: float


def mutmut_executable() -> str:
    """The ``mutmut`` script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("mutmut")
    if beside.exists():
        return str(beside)
    found = shutil.which("mutmut")
    if found is None:
        raise SystemExit("mutmut is not installed: pip install 'twinpurge[mutation]'")
    return found


def _ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in {"__pycache__", ".hypothesis", ".pytest_cache"}}


def _setup_cfg(target: Target) -> str:
    def lines(values: tuple[str, ...] | list[str]) -> str:
        return "".join(f"\n    {v}" for v in values)

    also = [p for p in PACKAGES if p != target.package]
    return (
        "[mutmut]\n"
        f"source_paths = {target.package}\n"
        f"only_mutate ={lines(target.files)}\n"
        f"also_copy ={lines(also)}\n"
        f"pytest_add_cli_args_test_selection ={lines(target.tests)}\n"
        f"pytest_add_cli_args ={lines(['-p', 'no:cacheprovider'])}\n"
        "use_git_change_detection = false\n"
    )


def stage(target: Target, *, fresh: bool) -> Path:
    """Copy the code and tests to ``mutants/<target>/`` with the target's mutmut configuration.

    Args:
        target: The target.
        fresh: Start from scratch, discarding earlier results of this target.

    Returns:
        The staging directory (mutmut's working directory).
    """
    directory = WORK / target.name
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if (ROOT / "pyproject.toml").read_text(encoding="utf-8").count("[tool.mutmut]"):
        raise SystemExit("pyproject.toml must not configure mutmut: the driver does, per target")
    for package in PACKAGES:
        if not (directory / package).exists():
            shutil.copytree(ROOT / package, directory / package, ignore=_ignore)
    if not (directory / "tests").exists():
        shutil.copytree(ROOT / "tests", directory / "tests", ignore=_ignore)
    shutil.copy2(ROOT / "pyproject.toml", directory / "pyproject.toml")
    (directory / "setup.cfg").write_text(_setup_cfg(target), encoding="utf-8")
    return directory


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["HYPOTHESIS_PROFILE"] = "mutation"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("MUTANT_UNDER_TEST", None)
    return env


def run_mutmut(
    directory: Path, names: list[str], *, max_children: int, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``mutmut run`` in a staging directory.

    Args:
        directory: The staging directory.
        names: Mutant names or globs to run; empty for all.
        max_children: Parallel workers.
        timeout: Seconds before the run is stopped.

    Returns:
        The finished process (its output captured).
    """
    command = [mutmut_executable(), "run", "--max-children", str(max_children), *names]
    return subprocess.run(  # noqa: S603 -- a fixed command of this environment's mutmut
        command,
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_results(directory: Path, target: Target) -> list[MutantResult]:
    """Read mutmut's per-file results of a staging directory, limited to the target's scope.

    Args:
        directory: The staging directory.
        target: The target.

    Returns:
        Every generated mutant in scope, with its status.
    """
    found: list[MutantResult] = []
    for meta in sorted((directory / "mutants" / target.package).rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        durations: dict[str, float] = data.get("durations_by_key", {})
        for name, code in sorted(data["exit_code_by_key"].items()):
            if not any(fnmatch.fnmatch(name, pattern) for pattern in target.scope):
                continue
            if code is None:
                status = "not checked"
            elif code in TIMEOUT_CODES:
                status = "timeout"
            else:
                status = STATUS_BY_EXIT_CODE.get(code, f"suspicious ({code})")
            found.append(MutantResult(name, status, float(durations.get(name, 0.0))))
    return found


def mutant_diff(directory: Path, name: str) -> str:
    """The unified diff of one mutant, as ``mutmut show`` prints it."""
    shown = subprocess.run(  # noqa: S603 -- a fixed command of this environment's mutmut
        [mutmut_executable(), "show", name],
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout.partition("\n")[2].strip()


def changed_lines(diff: str) -> list[str]:
    """The removed and added lines of a diff, stripped: what identifies a mutant's change."""
    return [
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in {"-", "+"} and not line.startswith(("---", "+++"))
    ]


def load_equivalents() -> dict[str, dict[str, Any]]:
    """The mutants shown equivalent in docs/fault-detection.md, by name."""
    entries: list[dict[str, Any]] = json.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in entries}


def summarize(target: Target, directory: Path) -> dict[str, Any]:
    """Count a target's mutants and describe every survivor that is not a known equivalent.

    Args:
        target: The target.
        directory: Its staging directory.

    Returns:
        The target's part of the report.
    """
    results = read_results(directory, target)
    equivalents = load_equivalents()
    counts = {"generated": len(results), "killed": 0, "equivalent": 0, "surviving": 0}
    surviving: list[dict[str, Any]] = []
    stale: list[str] = []
    for result in results:
        if result.status in {"killed", "timeout"}:
            counts["killed"] += 1
            continue
        diff = mutant_diff(directory, result.name) if result.status != "not checked" else ""
        known = equivalents.get(result.name)
        if known is not None and known["change"] == changed_lines(diff):
            counts["equivalent"] += 1
            continue
        if known is not None:
            stale.append(result.name)
        counts["surviving"] += 1
        surviving.append({"name": result.name, "status": result.status, "diff": diff})
    judged = counts["generated"] - counts["equivalent"]
    score = counts["killed"] / judged if judged else 1.0
    return {
        "target": target.name,
        "tests": list(target.tests),
        "counts": counts,
        "timeouts": sum(1 for r in results if r.status == "timeout"),
        "score": round(score, 4),
        "required_score": target.required_score,
        "surviving": surviving,
        "stale_equivalents": stale,
    }


def _print_summary(part: dict[str, Any]) -> None:
    c = part["counts"]
    print(  # noqa: T201 -- the driver's report is its output
        f"{part['target']}: generated {c['generated']}, killed {c['killed']}, "
        f"equivalent {c['equivalent']}, surviving {c['surviving']}, score {part['score']:.2%}"
        f" (required {part['required_score']:.0%})"
    )
    for survivor in part["surviving"]:
        print(f"  {survivor['status']}: {survivor['name']}\n{survivor['diff']}\n")  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    """Run or report mutation testing (see the module docstring).

    Args:
        argv: The command line, without the program name.

    Returns:
        0 when every target reached its required score, else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.driver")
    parser.add_argument("command", choices=("run", "report"))
    parser.add_argument("targets", nargs="*", default=[], help=f"some of {sorted(TARGETS)}")
    parser.add_argument("--mutants", nargs="*", default=[], help="mutant names or globs")
    parser.add_argument("--keep", action="store_true", help="reuse earlier results")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per target")
    args = parser.parse_args(argv)
    names: list[str] = args.targets or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {sorted(TARGETS)}")
    report: dict[str, Any] = {}
    for name in names:
        target = TARGETS[name]
        directory = WORK / target.name
        if args.command == "run":
            started = time.monotonic()
            directory = stage(target, fresh=not args.keep)
            selection = list(args.mutants) or list(target.scope)
            finished = run_mutmut(
                directory, selection, max_children=args.max_children, timeout=args.timeout
            )
            (directory / "mutmut-run.log").write_text(
                finished.stdout + finished.stderr, encoding="utf-8"
            )
            elapsed = time.monotonic() - started
            print(f"{name}: mutmut exited {finished.returncode} after {elapsed:.0f} s")  # noqa: T201
        part = summarize(target, directory)
        if args.command == "run":
            part["seconds"] = round(elapsed)
        report[name] = part
        _print_summary(part)
    WORK.mkdir(exist_ok=True)
    (WORK / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    ok = all(part["score"] >= part["required_score"] for part in report.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
