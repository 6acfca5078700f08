"""The backup commands through the installed executable, each process in one credential domain.

Every cross-domain attempt exits 7 with a message naming both domains; a tampered backup exits 4.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from arbiter import cli
from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV
from tests.arbiter.cli.test_cli import installed_executable

if TYPE_CHECKING:
    from pathlib import Path


def twinpurge(cwd: Path, *args: str, **domain: str) -> subprocess.CompletedProcess[str]:
    """Run the installed executable with only the given credential variables set."""
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV}}
    env.update(domain)
    return subprocess.run(
        [installed_executable(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace (built once: these tests only read it or break copies of it)."""
    root = tmp_path_factory.mktemp("cli-backup")
    completed = twinpurge(root, "demo", "ws")
    assert 0 == completed.returncode, completed.stderr
    (root / "demo.out").write_text(completed.stdout, encoding="utf-8")
    return root


def keys(root: Path) -> dict[str, str]:
    """Each domain's variable pointing at its own file."""
    return {
        PRIMARY_ENV: str(root / "ws" / "credentials" / "primary.toml"),
        BACKUP_ENV: str(root / "ws" / "credentials" / "backup.toml"),
    }


def test_demo_shows_the_backup_purge_two_weeks_after_the_primary_purge(demo: Path) -> None:
    """Demo: globex purged at primary_due; backups kept a second before backup_due, gone at it."""
    out = (demo / "demo.out").read_text(encoding="utf-8")
    purged = re.search(r"globex +executed +purged 5.*backup due (\S+)\)", out)
    kept = re.search(r"globex +kept +backups not due until (\S+)", out)
    deleted = re.search(
        r"globex +executed +deleted 1 generation \(backup due (\S+); primary purged (\S+)\)", out
    )
    assert purged is not None
    assert kept is not None
    assert deleted is not None
    assert purged.group(1) == kept.group(1) == deleted.group(1)
    backup_due, primary_purge = (datetime.fromisoformat(x) for x in deleted.groups())
    assert timedelta(days=14) == backup_due - primary_purge
    completed = twinpurge(
        demo,
        "backup",
        "list",
        "--workspace",
        "ws",
        "--format",
        "json",
        **{BACKUP_ENV: keys(demo)[BACKUP_ENV]},
    )
    assert 0 == completed.returncode, completed.stderr
    listed = json.loads(completed.stdout)["generations"]
    # globex's generation from before its primary purge is gone; today's (kept objects) stays.
    assert (1, 2) == (
        sum(1 for g in listed if g["tenant"] == "globex"),
        sum(1 for g in listed if g["tenant"] == "hooli"),
    )


def test_backup_commands_in_the_backup_domain(demo: Path) -> None:
    """list, purge (dry run and real), verify: exit 0 with only the backup key in the environment."""
    backup = {BACKUP_ENV: keys(demo)[BACKUP_ENV]}
    for args in (
        ("backup", "list", "--workspace", "ws"),
        ("backup", "purge", "--workspace", "ws", "--dry-run"),
        ("backup", "purge", "--workspace", "ws"),
        ("backup", "verify", "--workspace", "ws"),
    ):
        completed = twinpurge(demo, *args, **backup)
        assert 0 == completed.returncode, (args, completed.stderr)
    assert "backup site verified" in completed.stdout


@pytest.mark.parametrize(
    ("args", "variable", "given", "says"),
    [
        (
            ("backup", "list"),
            BACKUP_ENV,
            PRIMARY_ENV,
            "holds primary credentials, not backup credentials",
        ),
        (
            ("backup", "snapshot"),
            BACKUP_ENV,
            PRIMARY_ENV,
            "holds primary credentials, not backup credentials",
        ),
        (
            ("backup", "purge"),
            BACKUP_ENV,
            PRIMARY_ENV,
            "holds primary credentials, not backup credentials",
        ),
        (
            ("run-due",),
            PRIMARY_ENV,
            BACKUP_ENV,
            "holds backup credentials, not primary credentials",
        ),
        (
            ("import", "inventory.json"),
            PRIMARY_ENV,
            BACKUP_ENV,
            "holds backup credentials, not primary credentials",
        ),
    ],
    ids=["list", "snapshot", "backup-purge", "run-due", "import"],
)
def test_the_other_domains_file_exits_7(
    demo: Path, args: tuple[str, ...], variable: str, given: str, says: str
) -> None:
    """A domain's variable naming the other domain's file: exit 7, both domains named."""
    completed = twinpurge(demo, *args, "--workspace", "ws", **{variable: keys(demo)[given]})
    assert (7, True) == (completed.returncode, says in completed.stderr), completed.stderr


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (("backup", "list"), BACKUP_ENV),
        (("backup", "purge"), BACKUP_ENV),
        (("run-due",), PRIMARY_ENV),
    ],
    ids=["list", "backup-purge", "run-due"],
)
def test_missing_credentials_exit_7(demo: Path, args: tuple[str, ...], variable: str) -> None:
    """No credentials in the environment: exit 7 naming the variable to set."""
    completed = twinpurge(demo, *args, "--workspace", "ws")
    assert (7, True) == (completed.returncode, variable in completed.stderr), completed.stderr


def test_wrong_backup_key_exits_7(demo: Path, tmp_path: Path) -> None:
    """A key that is not the site's: exit 7; the site's key check fails before any backup is read."""
    other = tmp_path / "other.toml"
    fd = os.open(other, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f'domain = "backup"\nsecret = "{base64.b64encode(os.urandom(32)).decode()}"\n')
    completed = twinpurge(demo, "backup", "list", "--workspace", "ws", **{BACKUP_ENV: str(other)})
    assert (7, True) == (completed.returncode, "does not open the backup site" in completed.stderr)


