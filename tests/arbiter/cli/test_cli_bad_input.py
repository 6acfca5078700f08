"""Bad input before any work, and no traceback ever reaching a user (issue 10)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter import cli
from arbiter.alerts.crash import report_crash
from arbiter.auth.credentials import PRIMARY_ENV
from arbiter.core.loading import MAX_DEPTH
from arbiter.workspace.workspace import Workspace
from tests.arbiter.cli.test_cli import installed_executable, plan_args, write
from tests.arbiter.cli.test_cli_workspace import INVENTORY
from tests.builders import obj, tenant

if TYPE_CHECKING:
    from pathlib import Path

# The shape of spec §2.1 written independently of arbiter.core.loading: a string that does not
# have it is malformed whatever its digits say.
_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


# Malformed by construction: the right shape with a field out of its range, or not the shape.
MALFORMED = st.one_of(
    st.text(max_size=40).filter(lambda s: _SHAPE.fullmatch(s) is None),
    _two(13, 99).map(lambda m: f"2026-{m}-01T00:00:00Z"),
    _two(32, 99).map(lambda d: f"2026-01-{d}T00:00:00Z"),
    _two(24, 99).map(lambda h: f"2026-01-01T{h}:00:00Z"),
    _two(60, 99).map(lambda s: f"2026-01-01T00:00:{s}Z"),
    st.integers(1000, 1969).map(lambda y: f"{y}-06-01T00:00:00Z"),
    st.integers(9001, 9999).map(lambda y: f"{y}-06-01T00:00:00Z"),
    st.sampled_from(
        [
            "",
            "yesterday",
            "2026-11-25T00:00:00",
            "2026-11-25T00:00:00-00:00",
            "2026-11-25 00:00:00Z",
            "2026-11-25T00:00:00.1234567Z",
            "2026-02-29T00:00:00Z",
            "2026-11-25T00:00:00+24:00",
            "2026-11-25T00:00:00Z\n",
        ]
    ),
)


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    """Invoke the command through click's runner, stdout and stderr kept apart."""
    return CliRunner(env=env).invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace holding INVENTORY, its primary credentials in the environment."""
    directory = tmp_path / "ws"
    assert 0 == run("init", str(directory), "--timezone", "UTC").exit_code
    monkeypatch.setenv(PRIMARY_ENV, str(directory / "credentials" / "primary.toml"))
    (tmp_path / "inv.json").write_text(json.dumps(INVENTORY), encoding="utf-8")
    assert 0 == run("import", "--workspace", str(directory), str(tmp_path / "inv.json")).exit_code
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file of the workspace but the store: audit log, alert log, report files..."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and ".sqlite3" not in p.name
    }


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(as_of=MALFORMED, dry_run=st.booleans())
def test_a_malformed_as_of_exits_2_and_leaves_audit_and_alerts_alone(
    ws: Path,
    as_of: str,
    dry_run: bool,  # noqa: FBT001 -- drawn by hypothesis, passed by keyword
) -> None:
    """run-due with a malformed --as-of, dry or not: exit 2, audit log and alert sinks unchanged."""
    before = snapshot(ws)
    args = ["run-due", "--workspace", str(ws), f"--as-of={as_of}"]
    result = run(*args, *(["--dry-run"] if dry_run else []))
    assert (2, 1, "") == (result.exit_code, len(result.stderr.splitlines()), result.stdout)
    assert result.stderr.startswith("Error: --as-of: ")
    assert before == snapshot(ws)


@pytest.mark.parametrize(
    "command",
    [
        ("run-due", "--dry-run"),
        ("purge", "plan", "--tenant", "t", "--out", "plan.json", "--operator", "alice"),
        ("backup", "purge", "--dry-run"),
    ],
)
def test_every_workspace_command_with_as_of_checks_it_first(
    ws: Path, command: tuple[str, ...]
) -> None:
    """Every command taking --as-of: a bad one is one JSON error naming it, nothing written."""
    before = snapshot(ws)
    result = run(
        *command, "--workspace", str(ws), "--as-of", "2026-13-01T00:00:00Z", "--format=json"
    )
    error = json.loads(result.stderr)
    assert (2, "InputError", "--as-of", "as_of") == (
        result.exit_code,
        error["kind"],
        error["file"],
        error["source"],
    )
    assert before == snapshot(ws)


@pytest.mark.parametrize("as_of", ["", "yesterday", "2026-11-25T00:00:00"])
def test_plan_refuses_a_bad_as_of_naming_the_option(as_of: str) -> None:
    """Plan with an empty or malformed --as-of: exit 2, one line naming --as-of."""
    args = plan_args("globex")
    args[args.index("--as-of") + 1] = as_of
    result = run(*args)
    assert (2, ["--as-of"]) == (
        result.exit_code,
        [line.split(": ")[1] for line in result.stderr.splitlines()],
    )


def test_installed_executable_bad_as_of_pages_nobody(ws: Path) -> None:
    """`twinpurge run-due --as-of yesterday`: exit 2, one line, no alert, no report file."""
    before = snapshot(ws)
    completed = subprocess.run(
        [installed_executable(), "run-due", "--workspace", str(ws), "--as-of", "yesterday"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (2, 1, "") == (
        completed.returncode,
        len(completed.stderr.splitlines()),
        completed.stdout,
    )
    assert before == snapshot(ws)
    assert not (ws / "reports").exists() or not list((ws / "reports").iterdir())


def nested(depth: int) -> str:
    """An inventory whose first object nests ``depth`` levels in all (arrays in its refs)."""
    inner = "[" * (depth - 4) + "]" * (depth - 4)
    return f'{{"tenants": [], "objects": [{{"refs": [{inner}]}}]}}'


@pytest.mark.parametrize("how", ["import", "plan"])
def test_a_hundred_thousand_nested_arrays_exit_2_through_the_executable(
    ws: Path, tmp_path: Path, how: str
) -> None:
    """100,000 nested arrays: exit 2, one line naming the file and where, never a traceback."""
    inventory = write(tmp_path, "deep.json", nested(100_000))
    args = (
        ["import", "--workspace", str(ws), str(inventory)]
        if how == "import"
        else plan_args("globex", inventory=inventory)
    )
    completed = subprocess.run(
        [installed_executable(), *args], capture_output=True, text=True, check=False, timeout=120
    )
    # The 65th level is the 61st bracket of the refs' content, which starts at column 39.
    assert (2, [f"Error: {inventory}: line 1 column 99: nested deeper than 64 levels"]) == (
        completed.returncode,
        [line.split(" of arrays")[0] for line in completed.stderr.splitlines()],
    )


@pytest.mark.parametrize(("depth", "code"), [(MAX_DEPTH, 0), (MAX_DEPTH + 1, 2)])
def test_the_nesting_limit_is_exact(ws: Path, tmp_path: Path, depth: int, code: int) -> None:
    """Nesting up to the limit reaches the planners (refused for the content); one more is exit 2."""
    inventory = write(tmp_path, "deep.json", nested(depth))
    result = run("import", "--workspace", str(ws), str(inventory), "--format=json")
    error = json.loads(result.stderr)
    assert (2, code == 2) == (result.exit_code, "nested deeper" in error["message"])


def test_an_imported_duplicate_is_named_at_its_place_in_the_file(ws: Path, tmp_path: Path) -> None:
    """A one-object import file duplicating a stored object: the error names objects[0]."""
    inventory = write(
        tmp_path, "one.json", json.dumps({"tenants": [tenant("v")], "objects": [obj("a", "v")]})
    )
    result = run("import", "--workspace", str(ws), str(inventory), "--format", "json")
    error = json.loads(result.stderr)
    assert (2, str(inventory), "objects[0]", "duplicate") == (
        result.exit_code,
        error["file"],
        error["field"],
        error["message"].split()[0],
    )


def _unreadable_store(ws: Path) -> None:
    """A real failure from outside: the store file is not a SQLite database."""
    (ws / "primary.sqlite3").write_bytes(b"not a database, just bytes" * 100)


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_an_unexpected_error_is_one_line_a_crash_report_and_an_alert(
    ws: Path, output_format: str
) -> None:
    """A store that is not SQLite: exit 1, one line naming the crash report, a crash alert."""
    _unreadable_store(ws)
    completed = subprocess.run(
        [
            installed_executable(),
            "audit",
            "verify",
            "--workspace",
            str(ws),
            f"--format={output_format}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    reports = list((ws / "crash-reports").iterdir())
    assert (1, 1, "", False, 1) == (
        completed.returncode,
        len(completed.stderr.splitlines()),
        completed.stdout,
        "Traceback" in completed.stderr,
        len(reports),
    )
    line = completed.stderr.strip()
    named = json.loads(line)["crash_report"] if output_format == "json" else line.split(": ")[-1]
    assert str(reports[0]) == named
    text = reports[0].read_text(encoding="utf-8")
    assert (True, True) == (
        "Traceback (most recent call last)" in text,
        "sqlite3.DatabaseError: file is not a database" in text,
    )
    alerts = [json.loads(x) for x in (ws / "alerts.jsonl").read_text("utf-8").splitlines()]
    assert [("crash", str(reports[0]))] == [(a["kind"], a["details"]["report"]) for a in alerts]


def test_a_bug_without_a_workspace_reports_to_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash in a command with no workspace: the report goes to the temp dir; one line."""

    def broken(*_args: object, **_kwargs: object) -> Workspace:
        message = "boom\nsecond line"
        raise RuntimeError(message)

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(Workspace, "create", broken)
    result = run("init", str(tmp_path / "new"), "--timezone", "UTC")
    reports = list((tmp_path / "twinpurge-crash-reports").iterdir())
    assert (1, 1, 1) == (result.exit_code, len(result.stderr.splitlines()), len(reports))
    assert "boom second line" in result.stderr
    assert "RuntimeError: boom" in reports[0].read_text(encoding="utf-8")


def test_crash_reports_redact_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Arguments named like secrets, and URL user-info, never reach the crash report."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    try:
        raise RuntimeError("boom")  # noqa: TRY301 -- a real traceback to report
    except RuntimeError as exc:
        crash = report_crash(
            exc,
            command="twinpurge x",
            arguments={"key_file": "s3cr3t-path", "hook": "https://user:pw@example.test/h"},
        )
    assert crash.path is not None
    text = crash.path.read_text(encoding="utf-8")
    assert (False, False, True) == ("s3cr3t" in text, "user:pw" in text, "<redacted>@" in text)
