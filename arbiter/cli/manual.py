"""The manual-purge commands: ``twinpurge purge ...`` and ``twinpurge operator keygen``.

A thin shell over ``arbiter.manual`` (``plans``, ``execute``, ``status``); registered on the main
group by ``arbiter.cli``.
Each command declares its exit codes (``arbiter.cli.exits``); errors are mapped and printed by
``arbiter.cli.output``: 5 when approvals are missing, 6 when a plan is stale.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import click

from arbiter.auth.approvals import generate_key
from arbiter.cli.exits import ExitCode
from arbiter.cli.opening import open_workspace
from arbiter.cli.output import FORMAT_OPTION as FORMAT
from arbiter.cli.output import WORKSPACE_OPTION as WORKSPACE
from arbiter.cli.output import Group, emit
from arbiter.core.errors import InputError, UsageError
from arbiter.manual.execute import execute_plan, restore_plan
from arbiter.manual.plans import approve_plan, create_plan, register_plan, summarize_plan
from arbiter.manual.status import plan_status

if TYPE_CHECKING:
    from collections.abc import Iterator

    from arbiter.workspace.workspace import Workspace

__all__ = ["operator", "purge"]

REFUSED, MISSING_APPROVALS, STALE, CREDENTIALS = (
    ExitCode.REFUSED,
    ExitCode.MISSING_APPROVALS,
    ExitCode.STALE_PLAN,
    ExitCode.CREDENTIALS,
)
VERIFICATION = ExitCode.VERIFICATION  # the audit log is verified before deleting


OPERATOR = click.option("--operator", required=True, help="Your registered operator name.")


@contextmanager
def _progress(workspace: Workspace, output_format: str) -> Iterator[None]:
    """A progress bar on a terminal for archiving, deletion and restore; quiet otherwise."""
    show = output_format == "text" and sys.stderr.isatty()
    bars: dict[str, Any] = {}

    def report(phase: str, done: int, total: int) -> None:
        if not show:
            return
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = click.progressbar(length=total, label=phase, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    workspace.on_progress = report
    try:
        yield
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)


@click.group(cls=Group)
def purge() -> None:
    """Manual purges: plan, approve (two operators), rehearse, execute, restore, status."""


@purge.command(
    "plan",
    exits=(REFUSED,),
    examples=(
        (
            "twinpurge purge plan --workspace ./tenants --tenant globex --operator alice"
            " --out globex.plan.json"
        ),
    ),
)
@WORKSPACE
@click.option("--tenant", required=True)
@click.option(
    "--as-of", "as_of", metavar="INSTANT", help="The instant of the verdict (default: now)."
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="The plan file to write."
)
@OPERATOR
@FORMAT
def plan_command(
    workspace_dir: str, tenant: str, as_of: str | None, out: str, operator: str, output_format: str
) -> None:
    """Run both planners and write a plan file binding their agreed verdict."""
    if Path(out).exists():
        raise UsageError(f"{out} exists; refusing to overwrite a plan")
    with open_workspace(workspace_dir) as workspace:
        plan = create_plan(workspace, tenant, as_of, author=operator)
        register_plan(workspace, plan, Path(out))
        data = {**summarize_plan(workspace, plan), "file": out}
    by_store, by_category = data["purge_by_store"], data["purge_by_category"]
    text = "\n".join(
        [
            f"plan {data['plan_id']} for tenant {tenant} as of {data['as_of']} written to {out}",
            f"purge {data['purge']}: "
            + ", ".join(f"{n} in {s}" for s, n in sorted(by_store.items()))
            + "; by category: "
            + ", ".join(f"{n} {c}" for c, n in sorted(by_category.items())),
            "kept: "
            + (", ".join(f"{n} {r}" for r, n in sorted(data["kept_by_reason"].items())) or "none"),
            f"primary due {data['primary_due']}, backup due {data['backup_due']}",
            "next: two registered operators run `twinpurge purge approve` on this file",
        ]
    )
    emit(output_format, data, text)


@purge.command(
    "approve",
    examples=(
        (
            "twinpurge purge approve globex.plan.json --workspace ./tenants --operator bob"
            " --key ~/.twinpurge/bob.key"
        ),
        (
            "twinpurge purge approve globex.plan.json --workspace ./tenants --operator bob"
            " --key bob.key --restore"
        ),
    ),
)
@click.argument("plan_file", type=click.Path(dir_okay=False, exists=True))
@WORKSPACE
@OPERATOR
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Your private key file (mode 600).",
)
@click.option(
    "--restore", is_flag=True, help="Approve restoring the plan's archive instead of executing it."
)
@FORMAT
def approve_command(
    plan_file: str,
    workspace_dir: str,
    operator: str,
    key_path: str,
    restore: bool,
    output_format: str,
) -> None:
    """Sign the plan's digest with your key: one of the two approvals a manual action needs."""
    action: Literal["execute", "restore"] = "restore" if restore else "execute"
    with open_workspace(workspace_dir) as workspace:
        plan = approve_plan(
            workspace, Path(plan_file), operator=operator, key_path=Path(key_path), action=action
        )
    data = {
        "plan_id": plan.body.plan_id,
        "action": action,
        "operator": operator,
        "digest": plan.digest,
    }
    emit(
        output_format,
        data,
        f"{operator} approved {action} of plan {plan.body.plan_id} (digest {plan.digest[:16]})",
    )


