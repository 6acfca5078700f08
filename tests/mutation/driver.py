"""Mutation testing of the planners and of the arbiter's comparison and guards, with mutmut.

Usage (from the repository root; ``tox -e mutation`` runs the first line)::

    python -m tests.mutation.driver run                 # every target, full run, then report
    python -m tests.mutation.driver run deleter_b       # one target
    python -m tests.mutation.driver run deleter_a --mutants 'deleter_a._lifecycle.x_assess*'
    python -m tests.mutation.driver report              # re-read the last results
    python -m tests.mutation.driver run arbiter --resume  # go on after a stop, current code

How a target is judged (docs/fault-detection.md):

- ``deleter_a`` and ``deleter_b``: only the *shared* tests, ``tests/spec`` (hand-computed
  examples) and ``tests/differential`` (the other planner is the oracle). The planners' own unit
  tests are not run: the claim measured is that the other planner catches the mistake.
- ``arbiter``: ``tests/arbiter``, over the comparison (``arbiter/core/compare.py``,
  ``arbiter/core/verdict.py``), the decision in ``arbiter/core/arbitrate.py`` and the guards of
  ``arbiter/purge/purger.py`` (``ARBITER_SCOPE``: one line per file). Every mutant in scope is
  judged, including those that change only what a refusal or a purge writes to the audit log,
  to the alerts or to progress: those writes are behaviour, asserted by
  ``tests/arbiter/purge/test_reporting.py`` and ``tests/arbiter/backup/test_backup_reporting.py``.

Each target is copied to ``mutants/<target>/`` (git-ignored) with a generated mutmut
configuration, so targets with different judges never share mutmut's state and an edit in the
working tree during a run does not change what is being measured. Hypothesis runs under the
``mutation`` profile (tests/conftest.py): dev example counts, derandomized, no shrinking.

Steps of a run: mutmut generates every mutant and records which tests reach which function;
``message_only`` sets aside the mutants that change nothing but the wording of an error message
(equivalent by construction, see its docstring); mutmut runs the judges against every other
mutant. A surviving mutant listed in ``tests/mutation/equivalent.json`` (with the change it must
still make) counts as equivalent; any other survivor counts as surviving. The report goes to
``mutants/report.json``; the exit code is 1 when a target misses its required score.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import functools
import hashlib
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
    "ARBITER_SCOPE",
    "ROOT",
    "TARGETS",
    "MutantResult",
    "Target",
    "changed_lines",
    "function_digests",
    "load_equivalents",
    "main",
    "message_only",
    "mutant_diff",
    "read_results",
    "run_mutmut",
    "run_sample",
    "save_checkpoint",
    "scope_globs",
    "seed_checkpoint",
    "stage",
]

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "mutants"
EQUIVALENTS = Path(__file__).with_name("equivalent.json")
# Results kept in the repository between sessions (``save_checkpoint``): a session's staging
# directory is git-ignored and gone with it, and a full arbiter run takes longer than a session.
CHECKPOINTS = Path(__file__).with_name("checkpoints")
CHECKPOINT_FORMAT = "twinpurge-mutation-checkpoint-1"
PACKAGES = ("deleter_a", "deleter_b", "arbiter")
# Files some judges read relative to the repository (the CLI tests use the examples).
DATA = ("examples", "docs", "README.md")
STATUS_BY_EXIT_CODE = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
TIMEOUT_CODES = frozenset({36, -24, 24, 152, 255})
# A glob that names no mutant: mutmut generates the mutants and collects its test statistics,
# then stops (see ``generate``).
_NOTHING = "__generate_only__"


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
        message_calls: Calls whose argument at the given position is a message for people
            (``where.fail`` is written ``.fail``).
        required_score: Killed / (generated - equivalent) must reach this.
    """

    name: str
    package: str
    files: tuple[str, ...]
    tests: tuple[str, ...]
    scope: tuple[str, ...]
    message_calls: tuple[tuple[str, int], ...]
    required_score: float


_SHARED_TESTS = ("tests/spec", "tests/differential")
_PLANNER_MESSAGES = (
    ("PlanInputError", 2),
    ("InstantSyntaxError", 0),
    ("PlannerError", 0),
    ("RuntimeError", 0),
    ("ValueError", 0),
    (".fail", 0),
)

Scope = dict[str, tuple[str, ...] | None]


