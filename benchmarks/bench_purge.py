"""The guarded purge against an unguarded delete, on identical copies of one store (issue 11).

Run (from the repository root, after ``pip install -e .``)::

    python benchmarks/bench_purge.py                    # N = 100,000 and 1,000,000
    python benchmarks/bench_purge.py --sizes 100000     # one size
    python benchmarks/bench_purge.py --ten-million      # adds N = 10,000,000 (hours, GiBs)

The store, per N: a due tenant ``t`` of N objects — a tenth of them blob files of 64 bytes, 1%
carrying one ref to another object of ``t`` — and N objects of an active tenant ``u`` around it.
It is built once through ``Workspace.import_inventory`` (timed: the import figure), then copied
twice. On one copy (a) deletes ``t`` the unguarded way: one ``DELETE FROM objects WHERE tenant =
?`` (and its refs and events) in one transaction, then unlinks its blob files. On the other (b)
runs the full guarded purge, ``Workspace.purge_tenant``: both planners, the comparison, every
guard, the restore archive, the audit records, the journal and the completeness check. Each runs
in its own process, so peak RSS (``ru_maxrss``) is its own. The phases of (b) are read from the
timestamps of its audit records. Planner throughput is measured separately, each planner alone
on the tenant's slice read from the store.

Prints a Markdown table per N; docs/performance.md records the results.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CANCELLED = "2026-01-01T00:00:00Z"
AS_OF = "2026-03-01T00:00:00Z"


def inventory(size: int) -> tuple[dict[str, Any], dict[Any, bytes]]:
    """The store of the module docstring, and the blob payloads."""
    from arbiter import ObjectId  # noqa: PLC0415 -- the measuring processes import only what they time

    objects: list[dict[str, Any]] = []
    payloads: dict[Any, bytes] = {}
    for owner in ("t", "u"):
        for i in range(size):
            store = "blob" if i % 10 == 0 else "db"
            key = f"{owner}/{i:09d}"
            row: dict[str, Any] = {
                "store": store,
                "key": key,
                "tenant": owner,
                "created_at": "2025-01-01T00:00:00Z",
            }
            if i % 100 == 1 and i + 1 < size:
                nxt = i + 1
                row["refs"] = [["blob" if nxt % 10 == 0 else "db", f"{owner}/{nxt:09d}"]]
            if store == "blob":
                payloads[ObjectId(store, key)] = f"{key:<64}".encode()[:64]
            objects.append(row)
    tenants = [
        {
            "id": "t",
            "events": [
                {"kind": "subscribed", "at": "2025-01-01T00:00:00Z"},
                {"kind": "cancelled", "at": CANCELLED},
            ],
        },
        {"id": "u", "events": [{"kind": "subscribed", "at": "2025-01-01T00:00:00Z"}]},
    ]
    return {"tenants": tenants, "objects": objects}, payloads


def build(directory: Path, size: int) -> float:
    """Create the workspace and import the store; the import's seconds."""
    from arbiter import LimitsConfig, Workspace, WorkspaceConfig  # noqa: PLC0415

    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
    )
    data, payloads = inventory(size)
    with Workspace.create(directory, config) as ws:
        started = time.perf_counter()
        ws.import_inventory(data, payloads)
        return time.perf_counter() - started


def unguarded(directory: Path) -> dict[str, Any]:
    """(a): the bare delete of ``t`` and its files."""
    started = time.perf_counter()
    db = sqlite3.connect(directory / "primary.sqlite3")
    db.execute("PRAGMA foreign_keys = ON")  # its refs go by ON DELETE CASCADE, as in the store
    with db:
        blobs = db.execute(
            "SELECT store, key FROM objects WHERE tenant = 't' AND store = 'blob'"
        ).fetchall()
        deleted = db.execute("DELETE FROM objects WHERE tenant = 't'").rowcount
    db.close()
    root = directory / "blobs"
    for store, key in blobs:
        (root / store / key).unlink()
    return {"seconds": time.perf_counter() - started, "deleted": deleted}


