"""The fleet safe-mode commands: ``twinpurge safe-mode status|reset-request|approve|reset``.

A thin shell over ``arbiter.workspace.safemode``; registered on the main group by
``arbiter.cli.root``. A reset needs two registered operators' approvals (exit 5 without them);
none of these commands deletes anything, so none needs the primary credentials.
"""

from __future__ import annotations

from pathlib import Path

import click

from arbiter.cli.exits import ExitCode
from arbiter.cli.opening import open_workspace
from arbiter.cli.output import FORMAT_OPTION as FORMAT
from arbiter.cli.output import WORKSPACE_OPTION as WORKSPACE
from arbiter.cli.output import Group, emit
from arbiter.workspace.safemode import (
    approve_safe_mode_reset,
    request_safe_mode_reset,
    reset_safe_mode,
    safe_mode_status,
)

__all__ = ["safe_mode"]

OPERATOR = click.option("--operator", required=True, help="Your registered operator name.")
REQUEST = click.argument("request_file", type=click.Path(dir_okay=False, exists=True))


@click.group("safe-mode", cls=Group)
def safe_mode() -> None:
    """Fleet safe mode: why no purge starts, and its two-person reset."""


@safe_mode.command(
    "status",
    examples=(
        "twinpurge safe-mode status --workspace ./tenants",
        "twinpurge safe-mode status --workspace ./tenants --format json",
    ),
)
@WORKSPACE
@FORMAT
def status_command(workspace_dir: str, output_format: str) -> None:
    """Whether the fleet is in safe mode: the trip, its reason, the tenants involved."""
    with open_workspace(workspace_dir) as workspace:
        status = safe_mode_status(workspace)
    trip = status.active
    if trip is None:
        text = f"safe mode: off ({len(status.trips)} earlier trip(s), all reset)"
    else:
        text = "\n".join(
            [
                f"safe mode: ON since {trip.tripped_at} (trip {trip.trip_id}, {trip.kind})",
                f"reason: {trip.reason}",
                f"tenants involved: {', '.join(trip.tenants) or 'none'}",
                f"counts: {', '.join(f'{n} {k}' for k, n in sorted(trip.counts.items())) or '-'}",
                "no purge starts on any runner until two operators reset it",
            ]
        )
    emit(output_format, status.to_json(), text)


@safe_mode.command(
    "reset-request",
    examples=(
        "twinpurge safe-mode reset-request --workspace ./tenants --operator alice \\",
        "    --reason 'planner B fixed in 2.4.1' --out reset.json",
    ),
)
@WORKSPACE
@OPERATOR
@click.option("--reason", required=True, help="What was investigated and fixed.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="The request file to write."
)
@FORMAT
def request_command(
    workspace_dir: str, operator: str, reason: str, out: str, output_format: str
) -> None:
    """Write a reset request bound to the active trip, for two operators to approve."""
    with open_workspace(workspace_dir) as workspace:
        request = request_safe_mode_reset(workspace, Path(out), operator=operator, reason=reason)
    body = request.body
    emit(
        output_format,
        {"request_id": body.request_id, "trip_id": body.trip_id, "file": out},
        f"reset request {body.request_id} for trip {body.trip_id} written to {out};"
        " next: two registered operators run `twinpurge safe-mode approve` on it",
    )


@safe_mode.command(
    "approve",
    examples=(
        "twinpurge safe-mode approve reset.json --workspace ./tenants --operator bob --key bob.key",
    ),
)
@REQUEST
@WORKSPACE
@OPERATOR
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Your private key file (mode 600).",
)
@FORMAT
def approve_command(
    request_file: str, workspace_dir: str, operator: str, key_path: str, output_format: str
) -> None:
    """Sign the reset request with your key: one of the two approvals a reset needs."""
    with open_workspace(workspace_dir) as workspace:
        request = approve_safe_mode_reset(
            workspace, Path(request_file), operator=operator, key_path=Path(key_path)
        )
    emit(
        output_format,
        {"request_id": request.body.request_id, "operator": operator, "digest": request.digest},
        f"{operator} approved reset request {request.body.request_id}"
        f" (trip {request.body.trip_id})",
    )


@safe_mode.command(
    "reset",
    exits=(ExitCode.MISSING_APPROVALS,),
    examples=("twinpurge safe-mode reset reset.json --workspace ./tenants --operator alice",),
)
@REQUEST
@WORKSPACE
@OPERATOR
@FORMAT
def reset_command(request_file: str, workspace_dir: str, operator: str, output_format: str) -> None:
    """Reset the trip the request names, with two registered operators' approvals."""
    with open_workspace(workspace_dir) as workspace:
        trip = reset_safe_mode(workspace, Path(request_file), operator=operator)
    emit(
        output_format,
        trip.to_json(),
        f"safe mode reset (trip {trip.trip_id}) by {', '.join(trip.reset_by or ())};"
        " purges may start again",
    )
