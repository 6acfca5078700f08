"""``twinpurge recover``: finish unfinished purges now, and show what was unfinished.

A thin shell over ``Workspace.recover_purges`` (``arbiter.purge.recovery``); registered on the
main group by ``arbiter.cli.root``. Every run that deletes recovers first anyway; this command
does it on its own, for an operator after a crash. It needs the primary credentials, since
recovery completes deletions. It exits 3 when a journal stays unfinished (stopped, omissions,
waiting in safe mode or held by another runner), so that a script notices.
"""

from __future__ import annotations

import click

from arbiter.auth.credentials import load_primary_credentials
from arbiter.cli.exits import ExitCode
from arbiter.cli.output import FORMAT_OPTION, WORKSPACE_OPTION, Command, emit
from arbiter.workspace.workspace import Workspace

__all__ = ["recover_command"]


@click.command(
    "recover",
    cls=Command,
    exits=(ExitCode.REFUSED, ExitCode.VERIFICATION, ExitCode.CREDENTIALS),
    examples=(
        "twinpurge recover --workspace ./tenants",
        "twinpurge recover --workspace ./tenants --format json",
    ),
)
@WORKSPACE_OPTION
@FORMAT_OPTION
def recover_command(workspace_dir: str, output_format: str) -> None:
    """Complete crashed purges from their journals; remove stray temporary files."""
    credentials = load_primary_credentials()
    with Workspace.open(workspace_dir, credentials=credentials) as workspace:
        report = workspace.recover_purges(actor="operator")
    lines = [
        f"{j.purge_id} ({j.kind}{' plan ' + j.plan_id if j.plan_id else ''}) of {j.tenant}:"
        f" {j.status}: {j.message}"
        + (f"; left alone: {', '.join(j.left_alone)}" if j.left_alone else "")
        for j in report.journals
    ]
    lines += [f"removed stray temporary file {p}" for p in report.strays_removed]
    emit(
        output_format,
        report.to_json(),
        "\n".join(lines) if lines else "nothing to recover: no unfinished purge, no stray file",
    )
    if not report.clean:
        raise SystemExit(ExitCode.REFUSED)
