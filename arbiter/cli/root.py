"""The ``twinpurge`` command: a thin shell over the ``arbiter`` API.

Exit codes (documented in ``twinpurge --help`` and the README):

- 0: success (an agreed plan).
- 1: an unexpected internal error (a bug; nothing is deleted).
- 2: bad input or usage; one line on stderr naming the file and field at fault.
- 3: divergence or refusal; the report on stderr.
- 4: the audit log (or a backup file) failed verification.
- 7: credentials missing, wrong, or of the other domain (``arbiter.auth.credentials``); nothing was
  read from the backup site and nothing was deleted.

Commands that can delete or overwrite primary data (``import``, ``run-due`` without
``--dry-run``, ``purge execute`` and ``purge restore``) load the primary credentials from the
file ``TWINPURGE_PRIMARY_CREDENTIALS`` names; ``twinpurge backup ...`` loads the backup ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import IntEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import click

from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV, load_primary_credentials
from arbiter.cli.backup import backup
from arbiter.cli.demo import BACKUP_CREDENTIALS, demo_config, demo_inventory, demo_times
from arbiter.cli.manual import operator, purge
from arbiter.core.arbitrate import arbitrate_files, default_planners, run_planner
from arbiter.core.config import LimitsConfig, WorkspaceConfig
from arbiter.core.errors import AuditError, CredentialError, InputError, RefusedError, UsageError
from arbiter.core.loading import load_inventory, load_policy
from arbiter.core.verdict import ObjectId, Verdict, verdict_to_json
from arbiter.purge.purger import FleetReport, PurgeOutcome, format_instant, utc_now
from arbiter.workspace.workspace import Workspace

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["ExitCode", "main"]


class ExitCode(IntEnum):
    """The command's exit codes."""

    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    REFUSED = 3
    AUDIT = 4
    CREDENTIALS = 7


class BadInputError(click.ClickException):
    """Bad input or usage: exit 2 with one line naming the file and field."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, error: InputError, *, source_names: dict[str, str] | None = None) -> None:
        """Build the one-line message from an ``InputError``."""
        where = error.file or (source_names or {}).get(error.source, error.source)
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
  0  success (an agreed plan; every due purge done)
  1  internal error (a bug; nothing deleted)
  2  bad input or usage (stderr names the file and field)
  3  divergence or refusal (the report is on stderr)
  4  the audit log failed verification (stderr names the first bad record)
  7  credentials missing, wrong, or of the other domain (nothing deleted)
"""


class AuditFailedError(click.ClickException):
    """The audit log does not verify: exit 4."""

    exit_code = ExitCode.AUDIT


def _epilog(*examples: str) -> str:
    lines = "".join(f"  {example}\n" for example in examples)
    return f"\b\nExamples:\n{lines}\n{EXIT_CODES_HELP}"


class MisuseError(click.ClickException):
    """The command was used in a way it does not support: exit 2."""

    exit_code = ExitCode.BAD_INPUT


class CredentialClickError(click.ClickException):
    """Credentials missing, wrong, or of the other domain: exit 7."""

    exit_code = ExitCode.CREDENTIALS


def _usage(error: UsageError) -> click.ClickException:
    return MisuseError(str(error))


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
def plan(
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


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)


def _say(output_format: str, data: dict[str, object], text: str) -> None:
    click.echo(json.dumps(data, sort_keys=True) if output_format == "json" else text)


WORKSPACE_OPTION = click.option(
    "--workspace",
    "workspace_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="The workspace directory (holding twinpurge.toml).",
)


def _open(workspace_dir: str, *, deleting: bool = False) -> Workspace:
    """Open a workspace; with ``deleting``, with the primary credentials from the environment."""
    try:
        credentials = load_primary_credentials() if deleting else None
        return Workspace.open(workspace_dir, credentials=credentials)
    except InputError as exc:
        raise BadInputError(exc) from exc
    except CredentialError as exc:
        raise CredentialClickError(str(exc)) from exc


@main.command(epilog=_epilog("twinpurge init ./tenants --timezone Asia/Tokyo"))
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--timezone", required=True, help="IANA time zone of the service (spec §3).")
@click.option("--grace-days", type=int, default=30, show_default=True)
@click.option("--backup-lag-days", type=int, default=14, show_default=True)
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False),
    help="Where to write the new primary credentials (mode 600)."
    "  [default: DIRECTORY/credentials/primary.toml]",
)
@FORMAT_OPTION
def init(
    directory: str,
    timezone: str,
    grace_days: int,
    backup_lag_days: int,
    credentials_out: str | None,
    output_format: str,
) -> None:
    """Create a workspace: twinpurge.toml, an empty embedded store, the primary credentials."""
    config = WorkspaceConfig(
        policy={"timezone": timezone, "grace_days": grace_days, "backup_lag_days": backup_lag_days},
        limits=LimitsConfig(),
    )
    secrets = Path(credentials_out or Path(directory) / "credentials" / "primary.toml")
    try:
        Workspace.create(directory, config, credentials_path=secrets).close()
    except InputError as exc:
        raise BadInputError(exc) from exc
    except UsageError as exc:
        raise _usage(exc) from exc
    except CredentialError as exc:
        raise CredentialClickError(str(exc)) from exc
    _say(
        output_format,
        {
            "workspace": directory,
            "config": f"{directory}/twinpurge.toml",
            "credentials": str(secrets),
        },
        f"created workspace {directory}; edit {directory}/twinpurge.toml"
        " to add categories, limits and alert sinks\n"
        f"primary credentials written to {secrets} (mode 600); give them to the primary purge"
        f" only: export {PRIMARY_ENV}={secrets.resolve()}",
    )


