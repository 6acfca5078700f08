"""Automatic recovery: unfinished purge journals are completed before anything else runs.

Every run that can delete or restore (``Workspace.run_due``, ``purge_tenant``, ``execute_plan``,
``restore_plan``) and ``Workspace.recover_purges`` first recovers. Rules:

1. Recovery starts only while the fleet is not in safe mode; in safe mode it deletes nothing
   and reports the unfinished journals as ``waiting``.
2. Stray temporary files (``durable.files.stray_temporaries``) in the blob, archive and journal
   directories are removed first and reported: a crashed write left them, and they hold tenant data
   that nothing else would ever remove. So are plan files no journal names (a crash after a plan
   was spilled, before its journal opened: nothing was deleted), once no runner holds their
   tenant's lock; a plan file whose tenant cannot be read is kept. Only files untouched for
   ``STRAY_QUIET_SECONDS`` are strays: a younger one may be another runner's file being written (a
   streamed archive is modified until it is renamed), and a later run removes it if it was a stray
   after all.
3. Each unfinished journal is recovered under its tenant's lock (a tenant another runner holds is
   left for later, ``skipped``), from its plan file alone, never from a new plan. The plan file
   must match its SHA-256, and once the journal's ``archive`` step exists the archive must exist
   and match its digest, before anything else is done; otherwise recovery of that journal stops
   (``stopped``) with nothing more deleted, an ``recovery-stopped`` alert to every sink and an
   audit record, and the journal stays unfinished.
4. A journal that crashed before its ``archive`` step deleted nothing (batches come after the
   archive): it is closed ``abandoned``; the next run plans afresh.
5. Committed batches (their ``batch`` steps) are never deleted again. Every object of the plan not
   yet committed is re-checked against every batch guard as the data is now, each on its own (a
   chunk at a time, object by object within a chunk that fails): an object that no longer passes
   (now held, re-referenced, owned by another tenant, the tenant reactivated or gone, already
   missing) is left alone, recorded in a ``skipped`` step, the audit log (``recovery-left-alone``)
   and an alert, and reported. The others are deleted in guarded, journalled batches
   (``Purger.delete_batches``), with the purge set minus what was left alone (so a left-alone
   object's refs keep their targets).
6. The files of every committed object are removed, never a file whose row exists
   (``Purger.delete_files``); then the completeness check (``arbiter.purge.journal``, rule 5)
   and, when it finds nothing left behind, the receipt and ``done``. Omissions keep the journal
   unfinished (``omissions``): the next run retries it.
7. Recovery is recorded: ``recovery-started`` and ``recovery-finished`` (with counts per status)
   in the audit log, and a ``recovery`` alert to every sink, whenever there was something to
   recover. A run with nothing to recover records nothing.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from arbiter.core.errors import ArchiveError, GuardError
from arbiter.core.instants import format_instant
from arbiter.core.verdict import ObjectId
from arbiter.durable.files import remove
from arbiter.purge import guards
from arbiter.purge.archive import read_archive
from arbiter.purge.journal import JournalState, read_plan_file, strays
from arbiter.purge.purger import Purger
from arbiter.stores.ports import JournalStore

if TYPE_CHECKING:
    from arbiter.purge.journal import PlanFile
    from arbiter.stores.ports import PurgeTransaction

__all__ = ["STRAY_QUIET_SECONDS", "JournalRecovery", "Recovery", "RecoveryReport"]

STRAY_QUIET_SECONDS = 600.0  # rule 2: ten minutes without a write
# Objects re-checked per query by rule 5 (one by one only within a chunk that fails).
_RECHECK_CHUNK = 2000

RecoveryStatus = Literal["completed", "abandoned", "stopped", "omissions", "skipped", "waiting"]


@attrs.frozen
class JournalRecovery:
    """What recovery did with one unfinished journal.

    Attributes:
        purge_id: the journal.
        tenant: its tenant.
        kind: ``automated`` or ``manual``.
        plan_id: the manual plan, if any.
        status: ``completed`` (receipt recorded, journal done), ``abandoned`` (crashed before its
            archive: nothing had been deleted), ``stopped`` (plan file or archive missing or
            damaged, or a guard tripped: nothing more deleted), ``omissions`` (something is still
            left behind; retried next run), ``skipped`` (another runner holds the tenant),
            ``waiting`` (safe mode: nothing done).
        deleted: objects this recovery deleted.
        committed_before: objects the crashed run had committed.
        left_alone: objects left alone, as ``store/key: guard``.
        omissions: what the completeness check found left behind.
        archive_id: the journal's archive, if it had one.
        message: one line for people.
    """

    purge_id: str
    tenant: str
    kind: str
    plan_id: str | None
    status: RecoveryStatus
    deleted: int = 0
    committed_before: int = 0
    left_alone: tuple[str, ...] = ()
    omissions: tuple[str, ...] = ()
    archive_id: str | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "purge_id": self.purge_id,
            "tenant": self.tenant,
            "kind": self.kind,
            "plan_id": self.plan_id,
            "status": self.status,
            "deleted": self.deleted,
            "committed_before": self.committed_before,
            "left_alone": list(self.left_alone),
            "omissions": list(self.omissions),
            "archive_id": self.archive_id,
            "message": self.message,
        }


@attrs.frozen
class RecoveryReport:
    """What a recovery found unfinished and did (``Workspace.recover_purges``)."""

    journals: tuple[JournalRecovery, ...] = ()
    strays_removed: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """How many journals ended in each status."""
        found: dict[str, int] = {}
        for journal in self.journals:
            found[journal.status] = found.get(journal.status, 0) + 1
        return dict(sorted(found.items()))

    @property
    def clean(self) -> bool:
        """Whether every journal recovered is finished (nothing stopped, waiting or left)."""
        return all(j.status in {"completed", "abandoned"} for j in self.journals)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (the CLI's ``--format json``)."""
        return {
            "journals": [j.to_json() for j in self.journals],
            "strays_removed": list(self.strays_removed),
            "counts": self.counts(),
        }


