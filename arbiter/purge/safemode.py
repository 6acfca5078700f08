"""Fleet safe mode: when too much goes wrong, no purge starts anywhere until two people reset it.

Rules:

1. Counting: while a fleet run (``Purger.run_due``, not a dry run) works through the tenants,
   every tenant it attempts is counted, and those ``refused`` (divergence, bad input, a guard)
   or ``failed`` are bad. A tenant ``skipped`` because another runner holds its lock is neither.
2. Threshold (``[safe_mode]`` in ``twinpurge.toml``): the fleet trips as soon as the bad
   tenants reach ``max_bad_tenants``, or, once at least ``min_attempted`` tenants were attempted,
   reach ``max_bad_share`` of them (``crosses_threshold``). The run stops there: the remaining
   tenants are not started.
3. Clock sanity: every run that may delete and takes its as_of from the runner's clock (the
   scheduled run) records its as_of and that clock in the store. A run whose as_of is earlier
   than a previous run's by more than ``clock_tolerance_hours`` (the skew allowed between
   runners' clocks) trips the fleet instead of purging: the runner's clock jumped back. An
   as_of given on purpose is the caller's (one ahead of the clock is refused tenant by tenant by
   the ``future-as-of`` guard); it is not checked here. A store with a clock of its own (a
   database server's, ``SafeModeStore.store_clock``) is compared too: a runner's clock more than
   ``clock_tolerance_hours`` from it, either way, trips the fleet. An embedded store has none.
4. A trip lives in the store (``SafeModeStore``), so it holds for every runner and every later
   run: ``require_off`` raises ``SafeModeError`` before anything is read for deletion. At most one
   trip is active; a second trip while one is active changes nothing.
5. Dry runs never trip, never count and are never refused: they plan and report the active trip.
6. A reset needs a request bound to the active trip (its id and digest), signed by
   ``approvals_required`` distinct registered operators for the action ``reset-safe-mode``
   (``arbiter.auth.approvals``): a request for an older trip cannot reset a newer one.
7. Every trip and every reset is appended to the audit log and alerted to every sink, naming
   the tenants involved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.model import Alert
from arbiter.audit.log import AuditLog
from arbiter.auth.approvals import Approval
from arbiter.core.canonical import canonical_digest
from arbiter.core.config import SafeModeConfig
from arbiter.core.convert import strict_converter
from arbiter.core.errors import SafeModeError
from arbiter.core.instants import format_instant, parse_instant, utc_now
from arbiter.stores.ports import SafeModeStore

__all__ = [
    "RESET_ACTION",
    "FleetTally",
    "ResetRequest",
    "ResetRequestBody",
    "SafeMode",
    "SafeModeTrip",
    "crosses_threshold",
]

RESET_ACTION: Literal["reset-safe-mode"] = "reset-safe-mode"
REQUEST_FORMAT = "twinpurge-safe-mode-reset-1"
# Rule 1: what a bad tenant is, and what is not counted at all.
BAD = frozenset({"refused", "failed"})
NOT_COUNTED = frozenset({"skipped"})


def crosses_threshold(bad: int, attempted: int, config: SafeModeConfig) -> bool:
    """Whether ``bad`` of ``attempted`` tenants trip the fleet (rule 2).

    Args:
        bad: tenants refused or failed so far in the run.
        attempted: tenants attempted so far (bad ones included).
        config: the thresholds.

    Returns:
        True once the count, or (from ``min_attempted`` tenants on) the share, is reached.
    """
    if bad >= config.max_bad_tenants:
        return True
    return attempted >= config.min_attempted and bad / attempted >= config.max_bad_share


@attrs.define
class FleetTally:
    """A run's count of attempted and bad tenants (rules 1 and 2)."""

    config: SafeModeConfig
    attempted: int = 0
    bad: list[str] = attrs.Factory(list)
    statuses: dict[str, int] = attrs.Factory(dict)

    def add(self, tenant: str, status: str) -> bool:
        """Count one tenant's outcome.

        Args:
            tenant: the tenant.
            status: its outcome's status.

        Returns:
            Whether the run has now crossed the threshold.
        """
        if status in NOT_COUNTED:
            return False
        self.attempted += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status in BAD:
            self.bad.append(tenant)
        return crosses_threshold(len(self.bad), self.attempted, self.config)