def guarded(directory: Path) -> dict[str, Any]:
    """(b): the full guarded purge of ``t``, and its phases from the audit log."""
    from arbiter import Workspace  # noqa: PLC0415
    from arbiter.auth.credentials import load_primary_credentials  # noqa: PLC0415

    credentials = load_primary_credentials(directory / "credentials" / "primary.toml")
    with Workspace.open(directory, credentials=credentials) as ws:
        first = sum(1 for _ in ws.audit.records())
        began = datetime.now(UTC)
        started = time.perf_counter()
        outcome = ws.purge_tenant("t", AS_OF)
        seconds = time.perf_counter() - started
        records = list(ws.audit.records())[first:]
    # Each phase is named by the audit record that ends it.
    stamps = [("start", began)] + [(r.kind, datetime.fromisoformat(r.at)) for r in records]
    phases: dict[str, float] = {}
    for (_, before), (kind, at) in itertools.pairwise(stamps):
        phases[kind] = phases.get(kind, 0.0) + (at - before).total_seconds()
    return {
        "seconds": seconds,
        "status": outcome.status,
        "purged": outcome.purged,
        "phases": phases,
    }


def planners(directory: Path) -> dict[str, Any]:
    """Each planner alone on the tenant's slice: seconds and objects per second."""
    import deleter_a  # noqa: PLC0415
    import deleter_b  # noqa: PLC0415
    from arbiter import Workspace  # noqa: PLC0415

    with Workspace.open(directory) as ws:
        inventory, policy = ws.store.read_slice("t"), ws.config.policy
    count = sum(1 for o in inventory["objects"] if o["tenant"] == "t")
    result: dict[str, Any] = {}
    for name, planner in (("A", deleter_a), ("B", deleter_b)):
        started = time.perf_counter()
        planner.plan(inventory, policy, "t", AS_OF)
        seconds = time.perf_counter() - started
        result[name] = {"seconds": seconds, "per_second": count / seconds}
    return result


def _peak_rss_mib() -> float:
    """This process's peak RSS since its exec (``VmHWM``; ``ru_maxrss`` keeps the parent's)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MEASURES = {"unguarded": unguarded, "guarded": guarded, "planners": planners}


def measure(kind: str, directory: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process; its result and peak RSS (MiB)."""
    completed = subprocess.run(  # noqa: S603 -- this very script, in a child process
        [sys.executable, __file__, "--measure", kind, str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"measuring {kind} failed:\n{completed.stderr}")
    return dict(json.loads(completed.stdout.splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Build each size, measure (a) and (b) on copies, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--ten-million", action="store_true")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, directory = args.measure
        result = MEASURES[kind](Path(directory))
        result["peak_rss_mib"] = _peak_rss_mib()
        print(json.dumps(result))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.ten_million:
        sizes.append(10_000_000)
    print(
        "| N | (a) unguarded | (b) guarded | (b)/(a) | (b) peak RSS | A objects/s"
        " | B objects/s | import |\n|---:|---:|---:|---:|---:|---:|---:|---:|",
        flush=True,
    )
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"twinpurge-bench-{size}-"))
        try:
            started = time.perf_counter()
            imported = build(work / "built", size)
            print(f"N = {size:,}: built in {time.perf_counter() - started:.1f} s", flush=True)
            for name in ("a", "b", "p"):
                shutil.copytree(work / "built", work / name, symlinks=True)
            a = measure("unguarded", work / "a")
            b = measure("guarded", work / "b")
            p = measure("planners", work / "p")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"| {size:,} | {a['seconds']:.1f} s | {b['seconds']:.1f} s ({b['status']},"
            f" {b['purged']:,}) | {b['seconds'] / a['seconds']:.1f}x | {b['peak_rss_mib']:,.0f} MiB"
            f" | {p['A']['per_second']:,.0f} | {p['B']['per_second']:,.0f}"
            f" | {2 * size / imported:,.0f} objects/s ({imported:.0f} s) |"
        )
        print("  phases of (b): " + ", ".join(f"{k} {v:.1f} s" for k, v in b["phases"].items()))
        print(f"  unguarded peak RSS {a['peak_rss_mib']:,.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
