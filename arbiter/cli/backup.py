"""The backup commands: ``twinpurge backup ...``, in the backup credential domain.

A thin shell over ``arbiter.backup`` (``site_access``, ``snapshot``, ``purge``, ``restore``,
``roles``); registered on the main group by ``arbiter.cli``.
These commands load the backup credentials (``TWINPURGE_BACKUP_CREDENTIALS``) and never the
primary ones: they read the primary store read-only and can delete nothing of it (on
PostgreSQL they log in as the backup domain's roles, whose passwords ``backup init-roles`` sets
from the backup key). This module imports none of the primary purge modules (import-linter
enforces it).

Each command declares its exit codes (``arbiter.cli.exits``); errors are mapped and printed by
``arbiter.cli.output``: 4 when a backup file or the site's audit log fails verification, 5 when
approvals are missing, 7 when credentials are missing, wrong, or of the other domain.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import click

from arbiter.auth.credentials import (
    BACKUP_ENV,
    generate_backup_credentials,
    load_backup_credentials,
)
from arbiter.backup.purge import BackupOutcome, BackupRecovery, purge_backups
from arbiter.backup.restore import (
    approve_restore_request,
    create_restore_request,
    restore_backup,
    write_restore_request,
)
from arbiter.backup.roles import init_backup_roles
from arbiter.backup.site_access import init_site, open_site
from arbiter.backup.snapshot import list_backups, snapshot
from arbiter.cli.exits import ExitCode
from arbiter.cli.output import FORMAT_OPTION as FORMAT
from arbiter.cli.output import WORKSPACE_OPTION as WORKSPACE
from arbiter.cli.output import Group, emit, refused_tenants
from arbiter.core.config import load_config
from arbiter.core.errors import UsageError

__all__ = ["backup"]

REFUSED, VERIFICATION, MISSING_APPROVALS, CREDENTIALS = (
    ExitCode.REFUSED,
    ExitCode.VERIFICATION,
    ExitCode.MISSING_APPROVALS,
    ExitCode.CREDENTIALS,
)
OPERATOR = click.option("--operator", required=True, help="Your registered operator name.")


@click.group(cls=Group)
def backup() -> None:
    """The backup site, in the backup credential domain: snapshot, list, purge, restore.

    Set TWINPURGE_BACKUP_CREDENTIALS to the backup credentials file (mode 600) in the backup
    service's environment only; never together with TWINPURGE_PRIMARY_CREDENTIALS' file in one
    process.
    """


@backup.command(
    "init",
    exits=(VERIFICATION, CREDENTIALS),
    examples=(
        "twinpurge backup init --workspace ./tenants --credentials-out /etc/twinpurge/backup.toml",
    ),
)
@WORKSPACE
@click.option(
    "--credentials-out",
    type=click.Path(dir_okay=False),
    help="Where to write the new backup key (mode 600)."
    "  [default: WORKSPACE/credentials/backup.toml]",
)
@FORMAT
def init_command(workspace_dir: str, credentials_out: str | None, output_format: str) -> None:
    """Create the backup site and its key: the backup credential domain's own secret."""
    config = load_config(workspace_dir)
    path = Path(credentials_out or Path(workspace_dir) / "credentials" / "backup.toml")
    for existing in (config.path(config.backup.site) / "site.json", path):
        if existing.exists():
            raise UsageError(f"{existing} exists; refusing to overwrite it")
    credentials = generate_backup_credentials(path)
    site = init_site(config, credentials)
    emit(
        output_format,
        {"site": str(site.directory), "credentials": str(path)},
        f"backup site {site.directory} created; its key is in {path} (mode 600)\n"
        f"give it to the backup service only: export {BACKUP_ENV}={path.resolve()}",
    )


@backup.command(
    "init-roles",
    exits=(VERIFICATION, CREDENTIALS),
    examples=(
        (
            "PGPASSWORD=... twinpurge backup init-roles --workspace ./tenants"
            " --admin-url postgresql://postgres@db.internal:5432/tenants"
        ),
    ),
)
@WORKSPACE
@click.option(
    "--admin-url",
    metavar="URL",
    envvar="TWINPURGE_STORE_ADMIN_URL",
    required=True,
    help="A superuser URL of the PostgreSQL store's server; its password from PGPASSWORD or"
    " ~/.pgpass. Used once, never written anywhere.  [env: TWINPURGE_STORE_ADMIN_URL]",
)
@FORMAT
def init_roles_command(workspace_dir: str, admin_url: str, output_format: str) -> None:
    """Give the backup domain's PostgreSQL roles their passwords, derived from the backup key.

    A PostgreSQL workspace only: twinpurge init --store sets the primary roles' passwords and
    never sees the backup key, so the snapshot and restore roles cannot log in until the backup
    domain's operator runs this with the key (TWINPURGE_BACKUP_CREDENTIALS) and an
    administrator's URL. The key must open the workspace's backup site (backup init first).
    Running it again sets the same passwords.
    """
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    roles = init_backup_roles(config, credentials, admin_url)
    emit(
        output_format,
        {"roles": list(roles), "store": config.store.url},
        f"passwords of {', '.join(roles)} set from the backup key ({credentials.source});"
        " the backup commands log in with it",
    )


