"""The ``twinpurge plan`` command, through click's runner and the installed executable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import deleter_a
from arbiter import cli

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
AS_OF = "2026-11-25T00:00:00Z"


def run(*args: str) -> Any:
    """Invoke the command through click's runner, stdout and stderr kept apart."""
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def plan_args(
    tenant: str = "globex", *extra: str, inventory: Path | None = None, policy: Path | None = None
) -> list[str]:
    """The arguments of ``twinpurge plan`` on the bundled examples."""
    return [
        "plan",
        "--inventory",
        str(inventory or EXAMPLES / "inventory.json"),
        "--policy",
        str(policy or EXAMPLES / "policy.toml"),
        "--tenant",
        tenant,
        "--as-of",
        AS_OF,
        *extra,
    ]


def test_json_output_for_the_example_tenant() -> None:
    """The example's due tenant: purge, kept with reasons, dues in UTC, sorted (spec §7.5)."""
    result = run(*plan_args("globex", "--format", "json"))
    assert 0 == result.exit_code, result.stderr
    expected = {
        "tenant": "globex",
        "as_of": "2026-11-25T00:00:00Z",
        "eligible": True,
        "reason": None,
        # cancelled 2026-10-01T15:30Z = 2 Oct in Tokyo; +31 days = 2 Nov, 00:00 JST.
        "primary_due": "2026-11-01T15:00:00Z",
        "backup_due": "2026-11-15T15:00:00Z",
        "purge": [
            {"store": "blob", "key": "globex/invoices/1.pdf"},
            {"store": "db", "key": "globex/logs/2026-06-01"},
            {"store": "db", "key": "globex/orders/1"},
            {"store": "db", "key": "globex/orders/2"},
        ],
        "kept": [
            {"store": "blob", "key": "globex/templates/invoice.html", "reason": "shared"},
            {"store": "blob", "key": "globex/templates/logo.png", "reason": "shared"},
            {"store": "db", "key": "globex/audit/2026-09", "reason": "category-keep"},
            {"store": "db", "key": "globex/contracts/7", "reason": "object-hold"},
            {"store": "db", "key": "globex/logs/2026-09-28", "reason": "category-retain"},
        ],
    }
    assert expected == json.loads(result.stdout)


@pytest.mark.parametrize(
    ("tenant", "reason"),
    [("acme", "active"), ("initech", "not-due"), ("umbrella", "tenant-hold"), ("hooli", None)],
)
def test_each_example_tenant_has_its_reason(tenant: str, reason: str | None) -> None:
    """The bundled example covers active, not-due, held and erasure-requested tenants."""
    result = run(*plan_args(tenant, "--format", "json"))
    assert (0, reason) == (result.exit_code, json.loads(result.stdout)["reason"])


def test_text_output_is_a_summary() -> None:
    """The text format says eligibility, counts, dues and each object with its reason."""
    result = run(*plan_args("globex"))
    assert 0 == result.exit_code
    assert "tenant globex as of 2026-11-25T00:00:00Z: eligible: purge 4, keep 5" in result.stdout
    assert "keep  db/globex/contracts/7 (object-hold)" in result.stdout


@pytest.mark.parametrize("planner", ["a", "b"])
def test_single_planner_diagnosis_is_labelled(planner: str) -> None:
    """--planner a|b runs one planner alone and says it is not an agreed plan."""
    result = run(*plan_args("globex", "--planner", planner))
    assert (0, True) == (
        result.exit_code,
        result.stdout.startswith(f"DIAGNOSIS ONLY: planner {planner}"),
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a file for a bad-input case."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("inventory_text", "policy_text", "message_part"),
    [
        (
            '{"tenants": [{"id": "globex", "events": []}], "objects": [], "extra": 1}',
            None,
            "inventory.json: extra:",
        ),
        ('{"tenants": [], "objects": [}', None, "inventory.json: not valid JSON"),
        ('{"tenants": [], "tenants": [], "objects": []}', None, "duplicate key 'tenants'"),
        ('{"tenants": [], "objects": [], "x": NaN}', None, "NaN is not a JSON number"),
        ("[]", None, "top level must be a JSON object"),
        (None, 'timezone = "Mars/Base"\n', "policy.toml: timezone:"),
        (None, "timezone = \n", "policy.toml: not valid TOML"),
        (None, 'timezone = "UTC"\ngrace_days = 1.5\n', "policy.toml: grace_days:"),
    ],
)
def test_bad_files_exit_2_naming_file_and_field(
    tmp_path: Path, inventory_text: str | None, policy_text: str | None, message_part: str
) -> None:
    """Bad input exits 2 with one line on stderr naming the file and the field."""
    inventory = write(tmp_path, "inventory.json", inventory_text) if inventory_text else None
    policy = write(tmp_path, "policy.toml", policy_text) if policy_text else None
    result = run(*plan_args("globex", inventory=inventory, policy=policy))
    assert 2 == result.exit_code
    assert message_part in result.stderr
    assert 1 == len(result.stderr.strip().splitlines())
    assert "" == result.stdout


