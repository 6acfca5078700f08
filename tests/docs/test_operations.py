"""docs/operations.md is a working runbook: its shell blocks run, in order, as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.arbiter.cli.test_cli import installed_executable

ROOT = Path(__file__).resolve().parents[2]


def runbook() -> str:
    """Every ```sh block of docs/operations.md, in order, as one script."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", text, flags=re.DOTALL)
    assert len(blocks) >= 5, "the runbook lost its procedures"
    return "\n".join(blocks)


def test_operations_manual_runs_end_to_end(tmp_path: Path) -> None:
    """The manual purge, restore and backup procedures work as written, with two operators."""
    script = "set -euxo pipefail\n" + runbook()
    env = {
        **os.environ,
        "PATH": f"{Path(installed_executable()).parent}{os.pathsep}{os.environ['PATH']}",
    }
    completed = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert 0 == completed.returncode, completed.stderr[-4000:]
    out = completed.stdout
    assert "wayne        refused       guard blast-radius" in out
    assert "purged 8; restore archive" in out
    assert "restored 8 objects" in out
    assert "audit log verified" in out
    assert "globex       executed      deleted 1 generation (backup due" in out  # the demo's
    assert "restored 2 objects of tenant hooli" in out
    assert "hooli        executed      purged 2" in out.split("restored 2 objects")[1]
    assert "backup site verified" in out
    after = (tmp_path / "ops-after.json").read_text(encoding="utf-8")
    assert 8 == after.count('"tenant": "wayne"')  # every wayne object is back
    assert 0o600 == (tmp_path / "keys" / "alice.key").stat().st_mode & 0o777