@purge.command(
    "execute",
    exits=(REFUSED, MISSING_APPROVALS, STALE, VERIFICATION, CREDENTIALS),
    examples=(
        (
            "twinpurge purge execute globex.plan.json --workspace ./tenants --operator alice"
            " --rehearse"
        ),
        "twinpurge purge execute globex.plan.json --workspace ./tenants --operator alice",
    ),
)
@click.argument("plan_file", type=click.Path(dir_okay=False, exists=True))
@WORKSPACE
@OPERATOR
@click.option(
    "--rehearse", is_flag=True, help="Only rehearse: delete in a transaction that is rolled back."
)
@click.option("--skip-rehearsal", is_flag=True, help="Small plans only: do not rehearse first.")
@FORMAT
def execute_command(
    plan_file: str,
    workspace_dir: str,
    operator: str,
    rehearse: bool,
    skip_rehearsal: bool,
    output_format: str,
) -> None:
    """Execute an approved plan: re-plan, rehearse, archive, delete under every guard."""
    with (
        open_workspace(workspace_dir, deleting=True) as workspace,
        _progress(workspace, output_format),
    ):
        result = execute_plan(
            workspace,
            Path(plan_file),
            operator=operator,
            rehearse_only=rehearse,
            skip_rehearsal=skip_rehearsal,
        )
    if rehearse:
        text = f"rehearsal of plan {result.plan_id}: {result.rehearsed} rows deleted and rolled back; store unchanged"
    else:
        text = (
            f"plan {result.plan_id} executed by {operator}, approved by {', '.join(result.approvers)}:"
            f" purged {result.purged}; restore archive {result.archive_id}"
        )
    emit(output_format, result.to_json(), text)


@purge.command(
    "restore",
    exits=(REFUSED, MISSING_APPROVALS, VERIFICATION, CREDENTIALS),
    examples=("twinpurge purge restore globex.plan.json --workspace ./tenants --operator alice",),
)
@click.argument("plan", metavar="PLAN_FILE_OR_ID")
@WORKSPACE
@OPERATOR
@FORMAT
def restore_command(plan: str, workspace_dir: str, operator: str, output_format: str) -> None:
    """Bring back what an executed plan deleted, from its archive (two restore approvals)."""
    with open_workspace(workspace_dir, deleting=True) as workspace:
        path = _plan_path(workspace, plan)
        with _progress(workspace, output_format):
            result = restore_plan(workspace, path, operator=operator)
    emit(
        output_format,
        result.to_json(),
        f"plan {result.plan_id}: restored {result.restored} objects from archive {result.archive_id}",
    )


def _plan_path(workspace: Workspace, plan: str) -> Path:
    if Path(plan).is_file():
        return Path(plan)
    record = workspace.store.plan(plan)
    if record is None:
        raise InputError(source="plan", field="", message="no such plan file or plan id", file=plan)
    return Path(record["path"])


@purge.command(
    "status",
    examples=(
        "twinpurge purge status --workspace ./tenants",
        "twinpurge purge status globex.plan.json --workspace ./tenants --format json",
    ),
)
@click.argument("plan", metavar="[PLAN_FILE_OR_ID]", required=False)
@WORKSPACE
@FORMAT
def status_command(plan: str | None, workspace_dir: str, output_format: str) -> None:
    """Where a plan stands (approvals, expiry, executed, restored); without PLAN, every plan."""
    with open_workspace(workspace_dir) as workspace:
        if plan is None:
            records = workspace.store.plans()
            emit(
                output_format,
                {"plans": records},
                "\n".join(
                    f"{r['plan_id']}  {r['tenant']:<12} created {r['created_at']} by {r['author']}"
                    f"  executed {r['executed_at'] or '-'}  restored {r['restored_at'] or '-'}"
                    for r in records
                )
                or "no plans",
            )
            return
        path = _plan_path(workspace, plan)
        status = plan_status(workspace, path)
    data = attrs.asdict(status)
    text = "\n".join(
        [
            f"plan {status.plan_id}: tenant {status.tenant} as of {status.as_of}, purge {status.purge}, by {status.author}",
            f"execute approvals: {', '.join(status.approvals['execute']) or 'none'}"
            + (f" (expire {status.expires_at})" if status.expires_at else ""),
            *[f"  not counted: {p}" for p in status.problems["execute"]],
            f"restore approvals: {', '.join(status.approvals['restore']) or 'none'}",
            f"executed: {status.executed_at or ('interrupted' if status.interrupted else 'no')}"
            + (f" by {status.executed_by}" if status.executed_by else "")
            + (
                f" ({status.deleted_so_far} deleted so far; execute again to finish, or restore)"
                if status.interrupted
                else ""
            ),
            f"archive: {status.archive_id or '-'}"
            + (f", kept until {status.archive_kept_until}" if status.archive_kept_until else ""),
            f"restored: {status.restored_at or 'no'}",
        ]
    )
    emit(output_format, data, text)


@click.group(cls=Group)
def operator() -> None:
    """Operators' keys for two-person approvals."""


@operator.command(
    "keygen", examples=("twinpurge operator keygen alice --out ~/.twinpurge/alice.key",)
)
@click.argument("name")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the private key (mode 600).",
)
@FORMAT
def keygen_command(name: str, out: str, output_format: str) -> None:
    """Write a private key readable only by you; print the public key to register."""
    public = generate_key(Path(out))
    text = "\n".join(
        [
            f"private key written to {out} (mode 600; never share it)",
            "register it in twinpurge.toml:",
            "",
            f"[operators.{name}]",
            f'public_key = "{public}"',
        ]
    )
    emit(output_format, {"operator": name, "public_key": public, "key_file": out}, text)
