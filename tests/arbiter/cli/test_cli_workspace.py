"""The workspace commands through click's runner and the installed executable."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from arbiter import cli
from arbiter.auth.credentials import PRIMARY_ENV
from tests.arbiter.cli.test_cli import installed_executable
from tests.builders import event, obj, tenant

if TYPE_CHECKING:
    from pathlib import Path

INVENTORY = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z")), tenant("u")],
    "objects": [obj("a"), obj("f.bin", store="blob"), obj("b", "u", refs=[("db", "a")]), obj("c")],
}


def run(*args: str) -> Any:
    """Invoke the command through click's runner."""
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialised workspace with INVENTORY and one blob payload imported.

    The primary credentials that ``init`` wrote are in the environment, as the primary purge's is.
    """
    directory = tmp_path / "ws"
    assert 0 == run("init", str(directory), "--timezone", "UTC").exit_code
    monkeypatch.setenv(PRIMARY_ENV, str(directory / "credentials" / "primary.toml"))
    (tmp_path / "inv.json").write_text(json.dumps(INVENTORY), encoding="utf-8")
    payloads = tmp_path / "payloads" / "blob"
    payloads.mkdir(parents=True)
    (payloads / "f.bin").write_bytes(b"blob bytes")
    result = run(
        "import",
        "--workspace",
        str(directory),
        str(tmp_path / "inv.json"),
        "--payloads",
        str(tmp_path / "payloads"),
    )
    assert (0, "imported 4 objects\n") == (result.exit_code, result.stdout)
    return directory


def test_run_due_purges_and_summarises(ws: Path) -> None:
    """run-due purges the due tenant, keeps the shared object, prints a summary."""
    result = run("run-due", "--workspace", str(ws), "--as-of", "2026-03-01T00:00:00Z")
    assert 0 == result.exit_code, result.output
    assert "t            executed      purged 2; kept 1 shared" in result.stdout
    assert (
        "as of 2026-03-01T00:00:00Z: 1 executed, 1 not-eligible; 2 objects purged" in result.stdout
    )
    assert not (ws / "blobs" / "blob" / "f.bin").exists()
    exported = json.loads(run("export", "--workspace", str(ws)).stdout)
    assert ["a", "b"] == sorted(o["key"] for o in exported["objects"])


def test_run_due_dry_run_and_json(ws: Path) -> None:
    """--dry-run --format json reports what would go and deletes nothing."""
    result = run(
        "run-due",
        "--workspace",
        str(ws),
        "--as-of",
        "2026-03-01T00:00:00Z",
        "--dry-run",
        "--format",
        "json",
    )
    data = json.loads(result.stdout)
    assert (0, {"dry-run": 1, "not-eligible": 1}) == (result.exit_code, data["counts"])
    assert 4 == len(json.loads(run("export", "--workspace", str(ws)).stdout)["objects"])


def test_audit_verify_passes_then_detects_tampering(ws: Path) -> None:
    """Audit verify: exit 0 on an intact log; exit 4 naming the first bad record after an edit."""
    run("run-due", "--workspace", str(ws), "--as-of", "2026-03-01T00:00:00Z")
    ok = run("audit", "verify", "--workspace", str(ws))
    assert 0 == ok.exit_code
    log = ws / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"t"', '"x"', 1)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = run("audit", "verify", "--workspace", str(ws))
    assert (4, True) == (bad.exit_code, "audit record 2" in bad.stderr)


def test_truncated_audit_log_fails_verification(ws: Path) -> None:
    """Removing the last record is caught by the head kept in the store."""
    log = ws / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(lines[:-1]), encoding="utf-8")
    assert 4 == run("audit", "verify", "--workspace", str(ws)).exit_code


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (
            '{"tenants": [{"id": "v", "events": [], "legalhold": true}], "objects": []}',
            "inv2.json: tenants[0].legalhold:",
        ),
        (
            (
                '{"tenants": [{"id": "v", "events": []}], "objects": [{"store": "blob", "key": "../x", "tenant": "v", '
                '"created_at": "2020-01-01T00:00:00Z"}]}'
            ),
            "inv2.json: objects[0].key:",
        ),
        (
            '{"tenants": [{"id": "v", "events": [{"kind": "cancelled", "at": "2026-01-01"}]}], "objects": []}',
            "tenants[0].events[0].at",
        ),
    ],
)
def test_bad_inventory_import_exits_2(ws: Path, tmp_path: Path, text: str, part: str) -> None:
    """A bad inventory file exits 2 with the file and field on stderr; nothing is loaded."""
    (tmp_path / "inv2.json").write_text(text, encoding="utf-8")
    result = run("import", "--workspace", str(ws), str(tmp_path / "inv2.json"))
    assert (2, True) == (result.exit_code, part in result.stderr)
    assert 4 == len(json.loads(run("export", "--workspace", str(ws)).stdout)["objects"])


def test_bad_config_exits_2_naming_the_field(ws: Path) -> None:
    """A typo in twinpurge.toml exits 2 naming the file and the field."""
    config = ws / "twinpurge.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("batch_size", "batchsize"), encoding="utf-8"
    )
    result = run("run-due", "--workspace", str(ws))
    assert (2, True) == (
        result.exit_code,
        "twinpurge.toml: limits.batchsize: unknown field" in result.stderr,
    )


def test_init_refuses_an_existing_workspace(ws: Path) -> None:
    """Init on an existing workspace exits 2 and changes nothing."""
    assert 2 == run("init", str(ws), "--timezone", "UTC").exit_code


def test_refusal_exits_3(ws: Path) -> None:
    """run-due exits 3 when any tenant is refused (here: a purge 'as of' the future)."""
    assert 3 == run("run-due", "--workspace", str(ws), "--as-of", "2999-01-01T00:00:00Z").exit_code


def test_demo_through_the_installed_executable(tmp_path: Path) -> None:
    """`twinpurge demo DIR` builds the sample fleet, purges the due tenants, verifies the log."""
    completed = subprocess.run(
        [installed_executable(), "demo", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert 0 == completed.returncode, completed.stderr
    out = completed.stdout
    assert (
        "globex       executed      purged 5; kept 1 category-keep, 1 category-retain, 1 object-hold, 2 shared"
        in out
    )
    assert "hooli        executed      purged 2" in out
    assert "initech      not-eligible  not eligible: not-due" in out
    assert "umbrella     not-eligible  not eligible: tenant-hold" in out
    assert "acme         not-eligible  not eligible: active" in out
    assert "audit log verified" in out
    verify = subprocess.run(
        [installed_executable(), "audit", "verify", "--workspace", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert 0 == verify.returncode


def test_run_due_is_quiet_when_not_a_terminal(ws: Path) -> None:
    """No progress bar when stdout is not a terminal: stderr stays empty."""
    result = run("run-due", "--workspace", str(ws), "--as-of", "2026-03-01T00:00:00Z")
    assert "" == result.stderr
