"""The manual-purge commands through click's runner: every flag combination, JSON, exit codes."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from arbiter import cli
from arbiter.auth.credentials import PRIMARY_ENV
from tests.arbiter.cli.test_cli_exits import declared

if TYPE_CHECKING:
    from pathlib import Path


def run(*args: str) -> Any:
    """Invoke the command through click's runner."""
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo workspace with alice and bob registered; a plan for wayne written by alice.

    The demo's primary credentials are in the environment, as they are for the primary purge.
    """
    assert 0 == run("demo", str(tmp_path / "ops")).exit_code
    monkeypatch.setenv(PRIMARY_ENV, str(tmp_path / "ops" / "credentials" / "primary.toml"))
    config = tmp_path / "ops" / "twinpurge.toml"
    for name in ("alice", "bob"):
        result = run(
            "operator", "keygen", name, "--out", str(tmp_path / f"{name}.key"), "--format", "json"
        )
        public = json.loads(result.stdout)["public_key"]
        with config.open("a", encoding="utf-8") as handle:
            handle.write(f'\n[operators.{name}]\npublic_key = "{public}"\n')
    plan = run(
        "purge",
        "plan",
        "--workspace",
        str(tmp_path / "ops"),
        "--tenant",
        "wayne",
        "--operator",
        "alice",
        "--out",
        str(tmp_path / "wayne.plan.json"),
        "--format",
        "json",
    )
    assert 0 == plan.exit_code, plan.output
    summary = json.loads(plan.stdout)
    assert (8, {"blob": 2, "db": 6}, {"default": 8}) == (
        summary["purge"],
        summary["purge_by_store"],
        summary["purge_by_category"],
    )
    return tmp_path


def args(ops: Path, *rest: str) -> list[str]:
    """Arguments naming the plan and the workspace."""
    return [str(ops / "wayne.plan.json"), "--workspace", str(ops / "ops"), *rest]


def approve(ops: Path, name: str, *extra: str) -> Any:
    """An approval by ``name`` with their key."""
    return run(
        "purge",
        "approve",
        *args(ops, "--operator", name, "--key", str(ops / f"{name}.key"), *extra),
    )


def exported(ops: Path) -> list[str]:
    """The keys of the workspace's objects."""
    result = run("export", "--workspace", str(ops / "ops"))
    return sorted(o["key"] for o in json.loads(result.stdout)["objects"])


FLAG_SETS = [
    list(c)
    for n in range(4)
    for c in itertools.combinations(["--rehearse", "--skip-rehearsal", "--format=json"], n)
]


def test_one_operator_alone_cannot_execute_with_any_flags(ops: Path) -> None:
    """Alice alone (even approving twice) is refused with exit 5, whatever the flags and executor."""
    before = exported(ops)
    assert 0 == approve(ops, "alice").exit_code
    assert 0 == approve(ops, "alice").exit_code
    for executor, flags in itertools.product(["alice", "bob"], FLAG_SETS):
        result = run("purge", "execute", *args(ops, "--operator", executor, *flags))
        assert 5 == result.exit_code, (executor, flags, result.output)
    assert before == exported(ops)


def test_two_operators_execute_and_restore(ops: Path) -> None:
    """Alice and Bob approve; rehearse changes nothing; execute purges; restore brings it back."""
    before = exported(ops)
    assert 0 == approve(ops, "alice").exit_code
    assert 0 == approve(ops, "bob").exit_code
    rehearsal = run(
        "purge", "execute", *args(ops, "--operator", "bob", "--rehearse", "--format", "json")
    )
    assert (0, 8, before) == (
        rehearsal.exit_code,
        json.loads(rehearsal.stdout)["rehearsed"],
        exported(ops),
    )
    skip = run("purge", "execute", *args(ops, "--operator", "bob", "--skip-rehearsal"))
    assert (2, "cannot skip the rehearsal") == (
        skip.exit_code,
        "cannot skip the rehearsal" if "cannot skip the rehearsal" in skip.stderr else skip.stderr,
    )
    done = run("purge", "execute", *args(ops, "--operator", "bob", "--format", "json"))
    assert (0, 8) == (done.exit_code, json.loads(done.stdout)["purged"])
    assert not any(k.startswith("wayne/") for k in exported(ops))
    again = run("purge", "execute", *args(ops, "--operator", "alice"))
    assert 2 == again.exit_code
    assert 5 == run("purge", "restore", *args(ops, "--operator", "alice")).exit_code
    assert 0 == approve(ops, "alice", "--restore").exit_code
    assert 0 == approve(ops, "bob", "--restore").exit_code
    restored = run("purge", "restore", *args(ops, "--operator", "alice", "--format", "json"))
    assert (0, 8, before) == (
        restored.exit_code,
        json.loads(restored.stdout)["restored"],
        exported(ops),
    )
    status = json.loads(run("purge", "status", *args(ops, "--format", "json")).stdout)
    assert (["alice", "bob"], True, True) == (
        sorted(status["approvals"]["execute"]),
        status["executed_at"] is not None,
        status["restored_at"] is not None,
    )