def test_tampered_backup_exits_4(demo: Path, tmp_path: Path) -> None:
    """One changed byte in a generation: list and verify exit 4 naming the file."""
    import shutil  # noqa: PLC0415 -- only this test copies the workspace

    shutil.copytree(demo / "ws", tmp_path / "ws", symlinks=True)
    generation = next((tmp_path / "ws" / "backup-site" / "tenants").rglob("*.gen"))
    data = bytearray(generation.read_bytes())
    data[30] ^= 0x01
    generation.write_bytes(bytes(data))
    backup = {BACKUP_ENV: str(tmp_path / "ws" / "credentials" / "backup.toml")}
    for command in ("list", "verify"):
        completed = twinpurge(tmp_path, "backup", command, "--workspace", "ws", **backup)
        assert (4, True) == (completed.returncode, generation.name in completed.stderr)


def run(*args: str) -> Any:
    """Invoke the command in this process, through click's runner."""
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("order", ["primary-then-backup", "backup-then-primary"])
def test_both_domains_in_one_process_exit_7(
    demo: Path, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two commands in one process, one per domain: the second exits 7 naming both domains."""
    for name, value in keys(demo).items():
        monkeypatch.setenv(name, value)
    commands = {
        "primary": ["run-due", "--workspace", str(demo / "ws"), "--as-of", "2000-01-01T00:00:00Z"],
        "backup": ["backup", "list", "--workspace", str(demo / "ws")],
    }
    first, second = order.split("-then-")
    assert 0 == run(*commands[first]).exit_code
    result = run(*commands[second])
    assert 7 == result.exit_code
    assert (
        f"already holds {first} credentials; refusing to load {second} credentials" in result.stderr
    )


def test_a_new_workspace_gets_one_file_per_domain(tmp_path: Path) -> None:
    """Each domain's file is written apart, mode 600: the primary by init, the key by backup init."""
    assert 0 == twinpurge(tmp_path, "init", "ws", "--timezone", "UTC").returncode
    made = twinpurge(
        tmp_path, "backup", "init", "--workspace", "ws", "--credentials-out", "backup/key.toml"
    )
    assert 0 == made.returncode, made.stderr
    primary, backup = (
        tmp_path / "ws" / "credentials" / "primary.toml",
        tmp_path / "backup" / "key.toml",
    )
    assert (0o600, 0o600) == (primary.stat().st_mode & 0o777, backup.stat().st_mode & 0o777)
    again = twinpurge(
        tmp_path, "backup", "init", "--workspace", "ws", "--credentials-out", "backup/other.toml"
    )
    assert (2, False) == (again.returncode, (tmp_path / "backup" / "other.toml").exists())
    snap = twinpurge(
        tmp_path, "backup", "snapshot", "--workspace", "ws", **{BACKUP_ENV: str(backup)}
    )
    assert (0, "0 generations") == (snap.returncode, snap.stdout.split(": ")[1].split(",")[0])


def test_a_lock_outlasting_backup_due_exits_2(tmp_path: Path) -> None:
    """A retention lock of backup_lag_days or more: every command refuses the config, exit 2."""
    assert 0 == twinpurge(tmp_path, "init", "ws", "--timezone", "UTC").returncode
    config = tmp_path / "ws" / "twinpurge.toml"
    text = config.read_text(encoding="utf-8")
    assert "retention_lock_days = 0" in text
    config.write_text(text.replace("retention_lock_days = 0", "retention_lock_days = 14"), "utf-8")
    primary = {PRIMARY_ENV: str(tmp_path / "ws" / "credentials" / "primary.toml")}
    for args in (("backup", "snapshot"), ("run-due",)):
        completed = twinpurge(tmp_path, *args, "--workspace", "ws", **primary)
        assert (2, True) == (
            completed.returncode,
            "backup.retention_lock_days = 14 would outlast backup_due" in completed.stderr,
        ), completed.stderr


def test_backup_json_errors_exit_4_and_7(demo: Path, tmp_path: Path) -> None:
    """Backup commands under --format json: tampering exits 4, no key exits 7, both as JSON."""
    import shutil  # noqa: PLC0415 -- only this test copies the workspace

    from tests.arbiter.cli.test_cli_exits import declared  # noqa: PLC0415 -- a test helper

    missing = twinpurge(demo, "backup", "list", "--workspace", "ws", "--format", "json")
    error = json.loads(missing.stderr)
    assert (7, 7, "CredentialError", "backup") == (
        missing.returncode,
        error["exit_code"],
        error["kind"],
        error["domain"],
    )
    shutil.copytree(demo / "ws", tmp_path / "ws", symlinks=True)
    generation = next((tmp_path / "ws" / "backup-site" / "tenants").rglob("*.gen"))
    data = bytearray(generation.read_bytes())
    data[30] ^= 0x01
    generation.write_bytes(bytes(data))
    backup = {BACKUP_ENV: str(tmp_path / "ws" / "credentials" / "backup.toml")}
    tampered = twinpurge(
        tmp_path, "backup", "verify", "--workspace", "ws", "--format", "json", **backup
    )
    error = json.loads(tampered.stderr)
    assert (4, "BackupTamperedError", True) == (
        tampered.returncode,
        error["kind"],
        error["path"].endswith(generation.name),
    )
    for command in ("list", "verify"):
        assert {4, 7} <= declared("backup", command)