@attrs.frozen
class SafeModeTrip:
    """One trip of fleet safe mode, as the store holds it.

    Attributes:
        trip_id: the trip's id; a reset request names it (rule 6).
        tripped_at: when it tripped.
        kind: ``threshold`` (too many bad tenants) or ``clock`` (clock sanity).
        reason: why, for people.
        as_of: the as_of of the run that tripped it.
        tenants: the tenants involved (the bad ones; none for a clock trip).
        counts: the run's counts (``attempted``, ``bad`` and per status).
        reset_at: when it was reset, or None while it holds the fleet.
        reset_by: the operators whose approvals reset it.
        reset_reason: why they reset it.
    """

    trip_id: str
    tripped_at: str
    kind: str
    reason: str
    as_of: str | None
    tenants: tuple[str, ...]
    counts: dict[str, int]
    reset_at: str | None = None
    reset_by: tuple[str, ...] | None = None
    reset_reason: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SafeModeTrip:
        """A trip from the store's record."""
        reset_by = record.get("reset_by")
        return cls(
            trip_id=str(record["trip_id"]),
            tripped_at=str(record["tripped_at"]),
            kind=str(record["kind"]),
            reason=str(record["reason"]),
            as_of=record.get("as_of"),
            tenants=tuple(record["tenants"]),
            counts=dict(record["counts"]),
            reset_at=record.get("reset_at"),
            reset_by=None if reset_by is None else tuple(reset_by),
            reset_reason=record.get("reset_reason"),
        )

    def to_json(self) -> dict[str, Any]:
        """The trip as plain data."""
        data = attrs.asdict(self)
        data["tenants"] = list(self.tenants)
        data["reset_by"] = None if self.reset_by is None else list(self.reset_by)
        return data

    def error(self) -> SafeModeError:
        """The error a purge refused by this trip raises."""
        return SafeModeError(self.trip_id, self.tripped_at, self.reason, self.tenants)


@attrs.frozen
class ResetRequestBody:
    """What a reset request binds (rule 6); approvals sign its digest."""

    request_id: str
    trip_id: str
    tripped_at: str
    trip_reason: str
    tenants: tuple[str, ...]
    reason: str
    requested_by: str
    created_at: str
    format: str = REQUEST_FORMAT


