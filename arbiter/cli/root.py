"""The ``twinpurge`` command: a thin shell over the ``arbiter`` API.

1. The exit codes are ``arbiter.cli.exits.ExitCode``; ``twinpurge --help`` lists them all and
   each command's help lists exactly the ones it declares (``arbiter.cli.output.Command``).
2. Library errors are mapped to exit codes in one place (``arbiter.cli.exits.exit_code_for``);
   under ``--format json`` a failure is a JSON object on stderr (``arbiter.cli.output``).
3. Commands that can delete or overwrite primary data (``import``, ``run-due`` without
   ``--dry-run``, ``purge execute`` and ``purge restore``) load the primary credentials from the
   file ``TWINPURGE_PRIMARY_CREDENTIALS`` names; ``twinpurge backup ...`` loads the backup ones.
   On a PostgreSQL workspace every primary command loads them, read-only ones included: each
   opens its workspace through ``arbiter.cli.opening.open_workspace``.
4. ``--workspace`` defaults to ``TWINPURGE_WORKSPACE``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs
import click

from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV
from arbiter.cli.backup import backup
from arbiter.cli.demo import BACKUP_CREDENTIALS, choose_replay, demo_config, demo_inventory
from arbiter.cli.exits import STORE_EXITS, ExitCode, exit_codes_help
from arbiter.cli.manual import operator, purge
from arbiter.cli.opening import open_workspace
from arbiter.cli.output import (
    FORMAT_OPTION,
    WORKSPACE_OPTION,
    Group,
    emit,
    refused_tenants,
)
from arbiter.cli.recover import recover_command
from arbiter.cli.safemode import safe_mode
from arbiter.core.arbitrate import arbitrate_files, default_planners, run_planner
from arbiter.core.config import LimitsConfig, StoreConfig, WorkspaceConfig
from arbiter.core.errors import InputError, UsageError
from arbiter.core.instants import format_instant, utc_now
from arbiter.core.loading import load_inventory, load_policy
from arbiter.core.verdict import Verdict, verdict_to_json
from arbiter.purge.shard import Shard, parse_shard
from arbiter.workspace.workspace import Workspace

if TYPE_CHECKING:
    from arbiter.purge.purger import FleetReport, PurgeOutcome

__all__ = ["ExitCode", "main"]

BAD_INPUT, REFUSED, VERIFICATION, CREDENTIALS = (
    ExitCode.BAD_INPUT,
    ExitCode.REFUSED,
    ExitCode.VERIFICATION,
    ExitCode.CREDENTIALS,
)


@click.group(cls=Group, epilog=exit_codes_help())
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


@main.command(
    exits=(REFUSED,),
    examples=(
        "twinpurge plan --inventory examples/inventory.json --policy examples/policy.toml \\",
        "    --tenant globex --as-of 2026-11-25T00:00:00Z",
        "twinpurge plan ... --format json          # one JSON object on stdout",
        "twinpurge plan ... --planner a            # planner A alone, for diagnosis",
    ),
)
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
@FORMAT_OPTION
def plan(
    inventory_path: str,
    policy_path: str,
    tenant: str,
    as_of: str,
    planner: Literal["both", "a", "b"],
    output_format: Literal["text", "json"],
) -> None:
    """Compute the tenant's verdict: is it due, what to purge, what to keep and why."""
    # Bad arguments name the option they came from; bad files name the file.
    sources = {
        "tenant": "--tenant",
        "as_of": "--as-of",
        "inventory": inventory_path,
        "policy": policy_path,
    }
    try:
        if planner == "both":
            verdict = arbitrate_files(inventory_path, policy_path, tenant, as_of).verdict
        else:
            chosen = {p.name: p for p in default_planners()}[planner]
            inventory = load_inventory(inventory_path)
            policy = load_policy(policy_path)
            verdict = run_planner(chosen, inventory, policy, tenant, as_of)
    except InputError as exc:
        raise exc.with_file(sources.get(exc.source)) from None
    if output_format == "json":
        click.echo(json.dumps(verdict_to_json(verdict), ensure_ascii=False))
    else:
        click.echo(_render_text(verdict, diagnosis=None if planner == "both" else planner))


