"""A throwaway PostgreSQL cluster for the tests, or the server ``TWINPURGE_TEST_POSTGRES_URL`` names.

Rules:

1. ``TWINPURGE_TEST_POSTGRES_URL``, when set, is used as it is: an admin (superuser) URL of a
   database the tests may provision and write to. Nothing is started or torn down.
2. Otherwise the machine's PostgreSQL binaries are found (``pg_config --bindir``, then ``PATH``,
   then ``/usr/lib/postgresql/*/bin``, newest version first) and a cluster is initialised in a
   fresh temporary directory, started on a free TCP port bound to 127.0.0.1 with its socket in
   that directory, and a database is created in it. When the tests run as root the cluster runs
   as the ``postgres`` user (``runuser``): PostgreSQL refuses to run as root.
3. The cluster trades durability for speed (``fsync=off``, ``synchronous_commit=off``, small
   ``shared_buffers``): its data is thrown away with it. A test that stops the server at once
   asks for ``durable=True``: an acknowledged commit then survives ``halt``, as in production.
4. ``ThrowawayCluster.stop`` stops the server and removes the directory; it is safe to call
   after a failed start and more than once.
5. Without binaries, ``find_bindir`` returns None and the caller skips with ``HOW_TO_PROVIDE``.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import attrs
import psycopg
import pytest
from psycopg import sql

__all__ = [
    "HOW_TO_PROVIDE",
    "STARTED",
    "URL_ENV",
    "ThrowawayCluster",
    "find_bindir",
    "start_cluster",
    "store_url",
    "with_database",
]

URL_ENV = "TWINPURGE_TEST_POSTGRES_URL"

HOW_TO_PROVIDE = (
    "no PostgreSQL server for the tests: set TWINPURGE_TEST_POSTGRES_URL to a superuser URL"
    " (postgresql://user:password@host:port/database), or install the PostgreSQL server binaries"
    " (e.g. apt-get install postgresql; found through pg_config --bindir, PATH or"
    " /usr/lib/postgresql/*/bin) so that the tests start a throwaway cluster"
)

# How the session's cluster started (binaries, seconds), for the test summary (tests/conftest.py).
STARTED = pytest.StashKey[str]()

DATABASE = "twinpurge_test"
ADMIN = "postgres"
# A Unix socket path is at most 107 bytes; the socket file is ".s.PGSQL.<port>" in the directory.
_SOCKET_DIR_LIMIT = 80
_SERVER_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "shared_buffers=16MB",
    "max_connections=40",
    "listen_addresses=127.0.0.1",
)


def store_url(admin_url: str) -> str:
    """The admin URL without its user and password: what ``twinpurge.toml`` would hold."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def with_database(url: str, database: str) -> str:
    """``url`` naming the database ``database`` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _version_key(path: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> (15,): the sort key of a versioned binary directory."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_bindir(versioned: Path = Path("/usr/lib/postgresql")) -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None (rule 2).

    Args:
        versioned: where Debian-style installs keep one ``<version>/bin`` per version.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        completed = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if completed.returncode == 0:
            candidates.append(Path(completed.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(Path(initdb).parent)
    candidates.extend(sorted(versioned.glob("*/bin"), key=_version_key, reverse=True))
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return candidate
    return None


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _reachable_by_others(path: Path) -> bool:
    """Whether every directory from ``/`` to ``path`` may be entered by another user."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _base_directory(*, as_root: bool) -> Path:
    """Where the cluster's directory goes: the temporary directory, if ``postgres`` can reach it.

    As root the cluster runs as ``postgres``, which cannot enter a private ``TMPDIR`` (mktemp -d
    makes it 0700); the socket path must also stay short. ``/tmp`` is the fallback.
    """
    base = Path(tempfile.gettempdir()).resolve()
    if len(str(base)) > _SOCKET_DIR_LIMIT - 30 or (as_root and not _reachable_by_others(base)):
        return Path("/tmp")  # noqa: S108 -- a fresh mkdtemp directory inside it, owner-only
    return base


