"""The small protocols through which the arbiter reads and purges a service's stores.

A retention service can plug in its own stores by implementing these; the SQLite store
(``arbiter.stores.sqlite``) and the blob directory (``arbiter.stores.blobs``) are the first
implementations. The arbiter's guards (``arbiter.purge.purger``) are written against these
protocols only, so they hold for every implementation.

Rules an implementation must keep:

1. ``InventoryReader.read_slice`` reads inside one consistent snapshot: a concurrent writer
   cannot make the slice a mix of two states.
2. ``PurgeTarget.transaction`` yields a transaction that sees its own reads and writes
   consistently, commits when the block ends normally and rolls back on any exception.
3. ``PurgeTransaction.delete`` deletes only rows matching *both* the identity and the tenant,
   and returns the number of rows it deleted.
4. Deleting is a capability. A ``PurgeTarget`` whose transactions can delete is handed out only
   for primary credentials that match the ones the store recorded (``SqliteStore.purge_target``),
   and checks them again at every transaction; ``verify_credentials`` raises ``CredentialError``
   for any other credentials. Dry runs get a read-only target (``SqliteStore.read_target``):
   its snapshots cannot write, and their ``delete`` raises ``CredentialError``.
5. A purge journal (``arbiter.purge.journal``) lives in the store: ``journal_step`` writes its
   step in the same transaction as the batch's delete, so a committed batch and its journal
   record exist together or not at all.
6. ``PrimaryStore`` is everything a workspace needs of its primary store. The SQLite store
   (``arbiter.stores.sqlite``) and the PostgreSQL store (``arbiter.stores.postgres.store``)
   implement it alike; the conformance suite (``tests/arbiter/stores/test_conformance.py``)
   runs the same tests against both, so no behaviour exists on one store only.
7. A primary store keeps a per-tenant **change counter**, maintained by the database itself
   (triggers), so that no code path, ours or a service's writing the tables directly, can
   forget it. It strictly increases with every committed insert, update or delete of the
   tenant's row, of its events, of its objects (an object moved between tenants counts for
   both), and of every ref whose source or target object is the tenant's (a ref from another
   tenant into it counts for it). Those are every write that can change the tenant's verdict:
   other tenants' rows in its slice cannot (spec §7.3: their objects are in ``L`` whatever their
   state), so writes to them leave it alone. Reads never change it. A tenant without a counter
   row reads 0 (a store created before the counter existed: its first counted write makes it
   1 or more). By how much a write increases it is the store's own (SQLite: one per row;
   PostgreSQL: one per statement); only equality means anything: an equal counter means no
   write since that could change the verdict. ``InventoryReader.read_counted_slice`` reads it
   in the slice's snapshot (rule 1) and ``change_counter`` reads it alone, cheaply (one row by
   its key). ``PurgeReads.change_counter`` reads it in a transaction; in a delete-capable write
   transaction it also *holds* it until the transaction ends (SQLite: ``BEGIN IMMEDIATE``'s
   write lock; PostgreSQL: the counter row's lock), so that nothing but that transaction's own
   writes changes it before the commit.
8. ``InventoryReader.stream_counted_slice`` reads a tenant's slice as a stream, for tenants too
   large to hold (spec §8.1's ``plan_stream``). Inside its context one consistent snapshot
   (rule 1), held until the block ends, gives the tenant's change counter (rule 7), its tenant
   record (spec §4.1, as ``read_slice`` spells it; None when the tenant does not exist, and then
   ``objects()`` yields nothing and ``shared`` is empty, as ``read_slice`` gives an empty
   slice), ``shared`` (the refs held by other tenants' objects into the tenant's objects, each
   ``[store, key]``, repeats kept, in no particular order: a list, bounded by those refs, not by
   the tenant's size) and ``objects()``, which returns a *new* iterator over the tenant's
   objects (spec §4.1 records with their refs, as ``read_slice`` gives them) in strictly
   increasing ``(store, key)`` code-point order, read from a database cursor a fixed number of
   rows at a time (never the whole tenant in memory) with each object's refs merged in from a
   second cursor in the same order (never a query per object). Every call in one context gives
   the same records. Once the block has ended, ``objects()`` and every iterator it returned
   raise ``UsageError``: their cursors are closed with the snapshot.
9. ``PrimaryStore.loading`` is one import's write transaction, filled a chunk at a time
   (``InventoryLoad``): it commits when the block ends normally and rolls back on any
   exception, so an import is whole or absent. ``InventoryLoad.held`` sees the store as this
   transaction does, its own rows included, so a repeat within one file is found as a repeat of
   the store is; inserting a repeated identity raises ``InputError`` (and nothing commits).
   ``add_inventory`` is one such transaction with one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime

    from arbiter.auth.credentials import PrimaryCredentials
    from arbiter.core.verdict import ObjectId

__all__ = [
    "Archiver",
    "BlobTarget",
    "CountedSlice",
    "InventoryLoad",
    "InventoryReader",
    "JournalStore",
    "ObjectState",
    "PrimaryStore",
    "PurgeReads",
    "PurgeTarget",
    "PurgeTransaction",
    "SafeModeStore",
    "StreamedSlice",
    "TenantLocks",
]


@attrs.frozen
class ObjectState:
    """What the store says of an object at delete time."""

    tenant: str
    category: str
    legal_hold: bool


@attrs.frozen
class CountedSlice:
    """A tenant's slice and its change counter, read in one snapshot (rules 1 and 7).

    Attributes:
        inventory: the slice, as ``InventoryReader.read_slice`` gives it.
        counter: the tenant's change counter in the same snapshot.
    """

    inventory: dict[str, Any]
    counter: int


@attrs.frozen
class StreamedSlice:
    """A tenant's slice as spec §8.1's ``plan_stream`` takes it, with its change counter (rule 8).

    Valid only inside the ``InventoryReader.stream_counted_slice`` block that yielded it:
    ``plan_stream(s.tenant, s.objects, s.shared, policy, as_of)`` and the consumption of its
    decisions (the second pass) belong inside that block.

    Attributes:
        tenant: the tenant's record (spec §4.1), or None when the tenant does not exist.
        counter: the tenant's change counter in the same snapshot (rule 7).
        shared: the refs of other tenants' objects into the tenant's objects, each
            ``[store, key]``, repeats kept, in no particular order.
        objects: returns a new iterator over the tenant's objects, with their refs, in strictly
            increasing ``(store, key)`` code-point order; ``UsageError`` once the block ended.
    """

    tenant: dict[str, Any] | None
    counter: int
    shared: list[list[str]]
    objects: Callable[[], Iterator[dict[str, Any]]]


class InventoryReader(Protocol):
    """Reads what the planners need."""

    def tenant_ids(self) -> list[str]:
        """Every tenant id in the store, sorted."""
        ...

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The portable inventory (spec §4.1) of everything that can affect ``tenant``'s verdict.

        That is the tenant with its events and objects, plus every object of another tenant
        holding a ref to one of them, and those objects' tenants. The planners' verdict on the
        slice equals their verdict on the whole inventory.
        """
        ...

    def read_counted_slice(self, tenant: str) -> CountedSlice:
        """``read_slice`` and the tenant's change counter, in one snapshot (rules 1 and 7)."""
        ...

    def stream_counted_slice(self, tenant: str) -> AbstractContextManager[StreamedSlice]:
        """The tenant's slice as a stream and its change counter, in one snapshot (rule 8).

        The snapshot (a read transaction) is held while the block runs; writers are not blocked.
        """
        ...

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter now (rule 7): one row read; 0 when it has none."""
        ...

    def object_count(self, tenant: str) -> int:
        """How many objects the tenant owns now, counted by its index (0 for no such tenant)."""
        ...


class PurgeReads(Protocol):
    """Primitive reads inside one consistent snapshot: what the guards re-check."""

    def tenant_state(self, tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        """(legal_hold, [(kind, at), ...]) of the tenant, or None if it does not exist."""
        ...

    def objects(self, ids: list[ObjectId]) -> dict[ObjectId, ObjectState]:
        """The state of each object that exists among ``ids``."""
        ...

    def referrers(self, ids: list[ObjectId]) -> set[ObjectId]:
        """Every object holding a ref to one of ``ids``."""
        ...

    def rows(self, ids: list[ObjectId]) -> list[dict[str, Any]]:
        """Full rows of the objects, for the restore archive.

        Each row: ``store``, ``key``, ``tenant``, ``category``, ``created_at``, ``legal_hold``,
        ``payload`` (bytes or None) and ``refs`` (the object's outgoing refs, in order).
        """
        ...

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter in this transaction (rule 7); 0 when it has none.

        In a delete-capable write transaction the counter is also held until the transaction
        ends: no other writer's change to the tenant commits before this transaction does.
        """
        ...


class PurgeTransaction(PurgeReads, Protocol):
    """The primitive reads and the guarded delete, inside one write transaction (rule 4)."""

    def delete(self, tenant: str, ids: list[ObjectId]) -> int:
        """Delete the rows matching identity *and* tenant; return how many were deleted."""
        ...

    def journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a purge-journal step in this transaction (rule 5): atomic with the delete."""
        ...


class PurgeTarget(Protocol):
    """Where purges happen: delete-capable, so only handed out for the right credentials."""

    def total_objects(self) -> int:
        """How many objects the store holds, all tenants together."""
        ...

    def transaction(self) -> AbstractContextManager[PurgeTransaction]:
        """A write transaction (rule 2); checks the credentials again first (rule 4)."""
        ...

    def verify_credentials(self, credentials: PrimaryCredentials) -> None:
        """Raise ``CredentialError`` unless these are the store's primary credentials (rule 4)."""
        ...


class BlobTarget(Protocol):
    """Files behind objects of blob stores."""

    def is_blob_store(self, store: str) -> bool:
        """Whether objects of ``store`` are files."""
        ...

    def delete(self, obj: ObjectId) -> bool:
        """Delete the object's file; False if there was none.

        Rule 4 holds for files too: an implementation deletes only once authorised with the
        primary credentials (``BlobDirectory.authorize``), and raises ``CredentialError`` before.
        """
        ...

    def delete_many(
        self, objects: Iterable[ObjectId]
    ) -> tuple[list[ObjectId], list[tuple[ObjectId, Exception]]]:
        """Delete many objects' files, durable once all are gone: (removed, failures).

        Authorised as ``delete``; a missing file is neither removed nor a failure.
        """
        ...

    def read(self, obj: ObjectId) -> bytes | None:
        """The object's bytes, or None when it has no file."""
        ...


class Archiver(Protocol):
    """Keeps restore archives (``arbiter.purge.archive``)."""

    def archive(
        self,
        *,
        tenant: str,
        plan_digest: str,
        backup_due: str | None,
        entries: Iterable[tuple[dict[str, Any], bytes | None]],
        plan_id: str | None,
    ) -> tuple[str, int]:
        """Write and verify an archive before any deletion; return its id and object count.

        ``entries`` (a row and its blob's bytes per object) is consumed once, as it is written.
        """
        ...


class JournalStore(Protocol):
    """Where purge journals live (``arbiter.purge.journal``), beside the rows they delete."""

    def open_journal(self, record: Mapping[str, Any]) -> None:
        """Record a new journal."""
        ...

    def add_journal_step(self, purge_id: str, step: str, data: Mapping[str, Any]) -> None:
        """Record a step durably, in its own transaction."""
        ...

    def close_journal(self, purge_id: str, state: str, finished_at: str) -> None:
        """Finish a journal."""
        ...

    def journals(self, *, unfinished: bool = False) -> list[dict[str, Any]]:
        """Journal records, oldest first."""
        ...

    def journal_steps(
        self, purge_id: str, *, only: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """A journal's steps in order; only those named in ``only`` when given."""
        ...

    def object_rows(self, ids: list[ObjectId]) -> dict[ObjectId, str]:
        """The owning tenant of each of ``ids`` that has a row now."""
        ...

    def archive(self, archive_id: str) -> dict[str, Any] | None:
        """An archive record."""
        ...


class SafeModeStore(Protocol):
    """Where fleet safe mode and the runs' instants live, shared by every runner.

    ``arbiter.purge.safemode`` holds the rules; an implementation keeps at most one active
    (not reset) trip, and reads and writes each method's rows in one write transaction.
    """

    def active_trip(self) -> dict[str, Any] | None:
        """The active trip, or None."""
        ...

    def trips(self) -> list[dict[str, Any]]:
        """Every trip, oldest first."""
        ...

    def add_trip(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Record ``record`` unless a trip is active; return the active trip either way."""
        ...

    def clear_trip(self, trip_id: str, *, reset_at: str, reset_by: list[str], reason: str) -> bool:
        """Reset the active trip ``trip_id``; False when it is not the active trip."""
        ...

    def record_run(
        self, as_of: str, as_of_epoch: float, ran_at: str, ran_at_epoch: float, *, sane: bool
    ) -> tuple[int, float | None, float | None]:
        """Record a run: its id, and the latest as_of and ran_at (epochs) of earlier sane runs."""
        ...

    def mark_run_insane(self, run_id: int) -> None:
        """Leave a run out of later comparisons (it tripped the clock check)."""
        ...

    def store_clock(self) -> datetime | None:
        """The store's own clock (a database server's), or None for a store without one.

        An embedded store (SQLite) runs on the runner's machine and has no clock of its own.
        """
        ...


class TenantLocks(Protocol):
    """One runner per tenant: a lock held for the whole purge of that tenant."""

    def hold(self, tenant: str) -> AbstractContextManager[bool]:
        """Try to take the tenant's lock without waiting; yield whether this runner holds it.

        The lock is released when the block ends, and by the operating system when the
        process dies, so a crashed runner never keeps a tenant locked.
        """
        ...


class InventoryLoad(Protocol):
    """One import's write transaction (rule 9), from ``PrimaryStore.loading``."""

    def add_tenants(self, tenants: Sequence[Mapping[str, Any]]) -> None:
        """Insert validated tenant records and their events (``InputError`` on a repeat)."""
        ...

    def add_objects(
        self, objects: Sequence[Mapping[str, Any]], payloads: Mapping[ObjectId, bytes]
    ) -> None:
        """Insert validated objects, their refs and record payloads (``InputError``: a repeat)."""
        ...

    def held(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Which of these tenant ids and identities the store holds, as this transaction sees."""
        ...


class PrimaryStore(InventoryReader, JournalStore, SafeModeStore, Protocol):
    """Everything a workspace needs of its primary store (rule 6).

    Rows and bookkeeping: tenants, events, objects with payloads and refs; the primary
    credentials' fingerprint; restore archives, manual plans, receipts; safe-mode trips and
    runs; purge journals; the audit head.
    """

    def close(self) -> None:
        """Release the store's connections."""
        ...

    # -- the primary credentials (rule 4) --

    def record_primary_credentials(self, credentials: PrimaryCredentials) -> None:
        """Record the fingerprint of the primary credentials, once (``UsageError`` after)."""
        ...

    def verify_credentials(self, credentials: object) -> PrimaryCredentials:
        """Return ``credentials`` if they are the store's primary credentials, else raise."""
        ...

    def purge_target(self, credentials: PrimaryCredentials) -> PurgeTarget:
        """The delete-capable target, for the store's primary credentials."""
        ...

    def read_target(self) -> PurgeTarget:
        """A read-only target for dry runs: its ``delete`` raises ``CredentialError``."""
        ...

    def transaction(
        self, credentials: PrimaryCredentials
    ) -> AbstractContextManager[PurgeTransaction]:
        """A delete-capable write transaction, after checking ``credentials``."""
        ...

    def snapshot(self) -> AbstractContextManager[PurgeTransaction]:
        """A read-only snapshot whose ``delete`` and ``journal_step`` raise ``CredentialError``."""
        ...

    # -- loading and reading --

    def add_inventory(
        self, inventory: Mapping[str, Any], payloads: Mapping[ObjectId, bytes] | None = None
    ) -> None:
        """Insert a validated inventory in one transaction (``InputError`` on a repeat)."""
        ...

    def loading(self) -> AbstractContextManager[InventoryLoad]:
        """One import's write transaction, filled chunk by chunk (rule 9)."""
        ...

    def already_stored(
        self, tenants: Iterable[str], objects: Iterable[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Which of these tenant ids and object identities the store holds already."""
        ...

    def restore_rows(
        self, credentials: PrimaryCredentials, rows: list[dict[str, Any]]
    ) -> list[ObjectId]:
        """Insert the archived rows that are missing (never overwriting); the ones inserted."""
        ...

    def total_objects(self) -> int:
        """How many objects the store holds."""
        ...

    def payload(self, obj: ObjectId) -> bytes | None:
        """A record's payload, or None."""
        ...

    def export_inventory(self) -> dict[str, Any]:
        """The whole store as a portable inventory (spec §4.1), in one snapshot."""
        ...

    # -- receipts, archives, plans --

    def record_receipt(  # noqa: PLR0913 -- one column each
        self,
        *,
        tenant: str,
        plan_digest: str,
        as_of: str,
        executed_at: str,
        purged: int,
        backup_due: str | None,
    ) -> None:
        """Record that a tenant's primary purge completed."""
        ...

    def receipts(self, tenant: str) -> list[dict[str, Any]]:
        """The primary-purge receipts of a tenant, oldest first."""
        ...

    def add_archive(self, record: dict[str, Any]) -> None:
        """Record a restore archive."""
        ...

    def archives(self) -> list[dict[str, Any]]:
        """Every archive record, oldest first."""
        ...

    def mark_archive(self, archive_id: str, **changes: str) -> None:
        """Set ``restored_at`` or ``removed_at`` of an archive (``ValueError`` for others)."""
        ...

    def add_plan(self, record: dict[str, Any]) -> None:
        """Record a manual plan."""
        ...

    def plan(self, plan_id: str) -> dict[str, Any] | None:
        """One manual plan's record."""
        ...

    def plans(self) -> list[dict[str, Any]]:
        """Every manual plan's record, oldest first."""
        ...

    def mark_plan(self, plan_id: str, **changes: str) -> None:
        """Record a plan's execution or restore (``ValueError`` for an unknown column)."""
        ...

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        ...

    # -- the audit head --

    def get_meta(self, name: str) -> str | None:
        """A value of the meta table."""
        ...

    def set_meta(self, name: str, value: str) -> None:
        """Set a value of the meta table durably (never the credentials record)."""
        ...
