"""Shards: N runners purge one fleet together, each taking a stable share of the tenants.

Rules:

1. A shard is ``K/N`` with ``0 <= K < N``: the index counts from 0, as a Kubernetes indexed
   Job's ``JOB_COMPLETION_INDEX`` does, so worker K of N runs ``run-due --shard K/N``.
2. A tenant belongs to shard ``int(SHA-256(tenant id)) mod N``. The share depends on the tenant
   id and N only: it is the same on every machine and every run, whatever other tenants come
   and go, and the N shards partition the fleet (each tenant in exactly one).
3. A worker that dies leaves its share to the next run of the same shard: the per-tenant lock is
   released with its process (or its server session), and its unfinished purge journals are
   recovered by whichever runner next runs recovery.
4. Sharding narrows which tenants a run *starts*; it never widens a guard. The per-tenant lock
   still decides who purges a tenant, so two runs with overlapping or mistyped shards purge
   nothing twice. Safe mode's thresholds count the tenants of the run, that is of its shard; a
   trip stops every shard (the trip lives in the store).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.errors import InputError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from arbiter.stores.ports import CountedSlice, InventoryReader, StreamedSlice

__all__ = ["Shard", "ShardedReader", "parse_shard"]

_SHARD = re.compile(r"(0|[1-9][0-9]*)/([1-9][0-9]*)")
MAX_SHARDS = 10_000


def _index_in_range(instance: Shard, _attribute: attrs.Attribute[int], index: int) -> None:
    if not 0 <= index < instance.count:
        msg = f"shard index {index} is not in 0..{instance.count - 1}"
        raise ValueError(msg)


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (rule 1).

    Attributes:
        index: K, from 0 to ``count - 1``.
        count: N, the number of workers sharing the fleet.
    """

    index: int = attrs.field(validator=_index_in_range)
    count: int = attrs.field(validator=[attrs.validators.ge(1), attrs.validators.le(MAX_SHARDS)])

    def owns(self, tenant: str) -> bool:
        """Whether ``tenant`` belongs to this shard (rule 2)."""
        digest = hashlib.sha256(tenant.encode("utf-8")).digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def __str__(self) -> str:
        """``K/N``."""
        return f"{self.index}/{self.count}"


def parse_shard(text: str, *, field: str = "shard") -> Shard:
    """A shard from ``K/N`` (rule 1).

    Args:
        text: ``K/N``, with ``0 <= K < N <= 10000``.
        field: the option or field it came from, for the error.

    Returns:
        The shard.

    Raises:
        InputError: not ``K/N`` with K in range; the message says what is expected.
    """
    match = _SHARD.fullmatch(text.strip())
    if match is not None:
        index, count = int(match.group(1)), int(match.group(2))
        if count <= MAX_SHARDS and index < count:
            return Shard(index, count)
    raise InputError(
        source="arguments",
        field=field,
        message=f"{text!r} is not a shard: give K/N with 0 <= K < N <= {MAX_SHARDS}"
        " (K counts from 0, like JOB_COMPLETION_INDEX)",
    )


class ShardedReader:
    """An ``InventoryReader`` that lists only its shard's tenants (rules 2 and 4).

    Slices are read whole, as from the store: a tenant's verdict never depends on the shard.
    """

    def __init__(self, reader: InventoryReader, shard: Shard) -> None:
        """Narrow ``reader``'s tenant list to ``shard``."""
        self._reader = reader
        self.shard = shard

    def tenant_ids(self) -> list[str]:
        """The shard's tenant ids, sorted."""
        return [tenant for tenant in self._reader.tenant_ids() if self.shard.owns(tenant)]

    def read_slice(self, tenant: str) -> dict[str, Any]:
        """The tenant's slice, as the store gives it."""
        return self._reader.read_slice(tenant)

    def read_counted_slice(self, tenant: str) -> CountedSlice:
        """The tenant's slice and change counter, as the store gives them."""
        return self._reader.read_counted_slice(tenant)

    def stream_counted_slice(self, tenant: str) -> AbstractContextManager[StreamedSlice]:
        """The tenant's streamed slice and change counter, as the store gives them."""
        return self._reader.stream_counted_slice(tenant)

    def change_counter(self, tenant: str) -> int:
        """The tenant's change counter, as the store gives it."""
        return self._reader.change_counter(tenant)

    def object_count(self, tenant: str) -> int:
        """How many objects the tenant owns, as the store counts them."""
        return self._reader.object_count(tenant)
