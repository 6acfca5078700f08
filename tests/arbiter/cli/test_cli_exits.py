"""One exit-code table, one error mapping, JSON errors, and each declared code provoked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from arbiter import cli
from arbiter.auth.credentials import PRIMARY_ENV
from arbiter.cli.demo import choose_replay, demo_config, demo_inventory
from arbiter.cli.exits import ExitCode, exit_code_for
from arbiter.cli.output import WORKSPACE_ENV, Command, error_payload
from arbiter.core import errors
from arbiter.workspace.workspace import Workspace
from tests.arbiter.cli.test_cli import plan_args, write
from tests.arbiter.cli.test_cli_workspace import INVENTORY

if TYPE_CHECKING:
    from pathlib import Path

EXPECTED_CODES = {
    "InputError": ExitCode.BAD_INPUT,
    "UsageError": ExitCode.BAD_INPUT,
    "RefusedError": ExitCode.REFUSED,
    "GuardError": ExitCode.REFUSED,
    "ArchiveError": ExitCode.REFUSED,
    "OmissionError": ExitCode.REFUSED,
    "RetentionLockError": ExitCode.REFUSED,
    "SafeModeError": ExitCode.REFUSED,
    "AuditError": ExitCode.VERIFICATION,
    "AuditTamperedError": ExitCode.VERIFICATION,
    "BackupTamperedError": ExitCode.VERIFICATION,
    "ApprovalError": ExitCode.MISSING_APPROVALS,
    "StalePlanError": ExitCode.STALE_PLAN,
    "CredentialError": ExitCode.CREDENTIALS,
    "CredentialDomainError": ExitCode.CREDENTIALS,
    "StoreAddressError": ExitCode.BAD_INPUT,
    "StoreLoginError": ExitCode.CREDENTIALS,
    "StoreMissingError": ExitCode.STORE_MISSING,
    "StoreUnavailableError": ExitCode.STORE_UNAVAILABLE,
    "StoreConnectionError": ExitCode.STORE_UNAVAILABLE,
    "AlertDeliveryError": ExitCode.INTERNAL,
    "TwinpurgeError": ExitCode.INTERNAL,
}

SAMPLES: list[errors.TwinpurgeError] = [
    errors.InputError(source="inventory", field="tenants[0]", message="bad", file="inv.json"),
    errors.UsageError("misuse"),
    errors.GuardError("blast-radius", "t", "too many", {"count": 9}),
    errors.ArchiveError("gone"),
    errors.OmissionError("p1", ("row db/r1 of t remains",)),
    errors.RetentionLockError("g1", "2030-01-01T00:00:00Z"),
    errors.SafeModeError("trip1", "2026-05-01T00:00:00Z", "3 of 3 refused", ("a", "b", "c")),
    errors.AuditError("unusable"),
    errors.AuditTamperedError("edited", seq=2, line=3),
    errors.BackupTamperedError("site/x.gen", "tag mismatch"),
    errors.ApprovalError("execute", ("alice",), 2, ("bob: bad signature",)),
    errors.StalePlanError("p1", ("newly kept: db/x",)),
    errors.CredentialError("backup", "not set"),
    errors.CredentialDomainError(held="primary", requested="backup"),
    errors.StoreAddressError(store="postgres://h/d", role="twinpurge_purge", reason="bad URL"),
    errors.StoreLoginError(store="postgresql://h/d", role="twinpurge_purge", reason="refused"),
    errors.StoreMissingError(store="postgresql://h/d", role="twinpurge_purge", reason="no d"),
    errors.StoreUnavailableError(store="postgresql://h/d", role="twinpurge_purge", reason="gone"),
    errors.StoreConnectionError(store="postgresql://h/d", role="twinpurge_purge", reason="?"),
    errors.AlertDeliveryError(sink="webhook", attempts=3, reason="timeout"),
    errors.TwinpurgeError("root"),
]


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    """Invoke the command through click's runner, stdout and stderr kept apart."""
    return CliRunner(env=env).invoke(cli.main, list(args), catch_exceptions=False)


