"""The ``twinpurge`` command: a thin shell over the ``arbiter`` API.

Exit codes (documented in ``twinpurge --help`` and the README):

- 0: success (an agreed plan).
- 1: an unexpected internal error (a bug; nothing is deleted).
- 2: bad input or usage; one line on stderr naming the file and field at fault.
- 3: divergence or refusal; the report on stderr.
"""

from __future__ import annotations

import json
import sys
from enum import IntEnum
from typing import IO, Any, Literal

import click

from arbiter._arbiter import arbitrate_files, default_planners, run_planner
from arbiter._errors import InputError, RefusedError
from arbiter._loading import load_inventory, load_policy
from arbiter._verdict import Verdict, verdict_to_json

__all__ = ["ExitCode", "main"]


class ExitCode(IntEnum):
    """The command's exit codes."""

    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    REFUSED = 3


class BadInputError(click.ClickException):
    """Bad input or usage: exit 2 with one line naming the file and field."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, error: InputError, *, source_names: dict[str, str]) -> None:
        """Build the one-line message from an ``InputError``."""
        where = error.file or source_names.get(error.source, error.source)
        field = f": {error.field}" if error.field else ""
        super().__init__(f"{where}{field}: {error.message}")


class RefusedClickError(click.ClickException):
    """Divergence or refusal: exit 3 with the report on stderr."""

    exit_code = ExitCode.REFUSED

    def __init__(self, error: RefusedError, *, as_json: bool) -> None:
        """Keep the report; render it as text or JSON."""
        self.report = error.report
        self.as_json = as_json
        super().__init__(error.report.summary())

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the full report on stderr."""
        out = file if file is not None else sys.stderr
        if self.as_json:
            click.echo(json.dumps({"refused": self.report.to_json()}, sort_keys=True), file=out)
        else:
            click.echo(self.report.render(), file=out)


EXIT_CODES_HELP = """\b
Exit codes:
  0  agreed plan
  1  internal error (a bug; nothing deleted)
  2  bad input or usage (stderr names the file and field)
  3  divergence or refusal (the report is on stderr)
"""


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(package_name="twinpurge")
def main() -> None:
    """twinpurge: tenant data deletion that two independent planners must agree on."""


def _render_text(verdict: Verdict, *, diagnosis: str | None) -> str:
    lines = []
    if diagnosis:
        lines.append(f"DIAGNOSIS ONLY: planner {diagnosis} alone; this is not an agreed plan.")
    if verdict.eligible:
        state = f"eligible: purge {len(verdict.purge)}, keep {len(verdict.kept)}"
    else:
        state = f"not eligible ({verdict.reason})"
    lines.append(f"tenant {verdict.tenant} as of {verdict.as_of}: {state}")
    if verdict.primary_due is not None:
        lines.append(f"primary due {verdict.primary_due}, backup due {verdict.backup_due}")
    if verdict.eligible:
        reasons: dict[str, int] = {}
        for kept in verdict.kept:
            reasons[kept.reason] = reasons.get(kept.reason, 0) + 1
        if reasons:
            lines.append(
                "kept: " + ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            )
        lines += [f"  purge {o.store}/{o.key}" for o in verdict.purge]
        lines += [f"  keep  {k.store}/{k.key} ({k.reason})" for k in verdict.kept]
    return "\n".join(lines)


PLAN_EPILOG = (
    """\b
Examples:
  twinpurge plan --inventory examples/inventory.json --policy examples/policy.toml \\
      --tenant globex --as-of 2026-11-25T00:00:00Z
  twinpurge plan ... --format json          # one JSON object on stdout
  twinpurge plan ... --planner a            # planner A alone, for diagnosis

"""
    + EXIT_CODES_HELP
)


@main.command(epilog=PLAN_EPILOG)
@click.option(
    "--inventory",
    "inventory_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Portable inventory, a JSON file (docs/spec.md §4.1).",
)
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Retention policy, a TOML file (docs/spec.md §4.2).",
)
@click.option("--tenant", required=True, help="The tenant id.")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    metavar="INSTANT",
    help="RFC 3339 instant with offset, e.g. 2026-11-25T00:00:00Z.",
)
@click.option(
    "--planner",
    type=click.Choice(["both", "a", "b"]),
    default="both",
    show_default=True,
    help="'both' goes through the arbiter; 'a' or 'b' runs one planner alone, for diagnosis.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def plan(  # noqa: PLR0913, PLR0917 -- click passes one parameter per documented option
    inventory_path: str,
    policy_path: str,
    tenant: str,
    as_of: str,
    planner: Literal["both", "a", "b"],
    output_format: Literal["text", "json"],
) -> None:
    """Compute the tenant's verdict: is it due, what to purge, what to keep and why."""
    names = {"tenant": "--tenant", "as_of": "--as-of"}
    try:
        if planner == "both":
            verdict = arbitrate_files(inventory_path, policy_path, tenant, as_of).verdict
        else:
            chosen = {p.name: p for p in default_planners()}[planner]
            inventory = load_inventory(inventory_path)
            policy = load_policy(policy_path)
            files = {"inventory": inventory_path, "policy": policy_path}
            try:
                verdict = run_planner(chosen, inventory, policy, tenant, as_of)
            except InputError as exc:
                raise exc.with_file(files.get(exc.source)) from None
    except InputError as exc:
        raise BadInputError(exc, source_names=names) from exc
    except RefusedError as exc:
        raise RefusedClickError(exc, as_json=output_format == "json") from exc
    if output_format == "json":
        click.echo(json.dumps(verdict_to_json(verdict), ensure_ascii=False))
    else:
        click.echo(_render_text(verdict, diagnosis=None if planner == "both" else planner))
