"""The docs stay true: cited spec sections exist, README and docs/api.md examples run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.arbiter.cli.test_cli import installed_executable

ROOT = Path(__file__).resolve().parents[2]


def spec_sections() -> set[str]:
    """The section numbers docs/spec.md defines: its headings, and the numbered rules within them.

    ``§4.4`` is a heading; ``§4.4.10`` is rule 10 of §4.4's own numbered list; ``§5.1`` is rule 1
    of §5. A rule counts only where its section's own text (before the next heading) numbers it.
    """
    defined: set[str] = set()
    section = ""
    for line in (ROOT / "docs" / "spec.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{2,3} §(\d+(?:\.\d+)?)\b", line)
        if heading:
            section = heading.group(1)
            defined.add(section)
            continue
        rule = re.match(r"^(\d+)\. ", line)
        if rule and section:
            defined.add(f"{section}.{rule.group(1)}")
    return defined


def cited_sections() -> dict[str, set[str]]:
    """Every ``§N`` cited in the code, the tests and the docs, with the files citing it."""
    cited: dict[str, set[str]] = {}
    for path in [
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("deleter_*/**/*.py"),
        *ROOT.glob("arbiter/**/*.py"),
        *ROOT.glob("docs/*.md"),
        ROOT / "README.md",
    ]:
        for number in re.findall(r"§(\d+(?:\.\d+)*)", path.read_text(encoding="utf-8")):
            cited.setdefault(number, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_spec_sections_are_read_exactly() -> None:
    """Headings and numbered rules are sections; a rule number a section does not have is not."""
    defined = spec_sections()
    assert {"4.4", "4.4.1", "4.4.14", "5.1", "5.3", "7.5", "13"} <= defined
    assert not {"4.4.15", "5.4", "7.9", "14"} & defined


def test_every_cited_spec_section_exists() -> None:
    """Every §N cited in code, tests and docs names a heading or a numbered rule of docs/spec.md."""
    cited = cited_sections()
    assert any(
        path.startswith("arbiter/") and "/" in path[8:] for p in cited.values() for path in p
    )
    missing = {n: sorted(paths) for n, paths in cited.items() if n not in spec_sections()}
    assert {} == missing


def readme_command(prefix: str) -> str:
    """The README's shell command that starts with ``prefix``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands: list[str] = [
        line
        for line in re.findall(r"```sh\n(.*?)\n```", text, flags=re.DOTALL)
        if line.startswith(prefix)
    ]
    assert 1 == len(commands), commands
    return commands[0]


def test_readme_main_job_runs(tmp_path: Path) -> None:
    """The README's first command runs the demo (the install part is tox's job)."""
    install, _, main_job = readme_command("python3 -m pip install . && ").partition(" && ")
    assert "python3 -m pip install ." == install
    argv = shlex.split(main_job)
    assert "twinpurge" == argv[0]
    completed = subprocess.run(
        [installed_executable(), *argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=300,
    )
    assert 0 == completed.returncode, completed.stderr
    assert "globex       executed      purged 5" in completed.stdout
    assert (tmp_path / "twinpurge-demo" / "twinpurge.toml").is_file()


def test_readme_test_command_is_what_ci_runs() -> None:
    """.ci/run runs exactly the README's test command."""
    command = readme_command("python3 -m pip install tox")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [part.strip() for part in command.split("&&")] == [
        line.strip() for line in ci.splitlines() if line.startswith("python3 -m")
    ]


def python_blocks(doc: Path) -> list[str]:
    """The ```python blocks of a Markdown file."""
    return re.findall(r"```python\n(.*?)\n```", doc.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_python_examples_in_docs_run(tmp_path: Path) -> None:
    """Every Python block in README.md and docs/api.md runs without error (in a private TMPDIR)."""
    blocks = python_blocks(ROOT / "README.md") + python_blocks(ROOT / "docs" / "api.md")
    assert blocks
    # The blocks share files through tempfile.gettempdir(); a private one keeps parallel runs apart.
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    for block in blocks:
        completed = subprocess.run(
            [sys.executable, "-c", block],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env=environment,
            timeout=120,
        )
        assert 0 == completed.returncode, (block, completed.stderr)