def scope_globs(scope: Scope) -> tuple[str, ...]:
    """The names mutmut gives the mutants of ``scope``: per file, the listed functions, or all.

    Args:
        scope: Each mutated file (relative to the repository root) and the functions of it that
            are in scope, as mutmut spells them (``x_name``, ``xǁClassǁmethod``); None for every
            function of the file.

    Returns:
        The globs of ``Target.scope``.
    """
    globs: list[str] = []
    for path, functions in scope.items():
        module = path.removesuffix(".py").replace("/", ".")
        if functions is None:
            globs.append(f"{module}.*")
        else:
            globs += [f"{module}.{function}__mutmut_*" for function in functions]
    return tuple(globs)


# The arbiter's code under mutation: adding a file (all of it, or some functions) is one line.
ARBITER_SCOPE: Scope = {
    "arbiter/core/compare.py": ("x_compare_verdicts",),
    "arbiter/core/verdict.py": (
        "x__check_instant",
        "x__check_sorted_unique",
        "xǁVerdictǁ__attrs_post_init__",
        "x_verdict_from_planner",
    ),
    "arbiter/core/arbitrate.py": ("x_arbitrate", "x__run", "x__as_failure"),
    "arbiter/purge/guards.py": None,
    "arbiter/purge/refusal.py": None,
    "arbiter/purge/safemode.py": ("x_crosses_threshold", "xǁFleetTallyǁadd"),
    "arbiter/purge/purger.py": (
        "x__chunks",
        "xǁPurgerǁ_start",
        "xǁPurgerǁ_check_before",
        "xǁPurgerǁexecute_verdict",
        "xǁPurgerǁ_execute",
        "xǁPurgerǁdelete_batches",
        "xǁPurgerǁ_check_batch",
        "xǁPurgerǁdelete_files",
        "xǁPurgerǁrun_due",
    ),
    "arbiter/purge/journal.py": ("x_check_completeness",),
}