def _read_payloads(directory: Path, inventory: dict[str, object]) -> dict[ObjectId, bytes]:
    found: dict[ObjectId, bytes] = {}
    objects = inventory.get("objects")
    for obj in objects if isinstance(objects, list) else []:
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("store"), str)
            or not isinstance(obj.get("key"), str)
        ):
            continue
        identity = ObjectId(obj["store"], obj["key"])
        path = (directory / identity.store / identity.key).resolve()
        if path.is_relative_to(directory.resolve()) and path.is_file():
            found[identity] = path.read_bytes()
    return found


@main.command(
    "import",
    epilog=_epilog("twinpurge import --workspace ./tenants inventory.json --payloads ./payloads"),
)
@WORKSPACE_OPTION
@click.argument("inventory_path", type=click.Path(dir_okay=False))
@click.option(
    "--payloads",
    type=click.Path(file_okay=False, exists=True),
    help="Directory of payload files at STORE/KEY.",
)
@click.option(
    "--operator", default="operator", show_default=True, help="Who loads it, for the audit log."
)
@FORMAT_OPTION
def import_command(
    workspace_dir: str, inventory_path: str, payloads: str | None, operator: str, output_format: str
) -> None:
    """Load a portable inventory into the workspace's store, validated as planning validates."""
    with _open(workspace_dir, deleting=True) as workspace:
        try:
            inventory = load_inventory(inventory_path)
            data = _read_payloads(Path(payloads), inventory) if payloads else None
            count = workspace.import_inventory(inventory, data, actor=operator, file=inventory_path)
        except InputError as exc:
            raise BadInputError(exc) from exc
        except RefusedError as exc:
            raise RefusedClickError(exc, as_json=False) from exc
    _say(output_format, {"imported": count, "file": inventory_path}, f"imported {count} objects")


@main.command(
    "export",
    epilog=_epilog(
        "twinpurge export --workspace ./tenants > inventory.json",
        "twinpurge export --workspace ./tenants --out inventory.json",
    ),
)
@WORKSPACE_OPTION
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout."
)
def export_command(workspace_dir: str, out: str | None) -> None:
    """Write the workspace's store as a portable inventory (JSON)."""
    with _open(workspace_dir) as workspace:
        text = json.dumps(workspace.export_inventory(), indent=2, ensure_ascii=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


def _outcome_line(outcome: PurgeOutcome) -> str:
    kept = ", ".join(f"{n} {reason}" for reason, n in sorted(outcome.kept_by_reason.items()))
    line = f"{outcome.tenant:<12} {outcome.status:<13}"
    if outcome.status in {"executed", "dry-run"}:
        line += (
            f" purged {outcome.purged}"
            if outcome.status == "executed"
            else f" would purge {outcome.purged}"
        )
        line += f"; kept {kept}" if kept else ""
    else:
        line += f" {outcome.message}"
    if outcome.primary_due:
        line += f" (primary due {outcome.primary_due}, backup due {outcome.backup_due})"
    if outcome.report_path:
        line += f"\n{'':<13} report: {outcome.report_path}"
    return line


def _run_due(
    workspace: Workspace, as_of: str | None, *, dry_run: bool, output_format: str
) -> FleetReport:
    tenants = workspace.store.tenant_ids()
    show_bar = output_format == "text" and sys.stdout.isatty()
    with click.progressbar(
        length=len(tenants),
        label="tenants",
        file=sys.stderr if show_bar else None,
        hidden=not show_bar,
    ) as bar:
        report = workspace.run_due(as_of, dry_run=dry_run, progress=lambda _t: bar.update(1))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "as_of": report.as_of,
                    "counts": report.counts(),
                    "outcomes": [attrs_to_json(o) for o in report.outcomes],
                },
                sort_keys=True,
            )
        )
    else:
        for outcome in report.outcomes:
            click.echo(_outcome_line(outcome))
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
        click.echo(f"as of {report.as_of}: {counts}; {report.purged} objects purged")
    return report


