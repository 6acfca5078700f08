"""Streamed slices (rule 8 of ``arbiter.stores.ports``): what both primary stores share.

Each store opens its own snapshot and cursors (``arbiter.stores.rows``,
``arbiter.stores.postgres.rows``); this module holds what is the same on both. Rules:

1. Rows come from database cursors ``FETCH`` at a time (``fetched``): nothing here holds more
   than one fetch of a cursor, whatever the tenant's size.
2. A tenant's objects come from two cursors in the same order, the objects by ``(store, key)``
   and their refs by ``(store, key, pos)`` of the object holding them; ``with_refs`` merges the
   two in one pass, each object taking the refs that follow it. A ref whose object sorts before
   the current object (the two cursors disagree on the order) is a ``RuntimeError``, not a
   silently dropped ref; so are refs left over at the end.
3. ``streamed_slice`` guards the context: ``objects()`` and every iterator it returned raise
   ``UsageError`` once the block has ended, and the iterators' cursors are closed when the
   block ends, before the store's transaction does (a PostgreSQL cursor left to the garbage
   collector would try to close itself in whatever transaction the connection is in by then).
   An iterator opens its cursors on its first ``next``, not when ``objects()`` is called.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from arbiter.core.errors import UsageError
from arbiter.stores.ports import StreamedSlice

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

__all__ = ["FETCH", "Fetching", "ObjectRows", "fetched", "streamed_slice", "with_refs"]

# Rows per fetch from a cursor (rule 1): about 2,000 records, a megabyte or two of Python objects.
FETCH = 2000

# A pass over a tenant's objects: a generator, so that closing it closes its cursors (rule 3).
ObjectRows: TypeAlias = "Generator[dict[str, Any], None, None]"


class Fetching(Protocol):
    """A DB-API cursor, as far as ``fetched`` needs one."""

    def fetchmany(self, size: int) -> list[Any]:
        """At most ``size`` more rows; an empty list at the end."""
        ...


def fetched(cursor: Fetching) -> Iterator[tuple[Any, ...]]:
    """The cursor's rows, fetched ``FETCH`` at a time (rule 1)."""
    while rows := cursor.fetchmany(FETCH):
        yield from rows


def with_refs(
    objects: Iterable[tuple[Any, ...]], refs: Iterable[tuple[Any, ...]]
) -> Iterator[dict[str, Any]]:
    """Object rows merged with their refs' rows, both in the same order (rule 2).

    Args:
        objects: ``(store, key, tenant, category, created_at, legal_hold)`` rows, by identity.
        refs: ``(from_store, from_key, to_store, to_key)`` rows of those objects' refs, by the
            identity of the object holding them, then by position.

    Yields:
        Each object as the inventory spells it (spec §4.1), ``refs`` in order.

    Raises:
        RuntimeError: a ref's object is not among the objects where the order puts it.
    """
    pending = iter(refs)
    ref = next(pending, None)
    for store, key, tenant, category, created_at, legal_hold in objects:
        if ref is not None and (ref[0], ref[1]) < (store, key):
            break
        own: list[list[str]] = []
        while ref is not None and ref[0] == store and ref[1] == key:
            own.append([ref[2], ref[3]])
            ref = next(pending, None)
        yield {
            "store": store,
            "key": key,
            "tenant": tenant,
            "category": category,
            "created_at": created_at,
            "legal_hold": bool(legal_hold),
            "refs": own,
        }
    if ref is not None:
        msg = f"a ref of {ref[0]!r}/{ref[1]!r} is out of the order of the tenant's objects"
        raise RuntimeError(msg)


class _Pass:
    """One call of ``objects()``: usable while its block runs, closed when it ends (rule 3)."""

    def __init__(self, is_open: Callable[[], bool], tenant: str, rows: ObjectRows) -> None:
        self._is_open = is_open
        self._tenant = tenant
        self._rows = rows

    def __iter__(self) -> _Pass:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._is_open():
            raise _ended(self._tenant)
        return next(self._rows)

    def close(self) -> None:
        """Close the pass's cursors (a generator not yet started has none)."""
        self._rows.close()


def _ended(tenant: str) -> UsageError:
    return UsageError(
        f"the streamed slice of tenant {tenant!r} is read inside its stream_counted_slice block"
        " only, and that block has ended"
    )


def _nothing() -> ObjectRows:
    yield from ()


@contextmanager
def streamed_slice(
    tenant: str,
    record: dict[str, Any] | None,
    counter: int,
    shared: list[list[str]],
    rows: Callable[[], ObjectRows],
) -> Iterator[StreamedSlice]:
    """The ``StreamedSlice`` of a store's open snapshot, valid while the block runs (rule 3).

    Args:
        tenant: the tenant's id (for the error after the block).
        record: its record, or None when it does not exist (then ``objects()`` yields nothing).
        counter: its change counter in the snapshot.
        shared: the refs of other tenants' objects into its objects.
        rows: opens a new pass over its objects in the snapshot (cursors opened lazily).

    Yields:
        The streamed slice.
    """
    passes: list[_Pass] = []
    state = {"open": True}

    def objects() -> Iterator[dict[str, Any]]:
        if not state["open"]:
            raise _ended(tenant)
        opened = _Pass(lambda: state["open"], tenant, _nothing() if record is None else rows())
        passes.append(opened)
        return opened

    try:
        yield StreamedSlice(record, counter, shared, objects)
    finally:
        state["open"] = False
        for opened in passes:
            opened.close()
