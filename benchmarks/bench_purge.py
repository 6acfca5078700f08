"""The guarded purge against an unguarded delete, on identical copies of one store (issue 11).

Run (from the repository root, after ``pip install -e .``)::

    python benchmarks/bench_purge.py                    # N = 100,000 and 1,000,000
    python benchmarks/bench_purge.py --sizes 100000     # one size
    python benchmarks/bench_purge.py --ten-million      # adds N = 10,000,000 (built by SQL)
    python benchmarks/bench_purge.py --store postgresql # the same on PostgreSQL (see below)
    python benchmarks/bench_purge.py --sizes 1000000 --build sql   # the store written by SQL

The store, per N: a due tenant ``t`` of N objects — a tenth of them blob files of 64 bytes, 1%
carrying one ref to another object of ``t`` — and N objects of an active tenant ``u`` around it. It
is built once through ``Workspace.import_inventory`` (timed: the import figure), or with ``--build
sql`` (and always at 10M, whose inventory would not fit in memory as one mapping) by SQL and file
writes beside the workspace, as a service fills its own tables (no import figure;
``benchmarks/bench_import.py`` measures the import); then it is copied. On one copy (a) deletes
``t`` the unguarded way: one ``DELETE FROM objects WHERE tenant = ?`` (and its refs and events) in
one transaction, then unlinks its blob files. On the other (b) runs the full guarded purge,
``Workspace.purge_tenant``: both planners, the comparison, every guard, the restore archive, the
audit records, the journal and the completeness check. Each runs in its own process, so peak RSS
(``VmHWM``) is its own. The phases of (b) are read from the timestamps of its audit records.
Planner throughput is measured separately, each planner alone running its ``plan_stream`` (spec
§8.1) on the tenant's slice streamed from the store's cursors (``stream_counted_slice``), both
passes, in the measuring process: the planners' own rate with the store's reads, on one core. With
the default ``stream_from`` (20,000 objects) ``t`` is planned by streaming (purger rule 15): both
planners in processes of their own, their peak RSS reported apart (``RUSAGE_CHILDREN``).

With ``--store postgresql`` the primary store is a PostgreSQL database instead of SQLite: the
server ``--postgres-admin-url`` names (a superuser URL of a database the benchmark may create
databases next to), or else a throwaway cluster started from the machine's binaries with the
server's durable defaults (``fsync``, ``synchronous_commit`` and ``full_page_writes`` on, unlike
the test clusters) and ``shared_buffers=256MB``. The workspace is provisioned as ``twinpurge init
--store`` does; the copies are ``CREATE DATABASE ... TEMPLATE`` of the built one (and copies of the
workspace directory pointing at them). (a) is the same bare ``DELETE FROM twinpurge.objects WHERE
tenant = 't'``, run as the administrator, then the unlinks.

Prints a Markdown table per N; docs/performance.md records the results.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
# Larger stores are built by SQL: their inventory would not fit in memory as one mapping.
_IMPORTED_UP_TO = 1_000_000
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


def build(directory: Path, size: int, admin_url: str | None = None) -> float:
    """Create the workspace and import the store; the import's seconds.

    With ``admin_url`` (a superuser URL of an empty database) the store is that PostgreSQL
    database, provisioned as ``twinpurge init --store`` does.
    """
    from arbiter import LimitsConfig, StoreConfig, Workspace, WorkspaceConfig  # noqa: PLC0415

    store = StoreConfig() if admin_url is None else StoreConfig(url=_without_login(admin_url))
    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        store=store,
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
    )
    data, payloads = inventory(size)
    with Workspace.create(directory, config, admin_url=admin_url) as ws:
        started = time.perf_counter()
        ws.import_inventory(data, payloads)
        return time.perf_counter() - started


def build_sql(directory: Path, size: int) -> None:
    """Create the workspace, import the tenants, then write the objects by SQL (``--build sql``).

    The same rows, refs and blob files as ``inventory``, written as a service fills its own
    tables: the store's triggers keep the change counters as for any write.
    """
    from arbiter import LimitsConfig, StoreConfig, Workspace, WorkspaceConfig  # noqa: PLC0415

    config = WorkspaceConfig(
        policy={"timezone": "UTC"},
        store=StoreConfig(),
        limits=LimitsConfig(max_objects_per_purge=10 * size, max_store_fraction=1.0),
    )
    tenants = inventory(0)[0]
    with Workspace.create(directory, config) as ws:
        ws.import_inventory(tenants)
    db = sqlite3.connect(directory / "primary.sqlite3")
    root = directory / "blobs" / "blob"
    try:
        for owner in ("t", "u"):
            (root / owner).mkdir(parents=True, exist_ok=True)
            for start in range(0, size, 100_000):
                rows, refs = [], []
                for i in range(start, min(size, start + 100_000)):
                    store = "blob" if i % 10 == 0 else "db"
                    key = f"{owner}/{i:09d}"
                    rows.append((store, key, owner))
                    if i % 100 == 1 and i + 1 < size:
                        to = "blob" if (i + 1) % 10 == 0 else "db"
                        refs.append((store, key, to, f"{owner}/{i + 1:09d}"))
                    if store == "blob":
                        (root / key).write_bytes(f"{key:<64}".encode()[:64])
                with db:
                    db.executemany(
                        "INSERT INTO objects (store, key, tenant, category, created_at, legal_hold)"
                        " VALUES (?, ?, ?, 'default', '2025-01-01T00:00:00Z', 0)",
                        rows,
                    )
                    db.executemany(
                        "INSERT INTO refs (from_store, from_key, pos, to_store, to_key)"
                        " VALUES (?, ?, 0, ?, ?)",
                        refs,
                    )
    finally:
        db.close()


def unguarded(directory: Path) -> dict[str, Any]:
    """(a): the bare delete of ``t`` and its files."""
    admin_url = os.environ.get(_ADMIN_ENV)
    started = time.perf_counter()
    if admin_url is None:
        db = sqlite3.connect(directory / "primary.sqlite3")
        db.execute("PRAGMA foreign_keys = ON")  # its refs go by ON DELETE CASCADE, as in the store
        with db:
            blobs = db.execute(
                "SELECT store, key FROM objects WHERE tenant = 't' AND store = 'blob'"
            ).fetchall()
            deleted = db.execute("DELETE FROM objects WHERE tenant = 't'").rowcount
        db.close()
    else:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(admin_url) as pg, pg.transaction():
            blobs = pg.execute(
                "SELECT store, key FROM twinpurge.objects WHERE tenant = 't' AND store = 'blob'"
            ).fetchall()
            deleted = pg.execute("DELETE FROM twinpurge.objects WHERE tenant = 't'").rowcount
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
        # Only each record's kind and time: the batch records name every object, and holding
        # them would count towards the purge's peak RSS.
        records = [
            (r.kind, datetime.fromisoformat(r.at))
            for r in itertools.islice(ws.audit.records(), first, None)
        ]
    # Each phase is named by the audit record that ends it.
    stamps = [("start", began), *records]
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
    """Each planner's ``plan_stream`` alone on the streamed slice: seconds and objects/s."""
    import deleter_a  # noqa: PLC0415
    import deleter_b  # noqa: PLC0415
    from arbiter import Workspace  # noqa: PLC0415
    from arbiter.auth.credentials import load_primary_credentials  # noqa: PLC0415

    # On PostgreSQL even reading needs the primary credentials.
    credentials = load_primary_credentials(directory / "credentials" / "primary.toml")
    result: dict[str, Any] = {}
    with Workspace.open(directory, credentials=credentials) as ws:
        policy = ws.config.policy
        for name, planner in (("A", deleter_a), ("B", deleter_b)):
            with ws.store.stream_counted_slice("t") as piece:
                started = time.perf_counter()
                plan = planner.plan_stream(piece.tenant, piece.objects, piece.shared, policy, AS_OF)
                count = sum(1 for _ in plan["decisions"])
                seconds = time.perf_counter() - started
            result[name] = {"seconds": seconds, "per_second": count / seconds}
    return result