@attrs.define
class Recovery:
    """Completes unfinished journals (this module's rules) with a delete-capable purger.

    Attributes:
        purger: the workspace's purger (credentials, guards, journal, blobs, locks).
        store: where the journals and archive records are.
        receipt: records the receipt of a completed journal: (journal, objects purged in all).
        in_safe_mode: whether the fleet is in safe mode now (rule 1).
    """

    purger: Purger
    store: JournalStore
    receipt: Callable[[JournalState, int], None]
    in_safe_mode: Callable[[], bool] = lambda: False

    def complete_unfinished(
        self,
        *,
        actor: str = "retention-service",
        exclude: frozenset[str] = frozenset(),
        only: str | None = None,
    ) -> RecoveryReport:
        """Recover every unfinished journal (rules 1 to 7).

        Args:
            actor: who runs it, for the audit log.
            exclude: purge ids to leave alone (a plan being restored).
            only: recover this purge id alone (a manual plan executed again).

        Returns:
            The report; empty when there was nothing to recover.

        Raises:
            CredentialError: the purger cannot delete; nothing is done.
        """
        self.purger.require_credentials("recovering unfinished purges")
        records = [
            r
            for r in self.store.journals(unfinished=True)
            if r["purge_id"] not in exclude and (only is None or r["purge_id"] == only)
        ]
        if self.in_safe_mode():
            waiting = "the fleet is in safe mode; nothing was done"
            states = [JournalState.load(self.store, r) for r in records]
            return RecoveryReport(tuple(_result(state, "waiting", waiting) for state in states))
        # Only files no writer has touched for a while: another runner may be filling its own.
        found = [
            *strays(self.purger.temp_dirs, quiet_for=STRAY_QUIET_SECONDS),
            *self._orphan_plan_files(),
        ]
        if not records and not found:
            return RecoveryReport()
        self.purger.audit.append(
            "recovery-started",
            {"journals": [r["purge_id"] for r in records], "strays": [str(p) for p in found]},
            actor=actor,
        )
        removed = tuple(str(p) for p in found if remove(p))
        results = tuple(self._recover_locked(r, actor) for r in records)
        report = RecoveryReport(results, removed)
        self.purger.audit.append(
            "recovery-finished",
            {
                "counts": report.counts(),
                "deleted": sum(j.deleted for j in results),
                "left_alone": sum(len(j.left_alone) for j in results),
                "strays_removed": len(removed),
            },
            actor=actor,
        )
        summary = ", ".join(f"{n} {s}" for s, n in report.counts().items()) or "no journal"
        self.purger.refusals.alert(
            "recovery",
            f"recovered unfinished purges: {summary}; {len(removed)} stray temporary files removed",
            tenant="",
            as_of="",
            details=report.to_json(),
            actor=actor,
        )
        return report

    def _orphan_plan_files(self) -> list[Path]:
        """Plan files no journal took up and no runner is using (rule 2)."""
        directory = self.purger.journal_dir
        if directory is None or not directory.is_dir():
            return []
        now = time.time()
        candidates = []
        for path in sorted(directory.glob("*.plan.jsonl")):
            with contextlib.suppress(FileNotFoundError):  # its purge ended meanwhile
                if now - path.stat().st_mtime >= STRAY_QUIET_SECONDS:
                    candidates.append(path)
        if not candidates:
            return []
        owned = {Path(r["plan_path"]).name for r in self.store.journals()}
        return [p for p in candidates if p.name not in owned and not self._in_use(p)]

    def _in_use(self, path: Path) -> bool:
        """Whether a runner may still be purging the tenant of a plan file (its lock is held).

        A file whose tenant cannot be read is kept, as in use: when in doubt, keep it.
        """
        try:
            with path.open("rb") as handle:
                tenant = json.loads(handle.readline())["tenant"]
        except (OSError, ValueError, KeyError, TypeError):
            return True
        locks = self.purger.locks
        if locks is None:
            return False
        with locks.hold(str(tenant)) as held:
            return not held

    def _recover_locked(self, record: dict[str, Any], actor: str) -> JournalRecovery:
        state = JournalState.load(self.store, record)
        locks = self.purger.locks
        if locks is None:
            return self._recover_one(state, actor)
        with locks.hold(state.record["tenant"]) as held:
            if not held:
                return _result(state, "skipped", "another runner holds the tenant's lock")
            return self._recover_one(state, actor)

    def _stop(self, state: JournalState, reason: str, actor: str) -> JournalRecovery:
        """Rule 3: nothing more deleted, alerted and audited; the journal stays unfinished."""
        tenant = state.record["tenant"]
        self.purger.refusals.alert(
            "recovery-stopped",
            f"recovery of purge {state.purge_id} of {tenant} stopped, nothing more deleted:"
            f" {reason}",
            tenant=tenant,
            as_of=state.record["as_of"],
            details={"purge_id": state.purge_id, "reason": reason},
            actor=actor,
        )
        return _result(state, "stopped", reason)

    def _recover_one(self, state: JournalState, actor: str) -> JournalRecovery:
        record = state.record
        tenant = str(record["tenant"])
        try:
            plan = read_plan_file(Path(record["plan_path"]), record["plan_sha256"])
        except (ArchiveError, ValueError, KeyError, TypeError) as exc:
            return self._stop(state, f"the plan file is unusable: {exc}", actor)
        committed = set(state.committed)
        archive = state.archive
        if archive is None and not committed:
            # Rule 4: the crash came before the archive, so before any batch.
            self.store.close_journal(state.purge_id, "abandoned", self._now())
            return _result(state, "abandoned", "crashed before its archive; nothing was deleted")
        if archive is not None:
            problem = self._archive_problem(*archive)
            if problem is not None:
                return self._stop(state, problem, actor)
        try:
            deleted, left = self._finish_batches(state, plan, committed, actor)
        except GuardError as exc:
            self.purger.refusals.refuse(
                exc,
                tenant=tenant,
                as_of=record["as_of"],
                actor=actor,
                context={"purge_id": state.purge_id},
            )
            return _result(state, "stopped", str(exc))
        reasons = {**_skipped_reasons(state), **left}
        omissions = self.purger.complete(tenant, plan.purge, tuple(reasons), state.purge_id, actor)
        left_alone = tuple(f"{o.store}/{o.key}: {why}" for o, why in reasons.items())
        if omissions:
            return attrs.evolve(
                _result(state, "omissions", f"{len(omissions)} things still left behind"),
                deleted=deleted,
                left_alone=left_alone,
                omissions=omissions,
            )
        total = len(committed) + deleted
        self.purger.finish(state.purge_id, lambda: self.receipt(state, total))
        return attrs.evolve(
            _result(state, "completed", f"completed: {deleted} more deleted"),
            deleted=deleted,
            left_alone=left_alone,
        )

    def _archive_problem(self, archive_id: str, sha256: str) -> str | None:
        """Rule 3: the archive exists and matches its digest, or why not."""
        record = self.store.archive(archive_id)
        if record is None or record["removed_at"]:
            return f"archive {archive_id} is gone"
        if record["sha256"] != sha256:
            return f"archive {archive_id} does not match the digest in the journal"
        try:
            read_archive(Path(record["path"]), sha256)
        except ArchiveError as exc:
            return str(exc)
        return None

    def _failing(
        self,
        tx: PurgeTransaction,
        tenant: str,
        objects: list[ObjectId],
        allowed: frozenset[ObjectId],
    ) -> dict[ObjectId, str]:
        """The objects that fail a batch guard each on its own, with the guard (rule 5).

        A chunk that passes whole passes object by object (a batch's guards are each object's,
        and the tenant's); only a chunk that fails is checked one object at a time.
        """
        keep = self._keep()
        failing: dict[ObjectId, str] = {}
        for start in range(0, len(objects), _RECHECK_CHUNK):
            chunk = objects[start : start + _RECHECK_CHUNK]
            try:
                guards.check_batch(tx, tenant, chunk, allowed, keep)
            except GuardError:
                for obj in chunk:
                    try:
                        guards.check_batch(tx, tenant, [obj], allowed, keep)
                    except GuardError as exc:
                        failing[obj] = exc.guard
        return failing

    def _finish_batches(
        self, state: JournalState, plan: PlanFile, committed: set[ObjectId], actor: str
    ) -> tuple[int, dict[ObjectId, str]]:
        """Rules 5 and 6: re-check, delete what still passes, remove committed files."""
        tenant = str(state.record["tenant"])
        already_skipped = set(state.skipped)
        remaining = [o for o in plan.purge if o not in committed and o not in already_skipped]
        purge_set = frozenset(plan.purge) - already_skipped
        left: dict[ObjectId, str] = {}
        # Leaving one object alone can make another fail the shared-ref guard: to a fixpoint.
        # Each round checks against the purge set as the round began; an object that passes
        # only because of a later round's exclusion is caught by that round (the guards are
        # monotone: a smaller purge set never lets more objects pass).
        changed = bool(remaining)
        while changed:
            allowed = purge_set - left.keys()
            with self.purger.target.transaction() as tx:
                found = self._failing(tx, tenant, [o for o in remaining if o not in left], allowed)
            left.update(found)
            changed = bool(found)
        if left:
            objects = [[o.store, o.key] for o in left]
            self.store.add_journal_step(
                state.purge_id, "skipped", {"objects": objects, "guards": list(left.values())}
            )
            listed = [f"{o.store}/{o.key}: {why}" for o, why in left.items()]
            self.purger.audit.append(
                "recovery-left-alone",
                {"tenant": tenant, "purge_id": state.purge_id, "objects": listed[:50]},
                actor=actor,
            )
            self.purger.refusals.alert(
                "recovery-left-alone",
                f"recovery of purge {state.purge_id} of {tenant} left {len(left)} objects alone"
                f" that no longer pass the guards ({listed[0]})",
                tenant=tenant,
                as_of=state.record["as_of"],
                details={"purge_id": state.purge_id, "objects": listed[:50]},
                actor=actor,
            )
        deletable = [o for o in remaining if o not in left]
        purged, _batches = self.purger.delete_batches(
            tenant,
            deletable,
            purge_set - left.keys(),
            actor,
            state.purge_id,
            done=(len(committed), state.batches),
        )
        # Files of batches the crashed run committed; never one whose row exists (rule 6).
        self.purger.delete_files(tenant, [o for o in plan.purge if o in committed], actor)
        return purged - len(committed), left

    def _keep(self) -> frozenset[str]:
        return guards.kept_categories(self.purger.policy)

    def _now(self) -> str:
        return format_instant(self.purger.clock())


def _skipped_reasons(state: JournalState) -> dict[ObjectId, str]:
    """The objects earlier recoveries left alone, with the guard each failed."""
    reasons: dict[ObjectId, str] = {}
    for step in state.steps:
        if step["step"] == "skipped":
            pairs = zip(step["data"]["objects"], step["data"]["guards"], strict=True)
            reasons.update({ObjectId(store, key): why for (store, key), why in pairs})
    return reasons


def _result(state: JournalState, status: RecoveryStatus, message: str) -> JournalRecovery:
    record = state.record
    archive = state.archive
    return JournalRecovery(
        purge_id=state.purge_id,
        tenant=str(record["tenant"]),
        kind=str(record["kind"]),
        plan_id=record["plan_id"],
        status=status,
        committed_before=len(state.committed),
        archive_id=None if archive is None else archive[0],
        message=message,
    )
