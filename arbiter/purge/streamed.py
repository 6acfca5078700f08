"""A streamed plan: both planners in their processes, the agreed plan on disk, checked from there.

Rule 15 of ``arbiter.purge.purger``: a tenant owning at least ``limits.stream_from`` objects is
planned by streaming (``arbiter.purge.streaming``) and purged from the plan file, so that the
arbiter's memory does not grow with the tenant. The purger runs such a purge with this module's
plan and pre-flight; every rule of the purger holds as it does for a plan held in memory (the
guards, the journal, the archive, the batches, the completeness check, the receipt). Rules:

1. **One snapshot.** The tenant's slice is read from one ``stream_counted_slice`` snapshot
   (ports rule 8) together with its change counter, and fed to ``PlannerProcesses.plan``; the
   counter is what staleness is compared with (purger rule 4). A tenant the store does not hold
   is bad input, as in a slice held in memory (nothing is planned).
2. **The plan file is the plan.** The agreed plan is spilled as it is agreed to a plan file of
   journal format 2: in the journal directory when the purge is journalled, else in the planner
   processes' private work directory. The pre-flight, the archive, the batches and the
   completeness check each read its purge entries from the file (``iter_plan_file``: checked
   against its SHA-256 first, and again as it is read). A plan file no journal took up (a dry
   run, a tenant not eligible, a refusal before the journal opened, a purger without a
   journal) is removed when the purge ends.
3. **Scope by construction** (purger rule 3): the lockstep comparison checks every decision
   against the object fed at its position (``arbiter.core.lockstep``), and the objects fed are
   the tenant's own, read from its snapshot: the purge set is within the slice the planners
   saw. Every batch still checks each object's owner at delete time (purger rule 6).
4. **Memory.** The arbiter holds the identities of the tenant's objects that carry refs, and
   of those, the ones the plan purges: the only members of the purge set that the shared-ref
   guard (a referrer outside the purge set) needs to know. Any other referrer is outside the
   purge set. Everything else (the purge list, the kept list) stays in the plan file and is
   read a chunk at a time.
5. **Pre-flight in chunks.** Purger rule 5's checks run over the whole purge set before the
   first batch, in one transaction, a chunk of ``_PREFLIGHT`` objects at a time: a plan any of
   them refuses deletes nothing.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.errors import InputError
from arbiter.core.verdict import ObjectId
from arbiter.purge import guards
from arbiter.purge.journal import iter_plan_file
from arbiter.purge.streaming import StreamedAgreement

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime
    from pathlib import Path

    from arbiter.core.config import LimitsConfig
    from arbiter.purge.streaming import PlannerProcesses
    from arbiter.stores.ports import InventoryReader, PurgeTarget

__all__ = ["StreamedPlan", "plan_streamed", "preflight"]

# Objects checked per query in the pre-flight (rule 5).
_PREFLIGHT = 4096


def _chunks(items: Iterator[ObjectId], size: int) -> Iterator[list[ObjectId]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


@attrs.frozen
class StreamedPlan:
    """An agreed streamed plan (rules 1, 2 and 4).

    Attributes:
        agreement: the planners' agreement, with its plan file.
        counter: the tenant's change counter in the planned snapshot (purger rule 4).
        carriers: the purge set's members that carry refs: the only ones a referrer can be.
    """

    agreement: StreamedAgreement
    counter: int
    carriers: frozenset[ObjectId] = attrs.field(repr=lambda c: f"<{len(c)} objects>")

    @property
    def path(self) -> Path:
        """The plan file."""
        path = self.agreement.plan_path
        assert path is not None  # noqa: S101 -- a streamed purge always spills its plan
        return path

    def purge(self) -> Iterator[ObjectId]:
        """The purge list, read afresh from the plan file, in order (rule 2)."""
        return _purge_entries(self.agreement)


def _purge_entries(agreement: StreamedAgreement) -> Iterator[ObjectId]:
    """The purge list of an agreement's plan file, in order (rule 2)."""
    assert agreement.plan_path is not None  # noqa: S101 -- a streamed purge always spills its plan
    entries = iter_plan_file(agreement.plan_path, str(agreement.plan_sha256))
    return (obj for kind, obj in entries if kind == "purge")


def plan_streamed(  # noqa: PLR0913 -- where the slice is, who plans it, what and as of when
    reader: InventoryReader,
    processes: PlannerProcesses,
    tenant: str,
    policy: Mapping[str, Any],
    as_of: str,
    *,
    plan_dir: Path,
    purge_id: str,
) -> StreamedPlan:
    """Plan ``tenant`` from one snapshot and spill the agreed plan (rules 1, 2 and 4).

    Args:
        reader: the store.
        processes: the open planner processes.
        tenant: the tenant.
        policy: the policy.
        as_of: the verdict's instant.
        plan_dir: where the plan file goes.
        purge_id: the plan file's purge id.

    Returns:
        The plan.

    Raises:
        InputError: the store does not hold the tenant, or both planners rejected its slice.
        RefusedError: the planners' streams diverged, or one failed.
    """
    carriers: set[ObjectId] = set()
    with reader.stream_counted_slice(tenant) as streamed:
        if streamed.tenant is None:
            raise InputError(
                source="tenant", field="tenant", message=f"the inventory lists no tenant {tenant!r}"
            )

        def fed() -> Iterator[dict[str, Any]]:
            for record in streamed.objects():
                if record.get("refs"):
                    carriers.add(ObjectId(record["store"], record["key"]))
                yield record

        agreement = processes.plan(
            streamed.tenant,
            fed(),
            streamed.shared,
            policy,
            as_of,
            plan_dir=plan_dir,
            purge_id=purge_id,
        )
        counter = streamed.counter
    # Rule 4: of the objects carrying refs, those the plan purges.
    purged: frozenset[ObjectId] = frozenset()
    if carriers:  # a pass over the plan file only when some object carries a ref
        purged = frozenset(o for o in _purge_entries(agreement) if o in carriers)
    return StreamedPlan(agreement, counter, purged)


def preflight(  # noqa: PLR0913 -- the store, the plan, the policy and limits, the instant
    target: PurgeTarget,
    tenant: str,
    plan: StreamedPlan,
    *,
    policy: Mapping[str, Any],
    limits: LimitsConfig,
    now: datetime,
    look_ahead: bool,
) -> None:
    """Purger rules 2 to 5 over the plan file, a chunk at a time, in one transaction (rule 5).

    Args:
        target: the store, as the purge deletes from it.
        tenant: the tenant.
        plan: the plan.
        policy: the policy (its kept categories).
        limits: the blast-radius limits.
        now: the runner's clock.
        look_ahead: a dry run, which may plan ahead of now.

    Raises:
        GuardError: a guard refused; nothing was deleted.
    """
    guards.check_not_ahead(tenant, plan.agreement.as_of, now, look_ahead=look_ahead, details={})
    guards.check_blast_radius(tenant, plan.agreement.purge_count, target.total_objects(), limits)
    keep = guards.kept_categories(policy)
    with target.transaction() as tx:
        guards.check_unchanged(tenant, plan.counter, tx.change_counter(tenant))
        # The tenant's own guards, once, as a plan held in memory checks them: also when there
        # is nothing to purge (then no chunk would).
        guards.check_tenant_state(tenant, tx.tenant_state(tenant), {})
        for chunk in _chunks(plan.purge(), _PREFLIGHT):
            guards.check_batch(tx, tenant, chunk, plan.carriers, keep)