@backup.command(
    "snapshot",
    exits=(VERIFICATION, CREDENTIALS),
    examples=(
        "twinpurge backup snapshot --workspace ./tenants",
        "TWINPURGE_WORKSPACE=./tenants twinpurge backup snapshot",
    ),
)
@WORKSPACE
@FORMAT
def snapshot_command(workspace_dir: str, output_format: str) -> None:
    """Write a new generation of every tenant (the primary store is read read-only)."""
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    report = snapshot(config, credentials)
    data = {
        "at": report.at,
        "objects": report.objects,
        "generations": [[g.tenant, g.generation] for g in report.generations],
    }
    emit(
        output_format,
        data,
        f"snapshot at {report.at}: {len(report.generations)} generations,"
        f" {report.objects} objects, locked for {config.backup.retention_lock_days} days",
    )


@backup.command(
    "list",
    exits=(VERIFICATION, CREDENTIALS),
    examples=(
        "twinpurge backup list --workspace ./tenants",
        "twinpurge backup list --workspace ./tenants --tenant globex --format json",
    ),
)
@WORKSPACE
@click.option("--tenant", help="Only this tenant's generations.")
@FORMAT
def list_command(workspace_dir: str, tenant: str | None, output_format: str) -> None:
    """Every generation in the site, each authenticated (exit 4 on a tampered file)."""
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    found = list_backups(config, credentials, tenant=tenant)
    lines = [
        f"{g['tenant']:<12} {g['generation']}  {g['objects']:>3} objects"
        f"  locked until {g['locked_until']}"
        for g in found
    ]
    emit(output_format, {"generations": found}, "\n".join(lines) or "no backups")


def outcome_line(outcome: BackupOutcome) -> str:
    """One tenant's backup purge outcome, for people."""
    line = f"{outcome.tenant:<12} {outcome.status:<13} {outcome.message}"
    if outcome.status in {"executed", "dry-run"}:
        line += f" (backup due {outcome.backup_due}; primary purged {outcome.primary_purged_at})"
    if outcome.report_path:
        line += f"\n{'':<13} report: {outcome.report_path}"
    return line


def recovery_line(recovery: BackupRecovery) -> str:
    """What recovery did with one unfinished backup purge, for people."""
    done = "unfinished" if recovery.status == "pending" else "recovered"  # a dry run
    line = (
        f"{done} backup purge {recovery.purge_id} of {recovery.tenant} (as of"
        f" {recovery.as_of}): {recovery.status}: {recovery.message}"
    )
    if recovery.deleted:
        line += f"; deleted {', '.join(recovery.deleted)}"
    if recovery.left_alone:
        line += f"; left alone: {', '.join(recovery.left_alone)}"
    if recovery.strays_removed:
        line += f"; removed stray temporary files {', '.join(recovery.strays_removed)}"
    return line


@backup.command(
    "purge",
    exits=(REFUSED, VERIFICATION, CREDENTIALS),
    examples=(
        "twinpurge backup purge --workspace ./tenants --dry-run",
        "twinpurge backup purge --workspace ./tenants",
        "twinpurge backup purge --workspace ./tenants --as-of 2026-11-25T00:00:00Z",
    ),
)
@WORKSPACE
@click.option(
    "--as-of", "as_of", metavar="INSTANT", help="The instant of every verdict (default: now)."
)
@click.option("--dry-run", is_flag=True, help="Decide and check every guard; delete nothing.")
@FORMAT
def purge_command(workspace_dir: str, as_of: str | None, dry_run: bool, output_format: str) -> None:
    """Delete the backups of tenants past backup_due whose primary purge completed.

    Every run first recovers crashed backup purges (unfinished journals in the site's audit
    log) and prints what recovery did; a dry run only lists them. Both planners decide through
    the arbiter; a divergence or a guard refuses the tenant with an alert. Exit 3 if any tenant
    was refused, or a purge or a recovery left something behind.
    """
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    report = purge_backups(config, credentials, as_of, dry_run=dry_run)
    if output_format == "json":
        data = {
            "as_of": report.as_of,
            "counts": report.counts(),
            "outcomes": [attrs.asdict(o) for o in report.outcomes],
            "recovered": [r.to_json() for r in report.recovered],
        }
        click.echo(json.dumps(data, sort_keys=True))
    else:
        for recovery in report.recovered:
            click.echo(recovery_line(recovery))
        for outcome in report.outcomes:
            click.echo(outcome_line(outcome))
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
        click.echo(
            f"backups as of {report.as_of}: {counts or 'no tenant'};"
            f" {report.purged} generations deleted"
        )
    refused = [o.tenant for o in report.outcomes if o.status in {"refused", "failed"}]
    if refused:
        raise refused_tenants(refused, as_json=output_format == "json")
    if report.left_unfinished:
        raise SystemExit(REFUSED)  # something was left behind: the lines above say what


