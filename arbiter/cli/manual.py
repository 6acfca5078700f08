"""The manual-purge commands: ``twinpurge purge ...`` and ``twinpurge operator keygen``.

A thin shell over ``arbiter.manual.manual``; registered on the main group by ``arbiter.cli``. Exit codes
add to the main ones: 5 when approvals are missing, 6 when a plan is stale.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import click

from arbiter.auth.approvals import generate_key
from arbiter.auth.credentials import load_primary_credentials
from arbiter.core.errors import (
    ApprovalError,
    ArchiveError,
    CredentialError,
    GuardError,
    InputError,
    RefusedError,
    StalePlanError,
    UsageError,
)
from arbiter.manual.manual import (
    approve_plan,
    create_plan,
    execute_plan,
    plan_status,
    register_plan,
    restore_plan,
    summarize_plan,
)
from arbiter.workspace.workspace import Workspace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["operator", "purge"]

T = TypeVar("T")

BAD_INPUT, REFUSED, MISSING_APPROVALS, STALE, CREDENTIALS = 2, 3, 5, 6, 7

EXIT_CODES = """\b
Exit codes:
  0  done
  1  internal error (a bug; nothing deleted)
  2  bad input or usage (stderr names the file and field)
  3  refused: divergence, a guard, or a damaged archive (nothing more deleted)
  5  missing approvals: fewer than two distinct registered operators approved
  6  stale plan: the data changed since approval (stderr says what changed)
  7  primary credentials missing or wrong (execute, restore: set TWINPURGE_PRIMARY_CREDENTIALS)
"""


def _epilog(*examples: str) -> str:
    lines = "".join(f"  {example}\n" for example in examples)
    return f"\b\nExamples:\n{lines}\n{EXIT_CODES}"


class _Failure(click.ClickException):
    """A refusal with its own exit code; JSON on stderr under --format json."""

    def __init__(
        self, message: str, code: int, *, as_json: bool, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.as_json = as_json
        self.data = data or {}

    def show(self, file: Any = None) -> None:  # noqa: ANN401 -- click's signature
        """Print one line, or a JSON object under --format json."""
        out = file if file is not None else sys.stderr
        if self.as_json:
            click.echo(
                json.dumps({"error": self.message, "exit_code": self.code, **self.data}),
                file=out,
            )
        else:
            click.echo(f"Error: {self.message}", file=out)


def _failure(
    message: str, code: int, *, as_json: bool, data: dict[str, Any] | None = None
) -> _Failure:
    """A failure whose class carries ``code`` as click's ``exit_code``."""
    cls = _FAILURES.setdefault(code, type(f"Failure{code}", (_Failure,), {"exit_code": code}))
    return cls(message, code, as_json=as_json, data=data)


_FAILURES: dict[int, type[_Failure]] = {}


def _open(workspace_dir: str, *, deleting: bool = False, as_json: bool = False) -> Workspace:
    """Open a workspace; with ``deleting``, with the primary credentials from the environment."""
    try:
        credentials = load_primary_credentials() if deleting else None
        return Workspace.open(workspace_dir, credentials=credentials)
    except InputError as exc:
        raise _failure(str(exc), BAD_INPUT, as_json=as_json) from exc
    except CredentialError as exc:
        raise _failure(str(exc), CREDENTIALS, as_json=as_json) from exc


def _run(as_json: bool, action: Callable[[], T]) -> T:
    """Run an action, mapping library errors to exit codes."""
    try:
        return action()
    except CredentialError as exc:
        raise _failure(str(exc), CREDENTIALS, as_json=as_json) from exc
    except InputError as exc:
        raise _failure(str(exc), BAD_INPUT, as_json=as_json, data={"field": exc.field}) from exc
    except UsageError as exc:
        raise _failure(str(exc), BAD_INPUT, as_json=as_json) from exc
    except ApprovalError as exc:
        data = {"valid": list(exc.valid), "problems": list(exc.problems)}
        raise _failure(str(exc), MISSING_APPROVALS, as_json=as_json, data=data) from exc
    except StalePlanError as exc:
        raise _failure(
            str(exc), STALE, as_json=as_json, data={"changes": list(exc.changes)}
        ) from exc
    except RefusedError as exc:
        raise _failure(
            exc.report.summary(), REFUSED, as_json=as_json, data={"report": exc.report.to_json()}
        ) from exc
    except GuardError as exc:
        raise _failure(str(exc), REFUSED, as_json=as_json, data={"guard": exc.guard}) from exc
    except ArchiveError as exc:
        raise _failure(str(exc), REFUSED, as_json=as_json) from exc


WORKSPACE = click.option(
    "--workspace",
    "workspace_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="The workspace directory (holding twinpurge.toml).",
)
OPERATOR = click.option("--operator", required=True, help="Your registered operator name.")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)


def _emit(output_format: str, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data, sort_keys=True) if output_format == "json" else text)


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


@click.group()
def purge() -> None:
    """Manual purges: plan, approve (two operators), rehearse, execute, restore, status."""


