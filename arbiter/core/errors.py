"""Errors raised by the arbiter, grouped by who is at fault.

1. ``TwinpurgeError`` is the root: catching it catches everything the arbiter raises on purpose.
2. ``InputError``: the operator's files or arguments are bad (spec §4.4, §9). Nothing is planned.
3. ``UsageError``: the caller used the API wrongly (a programming mistake, not bad data).
4. ``RefusedError``: the planners did not agree (spec §9). Nothing may be deleted; the error
   carries the full divergence report.
5. ``GuardError``: one of the arbiter's own guards refused a purge (the planners may agree and
   still be wrong together).
6. ``AuditError``/``AuditTamperedError``: the audit log is unusable or fails verification.
7. ``AlertDeliveryError``: an alert sink could not deliver; never stops a refusal.
8. ``ApprovalError``: a manual action lacks two distinct operators' valid approvals.
9. ``StalePlanError``: the data changed since a manual plan was approved.
10. ``ArchiveError``: a restore archive is missing or damaged.
11. ``CredentialError``: credentials are missing, unreadable, readable by others, of the other
    domain, or do not open what they are for; ``CredentialDomainError`` (one of them): a process
    asked for the primary and the backup credential domains together.
12. ``BackupTamperedError``: a backup file fails authentication (changed, moved or forged);
    ``RetentionLockError``: a backup generation is still under its retention lock.
13. ``SafeModeError``: the fleet is in safe mode (``arbiter.purge.safemode``); no purge starts
    until two operators reset it. Nothing was deleted when it is raised.
14. ``OmissionError``: a purge deleted what it could but left something behind (a row, a file,
    a temporary file); its journal stays unfinished and the next run's recovery retries it.
15. ``StoreConnectionError``: the PostgreSQL store cannot be opened as a role, or its server went
    away; one subclass per cause, each with its own exit code: ``StoreAddressError`` (bad input:
    the store URL), ``StoreLoginError`` (the server refused the role's password),
    ``StoreMissingError`` (the database does not exist) and ``StoreUnavailableError`` (the
    server cannot be reached or went away: the environment; the next run recovers).
5. ``AuditError``: the audit log cannot be written or read as asked (e.g. the data to record is
   not plain JSON data).
6. ``AuditTamperedError`` (an ``AuditError``): the audit log fails verification; it names the
   first bad record.

Every error carries its data as attributes; the message is for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arbiter.core.compare import DivergenceReport

__all__ = [
    "AlertDeliveryError",
    "ApprovalError",
    "ArchiveError",
    "AuditError",
    "AuditTamperedError",
    "BackupTamperedError",
    "CredentialDomainError",
    "CredentialError",
    "GuardError",
    "InputError",
    "OmissionError",
    "RefusedError",
    "RetentionLockError",
    "SafeModeError",
    "StalePlanError",
    "StoreAddressError",
    "StoreConnectionError",
    "StoreLoginError",
    "StoreMissingError",
    "StoreUnavailableError",
    "TwinpurgeError",
    "UsageError",
]


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


class AuditError(TwinpurgeError):
    """The audit log cannot be written or read as asked."""


class AuditTamperedError(AuditError):
    """The audit log fails verification: edited, reordered, removed, forged or corrupt records.

    Attributes:
        seq: the sequence number the first bad record has or should have (its place in the
            chain; every record before it is good), or None when no single record is at fault
            (e.g. the head store has no head but the log has records).
        line: the 1-based line of the first bad record in the log file, or None with ``seq``.
        reason: what is wrong, for people.
    """

    def __init__(self, reason: str, *, seq: int | None = None, line: int | None = None) -> None:
        self.seq = seq
        self.line = line
        self.reason = reason
        where = "audit log" if seq is None else f"audit record {seq} (line {line})"
        super().__init__(f"{where} fails verification: {reason}")


class GuardError(TwinpurgeError):
    """One of the arbiter's own guards refused a purge, whatever the planners said.

    Attributes:
        guard: which guard tripped (``future-as-of``, ``blast-radius``, ``foreign-object``,
            ``object-hold``, ``tenant-hold``, ``tenant-not-cancelled``, ``shared``,
            ``category-keep``, ``count-mismatch``, ``object-missing``, ``tenant-missing``,
            ``stale``, ``unfinished-journal``; the backup purge's ``no-primary-receipt``,
            ``tampered``, ``retention-lock`` and, in its recovery, ``no-longer-due``).
        tenant: the tenant being purged.
        message: why, for people (the error's text adds the guard and the tenant).
        details: plain data for the alert and the audit log.
        purged_before: objects (or backup generations) deleted, each under every guard, before
            this guard tripped: zero unless it tripped after a committed batch.
    """

    def __init__(
        self,
        guard: str,
        tenant: str,
        message: str,
        details: dict[str, object],
        *,
        purged_before: int = 0,
    ) -> None:
        self.guard = guard
        self.tenant = tenant
        self.message = message
        self.details = details
        self.purged_before = purged_before
        super().__init__(f"guard {guard} refused the purge of tenant {tenant!r}: {message}")

    def after(self, purged: int) -> GuardError:
        """The same refusal, tripped after ``purged`` objects were deleted.

        Args:
            purged: what was deleted before the guard tripped.

        Returns:
            A new error; this one is left as it is.
        """
        return GuardError(
            self.guard, self.tenant, self.message, dict(self.details), purged_before=purged
        )


class AlertDeliveryError(TwinpurgeError):
    """An alert sink could not deliver an alert, after every attempt it was allowed.

    Attributes:
        sink: the sink's name.
        attempts: how many delivery attempts were made.
        reason: why the last attempt failed, for people.
    """

    def __init__(self, *, sink: str, attempts: int, reason: str) -> None:
        self.sink = sink
        self.attempts = attempts
        self.reason = reason
        plural = "" if attempts == 1 else "s"
        super().__init__(f"alert sink {sink} failed after {attempts} attempt{plural}: {reason}")


class ApprovalError(TwinpurgeError):
    """A manual action lacks the approvals the two-person rule requires.

    Attributes:
        action: ``execute`` or ``restore``.
        valid: the distinct operators whose approval counts.
        required: how many are needed.
        problems: why each other approval does not count.
    """

    def __init__(
        self, action: str, valid: tuple[str, ...], required: int, problems: tuple[str, ...]
    ) -> None:
        self.action = action
        self.valid = valid
        self.required = required
        self.problems = problems
        counted = ", ".join(valid) or "none"
        why = f"; not counted: {'; '.join(problems)}" if problems else ""
        super().__init__(
            f"{action} needs approvals from {required} distinct registered operators;"
            f" valid: {counted}{why}"
        )


class StalePlanError(TwinpurgeError):
    """The planners' verdict now differs from the approved one; nothing is deleted.

    Attributes:
        changes: one line per difference (approved vs now).
    """

    def __init__(self, plan_id: str, changes: tuple[str, ...]) -> None:
        self.plan_id = plan_id
        self.changes = changes
        super().__init__(f"plan {plan_id} is stale: " + "; ".join(changes))


class ArchiveError(TwinpurgeError):
    """A restore archive is missing, damaged or not what the store recorded."""


class OmissionError(TwinpurgeError):
    """A purge's completeness check found something left behind (rule 14).

    Attributes:
        plan_id: the manual plan (or the purge id).
        omissions: one line per thing left behind.
    """

    def __init__(self, plan_id: str, omissions: tuple[str, ...]) -> None:
        self.plan_id = plan_id
        self.omissions = omissions
        super().__init__(
            f"{plan_id} left {len(omissions)} things behind ({omissions[0]});"
            " the next run's recovery retries them"
        )


class CredentialError(TwinpurgeError):
    """Credentials are missing, unusable, of the other domain, or do not fit what they open.

    Nothing was read from the backup site and nothing was deleted when this is raised.

    Attributes:
        domain: the credential domain asked for, ``"primary"`` or ``"backup"``.
        message: what is wrong and what to do, for people.
    """

    def __init__(self, domain: str, message: str) -> None:
        self.domain = domain
        self.message = message
        super().__init__(f"{domain} credentials: {message}")


class CredentialDomainError(CredentialError):
    """A process asked for both credential domains: it may only ever hold one.

    Attributes:
        held: the domain the process already holds.
        requested: the domain it asked for.
    """

    def __init__(self, *, held: str, requested: str) -> None:
        self.held = held
        self.requested = requested
        super().__init__(
            requested,
            f"this process already holds {held} credentials; refusing to load {requested}"
            f" credentials: the {held} and {requested} credential domains are never held by one"
            f" process (run {requested} steps in a process of their own)",
        )


class BackupTamperedError(TwinpurgeError):
    """A backup file fails authentication: it was changed, moved, renamed or forged.

    Attributes:
        path: the file.
        reason: what failed, for people.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"backup file {path} fails authentication: {reason}")