def _peak_rss_mib() -> float:
    """This process's peak RSS since its exec (``VmHWM``; ``ru_maxrss`` keeps the parent's)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_rss_mib() -> float:
    """The largest peak RSS of this process's waited-for children (the planner processes)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


MEASURES = {"unguarded": unguarded, "guarded": guarded, "planners": planners}
# The administrator's URL of the copy (a) deletes from, for the measuring process.
_ADMIN_ENV = "TWINPURGE_BENCH_ADMIN_URL"


def measure(kind: str, directory: Path, admin_url: str | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh process; its result and peak RSS (MiB)."""
    env = dict(os.environ)
    env.pop(_ADMIN_ENV, None)
    if admin_url is not None:
        env[_ADMIN_ENV] = admin_url
    completed = subprocess.run(  # noqa: S603 -- this very script, in a child process
        [sys.executable, __file__, "--measure", kind, str(directory)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if completed.returncode != 0:
        raise SystemExit(f"measuring {kind} failed:\n{completed.stderr}")
    return dict(json.loads(completed.stdout.splitlines()[-1]))


def _without_login(url: str) -> str:
    """The URL without user and password: what ``twinpurge.toml`` holds."""
    from urllib.parse import urlsplit, urlunsplit  # noqa: PLC0415

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _with_database(url: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit  # noqa: PLC0415

    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@contextlib.contextmanager
def postgres_server(admin_url: str | None) -> Iterator[str]:
    """A superuser URL: the one given, or a throwaway durable cluster's (stopped afterwards)."""
    if admin_url is not None:
        yield admin_url
        return
    sys.path.insert(0, str(ROOT))
    from tests.postgres import find_bindir, start_cluster  # noqa: PLC0415

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries found: pass --postgres-admin-url")
    cluster = start_cluster(bindir, settings=_DURABLE_SETTINGS)
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


# The server's durable defaults (fsync, synchronous_commit, full_page_writes all on), with
# enough shared buffers for a million-row table; the test clusters turn durability off.
_DURABLE_SETTINGS = ("shared_buffers=256MB", "max_connections=40", "listen_addresses=127.0.0.1")


class _Databases:
    """Databases next to the admin URL's one: created from a template, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    def _admin(self, statement: str) -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(statement.encode())

    def create(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template``); its superuser URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(name)
        suffix = f" TEMPLATE {template}" if template else ""
        self._admin(f"CREATE DATABASE {name}{suffix}")
        self.names.append(name)
        return _with_database(self.admin_url, name)

    def drop_all(self) -> None:
        for name in reversed(self.names):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.names.clear()


def _point_at(directory: Path, url: str) -> None:
    """Make the copied workspace's ``twinpurge.toml`` name database ``url`` (no login)."""
    config = directory / "twinpurge.toml"
    text = config.read_text(encoding="utf-8")
    replaced, count = re.subn(
        r'^url = ".*"$', f'url = "{_without_login(url)}"', text, flags=re.MULTILINE
    )
    if count != 1:
        raise SystemExit(f"{config}: expected one store url line, found {count}")
    config.write_text(replaced, encoding="utf-8")


def _copy(source: str, destination: str) -> None:
    """Copy a workspace's file; a blob file is hard-linked (each side only ever unlinks it).

    Copying a million small files took most of an hour at 10M; linking them takes minutes.
    """
    if f"{os.sep}blobs{os.sep}" in source:
        os.link(source, destination)
    else:
        shutil.copy2(source, destination)


def run_size(size: int, work: Path, admin_url: str | None, *, sql: bool) -> dict[str, Any]:
    """Build one size, copy it, measure the planners, (a) and (b)."""
    databases = _Databases(admin_url) if admin_url is not None else None
    try:
        started = time.perf_counter()
        built_url = databases.create(f"bench_built_{size}") if databases else None
        imported = None
        if sql:
            build_sql(work / "built", size)
        else:
            imported = build(work / "built", size, built_url)
        print(f"N = {size:,}: built in {time.perf_counter() - started:.1f} s", flush=True)
        # On SQLite one copy, for (a): the planners only read the built store, and (b) runs on
        # it last. (Copying a 10M-object workspace takes minutes.) On PostgreSQL each measure
        # has its database, a template copy.
        names = ("a", "b", "p") if databases is not None else ("a",)
        where = {"a": work / "built", "b": work / "built", "p": work / "built"}
        urls: dict[str, str | None] = {"a": None, "b": None, "p": None}
        for name in names:
            shutil.copytree(work / "built", work / name, symlinks=True, copy_function=_copy)
            where[name] = work / name
            if databases is not None:
                urls[name] = databases.create(f"bench_{name}_{size}", f"bench_built_{size}")
                _point_at(work / name, urls[name] or "")
        planned = measure("planners", where["p"])
        unguarded_result = measure("unguarded", where["a"], urls["a"])
        return {
            "imported": imported,
            "a": unguarded_result,
            "b": measure("guarded", where["b"]),
            "p": planned,
        }
    finally:
        if databases is not None:
            databases.drop_all()


def main(argv: list[str] | None = None) -> int:
    """Build each size, measure (a) and (b) on copies, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--ten-million", action="store_true")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-admin-url", default=None)
    parser.add_argument("--build", choices=("import", "sql"), default="import")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, directory = args.measure
        result = MEASURES[kind](Path(directory))
        result["peak_rss_mib"] = _peak_rss_mib()
        result["children_peak_rss_mib"] = _children_peak_rss_mib()
        print(json.dumps(result))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.ten_million:
        sizes.append(10_000_000)
    with contextlib.ExitStack() as stack:
        admin_url = None
        if args.store == "postgresql":
            admin_url = stack.enter_context(postgres_server(args.postgres_admin_url))
        print(
            f"store: {args.store}\n"
            "| N | (a) unguarded | (b) guarded | (b)/(a) | (b) peak RSS | A objects/s"
            " | B objects/s | import |\n|---:|---:|---:|---:|---:|---:|---:|---:|",
            flush=True,
        )
        for size in sizes:
            work = Path(tempfile.mkdtemp(prefix=f"twinpurge-bench-{size}-"))
            try:
                sql = args.build == "sql" or size > _IMPORTED_UP_TO
                if sql and admin_url is not None:
                    raise SystemExit("--build sql (and N over 1,000,000) is for SQLite only")
                result = run_size(size, work, admin_url, sql=sql)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            a, b, p, imported = result["a"], result["b"], result["p"], result["imported"]
            import_rate = "—" if imported is None else f"{2 * size / imported:,.0f} objects/s"
            print(
                f"| {size:,} | {a['seconds']:.1f} s | {b['seconds']:.1f} s ({b['status']},"
                f" {b['purged']:,}) | {b['seconds'] / a['seconds']:.1f}x"
                f" | {b['peak_rss_mib']:,.0f} MiB (planners {b['children_peak_rss_mib']:,.0f} MiB)"
                f" | {p['A']['per_second']:,.0f} | {p['B']['per_second']:,.0f}"
                f" | {import_rate} |"
            )
            print("  phases of (b): " + ", ".join(f"{k} {v:.1f} s" for k, v in b["phases"].items()))
            print(f"  unguarded peak RSS {a['peak_rss_mib']:,.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