def attrs_to_json(outcome: PurgeOutcome) -> dict[str, object]:
    """A purge outcome as plain data."""
    import attrs  # noqa: PLC0415 -- only the CLI's JSON output needs it here

    return attrs.asdict(outcome)


@main.command(
    "run-due",
    epilog=_epilog(
        "twinpurge run-due --workspace ./tenants --dry-run",
        "twinpurge run-due --workspace ./tenants --as-of 2026-11-25T00:00:00Z",
    ),
)
@WORKSPACE_OPTION
@click.option(
    "--as-of", "as_of", metavar="INSTANT", help="The instant of every verdict (default: now)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Plan and check every guard that can be checked before deleting; delete nothing.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def run_due(workspace_dir: str, as_of: str | None, dry_run: bool, output_format: str) -> None:
    """Purge every due tenant, each isolated; print a summary. Exit 3 if any tenant was refused."""
    with _open(workspace_dir, deleting=not dry_run) as workspace:
        report = _run_due(workspace, as_of, dry_run=dry_run, output_format=output_format)
    if any(o.status in {"refused", "failed"} for o in report.outcomes):
        raise SystemExit(ExitCode.REFUSED)


def _backup_step(phase: str, directory: str, now: datetime) -> None:
    """A backup step of the demo, in a child process holding only the backup credentials."""
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV}}
    if phase != "history":  # the history step creates the backup key
        env[BACKUP_ENV] = str((Path(directory) / BACKUP_CREDENTIALS).resolve())
    completed = subprocess.run(  # noqa: S603 -- our own interpreter and module, fixed arguments
        [sys.executable, "-m", "arbiter.cli.demo_step", phase, directory, format_instant(now)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    click.echo(completed.stdout.rstrip("\n"))
    if completed.returncode != 0:
        click.echo(completed.stderr.rstrip("\n"), err=True)
        raise SystemExit(completed.returncode)


@main.command(epilog=_epilog("twinpurge demo", "twinpurge demo ./my-demo"))
@click.argument("directory", type=click.Path(file_okay=False), default="twinpurge-demo")
def demo(directory: str) -> None:
    """Build a sample workspace in DIRECTORY; replay past purges and backups; run today's purges.

    This process holds the primary credentials only; the backup steps run in child processes
    holding only the backup key. History is replayed with the clock set to the replayed instant.
    """
    now = utc_now().replace(microsecond=0)
    times = demo_times(now)
    try:
        workspace = Workspace.create(directory, demo_config())
    except UsageError as exc:
        raise _usage(exc) from exc
    credentials = workspace.credentials
    with workspace:
        inventory, payloads = demo_inventory(now)
        count = workspace.import_inventory(inventory, payloads, actor="demo")
        click.echo(
            f"demo workspace {directory}: {len(inventory['tenants'])} tenants,"
            f" {count} objects (time zone Asia/Tokyo)"
        )
        click.echo(
            f"[primary] primary credentials in {credentials.source if credentials else '-'}"
            " (mode 600): this process holds them; the backup steps run in processes of their"
            " own that hold only the backup key"
        )
    _backup_step("history", directory, now)
    with Workspace.open(
        directory, clock=lambda: times.primary_due, credentials=credentials
    ) as past:
        click.echo(
            f"[primary] {format_instant(times.primary_due)} (replayed: globex's primary_due):"
            " the due purges, as the retention service ran them:"
        )
        _run_due(past, None, dry_run=False, output_format="text")
    _backup_step("today", directory, now)
    with Workspace.open(directory, credentials=credentials) as today:
        click.echo("[primary] today: running the due purges, as the retention service would:")
        report = _run_due(today, None, dry_run=False, output_format="text")
        records = today.verify_audit()
        click.echo(f"audit log verified: {records} records, chain intact")
    expected = {o.tenant for o in report.outcomes if o.guard == "blast-radius"} == {"wayne"}
    if expected:
        click.echo(
            "wayne was refused on purpose (8 objects over the automated limit of 6) and an alert"
            f" written to {directory}/reports; docs/operations.md purges it by hand, with two"
            " operators' approvals."
        )
    surprises = [
        o for o in report.outcomes if o.status in {"refused", "failed"} and o.tenant != "wayne"
    ]
    if surprises or not expected:
        raise SystemExit(ExitCode.REFUSED)


main.add_command(purge)
main.add_command(operator)
main.add_command(backup)


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command(
    "verify",
    epilog=_epilog("twinpurge audit verify --workspace ./tenants"),
)
@WORKSPACE_OPTION
@FORMAT_OPTION
def audit_verify(workspace_dir: str, output_format: str) -> None:
    """Check the audit log's hash chain against the head kept in the store."""
    with _open(workspace_dir) as workspace:
        try:
            records = workspace.verify_audit()
        except AuditError as exc:
            raise AuditFailedError(str(exc)) from exc
    _say(
        output_format,
        {"records": records, "intact": True},
        f"audit log verified: {records} records, chain intact",
    )
