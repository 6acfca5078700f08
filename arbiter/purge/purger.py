"""Agreement-gated execution: plan with both planners, then delete under the arbiter's own guards.

The planners are trusted for nothing. Rules, in the order they are applied:

0. Before the first row is deleted, everything about to be deleted is written to a verified
   restore archive (``arbiter.purge.archive``), kept until the tenant's backup_due.
1. Both planners read the tenant's slice from one consistent snapshot (``read_slice``) and get
   separate copies of it (``arbiter.core.arbitrate``). A divergence, a rejection or a failure
   refuses the purge: nothing is deleted, an alert goes to every sink, the audit log records it.
2. Time: a purge is executed only for an ``as_of`` that is not in the future; planning "as of next
   year" is a dry run, never a deletion ahead of schedule.
   Blast radius, before anything is deleted: the purge set may not exceed
   ``max_objects_per_purge``, nor ``max_store_fraction`` of all objects in the store once it is
   larger than ``fraction_floor`` objects.
3. Scope: every object of the purge set must be one of the tenant's objects in the slice.
4. Staleness: the slice is read again just before deleting; if it changed since planning, the
   plan is stale and refused (the next run plans afresh).
5. Pre-flight: the checks of rule 6 run once over the whole purge set before the first batch, so
   a plan that any of them refuses deletes nothing at all.
6. In each batch's write transaction, before deleting, the store is re-read and the batch is
   refused when: the tenant is gone, is under legal hold, or its latest lifecycle event (ties
   favouring reactivation, spec §5) is not a cancellation; an object is missing, belongs to
   another tenant, is under legal hold, or has a category the policy keeps; an object outside
   the purge set holds a ref to an object of the batch.
7. Deletes match identity *and* tenant; a deleted-row count different from the batch size rolls
   the batch back and refuses.
8. Blob files are deleted only after their rows' deletion committed; a failure to delete one is
   alerted (an orphan file), never retried blindly.
9. A guard that trips stops the purge of that tenant: batches committed before it stay deleted
   (each was checked by every guard), nothing more is deleted, an alert is sent, the audit log
   records it.
10. When every batch committed, a receipt of the primary purge is recorded in the store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.model import Alert
from arbiter.audit.log import AuditLog
from arbiter.core.arbitrate import Agreement, Planner, arbitrate, fingerprint
from arbiter.core.config import LimitsConfig
from arbiter.core.errors import GuardError, InputError, RefusedError
from arbiter.core.verdict import ObjectId, Verdict, verdict_to_json
from arbiter.stores.ports import Archiver, BlobTarget, InventoryReader, PurgeTarget

if TYPE_CHECKING:
    from arbiter.stores.ports import PurgeTransaction

__all__ = ["FleetReport", "PurgeOutcome", "Purger", "plan_digest", "utc_now"]

Status = Literal["executed", "dry-run", "not-eligible", "refused", "failed"]


class _Rollback(Exception):  # noqa: N818 -- a control-flow signal, not an error
    """Raised inside a transaction to roll it back on purpose (rehearsal)."""


def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def format_instant(moment: datetime) -> str:
    """An instant in the output form of spec §2.2."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


