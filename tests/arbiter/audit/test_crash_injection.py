"""Real processes killed at each point of an append; a tampered log stops every deleting command.

The crash points are the test seam of ``arbiter.audit.log`` (rule 14): ``TWINPURGE_CRASH_AT``
makes the installed ``twinpurge`` kill itself with SIGKILL there. The audit log's head lives in
the primary store, so the crash scenarios run on both stores (``store_kind``,
``tests/arbiter/conftest.py``: a PostgreSQL workspace on a database of its own). The number of
crash points injected, per store, is printed at the end of the run (``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from arbiter.audit.log import CRASH_ENV, RECOVERED_KIND
from arbiter.auth.credentials import PRIMARY_ENV
from arbiter.core.errors import AuditTamperedError
from arbiter.workspace.workspace import Workspace
from tests import faults
from tests.arbiter.cli.test_cli import installed_executable
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.webhook_server import Webhook

AS_OF = "2026-03-01T00:00:00Z"
INVENTORY = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [obj("a"), obj("b", "u", refs=[("db", "a")]), obj("c"), obj("d")],
}
# Each scenario: the crash points of successive processes; the first runs ``run-due``, the
# later ones ``audit verify`` (which recovers, and is killed in the middle of recovering).
SCENARIOS: dict[str, list[str]] = {
    "audit-before-line": ["audit-before-line:2"],
    "audit-after-line": ["audit-after-line:2"],
    "audit-after-fsync": ["audit-after-fsync:2"],
    "audit-after-head": ["audit-after-head:2"],
    "audit-recover-before-line": ["audit-after-fsync:2", "audit-recover-before-line"],
    "audit-recover-after-line": ["audit-after-fsync:2", "audit-recover-after-line"],
    "audit-recover-after-fsync": ["audit-after-fsync:2", "audit-recover-after-fsync"],
    "audit-recover-after-head": ["audit-after-fsync:2", "audit-recover-after-head"],
    "audit-recover-before-head": [
        "audit-after-fsync:2",
        "audit-recover-after-fsync",
        "audit-recover-before-head",
    ],
}


def opened_with_records(
    directory: Path, webhook_url: str | None = None, admin_url: str | None = None
) -> Workspace:
    """A workspace of INVENTORY whose log holds a dry run's records besides the import.

    On SQLite, or on the PostgreSQL database ``admin_url`` names.
    """
    opened: Workspace = workspace(
        directory, INVENTORY, webhook_url=webhook_url, admin_url=admin_url
    )
    opened.run_due(AS_OF, dry_run=True)
    return opened


def ready(
    directory: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch, admin_url: str | None
) -> Path:
    """``opened_with_records`` alerting to the test webhook; its credentials in the environment."""
    opened_with_records(directory, webhook_url=webhook.url, admin_url=admin_url).close()
    monkeypatch.setenv(PRIMARY_ENV, str(directory / "credentials" / "primary.toml"))
    monkeypatch.delenv(CRASH_ENV, raising=False)
    return directory


@pytest.fixture
def ws(tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite workspace of INVENTORY alerting to the test webhook; credentials in the env."""
    return ready(tmp_path / "ws", webhook, monkeypatch, None)


@pytest.fixture
def any_ws(
    tmp_path: Path,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
    workspace_admin_url: str | None,
) -> Path:
    """``ws`` on each store (``store_kind``): SQLite, then a PostgreSQL database of its own."""
    return ready(tmp_path / "ws", webhook, monkeypatch, workspace_admin_url)


def twinpurge(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed executable, crashing at ``crash_at`` when given."""
    env = dict(os.environ)
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    return subprocess.run(
        [installed_executable(), *args], capture_output=True, text=True, env=env, check=False
    )


def keys(directory: Path) -> list[str]:
    """The keys of the objects left in the workspace's store (either kind)."""
    with faults.opened_store(directory) as store:
        return sorted(o["key"] for o in store.export_inventory()["objects"])


def alert_kinds(directory: Path) -> list[str]:
    """The kinds of the alerts in the workspace's alert log."""
    path = directory / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["kind"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_killed_append_leaves_a_usable_workspace(
    any_ws: Path, store_kind: str, scenario: str, record_property: Callable[[str, object], None]
) -> None:
    """Killed at any point of an append or a recovery: verify exits 0, the next run-due works."""
    ws = any_ws
    workspace_dir = str(ws)
    for stage, point in enumerate(SCENARIOS[scenario]):
        args = ("run-due", "--as-of", AS_OF) if stage == 0 else ("audit", "verify")
        killed = twinpurge(*args, "--workspace", workspace_dir, crash_at=point)
        assert -signal.SIGKILL == killed.returncode, killed.stderr
    record_property("audit_crash_point", f"{scenario} @{store_kind}")
    verified = twinpurge("audit", "verify", "--workspace", workspace_dir)
    assert (0, "") == (verified.returncode, verified.stderr)
    run = twinpurge("run-due", "--as-of", AS_OF, "--workspace", workspace_dir)
    assert 0 == run.returncode, run.stderr
    assert ["a", "b"] == keys(ws)
    assert 0 == twinpurge("audit", "verify", "--workspace", workspace_dir).returncode
    with faults.opened(ws) as reopened:
        kinds = [r.kind for r in reopened.audit.records()]
    # The line reached the file in every scenario but these two: one record to adopt.
    recovered = scenario not in {"audit-before-line", "audit-after-head"}
    # Killed right after the recovery's head write, the process never sent its alert; the
    # audit-recovered record is what tells (the alert follows the record, never precedes it).
    alerted = recovered and scenario != "audit-recover-after-head"
    assert (recovered, alerted) == (
        RECOVERED_KIND in kinds,
        "audit-recovered" in alert_kinds(ws),
    )


def test_the_recovery_is_on_the_record(any_ws: Path) -> None:
    """After a crash past the fsync, the log holds the adopted record and an audit-recovered one."""
    ws = any_ws
    twinpurge("run-due", "--as-of", AS_OF, "--workspace", str(ws), crash_at="audit-after-fsync:2")
    assert 0 == twinpurge("audit", "verify", "--workspace", str(ws)).returncode
    with faults.opened(ws) as reopened:
        records = list(reopened.audit.records())
    adopted, recovered = records[-2:]
    assert (RECOVERED_KIND, adopted.seq, adopted.hash) == (
        recovered.kind,
        recovered.data["adopted"]["seq"],
        recovered.data["adopted"]["hash"],
    )


def edit_record(log: Path) -> tuple[int, int]:
    """Change the actor of record 2 in place."""
    lines = log.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"actor":"', b'"actor":"x', 1)
    log.write_bytes(b"".join(lines))
    return 2, 3


def remove_record(log: Path) -> tuple[int, int]:
    """Remove record 1."""
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:1] + lines[2:]))
    return 1, 2