@main.command(
    exits=(CREDENTIALS, *STORE_EXITS),
    examples=(
        "twinpurge init ./tenants --timezone Asia/Tokyo",
        (
            "PGPASSWORD=... twinpurge init ./tenants --timezone Asia/Tokyo"
            " --store postgresql://db.internal:5432/tenants"
            " --admin-url postgresql://postgres@db.internal:5432/tenants"
        ),
    ),
)
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
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="A PostgreSQL store, postgresql://host:port/database, without user or password"
    " (default: an embedded SQLite store).",
)
@click.option(
    "--admin-url",
    metavar="URL",
    envvar="TWINPURGE_STORE_ADMIN_URL",
    help="With --store: a superuser URL that creates the schemas and roles, once; its password"
    " from PGPASSWORD or ~/.pgpass. Never written anywhere.  [env: TWINPURGE_STORE_ADMIN_URL]",
)
@FORMAT_OPTION
def init(
    directory: str,
    timezone: str,
    grace_days: int,
    backup_lag_days: int,
    credentials_out: str | None,
    store_url: str | None,
    admin_url: str | None,
    output_format: str,
) -> None:
    """Create a workspace: twinpurge.toml, an empty store (SQLite, or PostgreSQL), credentials."""
    try:
        store = StoreConfig(url=store_url)
    except ValueError as exc:
        raise InputError(source="arguments", field="--store", message=str(exc)) from None
    config = WorkspaceConfig(
        policy={"timezone": timezone, "grace_days": grace_days, "backup_lag_days": backup_lag_days},
        store=store,
        limits=LimitsConfig(),
    )
    secrets = Path(credentials_out or Path(directory) / "credentials" / "primary.toml")
    Workspace.create(directory, config, credentials_path=secrets, admin_url=admin_url).close()
    emit(
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


@main.command(
    "import",
    exits=(REFUSED, VERIFICATION, CREDENTIALS),
    examples=("twinpurge import --workspace ./tenants inventory.json --payloads ./payloads",),
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
    with open_workspace(workspace_dir, deleting=True) as workspace:
        count = workspace.import_file(inventory_path, payloads, actor=operator)
    emit(output_format, {"imported": count, "file": inventory_path}, f"imported {count} objects")


@main.command(
    "export",
    examples=(
        "twinpurge export --workspace ./tenants > inventory.json",
        "TWINPURGE_WORKSPACE=./tenants twinpurge export --out inventory.json",
    ),
)
@WORKSPACE_OPTION
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout."
)
def export_command(workspace_dir: str, out: str | None) -> None:
    """Write the workspace's store as a portable inventory (JSON)."""
    with open_workspace(workspace_dir) as workspace:
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
    workspace: Workspace,
    as_of: str | None,
    *,
    dry_run: bool,
    output_format: str,
    shard: Shard | None = None,
) -> FleetReport:
    tenants = [t for t in workspace.store.tenant_ids() if shard is None or shard.owns(t)]
    show_bar = output_format == "text" and sys.stdout.isatty()
    with click.progressbar(
        length=len(tenants),
        label="tenants",
        file=sys.stderr if show_bar else None,
        hidden=not show_bar,
    ) as bar:
        report = workspace.run_due(
            as_of, dry_run=dry_run, progress=lambda _t: bar.update(1), shard=shard
        )
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "as_of": report.as_of,
                    "counts": report.counts(),
                    "outcomes": [attrs.asdict(o) for o in report.outcomes],
                    "recovered": list(report.recovered),
                    "shard": report.shard,
                },
                sort_keys=True,
            )
        )
    else:
        for journal in report.recovered:  # ``twinpurge recover`` shows the details
            click.echo(
                f"recovered {journal['purge_id']} of {journal['tenant']}: {journal['status']}"
            )
        for outcome in report.outcomes:
            click.echo(_outcome_line(outcome))
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
        share = f" (shard {report.shard})" if report.shard is not None else ""
        click.echo(f"as of {report.as_of}{share}: {counts}; {report.purged} objects purged")
        if report.safe_mode is not None:
            click.echo(f"SAFE MODE: {report.safe_mode.reason} (twinpurge safe-mode status)")
    return report


def _refused(report: FleetReport, *, expected: str | None = None) -> list[str]:
    """The tenants a fleet run refused or failed, but those refused by the ``expected`` guard."""
    return [
        o.tenant
        for o in report.outcomes
        if o.status in {"refused", "failed"} and (expected is None or o.guard != expected)
    ]