@purge.command(
    "plan",
    epilog=_epilog(
        "twinpurge purge plan --workspace ./tenants --tenant globex --operator alice --out globex.plan.json",
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
        raise _failure(
            f"{out} exists; refusing to overwrite a plan",
            BAD_INPUT,
            as_json=output_format == "json",
        )
    with _open(workspace_dir) as workspace:
        plan = _run(
            output_format == "json", lambda: create_plan(workspace, tenant, as_of, author=operator)
        )
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
    _emit(output_format, data, text)


@purge.command(
    "approve",
    epilog=_epilog(
        "twinpurge purge approve globex.plan.json --workspace ./tenants --operator bob --key ~/.twinpurge/bob.key",
        "twinpurge purge approve globex.plan.json --workspace ./tenants --operator bob --key bob.key --restore",
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
    with _open(workspace_dir) as workspace:
        plan = _run(
            output_format == "json",
            lambda: approve_plan(
                workspace,
                Path(plan_file),
                operator=operator,
                key_path=Path(key_path),
                action=action,
            ),
        )
    data = {
        "plan_id": plan.body.plan_id,
        "action": action,
        "operator": operator,
        "digest": plan.digest,
    }
    _emit(
        output_format,
        data,
        f"{operator} approved {action} of plan {plan.body.plan_id} (digest {plan.digest[:16]})",
    )


@purge.command(
    "execute",
    epilog=_epilog(
        "twinpurge purge execute globex.plan.json --workspace ./tenants --operator alice --rehearse",
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
    as_json = output_format == "json"
    with (
        _open(workspace_dir, deleting=True, as_json=as_json) as workspace,
        _progress(workspace, output_format),
    ):
        result = _run(
            output_format == "json",
            lambda: execute_plan(
                workspace,
                Path(plan_file),
                operator=operator,
                rehearse_only=rehearse,
                skip_rehearsal=skip_rehearsal,
            ),
        )
    if rehearse:
        text = f"rehearsal of plan {result.plan_id}: {result.rehearsed} rows deleted and rolled back; store unchanged"
    else:
        text = (
            f"plan {result.plan_id} executed by {operator}, approved by {', '.join(result.approvers)}:"
            f" purged {result.purged}; restore archive {result.archive_id}"
        )
    _emit(output_format, result.to_json(), text)


@purge.command(
    "restore",
    epilog=_epilog(
        "twinpurge purge restore globex.plan.json --workspace ./tenants --operator alice",
    ),
)
@click.argument("plan", metavar="PLAN_FILE_OR_ID")
@WORKSPACE
@OPERATOR
@FORMAT
def restore_command(plan: str, workspace_dir: str, operator: str, output_format: str) -> None:
    """Bring back what an executed plan deleted, from its archive (two restore approvals)."""
    with _open(workspace_dir, deleting=True, as_json=output_format == "json") as workspace:
        path = _plan_path(workspace, plan, output_format)
        with _progress(workspace, output_format):
            result = _run(
                output_format == "json", lambda: restore_plan(workspace, path, operator=operator)
            )
    _emit(
        output_format,
        result.to_json(),
        f"plan {result.plan_id}: restored {result.restored} objects from archive {result.archive_id}",
    )


def _plan_path(workspace: Workspace, plan: str, output_format: str) -> Path:
    if Path(plan).is_file():
        return Path(plan)
    record = workspace.store.plan(plan)
    if record is None:
        raise _failure(
            f"{plan}: no such plan file or plan id", BAD_INPUT, as_json=output_format == "json"
        )
    return Path(record["path"])


@purge.command(
    "status",
    epilog=_epilog(
        "twinpurge purge status --workspace ./tenants",
        "twinpurge purge status globex.plan.json --workspace ./tenants --format json",
    ),
)
@click.argument("plan", metavar="[PLAN_FILE_OR_ID]", required=False)
@WORKSPACE
@FORMAT
def status_command(plan: str | None, workspace_dir: str, output_format: str) -> None:
    """Where a plan stands (approvals, expiry, executed, restored); without PLAN, every plan."""
    with _open(workspace_dir) as workspace:
        if plan is None:
            records = workspace.store.plans()
            _emit(
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
        path = _plan_path(workspace, plan, output_format)
        status = _run(output_format == "json", lambda: plan_status(workspace, path))
    data = attrs.asdict(status)
    text = "\n".join(
        [
            f"plan {status.plan_id}: tenant {status.tenant} as of {status.as_of}, purge {status.purge}, by {status.author}",
            f"execute approvals: {', '.join(status.approvals['execute']) or 'none'}"
            + (f" (expire {status.expires_at})" if status.expires_at else ""),
            *[f"  not counted: {p}" for p in status.problems["execute"]],
            f"restore approvals: {', '.join(status.approvals['restore']) or 'none'}",
            f"executed: {status.executed_at or 'no'}"
            + (f" by {status.executed_by}" if status.executed_by else ""),
            f"archive: {status.archive_id or '-'}"
            + (f", kept until {status.archive_kept_until}" if status.archive_kept_until else ""),
            f"restored: {status.restored_at or 'no'}",
        ]
    )
    _emit(output_format, data, text)


@click.group()
def operator() -> None:
    """Operators' keys for two-person approvals."""


@operator.command(
    "keygen", epilog=_epilog("twinpurge operator keygen alice --out ~/.twinpurge/alice.key")
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
    public = _run(output_format == "json", lambda: generate_key(Path(out)))
    text = "\n".join(
        [
            f"private key written to {out} (mode 600; never share it)",
            "register it in twinpurge.toml:",
            "",
            f"[operators.{name}]",
            f'public_key = "{public}"',
        ]
    )
    _emit(output_format, {"operator": name, "public_key": public, "key_file": out}, text)
