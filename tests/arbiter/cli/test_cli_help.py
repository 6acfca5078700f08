"""Every command documents itself: examples, exit codes, and a JSON format for machines."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from arbiter import cli


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
