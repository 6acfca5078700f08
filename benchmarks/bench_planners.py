"""Time and peak memory of each planner, and of the arbiter running both, on large tenants.

Run: ``python benchmarks/bench_planners.py [--sizes 1000,10000,100000] [--repeat 3]``.
Prints one Markdown table row per (size, runner): best wall time of ``--repeat`` runs and the
peak traced memory of one run (tracemalloc). Results are recorded in docs/performance.md.

The inventory: one cancelled, due tenant with N objects in two stores; a tenth of them refer to
the next one (chains of ten); every hundredth is referenced by another tenant's object (shared);
every fiftieth is held; every twentieth is in a retained category.
"""

from __future__ import annotations

import argparse
import functools
import gc
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

import arbiter
import deleter_a
import deleter_b

if TYPE_CHECKING:
    from collections.abc import Callable

AS_OF = "2026-06-01T00:00:00Z"
POLICY: dict[str, Any] = {"timezone": "Asia/Tokyo", "categories": {"logs": {"retain_days": 365}}}


def inventory(size: int) -> dict[str, Any]:
    """A due tenant of ``size`` objects plus one other tenant holding refs into it."""
    objects: list[dict[str, Any]] = []
    for i in range(size):
        obj: dict[str, Any] = {
            "store": "db" if i % 2 else "blob",
            "key": f"t/{i:09d}",
            "tenant": "t",
            "created_at": "2025-01-01T00:00:00Z",
        }
        if i % 10 and i + 1 < size:
            obj["refs"] = [["db" if (i + 1) % 2 else "blob", f"t/{i + 1:09d}"]]
        if i % 50 == 0:
            obj["legal_hold"] = True
        if i % 20 == 0:
            obj["category"] = "logs"
            obj["created_at"] = "2026-05-01T00:00:00Z"
        objects.append(obj)
    shared = [["db" if i % 2 else "blob", f"t/{i:09d}"] for i in range(0, size, 100)]
    objects.append(
        {
            "store": "db",
            "key": "u/1",
            "tenant": "u",
            "created_at": "2025-01-01T00:00:00Z",
            "refs": shared,
        }
    )
    tenants = [
        {
            "id": "t",
            "events": [
                {"kind": "subscribed", "at": "2020-01-01T00:00:00Z"},
                {"kind": "cancelled", "at": "2026-01-01T00:00:00Z"},
            ],
        },
        {"id": "u", "events": []},
    ]
    return {"tenants": tenants, "objects": objects}


def measure(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best seconds of ``repeat`` runs, peak MiB of one traced run)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print("| objects | runner | best time (s) | objects/s | peak memory (MiB) |")
    print("|---:|---|---:|---:|---:|")
    for size in (int(s) for s in options.sizes.split(",")):
        data = inventory(size)
        runners: dict[str, Callable[[], object]] = {
            "deleter_a": functools.partial(deleter_a.plan, data, POLICY, "t", AS_OF),
            "deleter_b": functools.partial(deleter_b.plan, data, POLICY, "t", AS_OF),
            "arbiter (both + compare)": functools.partial(
                arbiter.arbitrate, data, POLICY, "t", AS_OF
            ),
        }
        verdict = deleter_a.plan(data, POLICY, "t", AS_OF)
        assert verdict == deleter_b.plan(data, POLICY, "t", AS_OF), "the planners disagree"
        for name, run in runners.items():
            seconds, peak = measure(run, options.repeat)
            print(f"| {size:,} | {name} | {seconds:.3f} | {size / seconds:,.0f} | {peak:.1f} |")


if __name__ == "__main__":
    main()
