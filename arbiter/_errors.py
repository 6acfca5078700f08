"""Errors raised by the arbiter, grouped by who is at fault.

1. ``TwinpurgeError`` is the root: catching it catches everything the arbiter raises on purpose.
2. ``InputError``: the operator's files or arguments are bad (spec §4.4, §9). Nothing is planned.
3. ``UsageError``: the caller used the API wrongly (a programming mistake, not bad data).
4. ``RefusedError``: the planners did not agree (spec §9). Nothing may be deleted; the error
   carries the full divergence report.

Every error carries its data as attributes; the message is for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arbiter._compare import DivergenceReport

__all__ = ["InputError", "RefusedError", "TwinpurgeError", "UsageError"]


class TwinpurgeError(Exception):
    """Root of every error twinpurge raises on purpose."""


class InputError(TwinpurgeError):
    """Bad input: a file, a field or an argument breaks the spec.

    Attributes:
        source: which input is at fault: ``"inventory"``, ``"policy"``, ``"tenant"`` or ``"as_of"``.
        file: the file the input came from, when it came from one.
        field: the path of the offending field inside the input (spec §8), or ``""`` for the
            file as a whole (unreadable, not UTF-8, not JSON/TOML).
        message: what is wrong, for people.
    """

    def __init__(self, *, source: str, field: str, message: str, file: str | None = None) -> None:
        self.source = source
        self.file = file
        self.field = field
        self.message = message
        where = ": ".join(part for part in (file, field) if part)
        super().__init__(f"{where}: {message}" if where else message)

    def with_file(self, file: str | None) -> InputError:
        """The same error, naming the file the input came from.

        Args:
            file: the file, or None to leave the error as it is.

        Returns:
            A new error.
        """
        if file is None or self.file is not None:
            return self
        return InputError(source=self.source, field=self.field, message=self.message, file=file)


class UsageError(TwinpurgeError):
    """The API was called in a way it does not support."""


class RefusedError(TwinpurgeError):
    """The planners diverged; the plan is refused and nothing may be deleted.

    Attributes:
        report: what differs between the planners' verdicts.
    """

    def __init__(self, report: DivergenceReport) -> None:
        self.report = report
        super().__init__(report.summary())
