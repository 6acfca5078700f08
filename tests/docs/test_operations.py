"""docs/operations.md is a working runbook: its shell blocks run, in order, as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click

from arbiter.cli.root import main, run_due
from arbiter.purge.shard import Shard, parse_shard
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


def test_the_cronjob_covers_every_share_once(tmp_path: Path) -> None:
    """Section 8's CronJob: its N indexed workers run ``run-due --shard K/N`` for K = 0..N-1."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    (manifest,) = re.findall(r"```yaml\n(.*?)\n```", text, flags=re.DOTALL)
    completions = int(re.findall(r"^\s+completions: (\d+)$", manifest, flags=re.MULTILINE)[0])
    parallelism = int(re.findall(r"^\s+parallelism: (\d+)$", manifest, flags=re.MULTILINE)[0])
    (command,) = re.findall(r'command: \["sh", "-c", "(.*)"\]', manifest)
    shares = []
    for index in range(completions):
        # The volume's mount point stands for a directory that exists here.
        line = command.replace("$JOB_COMPLETION_INDEX", str(index))
        argv = shlex.split(line.replace(" /workspace ", f" {tmp_path} "))
        assert ["twinpurge", "run-due"] == argv[:2]
        assert run_due is main.get_command(click.Context(main), "run-due")
        parsed = run_due.make_context("run-due", argv[2:])
        shares.append(parse_shard(parsed.params["shard_text"], field="--shard"))
    assert completions == parallelism
    assert [Shard(k, completions) for k in range(completions)] == shares