@main.command(
    "run-due",
    exits=(REFUSED, VERIFICATION, CREDENTIALS),
    examples=(
        "twinpurge run-due --workspace ./tenants --dry-run",
        "twinpurge run-due --workspace ./tenants --as-of 2026-11-25T00:00:00Z",
        "TWINPURGE_WORKSPACE=./tenants twinpurge run-due --format json",
        "twinpurge run-due --workspace ./tenants --shard $JOB_COMPLETION_INDEX/4",
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
    "--shard",
    "shard_text",
    metavar="K/N",
    help="Take only shard K of N (K from 0): N workers purge the fleet together.",
)
@FORMAT_OPTION
def run_due(
    workspace_dir: str,
    as_of: str | None,
    dry_run: bool,
    shard_text: str | None,
    output_format: str,
) -> None:
    """Purge every due tenant, each isolated; print a summary. Exit 3 if any tenant was refused."""
    shard = None if shard_text is None else parse_shard(shard_text, field="--shard")
    with open_workspace(workspace_dir, deleting=not dry_run) as workspace:
        report = _run_due(
            workspace, as_of, dry_run=dry_run, output_format=output_format, shard=shard
        )
    refused = _refused(report)
    if refused:
        raise refused_tenants(refused, as_json=output_format == "json")
    if any(o.omissions for o in report.outcomes):
        raise SystemExit(REFUSED)  # something was left behind: each outcome's message says what


def _backup_step(directory: str, *args: str) -> None:
    """A backup step of the demo, in a child process holding only the backup credentials.

    Raises:
        SystemExit: the step failed; with the step's own exit code (its error is on stderr).
    """
    env = {k: v for k, v in os.environ.items() if k not in {PRIMARY_ENV, BACKUP_ENV}}
    if args[0] != "history":  # the history step creates the backup key
        env[BACKUP_ENV] = str((Path(directory) / BACKUP_CREDENTIALS).resolve())
    completed = subprocess.run(  # noqa: S603 -- our own interpreter and module, fixed arguments
        [sys.executable, "-m", "arbiter.cli.demo_step", args[0], directory, *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    click.echo(completed.stdout.rstrip("\n"))
    if completed.returncode != 0:
        click.echo(completed.stderr.rstrip("\n"), err=True)
        raise SystemExit(completed.returncode)


@main.command(
    exits=(REFUSED, VERIFICATION, CREDENTIALS),
    examples=("twinpurge demo", "twinpurge demo ./my-demo"),
)
@click.argument("directory", type=click.Path(file_okay=False), default="twinpurge-demo")
def demo(directory: str) -> None:
    """Build a sample workspace in DIRECTORY; replay past purges and backups; run today's purges.

    This process holds the primary credentials only; the backup steps run in child processes
    holding only the backup key. History is replayed with the clock set to the replayed instant.
    What is replayed and reported is read back from the workspace, not assumed.
    """
    now = utc_now().replace(microsecond=0)
    workspace = Workspace.create(directory, demo_config())
    credentials = workspace.credentials
    with workspace:
        inventory, payloads = demo_inventory(now)
        count = workspace.import_inventory(inventory, payloads, actor="demo")
        click.echo(
            f"demo workspace {directory}: {len(workspace.store.tenant_ids())} tenants,"
            f" {count} objects (time zone {workspace.config.policy['timezone']})"
        )
        click.echo(
            f"[primary] primary credentials in {credentials.source if credentials else '-'}"
            " (mode 600): this process holds them; the backup steps run in processes of their"
            " own that hold only the backup key"
        )
        replay = choose_replay(workspace.export_inventory(), workspace.config.policy, now)
    if replay is None:
        raise UsageError(f"{directory}: no tenant whose backups are already due to replay")
    tenant = replay.tenant
    _backup_step(directory, "history", tenant, format_instant(replay.snapshot))
    with Workspace.open(
        directory, clock=lambda: replay.primary_due, credentials=credentials
    ) as past:
        click.echo(
            f"[primary] {format_instant(replay.primary_due)} (replayed: {tenant}'s primary_due):"
            " the due purges, as the retention service ran them:"
        )
        _run_due(past, None, dry_run=False, output_format="text")
        # The backup purge acts on the receipt of the primary purge just replayed.
        receipts = past.store.receipts(tenant)
    if not receipts or receipts[-1]["backup_due"] is None:
        raise SystemExit(REFUSED)
    _backup_step(directory, "today", tenant, receipts[-1]["backup_due"])
    with Workspace.open(directory, credentials=credentials) as today:
        click.echo("[primary] today: running the due purges, as the retention service would:")
        report = _run_due(today, None, dry_run=False, output_format="text")
        records = today.verify_audit()
        click.echo(f"audit log verified: {records} records, chain intact")
    for outcome in report.outcomes:
        if outcome.guard == "blast-radius":
            click.echo(
                f"{outcome.tenant} was refused on purpose ({outcome.message}) and an alert"
                f" written to {directory}/reports; docs/operations.md purges it by hand, with two"
                " operators' approvals."
            )
    # The demo refuses over-limit tenants on purpose; any other refusal is a surprise.
    surprises = _refused(report, expected="blast-radius")
    if surprises:
        raise refused_tenants(surprises, as_json=False)


main.add_command(purge)
main.add_command(operator)
main.add_command(backup)
main.add_command(safe_mode)
main.add_command(recover_command)


@main.group(cls=Group)
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command(
    "verify",
    exits=(VERIFICATION,),
    examples=(
        "twinpurge audit verify --workspace ./tenants",
        "TWINPURGE_WORKSPACE=./tenants twinpurge audit verify --format json",
    ),
)
@WORKSPACE_OPTION
@FORMAT_OPTION
def audit_verify(workspace_dir: str, output_format: str) -> None:
    """Check the audit log's hash chain against the head kept in the store."""
    with open_workspace(workspace_dir) as workspace:
        records = workspace.verify_audit()
    emit(
        output_format,
        {"records": records, "intact": True},
        f"audit log verified: {records} records, chain intact",
    )
