"""Import throughput: ``Workspace.import_inventory`` of the purge benchmark's store (issue 11).

Run (from the repository root, after ``pip install -e .``)::

    python benchmarks/bench_import.py                     # N = 100,000 and 1,000,000
    python benchmarks/bench_import.py --sizes 100000      # one size

The inventory of ``bench_purge.py`` per N: 2N objects (a due tenant and an active one), a tenth
of them blob files of 64 bytes, 1% carrying a ref; imported into a fresh SQLite workspace in one
call, twice: from the inventory in memory (``Workspace.import_inventory``, the mapping and its
payloads built before the clock starts) and from a JSON file and a payload directory
(``Workspace.import_file``, which streams the file; another process writes them first). Each
import runs in its own process, so peak RSS (``ru_maxrss``) is its own; the first holds the
whole inventory in memory by construction. The phases are timed by wrapping the import's own
steps: both planners' validation of each chunk, the check of each chunk against the store in
the import's transaction, staging the blob files (written, then one filesystem sync), inserting
the rows, and putting the files in place. Prints a Markdown table; docs/performance.md records
the results.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
R = TypeVar("R")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_purge  # noqa: E402 -- after the path it is found by; the store is the purge benchmark's, from its module


def _timed(phases: dict[str, float], name: str, function: Callable[P, R]) -> Callable[P, R]:
    """``function``, adding the seconds of each call to ``phases[name]``."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def measure(size: int, directory: Path, *, from_file: bool) -> dict[str, Any]:
    """Import the store of ``size`` into a new workspace at ``directory``; seconds per phase."""
    from arbiter import LimitsConfig, Workspace, WorkspaceConfig  # noqa: PLC0415
    from arbiter.durable.files import StagedFiles  # noqa: PLC0415
    from arbiter.stores import sqlite  # noqa: PLC0415
    from arbiter.stores.blobs import BlobDirectory  # noqa: PLC0415
    from arbiter.workspace import importing  # noqa: PLC0415

    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
    )
    source = directory.parent / "source" if from_file else None
    if source is None:
        data, payloads = bench_purge.inventory(size)
    phases: dict[str, float] = {}
    # The import's own steps, wrapped where they are looked up (a slotted workspace has no
    # instance attributes to wrap).
    importing.validate_inventory = _timed(phases, "validation", importing.validate_inventory)
    sqlite._Load.held = _timed(phases, "store check", sqlite._Load.held)  # type: ignore[method-assign]  # noqa: SLF001
    BlobDirectory.stage = _timed(phases, "files staged", BlobDirectory.stage)  # type: ignore[method-assign]
    sqlite._Load.add_objects = _timed(phases, "rows", sqlite._Load.add_objects)  # type: ignore[method-assign]  # noqa: SLF001
    StagedFiles.commit = _timed(phases, "files in place", StagedFiles.commit)  # type: ignore[method-assign]
    with Workspace.create(directory, config) as ws:
        phases.clear()  # creating validates the policy on an empty inventory
        started = time.perf_counter()
        if source is not None:
            count = ws.import_file(source / "inventory.json", source / "payloads")
        else:
            count = ws.import_inventory(data, payloads)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"objects": count, "seconds": seconds, "phases": phases, "peak_rss_mib": peak}


def prepare(size: int, source: Path) -> None:
    """Write the inventory as JSON and its payloads as files at ``STORE/KEY`` (not timed).

    In a process of its own, so that the measuring process's peak RSS is the import's alone.
    """
    data, payloads = bench_purge.inventory(size)
    for obj, content in payloads.items():
        target = source / "payloads" / obj.store / obj.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (source / "inventory.json").write_text(json.dumps(data), "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Measure each size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--from-file", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(int(args.prepare[0]), Path(args.prepare[1]))
        return 0
    if args.measure:
        work = Path(args.work)
        print(json.dumps(measure(args.measure, work / "ws", from_file=args.from_file)))
        return 0
    print(
        "| N (objects imported: 2N) | from | import | objects/s | peak RSS | phases |\n"
        "|---:|---|---:|---:|---:|---|",
        flush=True,
    )
    for size in (int(s) for s in args.sizes.split(",")):
        for origin in ("mapping", "file"):
            work = Path(tempfile.mkdtemp(prefix="twinpurge-import-"))
            try:
                if origin == "file":
                    subprocess.run(  # noqa: S603 -- this script, by its own path
                        [sys.executable, __file__, "--prepare", str(size), str(work / "source")],
                        check=True,
                    )
                output = subprocess.run(  # noqa: S603 -- as above
                    [
                        sys.executable,
                        __file__,
                        "--measure",
                        str(size),
                        "--work",
                        str(work),
                        *(["--from-file"] if origin == "file" else []),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            finally:
                shutil.rmtree(work, ignore_errors=True)
            result = json.loads(output.strip().splitlines()[-1])
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in result["phases"].items())
            rate = result["objects"] / result["seconds"]
            print(
                f"| {size:,} | {origin} | {result['seconds']:.1f} s | {rate:,.0f}"
                f" | {result['peak_rss_mib']:,.0f} MiB | {phases} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
