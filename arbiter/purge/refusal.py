"""The one way a purge refuses: an audit record, an alert to every sink, a typed refusal.

Used by the primary purge (``arbiter.purge.purger``) and the backup purge (``arbiter.backup``),
each with its own audit log and its own credential domain.

Rules:

1. Whatever stops a purge ends here and nowhere else: a divergence of the planners
   (``RefusedError``), bad input (``InputError``), a guard (``GuardError``) or any other error.
   The first three are ``refused``; anything else is ``failed``. Either way nothing (more) is
   deleted, and this module deletes nothing.
2. Every refusal appends one audit record (kind ``refusal``, ``guard`` or ``error``) and then
   sends one alert (kind ``divergence``, ``bad-input``, ``guard`` or ``error``) to every sink; the
   alert's delivery, sink by sink, is itself appended as an ``alert`` record. A sink that fails
   never stops the refusal.
3. A ``guard`` record names the guard, its details and ``purged_before``: what was deleted, each
   batch under every guard, before it tripped; the alert's details carry ``purged_before`` too
   once anything was deleted, so whoever reads the alert knows the purge was partial. The
   caller's context (the plan digest of the automated purge, the plan id of a manual one) goes
   into both the record and the alert.
4. The backup domain's alerts carry ``"domain": "backup"`` in their details and say "backup purge"
   in their message, so nobody mistakes them for the primary purge's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.model import Alert
from arbiter.audit.log import AuditLog
from arbiter.core.errors import GuardError, InputError, RefusedError

__all__ = ["Domain", "Refusal", "RefusalHandler", "status_counts"]

Domain = Literal["primary", "backup"]

# Rule 4: how each domain's alert message begins, per alert kind.
_PREFIXES: dict[Domain, dict[str, str]] = {
    "primary": {},
    "backup": {
        "divergence": "backup purge refused: ",
        "bad-input": "backup purge refused: ",
        "guard": "backup purge: ",
        "error": "backup purge failed: ",
    },
}


@attrs.frozen
class Refusal:
    """What a refusal made of an error: the fields of the purge's outcome.

    Attributes:
        status: ``refused`` (divergence, bad input or a guard) or ``failed`` (any other error).
        message: what happened, for people (without the domain's prefix).
        guard: the guard that tripped, if one did.
        details: the guard's details (empty otherwise).
        purged_before: what was deleted before the guard tripped.
        report_path: where the alert's report is, when a sink wrote one.
    """

    status: Literal["refused", "failed"]
    message: str
    guard: str | None = None
    details: Mapping[str, object] = attrs.field(factory=dict)
    purged_before: int = 0
    report_path: str | None = None


@attrs.frozen
class RefusalHandler:
    """Refuses for one domain: its audit log and the alerter of the workspace."""

    audit: AuditLog
    alerter: Alerter
    domain: Domain = "primary"

    def alert(  # noqa: PLR0913 -- every alert names its kind, message, tenant, instant, data, actor
        self,
        kind: str,
        message: str,
        *,
        tenant: str,
        as_of: str,
        details: Mapping[str, Any],
        actor: str,
    ) -> str | None:
        """Send an alert to every sink and record its delivery (rules 2 and 4).

        Args:
            kind: the alert kind.
            message: what happened, for people (the domain's prefix is added here).
            tenant: the tenant.
            as_of: the instant of the purge ("" when there is none).
            details: plain data for the alert.
            actor: who acted, for the audit log.

        Returns:
            The location of the report file when a sink wrote one, else any location, else None.
        """
        message = _PREFIXES[self.domain].get(kind, "") + message
        data = {"domain": "backup", **details} if self.domain == "backup" else dict(details)
        outcome = self.alerter.alert(
            Alert.create(kind, message, tenant=tenant, as_of=as_of, details=data)
        )
        self.audit.append(
            "alert",
            {
                "alert_id": outcome.alert.alert_id,
                "kind": kind,
                "tenant": tenant,
                "message": message,
                "delivered": list(outcome.delivered),
                "failed": [list(f) for f in outcome.failed],
            },
            actor=actor,
        )
        # The report file is the one to point people at; any other location will do otherwise.
        locations = outcome.locations
        return locations.get("report-file") or next(iter(locations.values()), None)

    def refuse(
        self,
        error: Exception,
        *,
        tenant: str,
        as_of: str,
        actor: str,
        context: Mapping[str, object] | None = None,
    ) -> Refusal:
        """Record, alert and describe the refusal ``error`` caused (rules 1 to 3).

        Args:
            error: what stopped the purge.
            tenant: the tenant.
            as_of: the instant of the purge.
            actor: who acted, for the audit log.
            context: what a ``guard`` record and its alert add (e.g. the plan digest).

        Returns:
            The refusal, for the purge's outcome.
        """
        where = {"tenant": tenant, "as_of": as_of}
        if isinstance(error, RefusedError):
            summary = error.report.summary()
            self.audit.append("refusal", {**where, "summary": summary}, actor=actor)
            path = self.alert(
                "divergence",
                summary,
                tenant=tenant,
                as_of=as_of,
                details=error.report.to_json(),
                actor=actor,
            )
            return Refusal("refused", summary, report_path=path)
        if isinstance(error, InputError):
            message = f"bad input: {error}"
            self.audit.append("refusal", {**where, "bad_input": str(error)}, actor=actor)
            path = self.alert(
                "bad-input",
                message,
                tenant=tenant,
                as_of=as_of,
                details={"source": error.source, "field": error.field, "message": error.message},
                actor=actor,
            )
            return Refusal("refused", message, report_path=path)
        if isinstance(error, GuardError):
            self.audit.append(
                "guard",
                {
                    **where,
                    "guard": error.guard,
                    "details": error.details,
                    "purged_before": error.purged_before,
                    **(context or {}),
                },
                actor=actor,
            )
            path = self.alert(
                "guard",
                str(error),
                tenant=tenant,
                as_of=as_of,
                details={
                    "guard": error.guard,
                    **error.details,
                    # Rule 3: an alert of a partial purge says what was deleted before.
                    **({"purged_before": error.purged_before} if error.purged_before else {}),
                    **(context or {}),
                },
                actor=actor,
            )
            return Refusal(
                "refused",
                str(error),
                guard=error.guard,
                details=error.details,
                purged_before=error.purged_before,
                report_path=path,
            )
        message = f"{type(error).__name__}: {error}"
        self.audit.append("error", {**where, "error": message}, actor=actor)
        path = self.alert(
            "error", message, tenant=tenant, as_of=as_of, details={"error": message}, actor=actor
        )
        return Refusal("failed", message, report_path=path)


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many outcomes ended in each status (a fleet or site report's counts).

    Args:
        statuses: one status per tenant.

    Returns:
        The count per status that occurred.
    """
    found: dict[str, int] = {}
    for status in statuses:
        found[status] = found.get(status, 0) + 1
    return found