def test_not_utf8_exits_2(tmp_path: Path) -> None:
    """A file that is not UTF-8 is bad input naming the file."""
    inventory = tmp_path / "inventory.json"
    inventory.write_bytes(b'{"tenants": [], "objects": [], "x": "\xff"}')
    result = run(*plan_args("globex", inventory=inventory))
    assert (2, True) == (result.exit_code, "inventory.json: not UTF-8" in result.stderr)


@pytest.mark.parametrize(
    ("args", "part"),
    [(("--tenant", "nobody"), "--tenant: tenant:"), (("--as-of", "2026-11-25"), "--as-of: as_of:")],
)
def test_bad_arguments_exit_2(args: tuple[str, str], part: str) -> None:
    """An unknown tenant or a bad instant exits 2 naming the option."""
    base = plan_args("globex")
    flag, value = args
    base[base.index(flag) + 1] = value
    result = run(*base)
    assert (2, True) == (result.exit_code, part in result.stderr)


def test_missing_file_and_missing_option_exit_2(tmp_path: Path) -> None:
    """A missing file or a missing required option is a usage error, exit 2."""
    assert 2 == run(*plan_args("globex", inventory=tmp_path / "absent.json")).exit_code
    assert 2 == run("plan", "--tenant", "x").exit_code


def test_divergence_exits_3_with_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """A divergence exits 3, prints no plan, and puts the report on stderr."""
    original = deleter_a.plan

    def off_by_one(inventory: Any, policy: Any, tenant: str, as_of: str) -> dict[str, object]:
        return original(
            inventory, {**policy, "grace_days": policy.get("grace_days", 30) + 1}, tenant, as_of
        )

    monkeypatch.setattr(deleter_a, "plan", off_by_one)
    result = run(*plan_args("globex", "--format", "json"))
    assert (3, "") == (result.exit_code, result.stdout)
    error = json.loads(result.stderr)
    assert (3, "RefusedError") == (error["exit_code"], error["kind"])
    assert ["primary_due", "backup_due"] == [d["field"] for d in error["report"]["fields"]]
    text = run(*plan_args("globex"))
    assert (3, True) == (text.exit_code, text.stderr.startswith("REFUSED: planners diverge"))


def test_help_lists_examples_and_exit_codes() -> None:
    """--help shows examples and the exit codes."""
    result = run("plan", "--help")
    assert 0 == result.exit_code
    assert "Examples:" in result.stdout
    assert "3  divergence or refusal" in result.stdout


def installed_executable() -> str:
    """The ``twinpurge`` console script of the environment running the tests."""
    candidate = Path(sys.executable).parent / "twinpurge"
    found = str(candidate) if candidate.exists() else shutil.which("twinpurge")
    assert found, "the twinpurge executable is not installed in this environment"
    return found


def test_installed_executable_end_to_end() -> None:
    """The installed ``twinpurge`` executable plans the example and agrees with the runner."""
    completed = subprocess.run(
        [installed_executable(), *plan_args("globex", "--format", "json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert 0 == completed.returncode, completed.stderr
    assert json.loads(run(*plan_args("globex", "--format", "json")).stdout) == json.loads(
        completed.stdout
    )


def test_installed_executable_bad_input_exit_code(tmp_path: Path) -> None:
    """The installed executable exits 2 on bad input, with the message on stderr."""
    inventory = write(
        tmp_path,
        "inventory.json",
        '{"tenants": [{"id": "x", "events": [], "legalhold": true}], "objects": []}',
    )
    completed = subprocess.run(
        [installed_executable(), *plan_args("x", inventory=inventory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (2, True) == (completed.returncode, "tenants[0].legalhold" in completed.stderr)


def test_run_due_refuses_a_bad_shard_before_opening_anything(tmp_path: Path) -> None:
    """--shard 3/3: exit 2 with one line naming the option; no workspace is even read."""
    result = run("run-due", "--workspace", str(tmp_path), "--shard", "3/3")
    assert (2, 1) == (result.exit_code, len(result.stderr.strip().splitlines()))
    assert "--shard" in result.stderr
