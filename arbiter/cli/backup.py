"""The backup commands: ``twinpurge backup ...``, in the backup credential domain.

A thin shell over ``arbiter.backup.flows``; registered on the main group by ``arbiter.cli``.
These commands load the backup credentials (``TWINPURGE_BACKUP_CREDENTIALS``) and never the
primary ones: they read the primary store read-only and can delete nothing of it. This module
imports none of the primary purge modules (import-linter enforces it).

Exit codes add to the main ones: 4 when a backup file or the site's audit log fails
verification, 5 when approvals are missing, 7 when credentials are missing, wrong, or of the
other domain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from arbiter.auth.credentials import (
    BACKUP_ENV,
    BackupCredentials,
    generate_backup_credentials,
    load_backup_credentials,
)
from arbiter.backup.flows import (
    BackupOutcome,
    approve_restore_request,
    create_restore_request,
    init_site,
    list_backups,
    open_site,
    purge_backups,
    restore_backup,
    snapshot,
    write_restore_request,
)
from arbiter.core.config import WorkspaceConfig, load_config
from arbiter.core.errors import (
    ApprovalError,
    AuditError,
    BackupTamperedError,
    CredentialError,
    InputError,
    UsageError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["backup"]

T = TypeVar("T")

BAD_INPUT, REFUSED, INTEGRITY, MISSING_APPROVALS, CREDENTIALS = 2, 3, 4, 5, 7

EXIT_CODES = """\b
Exit codes:
  0  done
  1  internal error (a bug; nothing deleted)
  2  bad input or usage (stderr names the file and field)
  3  refused: divergence or a guard (nothing deleted); the backup purge alerted
  4  a backup file or the backup site's audit log failed verification (tampering)
  5  missing approvals: fewer than two distinct registered operators approved
  7  credentials missing, wrong, or of the other domain (nothing read, nothing deleted)
"""


def _epilog(*examples: str) -> str:
    lines = "".join(f"  {example}\n" for example in examples)
    return f"\b\nExamples:\n{lines}\n{EXIT_CODES}"


class _Failure(click.ClickException):
    """A failure with its own exit code; JSON on stderr under --format json."""

    def __init__(self, message: str, code: int, *, as_json: bool) -> None:
        super().__init__(message)
        self.code = code
        self.as_json = as_json

    def show(self, file: Any = None) -> None:  # noqa: ANN401 -- click's signature
        """Print one line, or a JSON object under --format json."""
        out = file if file is not None else sys.stderr
        if self.as_json:
            click.echo(json.dumps({"error": self.message, "exit_code": self.code}), file=out)
        else:
            click.echo(f"Error: {self.message}", file=out)


_FAILURES: dict[int, type[_Failure]] = {}


def _failure(message: str, code: int, *, as_json: bool) -> _Failure:
    """A failure whose class carries ``code`` as click's ``exit_code``."""
    cls = _FAILURES.setdefault(code, type(f"BackupFailure{code}", (_Failure,), {"exit_code": code}))
    return cls(message, code, as_json=as_json)


def _run(as_json: bool, action: Callable[[], T]) -> T:
    """Run an action, mapping library errors to exit codes."""
    try:
        return action()
    except CredentialError as exc:
        raise _failure(str(exc), CREDENTIALS, as_json=as_json) from exc
    except (BackupTamperedError, AuditError) as exc:
        raise _failure(str(exc), INTEGRITY, as_json=as_json) from exc
    except ApprovalError as exc:
        raise _failure(str(exc), MISSING_APPROVALS, as_json=as_json) from exc
    except (InputError, UsageError) as exc:
        raise _failure(str(exc), BAD_INPUT, as_json=as_json) from exc


def _config(workspace_dir: str, as_json: bool) -> WorkspaceConfig:
    return _run(as_json, lambda: load_config(workspace_dir))


def _credentials(as_json: bool) -> BackupCredentials:
    return _run(as_json, load_backup_credentials)


WORKSPACE = click.option(
    "--workspace",
    "workspace_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="The workspace directory (holding twinpurge.toml).",
)
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)
OPERATOR = click.option("--operator", required=True, help="Your registered operator name.")


def _emit(output_format: str, data: object, text: str) -> None:
    click.echo(json.dumps(data, sort_keys=True) if output_format == "json" else text)


@click.group()
def backup() -> None:
    """The backup site, in the backup credential domain: snapshot, list, purge, restore.

    Set TWINPURGE_BACKUP_CREDENTIALS to the backup credentials file (mode 600) in the backup
    service's environment only; never together with TWINPURGE_PRIMARY_CREDENTIALS' file in one
    process.
    """


