"""The streamed planning of one tenant at 1M and 10M objects: time and memory (issue 11).

Run (from the repository root, after ``pip install -e .``)::

    python benchmarks/bench_stream.py                       # N = 1,000,000
    python benchmarks/bench_stream.py --sizes 100000,1000000,10000000

What it measures is the planning phase of a guarded purge as the streaming path does it, not
the whole purge (``benchmarks/bench_purge.py`` measures that, still through the in-memory
path): inside one ``stream_counted_slice`` snapshot of a SQLite store (stores rule 8), the
tenant's slice is streamed from the store's cursors into ``PlannerProcesses.plan``
(``arbiter/purge/streaming.py``), which writes the slice file once, runs each planner's
``plan_stream`` in its own process, compares the two decision streams in lockstep and writes the
agreed plan file. Printed per N: the seconds to build the store (direct SQL, not the import:
the import is measured by bench_purge), the wall time and CPU of the planning, the arbiter
process's peak RSS (``VmHWM``) and the planner processes' peak RSS (``RUSAGE_CHILDREN``), the
plan file's size and objects per second.

The store, per N: a due tenant ``t`` of N objects (1% carrying one ref to the next object, 10%
of them in a store named ``blob``, 1% under legal hold) beside 1,000 objects of an active tenant
``u``, one of which refs an object of ``t`` (so ``shared`` is not empty). Each N is built in its
own temporary directory and measured in its own process, so peak RSS is that N's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
CANCELLED = "2026-01-01T00:00:00Z"
AS_OF = "2026-03-01T00:00:00Z"
_ROWS_PER_INSERT = 50_000


# The object of each hundred under legal hold.
_HELD = 7


def _rows(owner: str, size: int) -> Iterator[tuple[str, str, str, str, str, int]]:
    for i in range(size):
        store = "blob" if i % 10 == 0 else "db"
        held = int(i % 100 == _HELD)
        yield (store, f"{owner}/{i:09d}", owner, "default", "2025-01-01T00:00:00Z", held)


def _refs(owner: str, size: int) -> Iterator[tuple[str, str, int, str, str]]:
    for i in range(1, size - 1, 100):
        nxt = i + 1
        yield ("db", f"{owner}/{i:09d}", 0, "blob" if nxt % 10 == 0 else "db", f"{owner}/{nxt:09d}")


def build(directory: Path, size: int) -> float:
    """Create a SQLite workspace and fill it with direct SQL; the seconds it took."""
    from arbiter import LimitsConfig, StoreConfig, Workspace, WorkspaceConfig  # noqa: PLC0415

    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        store=StoreConfig(),
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
    )
    with Workspace.create(directory, config):
        pass
    started = time.perf_counter()
    db = sqlite3.connect(directory / "primary.sqlite3")
    with db:
        db.execute("INSERT INTO tenants (id, legal_hold, has_hold_field) VALUES ('t', 0, 0)")
        db.execute("INSERT INTO tenants (id, legal_hold, has_hold_field) VALUES ('u', 0, 0)")
        db.executemany(
            "INSERT INTO events (tenant, pos, kind, at) VALUES (?, ?, ?, ?)",
            [
                ("t", 0, "subscribed", "2025-01-01T00:00:00Z"),
                ("t", 1, "cancelled", CANCELLED),
                ("u", 0, "subscribed", "2025-01-01T00:00:00Z"),
            ],
        )
    for owner, count in (("t", size), ("u", 1000)):
        rows = _rows(owner, count)
        while True:
            chunk = [row for _, row in zip(range(_ROWS_PER_INSERT), rows, strict=False)]
            if not chunk:
                break
            with db:
                db.executemany(
                    "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    chunk,
                )
        with db:
            db.executemany(
                "INSERT INTO refs (from_store, from_key, pos, to_store, to_key)"
                " VALUES (?, ?, ?, ?, ?)",
                _refs(owner, count),
            )
    with db:
        db.execute(
            "INSERT INTO refs (from_store, from_key, pos, to_store, to_key)"
            " VALUES ('db', 'u/000000003', 1, 'db', 't/000000003')"
        )
    db.close()
    return time.perf_counter() - started


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan(directory: Path) -> dict[str, Any]:
    """The streamed planning of ``t`` (this module's docstring), in this process."""
    from arbiter import PlannerProcesses, Workspace  # noqa: PLC0415

    plans = directory / "plans"
    plans.mkdir()
    with Workspace.open(directory) as ws, PlannerProcesses() as processes:
        policy = ws.config.policy
        started = time.perf_counter()
        cpu = time.process_time()
        with ws.store.stream_counted_slice("t") as streamed:
            assert streamed.tenant is not None
            agreement = processes.plan(
                streamed.tenant,
                streamed.objects(),
                streamed.shared,
                policy,
                AS_OF,
                plan_dir=plans,
            )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    plan_bytes = sum(p.stat().st_size for p in plans.iterdir())
    return {
        "seconds": seconds,
        "arbiter_cpu": cpu,
        "planners_cpu": children.ru_utime + children.ru_stime,
        "purge": agreement.purge_count,
        "kept": dict(agreement.kept_by_reason),
        "arbiter_peak_rss_mib": _peak_rss_mib(),
        "planner_peak_rss_mib": children.ru_maxrss / 1024,
        "plan_file_mib": plan_bytes / 2**20,
    }


def run_size(size: int) -> dict[str, Any]:
    """Build a store of ``size`` objects, then measure its planning in a fresh process."""
    work = Path(tempfile.mkdtemp(prefix=f"tp-bench-stream-{size}-"))
    try:
        built = build(work / "ws", size)
        completed = subprocess.run(  # noqa: S603 -- this very script, in a child process
            [sys.executable, __file__, "--measure", str(work / "ws")],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"measuring N={size} failed:\n{completed.stderr}")
        result = dict(json.loads(completed.stdout.splitlines()[-1]))
        return {"size": size, "build_seconds": built, **result}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and print one Markdown row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated tenant sizes")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(plan(Path(args.measure))))
        return 0
    print(
        "| N | build (SQL) | planning wall | arbiter CPU | planners CPU | objects/s (wall)"
        " | arbiter peak RSS | planner peak RSS | plan file |\n|---:|---:|---:|---:|---:|---:"
        "|---:|---:|---:|"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        r = run_size(size)
        print(
            f"| {size:,} | {r['build_seconds']:.1f} s | {r['seconds']:.1f} s"
            f" | {r['arbiter_cpu']:.1f} s | {r['planners_cpu']:.1f} s"
            f" | {size / r['seconds']:,.0f} | {r['arbiter_peak_rss_mib']:.0f} MiB"
            f" | {r['planner_peak_rss_mib']:.0f} MiB | {r['plan_file_mib']:.0f} MiB |",
            flush=True,
        )
        print(f"    purge {r['purge']:,}, kept {r['kept']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