TARGETS: dict[str, Target] = {
    "deleter_a": Target(
        name="deleter_a",
        package="deleter_a",
        files=("deleter_a/*.py",),
        tests=_SHARED_TESTS,
        scope=("deleter_a.*",),
        message_calls=_PLANNER_MESSAGES,
        required_score=0.98,
    ),
    "deleter_b": Target(
        name="deleter_b",
        package="deleter_b",
        files=("deleter_b/*.py",),
        tests=_SHARED_TESTS,
        scope=("deleter_b.*",),
        message_calls=_PLANNER_MESSAGES,
        required_score=0.98,
    ),
    "arbiter": Target(
        name="arbiter",
        package="arbiter",
        files=tuple(ARBITER_SCOPE),
        tests=("tests/arbiter",),
        scope=scope_globs(ARBITER_SCOPE),
        message_calls=(
            ("GuardError", 2),
            ("PlannerFailure", 2),
            ("ValueError", 0),
            ("TypeError", 0),
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


def _setup_cfg(target: Target, tests: tuple[str, ...] | None = None) -> str:
    def lines(values: tuple[str, ...] | list[str]) -> str:
        return "".join(f"\n    {v}" for v in values)

    also = [p for p in PACKAGES if p != target.package] + list(DATA)
    return (
        "[mutmut]\n"
        f"source_paths = {target.package}\n"
        f"only_mutate ={lines(target.files)}\n"
        f"also_copy ={lines(also)}\n"
        f"pytest_add_cli_args_test_selection ={lines(tests or target.tests)}\n"
        f"pytest_add_cli_args ={lines(['-p', 'no:cacheprovider'])}\n"
        "use_git_change_detection = false\n"
        # The judges are derandomized, so a mutant's tests take about as long as the clean run;
        # four times the clean run's CPU time (mutmut doubles the multiplier) is an endless loop.
        "timeout_multiplier = 2.0\n"
    )


def stage(  # noqa: PLR0913 -- the staging knobs, each keyword-only
    target: Target,
    *,
    fresh: bool,
    root: Path = ROOT,
    work: Path = WORK,
    tests: tuple[str, ...] | None = None,
    refresh: bool = False,
) -> Path:
    """Copy the code and tests to ``mutants/<target>/`` with the target's mutmut configuration.

    Args:
        target: The target.
        fresh: Start from scratch, discarding earlier results of this target.
        refresh: Keep the earlier results but copy the code again (``--resume``): mutmut then
            regenerates the mutants and keeps the result of every mutant whose function is
            unchanged, so a run stopped (or a session ended) goes on where it was, over the
            current code.
        root: The repository to copy.
        work: Where staging directories go.
        tests: A narrower test selection than the target's (for the CI sample only).

    Returns:
        The staging directory (mutmut's working directory).
    """
    directory = work / target.name
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if "[tool.mutmut]" in (root / "pyproject.toml").read_text(encoding="utf-8"):
        raise SystemExit("pyproject.toml must not configure mutmut: the driver does, per target")
    if refresh:
        for name in (*PACKAGES, *DATA):
            stale = directory / name
            if stale.is_dir():
                shutil.rmtree(stale)
    for package in PACKAGES:
        if not (directory / package).exists():
            shutil.copytree(root / package, directory / package, ignore=_ignore)
    for name in DATA:
        if (root / name).is_dir() and not (directory / name).exists():
            shutil.copytree(root / name, directory / name, ignore=_ignore)
        elif (root / name).is_file():
            shutil.copy2(root / name, directory / name)
    # The judges are always copied afresh: a rerun with --keep measures the current tests.
    shutil.rmtree(directory / "tests", ignore_errors=True)
    shutil.copytree(root / "tests", directory / "tests", ignore=_ignore)
    shutil.copy2(root / "pyproject.toml", directory / "pyproject.toml")
    (directory / "setup.cfg").write_text(_setup_cfg(target, tests), encoding="utf-8")
    return directory


def _environment(profile: str = "mutation") -> dict[str, str]:
    env = dict(os.environ)
    env["HYPOTHESIS_PROFILE"] = profile
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("MUTANT_UNDER_TEST", None)
    return env


def run_mutmut(
    directory: Path,
    names: list[str],
    *,
    max_children: int,
    timeout: float,
    profile: str = "mutation",
) -> subprocess.CompletedProcess[str]:
    """Run ``mutmut run`` in a staging directory.

    Args:
        directory: The staging directory.
        names: Mutant names or globs to run.
        max_children: Parallel workers.
        timeout: Seconds before the run is stopped.
        profile: The hypothesis profile of the judges.

    Returns:
        The finished process (its output captured).
    """
    command = [mutmut_executable(), "run", "--max-children", str(max_children), *names]
    return subprocess.run(
        command,
        cwd=directory,
        env=_environment(profile),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in TIMEOUT_CODES:
        return "timeout"
    return STATUS_BY_EXIT_CODE.get(code, f"suspicious ({code})")


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
            if any(fnmatch.fnmatch(name, pattern) for pattern in target.scope):
                found.append(MutantResult(name, _status(code), float(durations.get(name, 0.0))))
    return found


# --- reading mutants back ---------------------------------------------------------------------


@functools.cache
def _functions(path: Path) -> tuple[str, dict[str, ast.FunctionDef]]:
    source = path.read_text(encoding="utf-8")
    found = {
        node.name: node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)
    }
    return source, found


def _pair(directory: Path, name: str) -> tuple[str, ast.FunctionDef, ast.FunctionDef]:
    """The mutated file's source, the original function and the mutant function of ``name``."""
    module, _, function = name.rpartition(".")
    source, functions = _functions(directory / "mutants" / (module.replace(".", "/") + ".py"))
    original = functions[function.rpartition("__mutmut_")[0] + "__mutmut_orig"]
    return source, original, functions[function]


def _source_lines(source: str, node: ast.FunctionDef) -> list[str]:
    text = ast.get_source_segment(source, node, padded=True) or ""
    return text.splitlines()[1:]  # without the def line, whose name differs


def mutant_diff(directory: Path, name: str) -> str:
    """The unified diff of one mutant against the original function (like ``mutmut show``).

    Args:
        directory: The staging directory.
        name: The mutant's name.

    Returns:
        The diff, with the function's module file as its file name.
    """
    source, original, mutant = _pair(directory, name)
    path = name.rpartition(".")[0].replace(".", "/") + ".py"
    header = [f"def {original.name.rpartition('__mutmut_')[0].partition('_')[2]}(...):"]
    return "\n".join(
        difflib.unified_diff(
            header + _source_lines(source, original),
            header + _source_lines(source, mutant),
            fromfile=path,
            tofile=path,
            lineterm="",
        )
    )


def changed_lines(diff: str) -> list[str]:
    """The removed and added lines of a diff, stripped: what identifies a mutant's change."""
    return [
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in {"-", "+"} and not line.startswith(("---", "+++"))
    ]


# --- mutants that change only the wording of a message ----------------------------------------

Step = tuple[ast.AST, str, int | None]
# Functions that accept any object and only describe it; given None instead, they still return
# a string (checked in tests/mutation/test_driver.py).
_DESCRIBERS = frozenset({"_describe", "_kind", "_name", "type", "repr", "str"})


Difference = tuple[list[Step], object, object]


def _differences(a: object, b: object, path: list[Step]) -> list[Difference]:
    """The smallest differing parts of two syntax trees, each with its path from the root."""
    if type(a) is not type(b):
        return [(path, a, b)]
    if not isinstance(a, ast.AST):
        return [] if a == b else [(path, a, b)]
    found: list[Difference] = []
    for field in a._fields:
        if field in {"ctx", "type_comment"}:
            continue
        left, right = getattr(a, field, None), getattr(b, field, None)
        if isinstance(left, list) and isinstance(right, list):
            if len(left) != len(right):
                found.append(([*path, (a, field, None)], left, right))
                continue
            for index, (x, y) in enumerate(zip(left, right, strict=True)):
                found += _differences(x, y, [*path, (a, field, index)])
        else:
            found += _differences(left, right, [*path, (a, field, None)])
    return found


def _call_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return "." + call.func.attr
    return ""


def _in_message(path: list[Step], calls: dict[str, int]) -> int | None:
    """Where in ``path`` the message argument of a message call starts, if it is on the path."""
    for position, (node, field, index) in enumerate(path):
        if not isinstance(node, ast.Call) or index is None:
            continue
        if field == "args" and calls.get(_call_name(node)) == index:
            return position + 1
        if field == "keywords" and node.keywords[index].arg == "message":
            return position + 2 if _call_name(node) in calls else None
    return None


def _safe_change(inner: list[Step], before: object, after: object) -> bool:
    """Whether a change inside a message argument leaves it a string that is still built."""
    if not inner:  # the whole message argument: only another literal string will do
        return isinstance(before, ast.Constant | str) and isinstance(after, ast.Constant | str)
    parent, field, _ = inner[-1]
    if isinstance(before, str) and isinstance(after, str) and isinstance(parent, ast.Constant):
        return len(inner) == 1  # the message is this literal
    if isinstance(before, int) and isinstance(after, int) and isinstance(parent, ast.Constant):
        return any(isinstance(node, ast.Slice) for node, _, _ in inner)  # text[:60] -> text[:61]
    if isinstance(after, ast.Constant) and after.value is None and field == "args":
        return isinstance(parent, ast.Call) and _call_name(parent) in _DESCRIBERS
    return False


def message_only(original: ast.FunctionDef, mutant: ast.FunctionDef, target: Target) -> bool:
    """Whether a mutant changes nothing but the words of a message for people.

    Such a mutant is equivalent by construction: spec §8 gives an input error's ``message`` no
    meaning beyond being text for people, the arbiter compares no messages, and a verdict never
    contains one. The rule is deliberately narrow; every change must be one of:

    - the message argument of a message call (``target.message_calls``), when it is a literal
      string, replaced by another literal string (``"XXunknown fieldXX"``);
    - a slice bound inside the message changed (``{value[:60]!r}`` to ``[:61]``);
    - the argument of a describing function inside the message (``_describe(value)``) replaced
      by ``None``, which these functions describe like any other object.

    A mutant that replaces the message by ``None``, drops an argument, or touches anything that
    could raise while the message is built is not message-only: it is run like any other.

    Args:
        original: The original function.
        mutant: The mutated function.
        target: The target (its message calls).

    Returns:
        ``True`` when every difference is such a change.
    """
    calls = dict(target.message_calls)
    differences = _differences(original.args, mutant.args, []) + _differences(
        ast.Module(body=original.body, type_ignores=[]),
        ast.Module(body=mutant.body, type_ignores=[]),
        [],
    )
    if not differences:
        return False
    for path, before, after in differences:
        start = _in_message(path, calls)
        if start is None or not _safe_change(path[start:], before, after):
            return False
    return True


# --- a run --------------------------------------------------------------------------------------


def load_equivalents() -> dict[str, dict[str, Any]]:
    """The mutants shown equivalent in docs/fault-detection.md, by name."""
    entries: list[dict[str, Any]] = json.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in entries}


def generate(directory: Path, target: Target, *, timeout: float) -> list[str]:
    """Have mutmut generate the mutants and its test statistics, without running any mutant.

    Args:
        directory: The staging directory.
        target: The target.
        timeout: Seconds before giving up.

    Returns:
        The names of the mutants in scope.
    """
    finished = run_mutmut(directory, [_NOTHING], max_children=1, timeout=timeout)
    (directory / "mutmut-generate.log").write_text(
        finished.stdout + finished.stderr, encoding="utf-8"
    )
    names = [r.name for r in read_results(directory, target)]
    if not names or _NOTHING not in finished.stdout + finished.stderr:
        raise SystemExit(f"mutmut generated no mutants; see {directory}/mutmut-generate.log")
    return names


def split_message_only(directory: Path, target: Target, names: list[str]) -> list[str]:
    """The names of the message-only mutants among ``names`` (see ``message_only``)."""
    found = []
    for name in names:
        _source, original, mutant = _pair(directory, name)
        if message_only(original, mutant, target):
            found.append(name)
    return found


def summarize(target: Target, directory: Path, message: list[str]) -> dict[str, Any]:
    """Count a target's mutants and describe every survivor that is not a known equivalent.

    Args:
        target: The target.
        directory: Its staging directory.
        message: The message-only mutants (equivalent, not run).

    Returns:
        The target's part of the report.
    """
    results = read_results(directory, target)
    equivalents = load_equivalents()
    set_aside = set(message)
    counts = {
        "generated": len(results),
        "killed": 0,
        "timeout": 0,
        "equivalent": 0,
        "message-only": 0,
        "surviving": 0,
    }
    surviving: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    stale: list[str] = []
    for result in results:
        if result.name in set_aside:
            counts["equivalent"] += 1
            counts["message-only"] += 1
            continue
        known = equivalents.get(result.name)
        if result.status in {"killed", "timeout"} and known is None:
            counts["killed"] += 1
            counts["timeout"] += result.status == "timeout"
            continue
        diff = mutant_diff(directory, result.name)
        if known is not None and known["change"] == changed_lines(diff):
            # Shown equivalent: counted so even if a judge failed for another reason.
            counts["equivalent"] += 1
            listed.append({"name": result.name, "status": result.status, "diff": diff})
            continue
        if result.status in {"killed", "timeout"}:
            counts["killed"] += 1
            counts["timeout"] += result.status == "timeout"
            stale.append(result.name)
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
        "score": round(score, 4),
        "required_score": target.required_score,
        "surviving": surviving,
        "equivalent": listed,
        "message_only": [
            {"name": name, "change": changed_lines(mutant_diff(directory, name))}
            for name in sorted(set(message))
        ],
        "stale_equivalents": stale,
    }


def _print_summary(part: dict[str, Any]) -> None:
    c = part["counts"]
    print(  # noqa: T201 -- the driver's report is its output
        f"{part['target']}: generated {c['generated']}, killed {c['killed']} "
        f"(of which timeouts {c['timeout']}), equivalent {c['equivalent']} "
        f"(of which message-only {c['message-only']}), "
        f"surviving {c['surviving']}, "
        f"score {part['score']:.2%} (required {part['required_score']:.0%})"
        + (f", {part['seconds']} s" if "seconds" in part else "")
    )
    for survivor in part["surviving"]:
        print(f"  {survivor['status']}: {survivor['name']}\n{survivor['diff']}\n")  # noqa: T201
    for name in part["stale_equivalents"]:
        print(f"  stale entry in equivalent.json (its change differs now): {name}")  # noqa: T201


# --- results kept between sessions -------------------------------------------------------------


def function_digests(directory: Path, target: Target) -> dict[str, str]:
    """SHA-256 of each mutated function's original source, by the name its mutants start with.

    Args:
        directory: The staging directory (after generation).
        target: The target.

    Returns:
        ``{"arbiter.purge.purger.xǁPurgerǁrun_due": "<hex>", ...}`` for every mutated function.
    """
    digests: dict[str, str] = {}
    for path in sorted((directory / "mutants" / target.package).rglob("*.py")):
        module = ".".join(path.relative_to(directory / "mutants").with_suffix("").parts)
        source, functions = _functions(path)
        for name, node in functions.items():
            if name.endswith("__mutmut_orig"):
                text = ast.get_source_segment(source, node) or ""
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                digests[f"{module}.{name.removesuffix('__mutmut_orig')}"] = digest
    return digests


def _exit_codes(directory: Path, target: Target) -> dict[Path, dict[str, Any]]:
    return {
        meta: json.loads(meta.read_text(encoding="utf-8"))
        for meta in sorted((directory / "mutants" / target.package).rglob("*.py.meta"))
    }


def save_checkpoint(directory: Path, target: Target, path: Path | None = None) -> int:
    """Keep the killed mutants' results in the repository, for a later session to go on from.

    Only kills are kept (a mutant killed, or stopped by its timeout), each with the digest of
    its function's original source: a survivor, or a mutant not run, is run again by the next
    session whatever happens, and a kill is taken up again only while its function is unchanged
    (``seed_checkpoint``).

    Args:
        directory: The staging directory.
        target: The target.
        path: Where to write; ``checkpoints/<target>.json`` beside this module by default.

    Returns:
        The number of results kept.
    """
    digests = function_digests(directory, target)
    kept: dict[str, int] = {}
    for data in _exit_codes(directory, target).values():
        for name, code in data["exit_code_by_key"].items():
            if (
                _status(code) in {"killed", "timeout"}
                and name.rpartition("__mutmut_")[0] in digests
            ):
                kept[name] = int(code)
    functions = {fn: digests[fn] for fn in sorted({n.rpartition("__mutmut_")[0] for n in kept})}
    record = {
        "format": CHECKPOINT_FORMAT,
        "target": target.name,
        "functions": functions,
        "killed": dict(sorted(kept.items())),
    }
    path = path or CHECKPOINTS / f"{target.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(kept)


def seed_checkpoint(directory: Path, target: Target, path: Path | None = None) -> int:
    """Write a checkpoint's kills into a fresh staging directory's results (see ``save_checkpoint``).

    A kill is taken up only for a mutant that still exists, has no result yet, and whose
    function's original source has the digest it had when the kill was recorded; every other
    mutant is left to be run.

    Args:
        directory: The staging directory (after generation).
        target: The target.
        path: The checkpoint; ``checkpoints/<target>.json`` beside this module by default.

    Returns:
        The number of results taken up.

    Raises:
        SystemExit: the file is not a checkpoint of this target.
    """
    path = path or CHECKPOINTS / f"{target.name}.json"
    if not path.exists():
        return 0
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("format") != CHECKPOINT_FORMAT or record.get("target") != target.name:
        raise SystemExit(f"{path} is not a mutation checkpoint of {target.name}")
    digests = function_digests(directory, target)
    unchanged = {fn for fn, digest in record["functions"].items() if digests.get(fn) == digest}
    taken = 0
    for meta, data in _exit_codes(directory, target).items():
        codes: dict[str, int | None] = data["exit_code_by_key"]
        for name, current in list(codes.items()):
            code = record["killed"].get(name)
            if (
                code is not None
                and current is None
                and name.rpartition("__mutmut_")[0] in unchanged
            ):
                codes[name] = code
                taken += 1
        meta.write_text(json.dumps(data), encoding="utf-8")
    return taken


def run_target(  # noqa: PLR0913 -- what a run of one target takes, keyword-only
    target: Target,
    mutants: list[str],
    *,
    keep: bool,
    max_children: int,
    timeout: float,
    resume: bool = False,
) -> dict[str, Any]:
    """Stage, generate, set aside message-only mutants, run the rest, and summarize.

    Args:
        target: The target.
        mutants: Names or globs of the mutants to run; empty for the whole scope.
        keep: Reuse the staging directory and earlier results.
        resume: Like ``keep``, over a fresh copy of the current code (see ``stage``).
        max_children: Parallel workers.
        timeout: Seconds for the whole target.

    Returns:
        The target's part of the report.
    """
    started = time.monotonic()
    directory = stage(target, fresh=not (keep or resume), refresh=resume)
    names = generate(directory, target, timeout=timeout)
    message = split_message_only(directory, target, names)
    if mutants:
        names = [n for n in names if any(fnmatch.fnmatch(n, m) for m in mutants)]
    # Mutants shown equivalent (and still making the change they were shown for) always survive:
    # running them would only spend the time of every judge on them.
    equivalents = load_equivalents()
    shown = {
        n
        for n in names
        if n in equivalents and equivalents[n]["change"] == changed_lines(mutant_diff(directory, n))
    }
    to_run = sorted(set(names) - set(message) - shown)
    if resume:
        seed_checkpoint(directory, target)
    if (keep or resume) and not mutants:
        # mutmut reruns every mutant it is given by name, result or not: on going on, give it
        # only those without a result (the mutants of changed functions have none again).
        done = {r.name for r in read_results(directory, target) if r.status != "not checked"}
        to_run = [n for n in to_run if n not in done]
    remaining = timeout - (time.monotonic() - started)
    finished = run_mutmut(directory, to_run, max_children=max_children, timeout=remaining)
    (directory / "mutmut-run.log").write_text(finished.stdout + finished.stderr, encoding="utf-8")
    part = summarize(target, directory, message)
    part["checkpointed"] = save_checkpoint(directory, target)
    if mutants:
        part["selection"] = mutants
        selected = set(names)
        part["surviving"] = [s for s in part["surviving"] if s["name"] in selected]
    part["seconds"] = round(time.monotonic() - started)
    return part


def run_sample(
    target: Target,
    sample: dict[str, list[str]],
    work: Path,
    *,
    tests: tuple[str, ...] | None = None,
    timeout: float = 600.0,
) -> dict[str, tuple[str, list[str]]]:
    """Run a fixed sample of mutants (the CI check that the setup has not rotted).

    Args:
        target: The target.
        sample: Each sampled mutant's name and the change it must make (``changed_lines``).
        work: Where to stage (a temporary directory).
        tests: A narrower test selection than the target's, if any.
        timeout: Seconds for the whole run (generous: a loaded 2-core machine runs it in about
            a minute alone, several under load; a rotten setup fails, it does not hang).

    Returns:
        Each sampled mutant's status and the change it actually makes.
    """
    directory = stage(target, fresh=True, work=work, tests=tests)
    finished = run_mutmut(
        directory, sorted(sample), max_children=2, timeout=timeout, profile="quick"
    )
    (directory / "mutmut-run.log").write_text(finished.stdout + finished.stderr, encoding="utf-8")
    statuses = {r.name: r.status for r in read_results(directory, target)}
    return {
        name: (
            statuses.get(name, "not generated"),
            changed_lines(mutant_diff(directory, name)) if name in statuses else [],
        )
        for name in sample
    }


def main(argv: list[str] | None = None) -> int:
    """Run or report mutation testing (see the module docstring).

    Args:
        argv: The command line, without the program name.

    Returns:
        0 when every target reached its required score, else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.driver")
    parser.add_argument("command", choices=("run", "report", "checkpoint"))
    parser.add_argument("targets", nargs="*", default=[], help=f"some of {sorted(TARGETS)}")
    parser.add_argument("--mutants", nargs="*", default=[], help="mutant names or globs")
    parser.add_argument("--keep", action="store_true", help="reuse the staging directory")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep earlier results, copy the current code again (go on after a stop)",
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per target")
    args = parser.parse_args(argv)
    names: list[str] = args.targets or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {sorted(TARGETS)}")
    if args.command == "checkpoint":
        for name in names:
            kept = save_checkpoint(WORK / name, TARGETS[name])
            print(f"{name}: {kept} kills kept in {CHECKPOINTS / (name + '.json')}")  # noqa: T201
        return 0
    report_path = WORK / "report.json"
    report: dict[str, Any] = (
        json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    )
    for name in names:
        target = TARGETS[name]
        if args.command == "run":
            part = run_target(
                target,
                list(args.mutants),
                keep=args.keep,
                max_children=args.max_children,
                timeout=args.timeout,
                resume=args.resume,
            )
        else:
            previous = [m["name"] for m in report.get(name, {}).get("message_only", [])]
            part = summarize(target, WORK / target.name, previous)
        report[name] = part
        _print_summary(part)
    WORK.mkdir(exist_ok=True)
    # Another target may have finished meanwhile (targets can run in parallel): keep its part.
    latest = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    latest.update({name: report[name] for name in names})
    report_path.write_text(json.dumps(latest, indent=2, ensure_ascii=False), encoding="utf-8")
    ok = all(report[name]["score"] >= report[name]["required_score"] for name in names)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
