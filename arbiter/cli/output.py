"""What every ``twinpurge`` command shares: its command class, options, output and failures.

1. Every command is a ``Command``: it declares the exit codes it can return next to itself
   (``exits=``); its help's "Exit codes:" section is built from that declaration and nothing else.
2. A library error (``TwinpurgeError``) that stops a command ends it with the code
   ``arbiter.cli.exits.exit_code_for`` maps it to; no command maps errors itself.
3. Under ``--format json`` a failure is one JSON object on stderr: at least ``exit_code``,
   ``kind`` (the error's class) and ``error`` (the message), plus the error's own data
   attributes (file, field, report, changes, ...). In text, one line (or the divergence report).
   Results go to stdout, failures to stderr, in both formats.
4. ``--workspace`` defaults to the environment variable ``TWINPURGE_WORKSPACE``.
5. This module imports nothing that deletes data and nothing of either credential domain: the
   primary and the backup commands both use it.
6. ``--as-of``, on every command that takes it, is checked against spec §2.1 before the command
   does anything (``arbiter.core.loading.check_as_of``): a bad or empty one exits 2 with one line
   naming ``--as-of``, with no planning, no audit record, no alert and no report file.
7. No Python traceback ever reaches a user: an unexpected error (a bug) prints one line naming
   what failed and the crash report (``arbiter.alerts.crash``) that holds the traceback, sends a
   ``crash`` alert when the workspace's config can be read, and exits 1. Under ``--format json``
   the one error object names the report (``crash_report``) and holds no traceback.
"""

from __future__ import annotations

import json
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from arbiter.alerts.crash import report_crash
from arbiter.cli.exits import ALWAYS, WORKSPACE_EXITS, ExitCode, exit_code_for, exit_codes_help
from arbiter.core.errors import InputError, RefusedError, TwinpurgeError
from arbiter.core.loading import check_as_of

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "FORMAT_OPTION",
    "WORKSPACE_ENV",
    "WORKSPACE_OPTION",
    "Command",
    "Failure",
    "Group",
    "emit",
    "epilog",
    "error_payload",
    "refused_tenants",
]

WORKSPACE_ENV = "TWINPURGE_WORKSPACE"


def epilog(examples: Iterable[str], codes: frozenset[ExitCode] | None = None) -> str:
    r"""A help epilog: the examples, then the exit codes.

    Args:
        examples: command lines, one per example.
        codes: the exit codes to list; None lists every code.

    Returns:
        The epilog text (``\\b`` keeps click from rewrapping it).
    """
    lines = "".join(f"  {example}\n" for example in examples)
    shown = f"\b\nExamples:\n{lines}\n" if lines else ""
    return shown + exit_codes_help(codes)


def _plain(value: object) -> object:
    """An error attribute as JSON data."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def error_payload(error: TwinpurgeError) -> dict[str, object]:
    """An error as the JSON object a failing command prints on stderr.

    Args:
        error: the error that stopped the command.

    Returns:
        Its data attributes, plus ``exit_code``, ``kind`` and ``error`` (the message).
    """
    data = {k: _plain(v) for k, v in vars(error).items() if not k.startswith("_")}
    return {
        **data,
        "exit_code": int(exit_code_for(error)),
        "kind": type(error).__name__,
        "error": str(error),
    }


def _text(error: TwinpurgeError) -> str:
    """An error for people: the divergence report, or one line."""
    if isinstance(error, RefusedError):
        return error.report.render()
    if isinstance(error, InputError):
        # Name the input even when it came from no file (an option, a config value).
        where = error.file or error.source
        field = f": {error.field}" if error.field else ""
        return f"Error: {where}{field}: {error.message}"
    return f"Error: {error}"


class Failure(click.ClickException):
    """A command's failure: its exit code, and what to print on stderr in either format."""

    def __init__(
        self, code: ExitCode, payload: dict[str, object], text: str, *, as_json: bool
    ) -> None:
        """Keep the code and both renderings.

        Args:
            code: the exit code.
            payload: the JSON object (rule 3).
            text: the text for people.
            as_json: print the payload rather than the text.
        """
        super().__init__(text)
        # click reads ``exit_code``, a class variable, from the instance: shadow it per failure.
        object.__setattr__(self, "exit_code", int(code))
        self.code = code
        self.payload = payload
        self.text = text
        self.as_json = as_json

    @classmethod
    def of(cls, error: TwinpurgeError, *, as_json: bool) -> Failure:
        """The failure a library error ends a command with (rule 2).

        Args:
            error: the error.
            as_json: whether the command was asked for JSON.

        Returns:
            The failure, with the mapped exit code.
        """
        return cls(exit_code_for(error), error_payload(error), _text(error), as_json=as_json)

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the failure on stderr, as JSON or text."""
        out = file if file is not None else sys.stderr
        if self.as_json:
            click.echo(json.dumps(self.payload, sort_keys=True, ensure_ascii=False), file=out)
        else:
            click.echo(self.text, file=out)


def refused_tenants(tenants: list[str], *, as_json: bool) -> Failure:
    """The failure of a fleet run in which some tenants were refused or failed (exit 3).

    Args:
        tenants: the refused or failed tenants; their outcomes are in the command's output.
        as_json: whether the command was asked for JSON.

    Returns:
        The failure.
    """
    message = (
        f"{len(tenants)} tenant(s) refused or failed: {', '.join(tenants)};"
        " nothing more of theirs deleted (each outcome says what was)"
    )
    payload: dict[str, object] = {
        "exit_code": int(ExitCode.REFUSED),
        "kind": "TenantsRefused",
        "error": message,
        "tenants": tenants,
    }
    return Failure(ExitCode.REFUSED, payload, f"Error: {message}", as_json=as_json)


def _is_click_flow(exc: Exception) -> bool:
    """Click's own exceptions: usage errors, aborts and exits, which click reports itself."""
    return isinstance(exc, click.ClickException | click.exceptions.Exit | click.Abort)


