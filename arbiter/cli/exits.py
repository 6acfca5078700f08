"""The command's exit codes and the one mapping from the library's errors to them.

1. ``ExitCode`` is the only exit-code table; every command, its help and the README use it.
2. ``exit_code_for`` is the only mapping from an error (``arbiter.core.errors``) to an exit code:
   it walks the error's class hierarchy, so a subclass maps as its nearest mapped ancestor and
   every ``TwinpurgeError`` maps to some code.
3. Every command can exit ``OK``, ``INTERNAL`` (a bug) and ``BAD_INPUT`` (click itself exits 2
   on an unknown option or a missing argument); the others are declared per command.
4. Every command that opens a workspace (its ``--workspace`` option) can also exit with
   ``WORKSPACE_EXITS``: a PostgreSQL store wants a login (the primary credentials) and a
   server that answers, whatever the command does with it.
5. No code other than ``OK`` means anything was deleted beyond what the audit log records: each
   failure ends the command with nothing (more) deleted.
"""

from __future__ import annotations

from enum import IntEnum

from arbiter.core.errors import (
    AlertDeliveryError,
    ApprovalError,
    ArchiveError,
    AuditError,
    BackupTamperedError,
    CredentialError,
    GuardError,
    InputError,
    OmissionError,
    RefusedError,
    RetentionLockError,
    SafeModeError,
    StalePlanError,
    StoreAddressError,
    StoreConnectionError,
    StoreLoginError,
    StoreMissingError,
    TwinpurgeError,
    UsageError,
)

__all__ = [
    "ALWAYS",
    "MEANINGS",
    "STORE_EXITS",
    "WORKSPACE_EXITS",
    "ExitCode",
    "exit_code_for",
    "exit_codes_help",
]


class ExitCode(IntEnum):
    """The exit codes of ``twinpurge``; ``MEANINGS`` says what each means."""

    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    REFUSED = 3
    VERIFICATION = 4
    MISSING_APPROVALS = 5
    STALE_PLAN = 6
    CREDENTIALS = 7
    STORE_MISSING = 8
    STORE_UNAVAILABLE = 9


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (an agreed plan; every due purge done; the action done)",
    ExitCode.INTERNAL: "internal error (a bug; stderr names the crash report; nothing deleted)",
    ExitCode.BAD_INPUT: "bad input or usage (stderr names the file and field)",
    ExitCode.REFUSED: "divergence or refusal: the planners, a guard, an archive (nothing deleted)",
    ExitCode.VERIFICATION: "failed verification: the audit log, a backup file or the site's log",
    ExitCode.MISSING_APPROVALS: "missing approvals: fewer than two distinct registered operators",
    ExitCode.STALE_PLAN: "stale plan: the data changed since approval (stderr says what changed)",
    ExitCode.CREDENTIALS: "credentials missing, wrong, or of the other domain (nothing deleted)",
    ExitCode.STORE_MISSING: "the store's database does not exist (nothing read, nothing deleted)",
    ExitCode.STORE_UNAVAILABLE: (
        "the store's server unreachable or gone (nothing deleted beyond committed batches;"
        " the next run recovers)"
    ),
}

ALWAYS: frozenset[ExitCode] = frozenset({ExitCode.OK, ExitCode.INTERNAL, ExitCode.BAD_INPUT})
# A PostgreSQL store's database missing, or its server out of reach (rule 4).
STORE_EXITS: frozenset[ExitCode] = frozenset({ExitCode.STORE_MISSING, ExitCode.STORE_UNAVAILABLE})
WORKSPACE_EXITS: frozenset[ExitCode] = STORE_EXITS | {ExitCode.CREDENTIALS}

# Looked up along the error's MRO (rule 2): the nearest listed class wins.
_BY_ERROR: dict[type[TwinpurgeError], ExitCode] = {
    InputError: ExitCode.BAD_INPUT,
    UsageError: ExitCode.BAD_INPUT,
    RefusedError: ExitCode.REFUSED,
    GuardError: ExitCode.REFUSED,
    ArchiveError: ExitCode.REFUSED,
    OmissionError: ExitCode.REFUSED,
    # A locked backup generation is kept: a refusal, not a failure.
    RetentionLockError: ExitCode.REFUSED,
    SafeModeError: ExitCode.REFUSED,
    AuditError: ExitCode.VERIFICATION,
    BackupTamperedError: ExitCode.VERIFICATION,
    ApprovalError: ExitCode.MISSING_APPROVALS,
    StalePlanError: ExitCode.STALE_PLAN,
    CredentialError: ExitCode.CREDENTIALS,
    StoreAddressError: ExitCode.BAD_INPUT,
    StoreLoginError: ExitCode.CREDENTIALS,
    StoreMissingError: ExitCode.STORE_MISSING,
    StoreConnectionError: ExitCode.STORE_UNAVAILABLE,
    # The alerter never lets a sink's failure escape (it must not stop a refusal): one that
    # reaches a command is a bug.
    AlertDeliveryError: ExitCode.INTERNAL,
    TwinpurgeError: ExitCode.INTERNAL,
}


def exit_code_for(error: TwinpurgeError) -> ExitCode:
    """The exit code a command ends with when ``error`` stops it.

    Args:
        error: an error the library raised.

    Returns:
        The code of the nearest mapped class in the error's hierarchy.
    """
    for cls in type(error).__mro__:
        code = _BY_ERROR.get(cls)
        if code is not None:
            return code
    return ExitCode.INTERNAL  # pragma: no cover -- TwinpurgeError itself is mapped


def exit_codes_help(codes: frozenset[ExitCode] | None = None) -> str:
    """The "Exit codes:" section of a help text.

    Args:
        codes: the codes to list; None lists every code.

    Returns:
        The section, verbatim (click keeps its lines as they are).
    """
    shown = sorted(codes if codes is not None else ExitCode)
    lines = "".join(f"  {code.value}  {MEANINGS[code]}\n" for code in shown)
    return f"\b\nExit codes:\n{lines}"