@attrs.frozen
class ThrowawayCluster:
    """A running test cluster (rule 2), or the server of ``TWINPURGE_TEST_POSTGRES_URL`` (rule 1).

    Attributes:
        admin_url: a superuser URL of the test database (password included).
        directory: the cluster's directory (data, socket, log), or None for an external server.
        bindir: the binaries that run it, or None for an external server.
        run_as: the user the server runs as (``postgres`` under root), or None for ourselves.
        started_in: seconds from ``initdb`` to the database being ready (0 for an external one).
    """

    admin_url: str = attrs.field(repr=False)
    directory: Path | None = None
    bindir: Path | None = None
    run_as: str | None = None
    started_in: float = 0.0
    settings: tuple[str, ...] = ()

    @property
    def data(self) -> Path:
        """The data directory."""
        assert self.directory is not None
        return self.directory / "data"

    def halt(self) -> None:
        """Stop the server at once, as a crash would (``-m immediate``), keeping its data."""
        assert self.directory is not None
        assert self.bindir is not None
        _run(
            [
                *_as(self.run_as),
                str(self.bindir / "pg_ctl"),
                *("-D", str(self.data), "-m", "immediate", "-w", "stop"),
            ],
            "pg_ctl stop",
        )

    def restart(self) -> None:
        """Start a halted server again on its port (crash recovery runs first)."""
        assert self.directory is not None
        assert self.bindir is not None
        port = urlsplit(self.admin_url).port
        options = " ".join(
            [f"-p {port}", f"-c unix_socket_directories={self.directory}"]
            + [f"-c {setting}" for setting in self.settings]
        )
        _run(
            [
                *_as(self.run_as),
                str(self.bindir / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.directory / "server.log")),
                *("-o", options, "-w", "-t", "60", "start"),
            ],
            "pg_ctl start",
        )

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and remove its directory."""
        if self.directory is None or self.bindir is None:
            return
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *_as(self.run_as),
                    str(self.bindir / "pg_ctl"),
                    *("-D", str(self.data), "-m", "immediate", "-w", "stop"),
                ],
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.directory, ignore_errors=True)


def _as(user: str | None) -> list[str]:
    """The command prefix that runs a program as ``user`` (or as ourselves)."""
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [] if user is None else [runuser, "-u", user, "--"]


def _run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program; raise RuntimeError with its stderr if it fails."""
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if completed.returncode != 0:
        msg = f"{what} failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}"
        raise RuntimeError(msg)
    return completed


def _initdb(bindir: Path, directory: Path, run_as: str | None) -> str:
    """Initialise the cluster in ``directory/data``; return the admin's (random) password."""
    password = secrets.token_hex(16)
    pwfile = directory / "admin.pw"
    pwfile.write_text(password, encoding="utf-8")
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        os.chown(directory, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    _run(
        [
            *_as(run_as),
            str(bindir / "initdb"),
            *("-D", str(directory / "data"), "-U", ADMIN, f"--pwfile={pwfile}"),
            *("--auth-local=scram-sha-256", "--auth-host=scram-sha-256"),
            *("--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
        ],
        "initdb",
    )
    pwfile.unlink()
    return password


def _start(
    bindir: Path, directory: Path, run_as: str | None, attempts: int, settings: tuple[str, ...]
) -> int:
    """Start the server on a free port (another process may take one first); return the port."""
    for attempt in range(1, attempts + 1):
        port = _free_port()
        options = " ".join(
            [f"-p {port}", f"-c unix_socket_directories={directory}"]
            + [f"-c {setting}" for setting in settings]
        )
        try:
            _run(
                [
                    *_as(run_as),
                    str(bindir / "pg_ctl"),
                    *("-D", str(directory / "data"), "-l", str(directory / "server.log")),
                    *("-o", options, "-w", "-t", "60", "start"),
                ],
                "pg_ctl start",
            )
        except RuntimeError:
            if attempt == attempts:
                log = (directory / "server.log").read_text(encoding="utf-8", errors="replace")
                msg = f"the test cluster did not start; its log ends: {log[-2000:]}"
                raise RuntimeError(msg) from None
        else:
            return port
    raise AssertionError(attempts)  # pragma: no cover -- the loop returns or raises


def start_cluster(
    bindir: Path,
    *,
    attempts: int = 3,
    durable: bool = False,
    settings: tuple[str, ...] | None = None,
) -> ThrowawayCluster:
    """Initialise and start a throwaway cluster, and create the test database (rules 2 and 3).

    Args:
        bindir: the PostgreSQL binaries (``find_bindir``).
        attempts: how many free ports to try.
        durable: keep ``synchronous_commit`` on, for a test that stops the server at once: an
            acknowledged commit must survive it, as on a production server.
        settings: the server's settings instead of the test cluster's (``-c`` options): the
            benchmark runs a server with its durable defaults.

    Returns:
        The running cluster; the caller stops it.

    Raises:
        RuntimeError: initdb or the server failed; nothing is left behind.
    """
    began = time.monotonic()
    as_root = os.geteuid() == 0
    run_as = "postgres" if as_root else None
    directory = Path(tempfile.mkdtemp(prefix="tp-pg-", dir=_base_directory(as_root=as_root)))
    if settings is None:
        settings = tuple(
            "synchronous_commit=on" if durable and s.startswith("synchronous_commit") else s
            for s in _SERVER_SETTINGS
        )
    cluster = ThrowawayCluster("", directory, bindir, run_as, settings=settings)
    try:
        password = _initdb(bindir, directory, run_as)
        port = _start(bindir, directory, run_as, attempts, settings)
        admin = f"postgresql://{ADMIN}:{quote(password, safe='')}@127.0.0.1:{port}"
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    except BaseException:
        cluster.stop()
        raise
    return attrs.evolve(
        cluster, admin_url=f"{admin}/{DATABASE}", started_in=time.monotonic() - began
    )