def _check_as_of_option(ctx: click.Context) -> None:
    """Rule 6: a given ``--as-of`` is an instant, before the command does anything.

    Raises:
        InputError: naming ``--as-of``.
    """
    value = ctx.params.get("as_of")
    if value is None:
        return
    try:
        check_as_of(value)
    except InputError as exc:
        raise exc.with_file("--as-of") from None


def _crashed(ctx: click.Context, exc: Exception, *, as_json: bool) -> Failure:
    """Rule 7: an unexpected error as one line, its traceback in a crash report, an alert.

    Args:
        ctx: the failed command's context (its path and arguments go into the report).
        exc: the unexpected error.
        as_json: whether the command was asked for JSON.

    Returns:
        The failure (exit 1) naming the crash report.
    """
    params = dict(ctx.params)
    workspace = params.get("workspace_dir") or params.get("directory")
    crash = report_crash(
        exc,
        command=ctx.command_path,
        arguments=params,
        workspace=str(workspace) if workspace else None,
    )
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    where = f"crash report: {crash.path}" if crash.path else "no crash report could be written"
    message = (
        f"{ctx.command_path} failed unexpectedly (a bug; nothing deleted beyond what the audit"
        f" log records): {what}; {where}"
    )
    payload: dict[str, object] = {
        "exit_code": int(ExitCode.INTERNAL),
        "kind": type(exc).__name__,
        "error": message,
        "crash_report": str(crash.path) if crash.path else None,
        "alerted": list(crash.alerted),
    }
    return Failure(ExitCode.INTERNAL, payload, f"Error: {message}", as_json=as_json)


class Command(click.Command):
    """A ``twinpurge`` command: declared exit codes (rule 1), errors mapped once (rule 2).

    Attributes:
        exit_codes: every code the command can return (``ALWAYS`` and the declared ones).
    """

    def __init__(
        self,
        *args: Any,  # noqa: ANN401 -- click.Command's own parameters, passed through
        exits: Iterable[ExitCode] = (),
        examples: Iterable[str] = (),
        **kwargs: Any,  # noqa: ANN401 -- as above
    ) -> None:
        """Build the epilog from the examples and the declared exit codes.

        Args:
            *args: click.Command's positional parameters.
            exits: the codes the command can return besides ``ALWAYS``.
            examples: command lines for the help.
            **kwargs: click.Command's keyword parameters.
        """
        opens_workspace = any(p.name == "workspace_dir" for p in kwargs.get("params") or ())
        self.exit_codes = (
            ALWAYS | frozenset(exits) | (WORKSPACE_EXITS if opens_workspace else set())
        )
        kwargs["epilog"] = epilog(examples, self.exit_codes)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 -- click's signature
        """Run the command; map a library error to its exit code, in the requested format.

        Raises:
            Failure: the command failed; click prints it and exits with its code.
        """
        as_json = ctx.params.get("output_format") == "json"
        try:
            _check_as_of_option(ctx)
            return super().invoke(ctx)
        except TwinpurgeError as exc:
            raise Failure.of(exc, as_json=as_json) from exc
        except Exception as exc:
            if _is_click_flow(exc):
                raise
            # Rule 7: the traceback goes to the crash report, never to the user's terminal.
            raise _crashed(ctx, exc, as_json=as_json) from exc


class Group(click.Group):
    """A group whose commands are ``Command``s and whose subgroups are ``Group``s."""

    command_class = Command
    group_class = type


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines (results on stdout, failures on stderr).",
)

WORKSPACE_OPTION = click.option(
    "--workspace",
    "workspace_dir",
    required=True,
    envvar=WORKSPACE_ENV,
    show_envvar=True,
    type=click.Path(file_okay=False, exists=True),
    help="The workspace directory (holding twinpurge.toml).",
)


def emit(output_format: str, data: object, text: str) -> None:
    """Print a command's result on stdout: ``data`` as JSON, or ``text``.

    Args:
        output_format: ``json`` or ``text``.
        data: the result as plain data.
        text: the result for people.
    """
    click.echo(json.dumps(data, sort_keys=True) if output_format == "json" else text)