def two_unheaded_records(log: Path) -> tuple[int, int]:
    """Append two records through the log, then put the head back: not one crashed append."""
    with Workspace.open(log.parent) as opened:
        head = opened.store.get_meta("audit_head")
        assert head is not None
        first = opened.audit.append("plan", {}, actor="mallory")
        opened.audit.append("executed", {}, actor="mallory")
        opened.store.set_meta("audit_head", head)
    return first.seq, first.seq + 1


TAMPERINGS: dict[str, Callable[[Path], tuple[int, int]]] = {
    "edited": edit_record,
    "removed": remove_record,
    "two-unheaded": two_unheaded_records,
}
COMMANDS = {
    "run-due": ("run-due", "--as-of", AS_OF),
    "run-due-dry-run": ("run-due", "--as-of", AS_OF, "--dry-run"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_a_tampered_log_stops_run_due_with_exit_4_and_an_alert(
    ws: Path, webhook: Webhook, tampering: str, command: str
) -> None:
    """Exit 4, one line naming the record, an audit-tampered alert to every sink, nothing deleted."""
    seq, line = TAMPERINGS[tampering](ws / "audit.jsonl")
    before = keys(ws)
    result = twinpurge(*COMMANDS[command], "--workspace", str(ws))
    expected = f"Error: audit record {seq} (line {line}) fails verification: "
    assert (4, "", True, 1) == (
        result.returncode,
        result.stdout,
        result.stderr.startswith(expected),
        len(result.stderr.splitlines()),
    ), result.stderr
    assert before == keys(ws)
    assert ["audit-tampered"] == [k for k in alert_kinds(ws) if k.startswith("audit")]
    hooks = [r.json() for r in webhook.received if r.json()["kind"] == "audit-tampered"]
    assert [(seq, line)] == [(h["details"]["seq"], h["details"]["line"]) for h in hooks]


def test_a_tampered_log_stops_run_due_in_json_too(ws: Path) -> None:
    """Under --format json the failure is one JSON object naming seq and line."""
    edit_record(ws / "audit.jsonl")
    result = twinpurge("run-due", "--as-of", AS_OF, "--workspace", str(ws), "--format", "json")
    payload = json.loads(result.stderr)
    assert (4, "AuditTamperedError", 2, 3) == (
        result.returncode,
        payload["kind"],
        payload["seq"],
        payload["line"],
    )


@pytest.mark.parametrize(
    "operation",
    [
        lambda w: w.run_due(AS_OF),
        lambda w: w.run_due(AS_OF, dry_run=True),
        lambda w: w.purge_tenant("t", AS_OF),
        lambda w: w.purge_tenant("t", AS_OF, dry_run=True),
        lambda w: w.purger,
        lambda w: w.import_inventory({"tenants": [tenant("v")], "objects": [obj("e", "v")]}),
        lambda w: w.expire_archives(),
    ],
    ids=["run-due", "dry-run", "purge", "purge-dry-run", "purger", "import", "expire-archives"],
)
def test_every_deleting_operation_of_the_api_refuses_a_tampered_log(
    tmp_path: Path, operation: Callable[[Workspace], Any]
) -> None:
    """The API raises AuditTamperedError before deleting or appending anything."""
    opened = opened_with_records(tmp_path / "ws")
    try:
        edit_record(tmp_path / "ws" / "audit.jsonl")
        content = (tmp_path / "ws" / "audit.jsonl").read_bytes()
        with pytest.raises(AuditTamperedError) as info:
            operation(opened)
        assert ((2, 3), content) == (
            (info.value.seq, info.value.line),
            (tmp_path / "ws" / "audit.jsonl").read_bytes(),
        )
        assert 4 == len(opened.export_inventory()["objects"])
    finally:
        opened.close()