@attrs.frozen
class ResetRequest:
    """A reset request file: the bound body and the approvals collected so far."""

    body: ResetRequestBody
    approvals: tuple[Approval, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the body's canonical JSON."""
        return canonical_digest(REQUEST_CONVERTER.unstructure(self.body))


REQUEST_CONVERTER = strict_converter()


def _epoch_text(epoch: float) -> str:
    return format_instant(datetime.fromtimestamp(epoch, tz=UTC))


@attrs.frozen
class SafeMode:
    """Fleet safe mode over one store, audit log and alerter (this module's rules)."""

    store: SafeModeStore
    audit: AuditLog
    alerter: Alerter
    config: SafeModeConfig
    clock: Callable[[], datetime] = utc_now

    def active(self) -> SafeModeTrip | None:
        """The trip that holds the fleet, or None."""
        record = self.store.active_trip()
        return None if record is None else SafeModeTrip.from_record(record)

    def history(self) -> list[SafeModeTrip]:
        """Every trip, oldest first."""
        return [SafeModeTrip.from_record(r) for r in self.store.trips()]

    def require_off(self) -> None:
        """Rule 4: raise unless the fleet may purge.

        Raises:
            SafeModeError: a trip is active.
        """
        trip = self.active()
        if trip is not None:
            raise trip.error()

    def tally(self) -> FleetTally:
        """A fresh count for one run (rules 1 and 2)."""
        return FleetTally(self.config)

    def check_clock(self, as_of: str, *, actor: str) -> SafeModeTrip | None:
        """Record a run and apply clock sanity (rule 3).

        Args:
            as_of: the run's as_of.
            actor: who runs, for the audit log.

        Returns:
            The trip this run caused, or None when its clocks are sane. An as_of that is not
            an instant is left to the planners (bad input, refused tenant by tenant).
        """
        try:
            at = parse_instant(as_of)
        except ValueError:
            return None
        now = self.clock()
        tolerance = timedelta(hours=self.config.clock_tolerance_hours)
        run_id, last_as_of, last_ran_at = self.store.record_run(
            as_of, at.timestamp(), format_instant(now), now.timestamp(), sane=True
        )
        del last_ran_at  # recorded for investigation; the as_of is the runner's clock
        problem = None
        store_now = self.store.store_clock()
        if store_now is not None and abs(now - store_now) > tolerance:
            problem = (
                f"this runner's clock says {format_instant(now)}, more than"
                f" {self.config.clock_tolerance_hours:g} h from the store's clock"
                f" ({format_instant(store_now)})"
            )
        elif last_as_of is not None and at.timestamp() < last_as_of - tolerance.total_seconds():
            problem = (
                f"this runner's clock says {as_of}, more than"
                f" {self.config.clock_tolerance_hours:g} h earlier than a previous run's as_of"
                f" ({_epoch_text(last_as_of)})"
            )
        if problem is None:
            return None
        self.store.mark_run_insane(run_id)
        return self.trip("clock", f"clock jump: {problem}", (), {}, as_of=as_of, actor=actor)

    def trip(  # noqa: PLR0913 -- what a trip records
        self,
        kind: str,
        reason: str,
        tenants: Iterable[str],
        counts: Mapping[str, int],
        *,
        as_of: str | None,
        actor: str,
    ) -> SafeModeTrip:
        """Trip the fleet (rules 4 and 7); a trip already active stays as it is.

        Returns:
            The active trip (this one, or the one that was active already).
        """
        record = {
            "trip_id": uuid.uuid4().hex[:16],
            "tripped_at": format_instant(self.clock()),
            "kind": kind,
            "reason": reason,
            "as_of": as_of,
            "tenants": list(tenants),
            "counts": dict(counts),
        }
        stored = self.store.add_trip(record)
        trip = SafeModeTrip.from_record(stored)
        if stored["trip_id"] != record["trip_id"]:
            return trip
        data = trip.to_json()
        self.audit.append("safe-mode-trip", data, actor=actor)
        self._alert(
            "safe-mode",
            f"fleet safe mode tripped: {reason}; no purge starts on any runner until two"
            f" operators reset it (tenants involved: {', '.join(trip.tenants) or 'none'})",
            as_of=as_of,
            details=data,
            actor=actor,
        )
        return trip

    def reset(
        self, trip: SafeModeTrip, *, approvers: tuple[str, ...], reason: str, actor: str
    ) -> SafeModeTrip:
        """Reset ``trip`` (rules 6 and 7); the approvals were checked by the caller.

        Returns:
            The trip as reset.

        Raises:
            SafeModeError: ``trip`` is no longer the active trip (nothing changed).
        """
        reset_at = format_instant(self.clock())
        if not self.store.clear_trip(
            trip.trip_id, reset_at=reset_at, reset_by=list(approvers), reason=reason
        ):
            active = self.active()
            raise (active or trip).error()
        done = attrs.evolve(trip, reset_at=reset_at, reset_by=approvers, reset_reason=reason)
        data = done.to_json()
        self.audit.append("safe-mode-reset", data, actor=actor)
        self._alert(
            "safe-mode-reset",
            f"fleet safe mode reset by {', '.join(approvers)}: {reason}"
            f" (trip {trip.trip_id}; tenants involved: {', '.join(trip.tenants) or 'none'})",
            as_of=trip.as_of,
            details=data,
            actor=actor,
        )
        return done

    def _alert(
        self, kind: str, message: str, *, as_of: str | None, details: dict[str, Any], actor: str
    ) -> None:
        """A fleet-wide alert to every sink; its delivery is audited like a refusal's."""
        outcome = self.alerter.alert(Alert.create(kind, message, as_of=as_of, details=details))
        self.audit.append(
            "alert",
            {
                "alert_id": outcome.alert.alert_id,
                "kind": kind,
                "tenant": None,
                "message": message,
                "delivered": list(outcome.delivered),
                "failed": [list(f) for f in outcome.failed],
            },
            actor=actor,
        )