def declared(*path: str) -> frozenset[ExitCode]:
    """The exit codes the command at ``path`` declares."""
    command: click.Command = cli.main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert isinstance(command, Command)
    return command.exit_codes


def test_every_error_class_has_its_exit_code() -> None:
    """Each error class of arbiter.core.errors maps to the code the table gives it."""
    actual = {name: exit_code_for(_instance(getattr(errors, name))) for name in errors.__all__}
    assert EXPECTED_CODES == actual


def _instance(cls: type[errors.TwinpurgeError]) -> errors.TwinpurgeError:
    """A sample instance of an error class."""
    for sample in [*SAMPLES, errors.RefusedError.__new__(errors.RefusedError)]:
        if type(sample) is cls:
            return sample
    raise AssertionError(cls)


@given(st.sampled_from(SAMPLES))
def test_json_error_carries_code_kind_message_and_data(error: errors.TwinpurgeError) -> None:
    """The JSON of an error: its code, its class, its message and every data attribute."""
    payload = error_payload(error)
    assert (int(exit_code_for(error)), type(error).__name__, str(error)) == (
        payload["exit_code"],
        payload["kind"],
        payload["error"],
    )
    assert set(vars(error)) <= set(payload)
    assert payload == json.loads(json.dumps(payload))


def test_plan_json_errors_exit_2_and_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan --format json: bad input exits 2 with a JSON error naming file and field."""
    inventory = write(tmp_path, "inventory.json", '{"tenants": [], "objects": [], "extra": 1}')
    result = run(*plan_args("globex", "--format", "json", inventory=inventory))
    error = json.loads(result.stderr)
    assert (2, "InputError", str(inventory), "extra") == (
        result.exit_code,
        error["kind"],
        error["file"],
        error["field"],
    )
    assert (2, "") == (error["exit_code"], result.stdout)
    assert {ExitCode.BAD_INPUT, ExitCode.REFUSED} <= declared("plan")
    bad_tenant = run(*plan_args("nobody", "--format", "json"))
    assert (2, "--tenant") == (bad_tenant.exit_code, json.loads(bad_tenant.stderr)["file"])


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace holding INVENTORY, its primary credentials in the environment."""
    directory = tmp_path / "ws"
    assert 0 == run("init", str(directory), "--timezone", "UTC").exit_code
    monkeypatch.setenv(PRIMARY_ENV, str(directory / "credentials" / "primary.toml"))
    (tmp_path / "inv.json").write_text(json.dumps(INVENTORY), encoding="utf-8")
    assert 0 == run("import", "--workspace", str(directory), str(tmp_path / "inv.json")).exit_code
    return directory