@backup.command(
    "init",
    epilog=_epilog(
        "twinpurge backup init --workspace ./tenants --credentials-out /etc/twinpurge/backup.toml"
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
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    path = Path(credentials_out or Path(workspace_dir) / "credentials" / "backup.toml")
    for existing in (config.path(config.backup.site) / "site.json", path):
        if existing.exists():
            raise _failure(
                f"{existing} exists; refusing to overwrite it", BAD_INPUT, as_json=as_json
            )
    credentials = _run(as_json, lambda: generate_backup_credentials(path))
    site = _run(as_json, lambda: init_site(config, credentials))
    _emit(
        output_format,
        {"site": str(site.directory), "credentials": str(path)},
        f"backup site {site.directory} created; its key is in {path} (mode 600)\n"
        f"give it to the backup service only: export {BACKUP_ENV}={path.resolve()}",
    )


@backup.command("snapshot", epilog=_epilog("twinpurge backup snapshot --workspace ./tenants"))
@WORKSPACE
@FORMAT
def snapshot_command(workspace_dir: str, output_format: str) -> None:
    """Write a new generation of every tenant (the primary store is read read-only)."""
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)
    report = _run(as_json, lambda: snapshot(config, credentials))
    data = {
        "at": report.at,
        "objects": report.objects,
        "generations": [[g.tenant, g.generation] for g in report.generations],
    }
    _emit(
        output_format,
        data,
        f"snapshot at {report.at}: {len(report.generations)} generations,"
        f" {report.objects} objects, locked for {config.backup.retention_lock_days} days",
    )


@backup.command(
    "list",
    epilog=_epilog(
        "twinpurge backup list --workspace ./tenants",
        "twinpurge backup list --workspace ./tenants --tenant globex --format json",
    ),
)
@WORKSPACE
@click.option("--tenant", help="Only this tenant's generations.")
@FORMAT
def list_command(workspace_dir: str, tenant: str | None, output_format: str) -> None:
    """Every generation in the site, each authenticated (exit 4 on a tampered file)."""
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)
    found = _run(as_json, lambda: list_backups(config, credentials, tenant=tenant))
    lines = [
        f"{g['tenant']:<12} {g['generation']}  {g['objects']:>3} objects"
        f"  locked until {g['locked_until']}"
        for g in found
    ]
    _emit(output_format, {"generations": found}, "\n".join(lines) or "no backups")


def outcome_line(outcome: BackupOutcome) -> str:
    """One tenant's backup purge outcome, for people."""
    line = f"{outcome.tenant:<12} {outcome.status:<13} {outcome.message}"
    if outcome.status in {"executed", "dry-run"}:
        line += f" (backup due {outcome.backup_due}; primary purged {outcome.primary_purged_at})"
    if outcome.report_path:
        line += f"\n{'':<13} report: {outcome.report_path}"
    return line


@backup.command(
    "purge",
    epilog=_epilog(
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

    Both planners decide through the arbiter; a divergence or a guard refuses the tenant with an
    alert. Exit 3 if any tenant was refused.
    """
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)
    report = _run(as_json, lambda: purge_backups(config, credentials, as_of, dry_run=dry_run))
    if as_json:
        data = {
            "as_of": report.as_of,
            "counts": report.counts(),
            "outcomes": [attrs.asdict(o) for o in report.outcomes],
        }
        click.echo(json.dumps(data, sort_keys=True))
    else:
        for outcome in report.outcomes:
            click.echo(outcome_line(outcome))
        counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
        click.echo(
            f"backups as of {report.as_of}: {counts or 'no tenant'};"
            f" {report.purged} generations deleted"
        )
    if any(o.status in {"refused", "failed"} for o in report.outcomes):
        raise SystemExit(REFUSED)


@backup.command("verify", epilog=_epilog("twinpurge backup verify --workspace ./tenants"))
@WORKSPACE
@FORMAT
def verify_command(workspace_dir: str, output_format: str) -> None:
    """Authenticate every file of the site and check its audit log's chain (exit 4 if not)."""
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)

    def verify() -> tuple[int, int]:
        generations = len(list_backups(config, credentials))
        return generations, open_site(config, credentials).audit.verify()

    generations, records = _run(as_json, verify)
    _emit(
        output_format,
        {"generations": generations, "audit_records": records, "intact": True},
        f"backup site verified: {generations} generations authenticate;"
        f" site audit log: {records} records, chain intact",
    )


@backup.command(
    "restore-request",
    epilog=_epilog(
        "twinpurge backup restore-request --workspace ./tenants --tenant hooli --operator alice --out hooli.restore.json"
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
    as_json = output_format == "json"
    if Path(out).exists():
        raise _failure(f"{out} exists; refusing to overwrite a request", BAD_INPUT, as_json=as_json)
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)
    request = _run(
        as_json,
        lambda: create_restore_request(config, credentials, tenant, generation, author=operator),
    )
    write_restore_request(Path(out), request)
    body = request.body
    _emit(
        output_format,
        {**attrs.asdict(body), "digest": request.digest, "file": out},
        f"restore request {body.request_id}: tenant {tenant}, generation {body.generation},"
        f" written to {out}\nnext: two registered operators run `twinpurge backup approve`",
    )


@backup.command(
    "approve",
    epilog=_epilog(
        "twinpurge backup approve hooli.restore.json --workspace ./tenants --operator bob --key bob.key"
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
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    request = _run(
        as_json,
        lambda: approve_restore_request(
            config, Path(request_file), operator=operator, key_path=Path(key_path)
        ),
    )
    _emit(
        output_format,
        {"request_id": request.body.request_id, "operator": operator, "digest": request.digest},
        f"{operator} approved restore request {request.body.request_id}"
        f" (digest {request.digest[:16]})",
    )


@backup.command(
    "restore",
    epilog=_epilog(
        "twinpurge backup restore hooli.restore.json --workspace ./tenants --operator alice"
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
    as_json = output_format == "json"
    config = _config(workspace_dir, as_json)
    credentials = _credentials(as_json)
    result = _run(
        as_json, lambda: restore_backup(config, credentials, Path(request_file), operator=operator)
    )
    _emit(
        output_format,
        result.to_json(),
        f"restored {result.restored} objects of tenant {result.tenant} from generation"
        f" {result.generation}, approved by {', '.join(result.approvers)}",
    )