def plan_digest(verdict: Verdict) -> str:
    """SHA-256 of the verdict's canonical JSON: what an approval or a receipt refers to."""
    text = json.dumps(verdict_to_json(verdict), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen
class PurgeOutcome:
    """What ``purge_tenant`` did for one tenant.

    Attributes:
        status: ``executed`` (all batches committed), ``dry-run`` (agreed, nothing deleted),
            ``not-eligible`` (agreed, not due), ``refused`` (divergence, bad input or a guard),
            ``failed`` (an unexpected error; nothing more deleted).
        purged: objects deleted (for ``dry-run``: objects that would be deleted).
        kept_by_reason: kept objects counted per reason.
        guard: the guard that tripped, if one did.
        report_path: the divergence or guard report file, when one was written.
    """

    tenant: str
    as_of: str
    status: Status
    message: str
    eligible: bool | None = None
    reason: str | None = None
    primary_due: str | None = None
    backup_due: str | None = None
    purged: int = 0
    kept_by_reason: dict[str, int] = attrs.Factory(dict)
    batches: int = 0
    plan_digest: str | None = None
    guard: str | None = None
    report_path: str | None = None
    archive_id: str | None = None


@attrs.frozen
class FleetReport:
    """What ``run_due`` did across every tenant."""

    as_of: str
    outcomes: tuple[PurgeOutcome, ...]

    def counts(self) -> dict[str, int]:
        """How many tenants ended in each status."""
        found: dict[str, int] = {}
        for outcome in self.outcomes:
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    @property
    def purged(self) -> int:
        """Objects deleted across the fleet."""
        return sum(o.purged for o in self.outcomes if o.status == "executed")


def _chunks(items: Sequence[ObjectId], size: int) -> Iterator[list[ObjectId]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _latest_lifecycle_is_cancellation(events: list[tuple[str, str]]) -> bool:
    # The arbiter's own reading of spec §5, without as_of: any later reactivation stops a purge.
    lifecycle = [
        (datetime.fromisoformat(at), 0 if kind == "cancelled" else 1)
        for kind, at in events
        if kind in {"subscribed", "cancelled", "reactivated"}
    ]
    return bool(lifecycle) and max(lifecycle)[1] == 0


def _kept_categories(policy: Mapping[str, Any]) -> frozenset[str]:
    categories = policy.get("categories", {})
    return frozenset(
        name
        for name, table in categories.items()
        if isinstance(table, Mapping) and table.get("keep") is True
    )


@attrs.define
class Purger:
    """Plans with both planners and purges under the arbiter's guards (this module's rules).

    Build one from a workspace (``Workspace.purger``) or from your own stores: anything that
    implements ``InventoryReader``, ``PurgeTarget`` and ``BlobTarget``.
    """

    reader: InventoryReader
    target: PurgeTarget
    policy: Mapping[str, Any]
    limits: LimitsConfig
    audit: AuditLog
    alerter: Alerter
    blobs: BlobTarget | None = None
    planners: tuple[Planner, Planner] | None = None
    clock: Callable[[], datetime] = utc_now
    on_receipt: Callable[[str, str, str, int, str | None], None] | None = None
    archiver: Archiver | None = None
    on_progress: Callable[[str, int, int], None] | None = None

    def _audit(self, kind: str, data: Mapping[str, Any], actor: str) -> None:
        self.audit.append(kind, data, actor=actor)

    def _alert(  # noqa: PLR0913 -- every alert names its kind, message, tenant, instant, data, actor
        self,
        kind: str,
        message: str,
        *,
        tenant: str,
        as_of: str,
        details: dict[str, Any],
        actor: str,
    ) -> str | None:
        outcome = self.alerter.alert(
            Alert.create(kind, message, tenant=tenant, as_of=as_of, details=details)
        )
        self._audit(
            "alert",
            {
                "alert_id": outcome.alert.alert_id,
                "kind": kind,
                "tenant": tenant,
                "message": message,
                "delivered": list(outcome.delivered),
                "failed": [list(f) for f in outcome.failed],
            },
            actor,
        )
        # The report file is the one to point people at; any other location will do otherwise.
        locations = outcome.locations
        return locations.get("report-file") or next(iter(locations.values()), None)

    def agree(
        self, tenant: str, as_of: str, *, actor: str = "retention-service"
    ) -> tuple[Agreement, str]:
        """Read the tenant's slice and have both planners agree on it (rule 1).

        Args:
            tenant: the tenant id.
            as_of: the instant of the verdict.
            actor: who asked, for the audit log.

        Returns:
            The agreement and the fingerprint of the slice it was computed from.

        Raises:
            InputError: both planners rejected the input.
            RefusedError: the planners diverged or one failed.
        """
        inventory = self.reader.read_slice(tenant)
        slice_fingerprint = fingerprint(inventory)
        self._audit("plan", {"tenant": tenant, "as_of": as_of, "slice": slice_fingerprint}, actor)
        agreement = arbitrate(inventory, self.policy, tenant, as_of, planners=self.planners)
        return agreement, slice_fingerprint

    def purge_tenant(
        self,
        tenant: str,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        actor: str = "retention-service",
    ) -> PurgeOutcome:
        """Plan one tenant with both planners and, on agreement, purge under every guard.

        Never raises for bad data, divergence or a guard: those end in a ``refused`` outcome,
        an alert and an audit record, with nothing (more) deleted.

        Args:
            tenant: the tenant id.
            as_of: the instant of the verdict; now when omitted.
            dry_run: plan and check the blast radius, delete nothing.
            actor: who asked, for the audit log.

        Returns:
            The outcome.
        """
        as_of = as_of or format_instant(self.clock())
        try:
            return self._purge(tenant, as_of, dry_run=dry_run, actor=actor)
        except RefusedError as exc:
            self._audit(
                "refusal",
                {"tenant": tenant, "as_of": as_of, "summary": exc.report.summary()},
                actor,
            )
            path = self._alert(
                "divergence",
                exc.report.summary(),
                tenant=tenant,
                as_of=as_of,
                details=exc.report.to_json(),
                actor=actor,
            )
            return PurgeOutcome(tenant, as_of, "refused", exc.report.summary(), report_path=path)
        except InputError as exc:
            message = f"bad input: {exc}"
            self._audit("refusal", {"tenant": tenant, "as_of": as_of, "bad_input": str(exc)}, actor)
            path = self._alert(
                "bad-input",
                message,
                tenant=tenant,
                as_of=as_of,
                details={"source": exc.source, "field": exc.field, "message": exc.message},
                actor=actor,
            )
            return PurgeOutcome(tenant, as_of, "refused", message, report_path=path)
        except Exception as exc:  # noqa: BLE001 -- any error ends with nothing more deleted
            message = f"{type(exc).__name__}: {exc}"
            self._audit("error", {"tenant": tenant, "as_of": as_of, "error": message}, actor)
            path = self._alert(
                "error",
                message,
                tenant=tenant,
                as_of=as_of,
                details={"error": message},
                actor=actor,
            )
            return PurgeOutcome(tenant, as_of, "failed", message, report_path=path)

    def _purge(self, tenant: str, as_of: str, *, dry_run: bool, actor: str) -> PurgeOutcome:
        agreement, slice_fingerprint = self.agree(tenant, as_of, actor=actor)
        verdict = agreement.verdict
        digest = plan_digest(verdict)
        kept: dict[str, int] = {}
        for k in verdict.kept:
            kept[k.reason] = kept.get(k.reason, 0) + 1
        base = PurgeOutcome(
            tenant,
            as_of,
            "not-eligible",
            f"not eligible: {verdict.reason}",
            eligible=verdict.eligible,
            reason=verdict.reason,
            primary_due=verdict.primary_due,
            backup_due=verdict.backup_due,
            kept_by_reason=kept,
            plan_digest=digest,
        )
        self._audit(
            "agreement",
            {
                "tenant": tenant,
                "as_of": as_of,
                "plan_digest": digest,
                "eligible": verdict.eligible,
                "reason": verdict.reason,
                "purge": len(verdict.purge),
                "kept": kept,
                "versions": agreement.versions,
                "slice": slice_fingerprint,
            },
            actor,
        )
        if not verdict.eligible:
            return base
        try:
            self._check_before(tenant, verdict, slice_fingerprint, look_ahead=dry_run)
            if dry_run:
                return attrs.evolve(
                    base,
                    status="dry-run",
                    message=f"would purge {len(verdict.purge)}",
                    purged=len(verdict.purge),
                )
            purged, batches, archive_id = self.execute_verdict(
                tenant, verdict, slice_fingerprint, actor=actor
            )
        except GuardError as exc:
            self._audit(
                "guard",
                {
                    "tenant": tenant,
                    "as_of": as_of,
                    "guard": exc.guard,
                    "details": exc.details,
                    "plan_digest": digest,
                },
                actor,
            )
            path = self._alert(
                "guard",
                str(exc),
                tenant=tenant,
                as_of=as_of,
                details={"guard": exc.guard, **exc.details},
                actor=actor,
            )
            done = int(exc.details.get("purged_before", 0))  # type: ignore[call-overload]
            return attrs.evolve(
                base,
                status="refused",
                message=str(exc),
                guard=exc.guard,
                purged=done,
                report_path=path,
            )
        executed_at = format_instant(self.clock())
        if self.on_receipt is not None:
            self.on_receipt(tenant, digest, as_of, purged, verdict.backup_due)
        self._audit(
            "executed",
            {
                "tenant": tenant,
                "as_of": as_of,
                "plan_digest": digest,
                "purged": purged,
                "at": executed_at,
            },
            actor,
        )
        return attrs.evolve(
            base,
            status="executed",
            message=f"purged {purged}",
            purged=purged,
            batches=batches,
            archive_id=archive_id,
        )

    def _check_before(
        self, tenant: str, verdict: Verdict, slice_fingerprint: str, *, look_ahead: bool
    ) -> None:
        """Rules 2 to 5."""
        now = self.clock()
        if not look_ahead and datetime.fromisoformat(verdict.as_of) > now:
            raise GuardError(
                "future-as-of",
                tenant,
                f"as_of {verdict.as_of} is after now ({format_instant(now)}); only a dry run may"
                " look ahead",
                {"now": format_instant(now)},
            )
        count = len(verdict.purge)
        if count > self.limits.max_objects_per_purge:
            raise GuardError(
                "blast-radius",
                tenant,
                f"{count} objects exceed max_objects_per_purge {self.limits.max_objects_per_purge}",
                {"purge": count},
            )
        total = self.target.total_objects()
        if count > self.limits.fraction_floor and count > self.limits.max_store_fraction * total:
            raise GuardError(
                "blast-radius",
                tenant,
                f"{count} of {total} objects exceed "
                f"max_store_fraction {self.limits.max_store_fraction}",
                {"purge": count, "total": total},
            )
        current = self.reader.read_slice(tenant)
        own = {ObjectId(o["store"], o["key"]) for o in current["objects"] if o["tenant"] == tenant}
        outside = [o for o in verdict.purge if o not in own]
        if outside:
            raise GuardError(
                "foreign-object",
                tenant,
                f"{len(outside)} planned objects are not the tenant's, e.g. {outside[0]}",
                {"objects": [attrs.asdict(o) for o in outside[:100]]},
            )
        if fingerprint(current) != slice_fingerprint:
            raise GuardError("stale", tenant, "the tenant's data changed since planning", {})
        with self.target.transaction() as tx:
            self._check_batch(
                tx, tenant, list(verdict.purge), verdict.purge_ids, _kept_categories(self.policy)
            )

    def execute_verdict(
        self,
        tenant: str,
        verdict: Verdict,
        slice_fingerprint: str,
        *,
        actor: str,
        plan_id: str | None = None,
    ) -> tuple[int, int, str | None]:
        """Execute an agreed verdict under every guard: rules 2 to 10.

        Args:
            tenant: the tenant.
            verdict: the agreed, eligible verdict.
            slice_fingerprint: the fingerprint of the slice the verdict was computed from.
            actor: who executes, for the audit log.
            plan_id: the manual plan being executed, if any.

        Returns:
            (objects purged, batches committed, restore archive id or None).

        Raises:
            GuardError: a guard refused; ``details["purged_before"]`` counts what was deleted
                before it tripped (zero unless it tripped after a committed batch).
        """
        self._check_before(tenant, verdict, slice_fingerprint, look_ahead=False)
        archive_id = self._archive(tenant, verdict, actor, plan_id)
        purged, batches = self._execute(tenant, verdict, actor)
        return purged, batches, archive_id

    def rehearse(self, tenant: str, verdict: Verdict, slice_fingerprint: str, *, actor: str) -> int:
        """Rehearse: delete the whole purge set in one transaction and roll it back.

        Every guard runs and the deleted count is checked; the store is left exactly as it was.

        Returns:
            The number of rows the rehearsal deleted (and restored by rolling back).

        Raises:
            GuardError: a guard refused, or the count differs from the plan.
        """
        self._check_before(tenant, verdict, slice_fingerprint, look_ahead=False)
        ids = list(verdict.purge)
        deleted = 0
        try:
            with self.target.transaction() as tx:
                self._check_batch(tx, tenant, ids, verdict.purge_ids, _kept_categories(self.policy))
                deleted = tx.delete(tenant, ids)
                raise _Rollback  # noqa: TRY301 -- leaving by an exception rolls back
        except _Rollback:
            pass
        if deleted != len(ids):
            raise GuardError(
                "count-mismatch",
                tenant,
                f"rehearsal deleted {deleted} rows for a plan of {len(ids)}",
                {"deleted": deleted, "planned": len(ids)},
            )
        self._audit(
            "rehearsal", {"tenant": tenant, "as_of": verdict.as_of, "deleted": deleted}, actor
        )
        return deleted

    def _archive(
        self, tenant: str, verdict: Verdict, actor: str, plan_id: str | None
    ) -> str | None:
        """Rule 1 of ``arbiter.purge.archive``: no archive, no deletion."""
        if self.archiver is None:
            return None
        ids = list(verdict.purge)
        with self.target.transaction() as tx:
            rows = tx.rows(ids)
        blobs: dict[tuple[str, str], bytes] = {}
        if self.blobs is not None:
            for obj in ids:
                if self.blobs.is_blob_store(obj.store):
                    data = self.blobs.read(obj)
                    if data is not None:
                        blobs[(obj.store, obj.key)] = data
        archive_id = self.archiver.archive(
            tenant=tenant,
            plan_digest=plan_digest(verdict),
            backup_due=verdict.backup_due,
            rows=rows,
            blobs=blobs,
            plan_id=plan_id,
        )
        if self.on_progress is not None:
            self.on_progress("archiving", len(rows), len(rows))
        self._audit(
            "archive",
            {"tenant": tenant, "archive_id": archive_id, "objects": len(rows), "blobs": len(blobs)},
            actor,
        )
        return archive_id

    def _execute(self, tenant: str, verdict: Verdict, actor: str) -> tuple[int, int]:
        """Rules 6 to 9: the guarded batches."""
        purge_set = verdict.purge_ids
        keep_categories = _kept_categories(self.policy)
        purged = 0
        batches = 0
        for batch in _chunks(verdict.purge, self.limits.batch_size):
            try:
                with self.target.transaction() as tx:
                    self._check_batch(tx, tenant, batch, purge_set, keep_categories)
                    deleted = tx.delete(tenant, batch)
                    if deleted != len(batch):
                        raise GuardError(  # noqa: TRY301 -- raising inside rolls the batch back
                            "count-mismatch",
                            tenant,
                            f"deleted {deleted} rows for a batch of {len(batch)}",
                            {"deleted": deleted, "batch": len(batch)},
                        )
            except GuardError as exc:
                exc.details["purged_before"] = purged
                raise
            purged += len(batch)
            batches += 1
            if self.on_progress is not None:
                self.on_progress("deleting", purged, len(verdict.purge))
            self._audit(
                "batch",
                {"tenant": tenant, "index": batches, "objects": [[o.store, o.key] for o in batch]},
                actor,
            )
            self._delete_blobs(tenant, batch, actor)
        return purged, batches

    @staticmethod
    def _check_batch(
        tx: PurgeTransaction,
        tenant: str,
        batch: list[ObjectId],
        purge_set: frozenset[ObjectId],
        keep_categories: frozenset[str],
    ) -> None:
        state = tx.tenant_state(tenant)
        if state is None:
            raise GuardError("tenant-missing", tenant, "the tenant no longer exists", {})
        legal_hold, events = state
        if legal_hold:
            raise GuardError("tenant-hold", tenant, "the tenant is under legal hold now", {})
        if not _latest_lifecycle_is_cancellation(events):
            raise GuardError(
                "tenant-not-cancelled",
                tenant,
                "the tenant's latest lifecycle event is not a cancellation",
                {},
            )
        objects = tx.objects(batch)
        for obj in batch:
            found = objects.get(obj)
            where: dict[str, object] = {"store": obj.store, "key": obj.key}
            if found is None:
                raise GuardError(
                    "object-missing", tenant, f"{obj.store}/{obj.key} no longer exists", where
                )
            if found.tenant != tenant:
                raise GuardError(
                    "foreign-object",
                    tenant,
                    f"{obj.store}/{obj.key} belongs to {found.tenant!r}",
                    {**where, "owner": found.tenant},
                )
            if found.legal_hold:
                raise GuardError(
                    "object-hold", tenant, f"{obj.store}/{obj.key} is under legal hold now", where
                )
            if found.category in keep_categories:
                raise GuardError(
                    "category-keep",
                    tenant,
                    f"{obj.store}/{obj.key} is in kept category {found.category!r}",
                    where,
                )
        outside = sorted(tx.referrers(batch) - purge_set)
        if outside:
            raise GuardError(
                "shared",
                tenant,
                f"{outside[0].store}/{outside[0].key} (not purged) refs an object of the batch",
                {"referrers": [attrs.asdict(o) for o in outside[:100]]},
            )

    def _delete_blobs(self, tenant: str, batch: list[ObjectId], actor: str) -> None:
        if self.blobs is None:
            return
        for obj in batch:
            if not self.blobs.is_blob_store(obj.store):
                continue
            try:
                self.blobs.delete(obj)
            except Exception as exc:  # noqa: BLE001 -- a file error must not undo a committed purge
                self._alert(
                    "blob-orphan",
                    f"could not delete the file of {obj.store}/{obj.key}: {exc}",
                    tenant=tenant,
                    as_of="",
                    details={"store": obj.store, "key": obj.key},
                    actor=actor,
                )

    def run_due(
        self,
        as_of: str | None = None,
        *,
        dry_run: bool = False,
        progress: Callable[[str], None] | None = None,
        actor: str = "retention-service",
    ) -> FleetReport:
        """Purge every eligible tenant, each isolated from the others.

        Args:
            as_of: the instant of every verdict; now when omitted.
            dry_run: plan and check, delete nothing.
            progress: called with each tenant id once it is done.
            actor: who asked, for the audit log.

        Returns:
            The fleet report: one outcome per tenant.
        """
        as_of = as_of or format_instant(self.clock())
        outcomes = []
        for tenant in self.reader.tenant_ids():
            outcomes.append(self.purge_tenant(tenant, as_of, dry_run=dry_run, actor=actor))
            if progress is not None:
                progress(tenant)
        report = FleetReport(as_of, tuple(outcomes))
        self._audit(
            "run-due", {"as_of": as_of, "dry_run": dry_run, "counts": report.counts()}, actor
        )
        return report