def test_run_due_json_errors_exit_2_3_and_7(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run-due --format json: a refused tenant exits 3, bad config 2, no credentials 7, as JSON."""
    refused = run(
        "run-due", "--workspace", str(ws), "--as-of", "2999-01-01T00:00:00Z", "--format=json"
    )
    error = json.loads(refused.stderr)
    assert (3, 3, "TenantsRefused", ["t"]) == (
        refused.exit_code,
        error["exit_code"],
        error["kind"],
        error["tenants"],
    )
    assert "refused" in {o["status"] for o in json.loads(refused.stdout)["outcomes"]}
    monkeypatch.delenv(PRIMARY_ENV)
    missing = run("run-due", "--workspace", str(ws), "--format", "json")
    error = json.loads(missing.stderr)
    assert (7, "CredentialError", "primary") == (missing.exit_code, error["kind"], error["domain"])
    config = ws / "twinpurge.toml"
    config.write_text(config.read_text("utf-8").replace("batch_size", "batchsize"), "utf-8")
    bad = run("run-due", "--workspace", str(ws), "--dry-run", "--format", "json")
    error = json.loads(bad.stderr)
    assert (2, "InputError", "limits.batchsize") == (bad.exit_code, error["kind"], error["field"])
    assert {ExitCode.BAD_INPUT, ExitCode.REFUSED, ExitCode.CREDENTIALS} <= declared("run-due")


def test_run_due_refusal_in_text_is_one_line_on_stderr(ws: Path) -> None:
    """In text, a fleet run with refused tenants exits 3 with one line on stderr."""
    result = run("run-due", "--workspace", str(ws), "--as-of", "2999-01-01T00:00:00Z")
    assert (
        3,
        [
            "Error: 1 tenant(s) refused or failed: t; nothing more of theirs deleted (each outcome says what was)"
        ],
    ) == (
        result.exit_code,
        result.stderr.splitlines(),
    )


def test_audit_verify_json_error_exits_4_naming_the_record(ws: Path) -> None:
    """Audit verify --format json on an edited log: exit 4, the first bad record in the JSON."""
    log = ws / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace('"objects":4', '"objects":5', 1)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("audit", "verify", "--workspace", str(ws), "--format", "json")
    error = json.loads(result.stderr)
    assert (4, "AuditTamperedError", 0, 1) == (
        result.exit_code,
        error["kind"],
        error["seq"],
        error["line"],
    )
    assert ExitCode.VERIFICATION in declared("audit", "verify")


def test_workspace_from_the_environment(ws: Path) -> None:
    """With only TWINPURGE_WORKSPACE set, workspace commands find the workspace."""
    env = {WORKSPACE_ENV: str(ws)}
    verify = run("audit", "verify", "--format", "json", env=env)
    assert (0, True) == (verify.exit_code, json.loads(verify.stdout)["intact"])
    exported = run("export", env=env)
    assert 4 == len(json.loads(exported.stdout)["objects"])
    dry = run("run-due", "--dry-run", "--as-of", "2026-03-01T00:00:00Z", env=env)
    assert (0, True) == (dry.exit_code, "1 dry-run" in dry.stdout)


def test_an_explicit_workspace_wins_over_the_environment(ws: Path, tmp_path: Path) -> None:
    """--workspace overrides TWINPURGE_WORKSPACE; a variable naming nothing is bad input."""
    env = {WORKSPACE_ENV: str(tmp_path / "absent")}
    assert 0 == run("audit", "verify", "--workspace", str(ws), env=env).exit_code
    assert 2 == run("audit", "verify", env=env).exit_code


def test_a_bug_under_json_is_a_json_error_exit_1(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception under --format json: exit 1, a JSON error naming the crash report."""

    def broken(_self: Workspace) -> int:
        message = "boom"
        raise RuntimeError(message)

    monkeypatch.setattr(Workspace, "verify_audit", broken)
    result = run("audit", "verify", "--workspace", str(ws), "--format", "json")
    error = json.loads(result.stderr)
    assert (1, 1, "RuntimeError", False) == (
        result.exit_code,
        error["exit_code"],
        error["kind"],
        "Traceback" in result.stderr,
    )
    report = (ws / "crash-reports").iterdir().__next__()
    assert (str(report), True) == (
        error["crash_report"],
        "raise RuntimeError(message)" in report.read_text(encoding="utf-8"),
    )


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["globex", "initrode"])
def test_demo_replays_the_tenant_it_finds(name: str) -> None:
    """The demo replays the tenant whose backups are due, whatever the builder named it."""
    inventory, _ = demo_inventory(NOW)
    renamed = json.loads(json.dumps(inventory).replace('"globex', f'"{name}'))
    replay = choose_replay(renamed, demo_config().policy, NOW)
    assert replay is not None
    assert (name, True, True) == (
        replay.tenant,
        replay.backup_due <= NOW,
        replay.snapshot < replay.primary_due < replay.backup_due,
    )


def test_demo_replays_nothing_when_no_backup_is_due() -> None:
    """With no tenant past its backup_due, there is nothing to replay."""
    inventory, _ = demo_inventory(NOW)
    inventory["tenants"] = [t for t in inventory["tenants"] if t["id"] == "acme"]
    inventory["objects"] = [o for o in inventory["objects"] if o["tenant"] == "acme"]
    for o in inventory["objects"]:
        o.pop("refs", None)
    assert choose_replay(inventory, demo_config().policy, NOW) is None
