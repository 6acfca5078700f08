"""Every command documents itself: examples, exit codes, and a JSON format for machines."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from arbiter import cli
from arbiter.cli.exits import ALWAYS, MEANINGS, ExitCode
from arbiter.cli.output import WORKSPACE_ENV, Command


def leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The command paths of every leaf command under ``group``."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaves(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = leaves(cli.main)
# export always writes JSON; demo is for people reading it.
NO_FORMAT = {("export",), ("demo",)}


def test_the_command_set() -> None:
    """The CLI offers at least the documented commands."""
    expected = {
        ("plan",),
        ("init",),
        ("import",),
        ("export",),
        ("run-due",),
        ("demo",),
        ("audit", "verify"),
        ("purge", "plan"),
        ("purge", "approve"),
        ("purge", "execute"),
        ("purge", "restore"),
        ("purge", "status"),
        ("operator", "keygen"),
    }
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_has_examples_exit_codes_and_json(path: tuple[str, ...]) -> None:
    """--help shows examples and exit codes; commands with output offer --format json."""
    result = CliRunner().invoke(cli.main, [*path, "--help"])
    assert 0 == result.exit_code
    assert "Examples:" in result.stdout
    assert "Exit codes:" in result.stdout
    assert ("--format" in result.stdout) == (path not in NO_FORMAT)


def command_at(path: tuple[str, ...]) -> click.Command:
    """The command object at ``path`` under the main group."""
    found: click.Command = cli.main
    for name in path:
        assert isinstance(found, click.Group)
        found = found.commands[name]
    return found


def listed_codes(help_text: str) -> set[int]:
    """The exit codes a help text lists under "Exit codes:"."""
    section = help_text.split("Exit codes:", 1)[1]
    return {int(m) for m in re.findall(r"^ +(\d)  ", section, flags=re.MULTILINE)}


def test_top_level_help_lists_every_exit_code() -> None:
    """`twinpurge --help` lists every ExitCode, each with its meaning."""
    result = CliRunner().invoke(cli.main, ["--help"])
    assert 0 == result.exit_code
    assert {int(code) for code in ExitCode} == listed_codes(result.stdout)
    for code in ExitCode:
        assert f"{code.value} {MEANINGS[code]}" in " ".join(result.stdout.split())


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_lists_exactly_the_declared_exit_codes(path: tuple[str, ...]) -> None:
    """Each command's help lists exactly the exit codes it declares, and at least 0, 1 and 2."""
    command = command_at(path)
    assert isinstance(command, Command)
    result = CliRunner().invoke(cli.main, [*path, "--help"])
    assert {int(c) for c in command.exit_codes} == listed_codes(result.stdout)
    assert ALWAYS <= command.exit_codes


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_workspace_option_names_its_variable(path: tuple[str, ...]) -> None:
    """Every --workspace option defaults to TWINPURGE_WORKSPACE, and its help says so."""
    options = [p for p in command_at(path).params if "--workspace" in getattr(p, "opts", [])]
    for option in options:
        assert isinstance(option, click.Option)
        assert (WORKSPACE_ENV, True) == (option.envvar, option.show_envvar)
    result = CliRunner().invoke(cli.main, [*path, "--help"])
    assert bool(options) == (f"env var: {WORKSPACE_ENV}" in " ".join(result.stdout.split()))


def test_readme_exit_code_table_has_every_code() -> None:
    """The README's exit-code table lists exactly the ExitCode members."""
    root = Path(__file__).resolve().parents[3]
    text = (root / "README.md").read_text(encoding="utf-8")
    table = text.split("| exit code | meaning |", 1)[1].split("\n\n", 1)[0]
    assert {int(c) for c in ExitCode} == {
        int(m) for m in re.findall(r"^\| (\d) \|", table, re.MULTILINE)
    }