@backup.command(
    "verify",
    exits=(VERIFICATION, CREDENTIALS),
    examples=("twinpurge backup verify --workspace ./tenants",),
)
@WORKSPACE
@FORMAT
def verify_command(workspace_dir: str, output_format: str) -> None:
    """Authenticate every file of the site and check its audit log's chain (exit 4 if not)."""
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()

    def verify() -> tuple[int, int]:
        generations = len(list_backups(config, credentials))
        return generations, open_site(config, credentials).audit.verify()

    generations, records = verify()
    emit(
        output_format,
        {"generations": generations, "audit_records": records, "intact": True},
        f"backup site verified: {generations} generations authenticate;"
        f" site audit log: {records} records, chain intact",
    )


@backup.command(
    "restore-request",
    exits=(VERIFICATION, CREDENTIALS),
    examples=(
        (
            "twinpurge backup restore-request --workspace ./tenants --tenant hooli --operator alice"
            " --out hooli.restore.json"
        ),
    ),
)
@WORKSPACE
@click.option("--tenant", required=True)
@click.option("--generation", help="The generation to restore (default: the latest).")
@OPERATOR
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="The request file to write."
)
@FORMAT
def request_command(
    workspace_dir: str,
    tenant: str,
    generation: str | None,
    operator: str,
    out: str,
    output_format: str,
) -> None:
    """Write a request to restore one generation; two operators must approve it."""
    if Path(out).exists():
        raise UsageError(f"{out} exists; refusing to overwrite a request")
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    request = create_restore_request(config, credentials, tenant, generation, author=operator)
    write_restore_request(Path(out), request)
    body = request.body
    emit(
        output_format,
        {**attrs.asdict(body), "digest": request.digest, "file": out},
        f"restore request {body.request_id}: tenant {tenant}, generation {body.generation},"
        f" written to {out}\nnext: two registered operators run `twinpurge backup approve`",
    )


@backup.command(
    "approve",
    exits=(VERIFICATION,),
    examples=(
        (
            "twinpurge backup approve hooli.restore.json --workspace ./tenants --operator bob"
            " --key bob.key"
        ),
    ),
)
@click.argument("request_file", type=click.Path(dir_okay=False, exists=True))
@WORKSPACE
@OPERATOR
@click.option(
    "--key", "key_path", required=True, type=click.Path(dir_okay=False), help="Your private key."
)
@FORMAT
def approve_command(
    request_file: str, workspace_dir: str, operator: str, key_path: str, output_format: str
) -> None:
    """Sign a restore request with your key (no credentials needed: a signature, not an access)."""
    config = load_config(workspace_dir)
    request = approve_restore_request(
        config, Path(request_file), operator=operator, key_path=Path(key_path)
    )
    emit(
        output_format,
        {"request_id": request.body.request_id, "operator": operator, "digest": request.digest},
        f"{operator} approved restore request {request.body.request_id}"
        f" (digest {request.digest[:16]})",
    )


@backup.command(
    "restore",
    exits=(VERIFICATION, MISSING_APPROVALS, CREDENTIALS),
    examples=(
        "twinpurge backup restore hooli.restore.json --workspace ./tenants --operator alice",
    ),
)
@click.argument("request_file", type=click.Path(dir_okay=False, exists=True))
@WORKSPACE
@OPERATOR
@FORMAT
def restore_command(
    request_file: str, workspace_dir: str, operator: str, output_format: str
) -> None:
    """Restore the approved generation into the primary store: only what is missing comes back."""
    config = load_config(workspace_dir)
    credentials = load_backup_credentials()
    result = restore_backup(config, credentials, Path(request_file), operator=operator)
    emit(
        output_format,
        result.to_json(),
        f"restored {result.restored} objects of tenant {result.tenant} from generation"
        f" {result.generation}, approved by {', '.join(result.approvers)}",
    )