class RetentionLockError(TwinpurgeError):
    """A backup generation is still under its retention lock and cannot be deleted yet.

    Attributes:
        generation: the generation id.
        locked_until: the instant the lock ends.
    """

    def __init__(self, generation: str, locked_until: str) -> None:
        self.generation = generation
        self.locked_until = locked_until
        super().__init__(f"backup generation {generation} is locked until {locked_until}")


class SafeModeError(TwinpurgeError):
    """The fleet is in safe mode: no purge starts, on any runner, until it is reset.

    Nothing was read for deletion and nothing was deleted when this is raised.

    Attributes:
        trip_id: the trip that holds the fleet (a reset request must name it).
        tripped_at: when it tripped.
        reason: why, for people.
        tenants: the tenants involved.
    """

    def __init__(
        self, trip_id: str, tripped_at: str, reason: str, tenants: tuple[str, ...]
    ) -> None:
        self.trip_id = trip_id
        self.tripped_at = tripped_at
        self.reason = reason
        self.tenants = tenants
        super().__init__(
            f"fleet safe mode since {tripped_at} (trip {trip_id}): {reason}; nothing deleted;"
            " investigate, then reset with two operators (twinpurge safe-mode reset)"
        )


class StoreConnectionError(TwinpurgeError):
    """The PostgreSQL store could not be opened as a role, or its server went away.

    Nothing (more) was deleted when this is raised: a purge's committed batches stay committed,
    the open one rolls back, and the next run's recovery finishes the journal.

    Attributes:
        store: the store's URL, without any password.
        role: the database role the connection was for.
        reason: what is wrong, for people: one line, never a password.
    """

    def __init__(self, *, store: str, role: str, reason: str) -> None:
        self.store = store
        self.role = role
        self.reason = reason
        super().__init__(f"store {store} as {role}: {reason}")


class StoreAddressError(StoreConnectionError):
    """Bad input: the store URL is malformed, or carries what it may not (a password, a user)."""


class StoreLoginError(StoreConnectionError):
    """The server refused the role's password (or knows no such role): the credentials file."""


class StoreMissingError(StoreConnectionError):
    """The server has no such database: a wrong name, or a store never initialised."""


class StoreUnavailableError(StoreConnectionError):
    """The server cannot be reached, or the connection broke while in use (the environment)."""