def test_stale_plan_exits_6(ops: Path) -> None:
    """A hold placed after approval makes execution exit 6, saying what changed."""
    approve(ops, "alice")
    approve(ops, "bob")
    import sqlite3  # noqa: PLC0415 -- only this test writes behind the tool's back

    db = sqlite3.connect(ops / "ops" / "primary.sqlite3")
    db.execute("UPDATE objects SET legal_hold = 1 WHERE key = 'wayne/orders/0'")
    db.commit()
    db.close()
    result = run("purge", "execute", *args(ops, "--operator", "alice", "--format", "json"))
    error = json.loads(result.stderr)
    assert (6, 6, "StalePlanError", True) == (
        result.exit_code,
        error["exit_code"],
        error["kind"],
        any("newly kept" in c for c in error["changes"]),
    )
    assert {5, 6} <= declared("purge", "execute")


def test_missing_approvals_json_lists_problems(ops: Path) -> None:
    """--format json on a refusal prints the valid approvers and why others do not count."""
    approve(ops, "alice")
    approve(ops, "alice")
    result = run("purge", "execute", *args(ops, "--operator", "alice", "--format", "json"))
    data = json.loads(result.stderr)
    assert (5, "ApprovalError", ["alice"], ["alice: approved more than once; counts once"]) == (
        result.exit_code,
        data["kind"],
        data["valid"],
        data["problems"],
    )


def test_key_readable_by_others_exits_2(ops: Path) -> None:
    """A world-readable key file is refused with exit 2 naming the file."""
    (ops / "alice.key").chmod(0o644)
    result = approve(ops, "alice")
    assert (2, True) == (
        result.exit_code,
        "alice.key" in result.stderr and "accessible by others" in result.stderr,
    )


def test_unregistered_operator_exits_2(ops: Path) -> None:
    """An operator not in twinpurge.toml cannot approve."""
    run("operator", "keygen", "mallory", "--out", str(ops / "mallory.key"))
    assert 2 == approve(ops, "mallory").exit_code


def test_keygen_never_prints_the_private_key(tmp_path: Path) -> None:
    """Keygen prints the public key only; the file is mode 600 and refuses to be overwritten."""
    result = run("operator", "keygen", "zoe", "--out", str(tmp_path / "zoe.key"))
    secret = (tmp_path / "zoe.key").read_text(encoding="utf-8")
    assert (0, 0o600) == (result.exit_code, (tmp_path / "zoe.key").stat().st_mode & 0o777)
    assert not any(line in result.output for line in secret.splitlines() if "PRIVATE" not in line)
    assert 2 == run("operator", "keygen", "zoe", "--out", str(tmp_path / "zoe.key")).exit_code


@pytest.mark.parametrize(
    ("command", "needs_approvals"),
    [
        (["purge", "plan"], False),
        (["purge", "approve"], False),
        (["purge", "execute"], True),
        (["purge", "restore"], True),
        (["purge", "status"], False),
        (["operator", "keygen"], False),
    ],
)
def test_help_has_examples_and_exit_codes(
    command: list[str],
    needs_approvals: bool,  # noqa: FBT001 -- a pytest parameter
) -> None:
    """Every manual command's --help shows examples; only execute and restore list exit 5."""
    result = run(*command, "--help")
    assert (0, True, True, needs_approvals) == (
        result.exit_code,
        "Examples:" in result.stdout,
        "Exit codes:" in result.stdout,
        "5  missing approvals" in result.stdout,
    )
