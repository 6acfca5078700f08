"""Issue 10's "tried as a new user would" scenarios, tried again the same way, at full size.

Run: ``python benchmarks/crash_scenarios.py [--objects 50000] [--kills 6] [--seed 10]``
(from the repository root, after ``pip install -e .``; about ten minutes on two cores).

The workspace: a due tenant ``big`` of ``--objects`` objects (a tenth of them blob files with
payloads), 60 of them kept (30 under legal hold, 30 in a retained category), plus the objects an
active tenant ``active`` of 2,200 objects refers to (kept as shared). Every scenario runs the
installed ``twinpurge`` executable on a fresh copy of it, kills it with SIGKILL (at a random
moment, or at a named crash point of ``arbiter.durable.crash``), runs it again, and checks what a
crash must never do: ``big``'s remaining objects are exactly the kept ones, no blob file outlives
its row, no temporary file is left, ``active`` is byte-identical, the audit log verifies, no
journal is unfinished, and a restore brings back everything. It prints one Markdown row per
try, and exits 1 when any check failed. This is not part of the test run (the fault-injection
tests in ``tests/arbiter/purge`` are, at a size CI can afford); docs/operations.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from arbiter.auth.approvals import generate_key
from arbiter.auth.credentials import PRIMARY_ENV
from arbiter.core.config import LimitsConfig, OperatorConfig, WorkspaceConfig
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.verdict import ObjectId
from arbiter.durable.crash import CRASH_ENV
from arbiter.manual.plans import approve_plan, create_plan, register_plan, write_plan
from arbiter.workspace.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults import State, archived, objects_of, orphan_files, state, stray_files  # noqa: E402

CANCELLED = format_instant(utc_now() - timedelta(days=37))
ACTIVE_OBJECTS = 2_200
SHARED = 200  # objects of big that active refers to
Action = Literal["execute", "restore"]


class Scenario:
    """A fresh copy of the built workspace, the executable, and the checks."""

    def __init__(self, built: Path, work: Path, name: str) -> None:
        self.directory = work / name
        shutil.copytree(built, self.directory, symlinks=True)
        self.keys = built.parent / "keys"
        self.env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        self.env[PRIMARY_ENV] = str(self.directory / "credentials" / "primary.toml")

    def run(self, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        """``twinpurge ARGS --workspace DIR``, crashing at ``crash_at``."""
        env = dict(self.env)
        if crash_at is not None:
            env[CRASH_ENV] = crash_at
        return subprocess.run(
            [shutil.which("twinpurge") or "twinpurge", *args, "--workspace", str(self.directory)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``twinpurge ARGS --workspace DIR`` in the background."""
        return subprocess.Popen(
            [shutil.which("twinpurge") or "twinpurge", *args, "--workspace", str(self.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def kill_after(self, seconds: float, *args: str) -> int:
        """Start ``twinpurge ARGS``, SIGKILL it after ``seconds``; its exit code (-9 if killed)."""
        process = self.start(*args)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        return process.returncode

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts written to the workspace's JSON-lines sink."""
        log = self.directory / "alerts.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def reports(self) -> int:
        """How many report files the workspace holds."""
        directory = self.directory / "reports"
        return len(list(directory.iterdir())) if directory.is_dir() else 0

    def scalar(self, query: str) -> int:
        """One value from the store."""
        db = sqlite3.connect(self.directory / "primary.sqlite3")
        try:
            return int(db.execute(query).fetchone()[0])
        finally:
            db.close()

    def problems(self, kept: set[ObjectId], active: State) -> list[str]:
        """What a crash followed by a rerun must never leave: empty when all is well."""
        found = []
        remaining = objects_of(self.directory, "big")
        if remaining != kept:
            found.append(
                f"big: {len(remaining - kept)} objects left behind, {len(kept - remaining)}"
                " kept objects gone"
            )
        if state(self.directory, "active") != active:
            found.append("active tenant changed")
        if orphans := orphan_files(self.directory):
            found.append(f"{len(orphans)} orphan blob files")
        if strays := stray_files(self.directory):
            found.append(f"{len(strays)} stray temporary files")
        verified = self.run("audit", "verify")
        if verified.returncode != 0:
            found.append(f"audit verify exit {verified.returncode}: {verified.stderr.strip()}")
        unfinished = self.scalar("SELECT COUNT(*) FROM journals WHERE finished_at IS NULL")
        if unfinished:
            found.append(f"{unfinished} unfinished journals")
        return found


def build(directory: Path, objects: int) -> tuple[set[ObjectId], set[ObjectId]]:
    """The workspace of the module docstring; returns (big's kept objects, big's purge set)."""
    keys = directory.parent / "keys"
    keys.mkdir(parents=True)
    operators = {n: OperatorConfig(generate_key(keys / f"{n}.key")) for n in ("alice", "bob")}
    config = WorkspaceConfig(
        policy={"timezone": "UTC", "categories": {"logs": {"retain_days": 3650}}},
        limits=LimitsConfig(max_objects_per_purge=10 * objects, max_store_fraction=1.0),
        operators=operators,
    )
    big: list[dict[str, Any]] = []
    payloads: dict[ObjectId, bytes] = {}
    kept: set[ObjectId] = set()
    for i in range(objects):
        store = "blob" if i % 10 == 0 else "db"
        key = f"big/{i:08d}"
        row: dict[str, Any] = {"store": store, "key": key, "tenant": "big"}
        row["created_at"] = "2025-01-01T00:00:00Z"
        if i % 10 == 0:
            payloads[ObjectId(store, key)] = f"file {key} ".encode() * 20
        if 1 <= i <= 30:
            row["legal_hold"] = True
            kept.add(ObjectId(store, key))
        elif 31 <= i <= 60:
            row["category"] = "logs"
            kept.add(ObjectId(store, key))
        big.append(row)
    active = []
    step = (objects - 110) // SHARED
    for j in range(ACTIVE_OBJECTS):
        row = {"store": "db", "key": f"active/{j:06d}", "tenant": "active"}
        row["created_at"] = "2025-01-01T00:00:00Z"
        if j < SHARED:
            target = big[100 + j * step - (100 + j * step) % 10 + 1]  # a db object past the kept
            row["refs"] = [[target["store"], target["key"]]]
            kept.add(ObjectId(target["store"], target["key"]))
        active.append(row)
    inventory = {
        "tenants": [
            {
                "id": "big",
                "events": [
                    {"kind": "subscribed", "at": "2025-01-01T00:00:00Z"},
                    {"kind": "cancelled", "at": CANCELLED},
                ],
            },
            {"id": "active", "events": [{"kind": "subscribed", "at": "2025-01-01T00:00:00Z"}]},
        ],
        "objects": big + active,
    }
    with Workspace.create(directory, config) as created:
        created.import_inventory(inventory, payloads)
    every = {ObjectId(o["store"], o["key"]) for o in big}
    return kept, every - kept


def manual_plan(scenario: Scenario, action: Action = "execute") -> Path:
    """A registered manual plan for big approved by alice and bob (``action``)."""
    path = scenario.directory / "big.plan.json"
    with Workspace.open(scenario.directory) as ws:
        if not path.exists():
            plan = create_plan(ws, "big", None, author="alice")
            write_plan(path, plan)
            register_plan(ws, plan, path)
        for name in ("alice", "bob"):
            approve_plan(
                ws, path, operator=name, key_path=scenario.keys / f"{name}.key", action=action
            )
    return path


Row = tuple[str, str, str]


def main(argv: list[str] | None = None) -> int:
    """Build, try every scenario, print the table; 1 when a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--kills", type=int, default=6, help="random SIGKILLs of run-due")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="twinpurge-crash-"))
    rows: list[Row] = []
    failed = False

    def record(name: str, outcome: str, problems: list[str]) -> None:
        nonlocal failed
        failed = failed or bool(problems)
        rows.append((name, outcome, "; ".join(problems) or "nothing lost, nothing left behind"))
        print(f"| {name} | {outcome} | {rows[-1][2]} |", flush=True)

    started = time.monotonic()
    built = work / "built" / "ws"
    kept, purge = build(built, args.objects)
    print(
        f"built {args.objects:,} + {ACTIVE_OBJECTS:,} objects ({len(kept)} kept) in"
        f" {time.monotonic() - started:.0f} s under {work}",
        flush=True,
    )
    active = state(built, "active")
    print("| scenario | what happened | after the rerun |\n|---|---|---|", flush=True)

    # A clean run, for its duration: the random kills fall inside it.
    clean = Scenario(built, work, "clean")
    began = time.monotonic()
    done = clean.run("run-due", "--format", "json")
    duration = time.monotonic() - began
    record(
        f"run-due, no crash ({duration:.1f} s)",
        f"exit {done.returncode}",
        clean.problems(kept, active),
    )

    # 1. SIGKILL at random moments, then run again.
    for n in range(args.kills):
        scenario = Scenario(built, work, f"kill-{n}")
        delay = rng.uniform(0.3, duration)
        code = scenario.kill_after(delay, "run-due")
        orphans = len(orphan_files(scenario.directory))
        again = scenario.run("run-due", "--format", "json")
        problems = scenario.problems(kept, active)
        if again.returncode != 0:
            problems.append(f"rerun exit {again.returncode}: {again.stderr.strip()[:200]}")
        record(
            f"run-due killed at {delay:.2f} s",
            f"exit {code}; {orphans} files without rows before the rerun; rerun exit"
            f" {again.returncode}",
            problems,
        )

    # 2. Killed in the audit-append window (right after a line was written, before its head).
    for nth in (3, 7):
        scenario = Scenario(built, work, f"audit-{nth}")
        first = scenario.run("run-due", crash_at=f"audit-after-line:{nth}")
        verify = scenario.run("audit", "verify")
        again = scenario.run("run-due")
        problems = scenario.problems(kept, active)
        if first.returncode != -signal.SIGKILL:
            problems.append(f"not killed: audit line {nth} was never written")
        if verify.returncode != 0 or again.returncode != 0:
            problems.append(f"verify exit {verify.returncode}, rerun exit {again.returncode}")
        record(
            f"run-due killed after audit line {nth}",
            f"exit {first.returncode}; audit verify exit {verify.returncode}; rerun exit"
            f" {again.returncode}",
            problems,
        )

    # 3. A hand-edited audit record: exit 4, one line, an alert, never a traceback.
    scenario = Scenario(built, work, "tampered")
    log = scenario.directory / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace('"actor":"', '"actor":"x', 1)
    log.write_text("".join(lines), encoding="utf-8")
    alerts = len(scenario.alerts())
    outcomes = [scenario.run("run-due"), scenario.run("run-due", "--dry-run")]
    problems = [
        f"{' '.join(o.args[1:3])}: exit {o.returncode}, {len(o.stderr.splitlines())} lines"
        for o in outcomes
        if o.returncode != 4 or len(o.stderr.strip().splitlines()) != 1 or "Traceback" in o.stderr
    ]
    tampered = [a for a in scenario.alerts()[alerts:] if a["kind"] == "audit-tampered"]
    if len(tampered) != len(outcomes):
        problems.append(f"{len(tampered)} audit-tampered alerts for {len(outcomes)} runs")
    if objects_of(scenario.directory, "big") != kept | purge:
        problems.append("something was deleted")
    record(
        "hand-edited audit record",
        f"exits {[o.returncode for o in outcomes]}; {outcomes[0].stderr.strip()[:90]}",
        problems,
    )

    # 4 and 5. A manual purge killed at batch 20, resumed; its restore killed, run again.
    before = state(built)
    for n, (execute_at, restore_delay) in enumerate(
        [("journal-after-batch:20", None), ("journal-between-files:300", rng.uniform(0.5, 3.0))]
    ):
        scenario = Scenario(built, work, f"manual-{n}")
        path = manual_plan(scenario)
        execute = ("purge", "execute", str(path), "--operator", "alice")
        first = scenario.run(*execute, crash_at=execute_at)
        status = scenario.run("purge", "status", str(path), "--format", "json")
        shown = json.loads(status.stdout) if status.returncode == 0 else {}
        again = scenario.run(*execute)
        problems = scenario.problems(kept, active)
        if first.returncode != -signal.SIGKILL:
            problems.append(f"not killed: {execute_at} was never reached")
        if again.returncode != 0:
            problems.append(f"execute again exit {again.returncode}: {again.stderr.strip()}")
        if not purge <= archived(scenario.directory):
            problems.append("the archives miss purged objects")
        record(
            f"purge execute killed at {execute_at}",
            f"exit {first.returncode}; status: interrupted={shown.get('interrupted')!r},"
            f" {shown.get('deleted_so_far')} deleted so far, archive {shown.get('archive_id')};"
            f" executed again exit {again.returncode}",
            problems,
        )
        manual_plan(scenario, "restore")
        restore = ("purge", "restore", str(path), "--operator", "bob")
        if restore_delay is None:
            killed = scenario.run(*restore, crash_at="restore-between-files:1000").returncode
            how = "at restore-between-files:1000"
        else:
            killed = scenario.kill_after(restore_delay, *restore)
            how = f"at {restore_delay:.2f} s"
        restored = scenario.run(*restore, "--format", "json")
        problems = [] if killed == -signal.SIGKILL else [f"restore not killed {how}"]
        if restored.returncode != 0:
            problems.append(f"restore again exit {restored.returncode}: {restored.stderr.strip()}")
        if state(scenario.directory) != before:
            problems.append("the store differs from before the purge")
        if strays := stray_files(scenario.directory):
            problems.append(f"{len(strays)} stray temporary files")
        count = json.loads(restored.stdout).get("restored") if restored.returncode == 0 else None
        record(
            f"purge restore killed {how}",
            f"exit {killed}; run again: exit {restored.returncode}, restored {count}",
            problems,
        )

    # 6. Two runners on one workspace at once.
    scenario = Scenario(built, work, "two-runners")
    runners = [scenario.start("run-due", "--format", "json") for _ in range(2)]
    results = [(r.wait(), r.stdout.read() if r.stdout else "") for r in runners]
    for r in runners:
        for stream in (r.stdout, r.stderr):
            if stream:
                stream.close()
    problems = scenario.problems(kept, active)
    false = [a for a in scenario.alerts() if a["kind"] != "recovery"]
    if false:
        problems.append(f"alerts: {sorted({a['kind'] for a in false})}")
    archives = scenario.scalar("SELECT COUNT(*) FROM archives WHERE tenant = 'big'")
    if archives != 1:
        problems.append(f"{archives} archives of big")
    statuses = [
        [t["status"] for t in json.loads(out)["outcomes"] if t["tenant"] == "big"]
        for _, out in results
        if out
    ]
    record(
        "two runners at once",
        f"exits {[c for c, _ in results]}; big: {statuses}; {archives} archive",
        problems,
    )

    # 7. A typo in --as-of: exit 2, one line, no alert, no report, even with --dry-run.
    scenario = Scenario(built, work, "as-of")
    for value in ("yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00", ""):
        for extra in ((), ("--dry-run",)):
            bad = scenario.run("run-due", "--as-of", value, *extra)
            problems = []
            if bad.returncode != 2 or len(bad.stderr.strip().splitlines()) != 1:
                problems.append(f"exit {bad.returncode}, stderr {bad.stderr!r}")
            if scenario.alerts() or scenario.reports():
                problems.append(f"{len(scenario.alerts())} alerts, {scenario.reports()} reports")
            record(
                f"run-due --as-of {value!r} {' '.join(extra)}".strip(),
                f"exit {bad.returncode}: {bad.stderr.strip()[:80]}",
                problems,
            )

    # 8. 100,000 nested arrays in an inventory; 9. a duplicate object in a one-object file.
    nested = work / "nested.json"
    nested.write_text('{"tenants": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    deep = scenario.run("import", str(nested))
    record(
        "import of 100,000 nested arrays",
        f"exit {deep.returncode}: {deep.stderr.strip()[:100]}",
        [] if deep.returncode == 2 and "Traceback" not in deep.stderr else ["not exit 2"],
    )
    duplicate = work / "duplicate.json"
    duplicate.write_text(
        json.dumps(
            {
                "tenants": [{"id": "new", "events": []}],
                "objects": [
                    {
                        "store": "db",
                        "key": "big/00000001",
                        "tenant": "new",
                        "created_at": "2025-01-01T00:00:00Z",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    dup = scenario.run("import", str(duplicate))
    named = str(duplicate) in dup.stderr and "objects[0]" in dup.stderr
    record(
        "import of a one-object file duplicating an object",
        f"exit {dup.returncode}: {dup.stderr.strip()[:140]}",
        [] if dup.returncode == 2 and named else ["does not name the file's objects[0]"],
    )

    print(f"\n{len(rows)} tries in {time.monotonic() - started:.0f} s; failed: {failed}")
    if not failed:
        shutil.rmtree(work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
