"""Time ``Workspace.purge_tenant`` of one due tenant on SQLite or PostgreSQL (not a timed test).

Run (from the repository root)::

    python benchmarks/time_purge_tenant.py                       # 30,000 objects, SQLite, 3 runs
    python benchmarks/time_purge_tenant.py --store postgresql    # a throwaway cluster
    python benchmarks/time_purge_tenant.py --store postgresql --admin-url postgresql://...

The store is ``bench_purge.inventory(N)``: a due tenant ``t`` of N objects (a tenth blob files,
1% carrying a ref) beside an active tenant ``u`` of N objects. Each run purges ``t`` on a fresh
copy (SQLite: a copied workspace; PostgreSQL: a new database, imported again) and prints its
seconds and the phases read from its audit records (``bench_purge.guarded``); then the best run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_purge import AS_OF, inventory  # noqa: E402 -- after the path is set

from arbiter import LimitsConfig, PrimaryCredentials, Workspace, WorkspaceConfig  # noqa: E402
from arbiter.core.config import StoreConfig  # noqa: E402


def _config(size: int, url: str | None) -> WorkspaceConfig:
    return WorkspaceConfig(
        policy={"timezone": "UTC"},
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
        store=StoreConfig(url=url),
    )


def _database_url(admin_url: str, name: str) -> str:
    """``admin_url`` naming database ``name`` (created as the administrator)."""
    import psycopg  # noqa: PLC0415 -- only for PostgreSQL
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def _store_url(admin_url: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _create(directory: Path, size: int, admin_url: str | None) -> Workspace:
    data, payloads = inventory(size)
    if admin_url is None:
        ws = Workspace.create(directory, _config(size, None))
    else:
        ws = Workspace.create(directory, _config(size, _store_url(admin_url)), admin_url=admin_url)
    ws.import_inventory(data, payloads)
    return ws


def _timed(ws: Workspace) -> dict[str, Any]:
    from arbiter.purge.purger import Purger  # noqa: PLC0415

    # The pre-flight checks (rules 2 to 5, staleness among them) timed on their own.
    preflight = [0.0]
    original = Purger._check_before  # noqa: SLF001 -- measured, not changed

    def check_before(self: Purger, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 -- passed through as they come
        started = time.perf_counter()
        try:
            original(self, *args, **kwargs)
        finally:
            preflight[0] += time.perf_counter() - started

    Purger._check_before = check_before  # type: ignore[method-assign]  # noqa: SLF001
    try:
        return _phases(ws, preflight)
    finally:
        Purger._check_before = original  # type: ignore[method-assign]  # noqa: SLF001


def _phases(ws: Workspace, preflight: list[float]) -> dict[str, Any]:
    first = sum(1 for _ in ws.audit.records())
    began = datetime.now(UTC)
    started = time.perf_counter()
    outcome = ws.purge_tenant("t", AS_OF)
    seconds = time.perf_counter() - started
    records = list(ws.audit.records())[first:]
    stamps = [("start", began)] + [(r.kind, datetime.fromisoformat(r.at)) for r in records]
    phases: dict[str, float] = {}
    for (_, before), (kind, at) in itertools.pairwise(stamps):
        phases[kind] = phases.get(kind, 0.0) + (at - before).total_seconds()
    phases["(pre-flight checks)"] = preflight[0]
    return {
        "seconds": seconds,
        "status": outcome.status,
        "purged": outcome.purged,
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> int:
    """Build, purge on fresh copies, print each run and the best."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--admin-url", default=os.environ.get("TWINPURGE_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)
    cluster = None
    admin_url: str | None = None
    if args.store == "postgresql":
        admin_url = args.admin_url
        if admin_url is None:
            from tests.postgres import find_bindir, start_cluster  # noqa: PLC0415

            bindir = find_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL binaries; give --admin-url")
            cluster = start_cluster(bindir)
            admin_url = cluster.admin_url
    work = Path(tempfile.mkdtemp(prefix="twinpurge-time-purge-"))
    runs: list[dict[str, Any]] = []
    try:
        if admin_url is None:
            _create(work / "built", args.objects, None).close()
        for run in range(args.repeat):
            directory = work / f"run{run}"
            if admin_url is None:
                shutil.copytree(work / "built", directory, symlinks=True)
                ws = Workspace.open(directory, credentials=_credentials(directory))
            else:
                ws = _create(directory, args.objects, _database_url(admin_url, f"timepurge{run}"))
            with ws:
                result = _timed(ws)
            runs.append(result)
            phases = ", ".join(f"{k} {v:.2f} s" for k, v in result["phases"].items())
            print(
                f"run {run + 1}: {result['seconds']:.2f} s ({result['status']},"
                f" {result['purged']:,}); {phases}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    best = min(runs, key=lambda r: r["seconds"])
    print(f"{args.store}, N = {args.objects:,}: best of {len(runs)} {best['seconds']:.2f} s")
    return 0


def _credentials(directory: Path) -> PrimaryCredentials:
    from arbiter.auth.credentials import load_primary_credentials  # noqa: PLC0415

    return load_primary_credentials(directory / "credentials" / "primary.toml")


if __name__ == "__main__":
    sys.exit(main())
