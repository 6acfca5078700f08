"""Crash reports: what an unexpected error (a bug) leaves behind instead of a traceback.

Rules:

1. An unexpected error is reported once: a crash report file holding the full traceback and its
   context (command, arguments with secrets redacted, versions, time), and a ``crash`` alert to
   the workspace's sinks naming that file. The user sees one line naming the report.
2. The report goes to ``WORKSPACE/crash-reports/<utc>-<id>.txt`` when the workspace's config can
   be read, else to ``<temp dir>/twinpurge-crash-reports/``; it is written whole or not at all
   (``arbiter.durable.files.create``), owner-only (mode 600: tracebacks quote local data).
3. An argument whose name says it is secret (key, token, password, secret, credential) is written
   as ``<redacted>``, and so is the user-info part of any URL (``https://user:pw@host``).
4. Reporting a crash never raises: a report that cannot be written or an alert that cannot be
   sent is itself noted in the result, and the caller still ends with its one line.
5. A crash deletes nothing beyond what the audit log records: every deletion is audited before
   it is committed, so the alert means "find the bug", not "data may be lost".
"""

from __future__ import annotations

import platform
import re
import sys
import tempfile
import traceback
import uuid
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from arbiter.alerts.configured import alerter_for
from arbiter.alerts.model import Alert
from arbiter.core.config import load_config
from arbiter.core.instants import format_instant, utc_now
from arbiter.durable.files import create

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

__all__ = ["CRASH_DIRECTORY", "CrashReport", "report_crash"]

CRASH_DIRECTORY = "crash-reports"
"""The directory, inside the workspace, that holds crash reports (rule 2)."""

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"key|token|password|passwd|secret|credential", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


@attrs.frozen
class CrashReport:
    """Where a crash was reported.

    Attributes:
        path: the crash report file, or None when none could be written anywhere.
        alerted: the sinks that took the ``crash`` alert (empty when no workspace config).
        problems: why the report or the alert did not go where rule 2 says, one line each.
    """

    path: Path | None
    alerted: tuple[str, ...]
    problems: tuple[str, ...]


def _redact(name: str, value: object) -> object:
    """An argument's value as the report shows it (rule 3)."""
    if value is None or isinstance(value, bool):
        return value
    if _SECRET_NAME.search(name):
        return REDACTED
    if isinstance(value, list | tuple):
        return [_redact("", item) for item in value]
    return _URL_USERINFO.sub(rf"\g<scheme>{REDACTED}@", str(value))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _render(  # noqa: PLR0913 -- everything a report holds (rule 1)
    error: BaseException,
    *,
    command: str,
    arguments: Mapping[str, object],
    workspace: str | None,
    at: str,
    report_id: str,
) -> str:
    shown = {name: _redact(name, value) for name, value in sorted(arguments.items())}
    lines = [
        "twinpurge crash report",
        f"id: {report_id}",
        f"time: {at}",
        f"command: {command}",
        *(f"argument {name}: {value!r}" for name, value in shown.items()),
        f"workspace: {workspace or '-'}",
        f"twinpurge: {_version('twinpurge')}",
        f"python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"platform: {platform.platform()}",
        f"error: {type(error).__name__}: {error}",
        "",
        "".join(traceback.format_exception(error)).rstrip("\n"),
        "",
    ]
    return "\n".join(lines)


def _workspace_config_dir(workspace: str | None) -> tuple[Path | None, str | None]:
    """The workspace directory whose config loads, or None and why not."""
    if workspace is None:
        return None, None
    try:
        return load_config(workspace).directory, None
    except Exception as exc:  # noqa: BLE001 -- rule 4: the config may be what crashed
        return None, f"workspace config unreadable ({type(exc).__name__}: {exc})"


def report_crash(
    error: BaseException,
    *,
    command: str,
    arguments: Mapping[str, object],
    workspace: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> CrashReport:
    """Write a crash report and send the ``crash`` alert (rules 1 to 4); never raises.

    Args:
        error: the unexpected error, with its traceback.
        command: what was running, e.g. ``twinpurge run-due``.
        arguments: the command's arguments by name (redacted here, rule 3).
        workspace: the workspace directory, when the command was given one.
        clock: the source of now.

    Returns:
        Where the report went and which sinks took the alert.
    """
    problems: list[str] = []
    moment = clock()
    at = format_instant(moment, fixed_width=True)
    report_id = uuid.uuid4().hex[:12]
    text = _render(
        error,
        command=command,
        arguments=arguments,
        workspace=workspace,
        at=at,
        report_id=report_id,
    )
    directory, why = _workspace_config_dir(workspace)
    if why:
        problems.append(why)
    name = f"{moment.strftime('%Y%m%dT%H%M%S')}Z-{report_id}.txt"
    candidates = [directory / CRASH_DIRECTORY] if directory is not None else []
    candidates.append(Path(tempfile.gettempdir()) / "twinpurge-crash-reports")
    path: Path | None = None
    for folder in candidates:
        try:
            create(folder / name, text, mode=0o600)
        except Exception as exc:  # noqa: BLE001 -- rule 4: try the next place
            problems.append(f"cannot write a crash report in {folder}: {exc}")
            continue
        path = folder / name
        break
    alerted: tuple[str, ...] = ()
    if directory is not None:
        try:
            outcome = alerter_for(load_config(directory)).alert(
                Alert.create(
                    "crash",
                    f"{command} failed unexpectedly ({type(error).__name__}); nothing deleted"
                    f" beyond what the audit log records; crash report: {path or 'not written'}",
                    details={
                        "command": command,
                        "error": type(error).__name__,
                        "report": str(path) if path else None,
                        "report_id": report_id,
                    },
                    clock=clock,
                )
            )
            alerted = tuple(outcome.delivered)
        except Exception as exc:  # noqa: BLE001 -- rule 4: the crash is still reported in one line
            problems.append(f"cannot send the crash alert: {exc}")
    return CrashReport(path, alerted, tuple(problems))
