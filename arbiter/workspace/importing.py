"""Loading a portable inventory into a workspace's stores, a chunk of objects at a time.

Rules:

1. An import is validated as planning validates it (spec §4.4, both planners), a chunk at a
   time: the first chunk with every tenant of the file, each later chunk with the tenants its
   objects name. Every rule of §4.4 concerns one value, or one object and the tenants, except
   the repeats (rules 7 and 8): a repeat within a chunk is the planners' to find, a repeat of
   the store or of an earlier chunk is found by the import's own transaction (rule 2). A file
   with one error therefore gets the error, and the field (``objects[i]`` counted in the whole
   file), that validating it whole gives.
2. The store is read only where the file touches it: each chunk's identities are looked up in
   the import's transaction (ports rule 9), which sees the store and the chunks inserted before.
   The first repeat is named at its place in the file, tenants before objects.
3. The rows go in through one transaction (``PrimaryStore.loading``): the import is whole or
   absent. Blob files are staged (``arbiter.durable.files`` rule 6) as their chunk goes in, and
   put in place only once the transaction has committed; any error discards them all. The
   staged temporaries are refreshed every ``REFRESH_SECONDS`` and once more just before the
   commit, so that a concurrent recovery, which removes temporaries untouched for ten minutes
   as strays, never takes one; a temporary found gone fails the import before the commit.
4. Payloads may name only objects of the file: a payload for anything else is bad input, never
   written as a file no row owns.
5. Memory is bounded by a chunk, the tenants and the staged files' names when the objects are
   streamed (``arbiter.core.loading.InventoryStream``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.core.arbitrate import Planner, arbitrate
from arbiter.core.errors import InputError
from arbiter.core.verdict import ObjectId
from arbiter.durable.files import StagedFiles
from arbiter.stores.blobs import BlobDirectory, check_blob_name
from arbiter.stores.ports import InventoryLoad

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from arbiter.stores.ports import PrimaryStore

__all__ = [
    "DEFAULT_CHUNK",
    "REFRESH_SECONDS",
    "Imported",
    "PayloadSource",
    "chunked",
    "directory_payloads",
    "import_chunks",
    "mapping_payloads",
    "validate_inventory",
]

DEFAULT_CHUNK = 50_000
"""Objects validated and inserted together."""

REFRESH_SECONDS = 120.0
"""How often a long import marks its staged files as just written (rule 3)."""

# Any instant does for validation: the planners check the inventory before the instant matters.
_VALIDATION_AS_OF = "2000-01-01T00:00:00Z"
_OBJECT_INDEX = re.compile(r"^objects\[(\d+)\]")

PayloadSource = Callable[[list[ObjectId]], dict[ObjectId, bytes]]
"""Given a chunk's identities, the payloads of those that have one."""


@attrs.frozen
class Imported:
    """What an import loaded.

    Attributes:
        tenants: tenant records inserted.
        objects: objects inserted.
        payloads: payloads loaded (record payloads and blob files).
    """

    tenants: int
    objects: int
    payloads: int


def validate_inventory(
    inventory: Mapping[str, Any],
    policy: Mapping[str, Any],
    *,
    planners: tuple[Planner, Planner] | None = None,
) -> None:
    """Validate a whole inventory as both planners do (spec §4.4).

    Args:
        inventory: the portable inventory.
        policy: the policy the planners will use.
        planners: as for ``arbitrate``.

    Raises:
        InputError: bad input.
        RefusedError: the planners disagree on whether the input is valid.
    """
    tenants = inventory.get("tenants")
    probe = "\x00no-tenant"
    if isinstance(tenants, list) and tenants and isinstance(tenants[0], dict):
        first = tenants[0].get("id")
        probe = first if isinstance(first, str) else probe
    try:
        arbitrate(inventory, policy, probe, _VALIDATION_AS_OF, planners=planners)
    except InputError as exc:
        if exc.source == "tenant" and not tenants:
            objects = inventory.get("objects")
            if isinstance(objects, list) and objects:
                raise InputError(
                    source="inventory", field="objects[0].tenant", message="no tenant is listed"
                ) from None
            return
        raise


@attrs.define
class _Import:
    """One import in progress (this module's rules)."""

    load: InventoryLoad
    blobs: BlobDirectory
    policy: Mapping[str, Any]
    planners: tuple[Planner, Planner] | None
    payloads: PayloadSource
    staged: list[StagedFiles] = attrs.Factory(list)
    tenants: list[Any] = attrs.Factory(list)
    by_id: dict[str, Any] = attrs.Factory(dict)
    objects: int = 0
    loaded: int = 0
    refreshed: float = attrs.Factory(time.monotonic)

    def first(self, head: Mapping[str, Any], chunk: list[Any] | None) -> None:
        """Validate the first chunk with every tenant (rule 1); insert the tenants."""
        inventory = dict(head) if chunk is None else {**head, "objects": chunk}
        validate_inventory(inventory, self.policy, planners=self.planners)
        tenants = head.get("tenants")
        self.tenants = tenants if isinstance(tenants, list) else []
        self.by_id = {t["id"]: t for t in self.tenants}
        held, _ = self.load.held(list(self.by_id), [])
        for i, tenant in enumerate(self.tenants):
            if tenant["id"] in held:
                raise InputError(
                    source="inventory",
                    field=f"tenants[{i}]",
                    message=f"duplicate tenant id {tenant['id']!r}: the store already holds it",
                )
        self.load.add_tenants(self.tenants)
        if chunk is not None:
            self._insert(0, chunk, first=True)

    def later(self, start: int, chunk: list[Any], head: Mapping[str, Any]) -> None:
        """Validate a later chunk with the tenants its objects name (rule 1); insert it."""
        # Only strings can name a tenant; any other value is the planners' to reject.
        named = dict.fromkeys(
            tid for o in chunk if isinstance(o, dict) and isinstance(tid := o.get("tenant"), str)
        )
        tenants = [self.by_id[t] for t in named if t in self.by_id]
        # A chunk naming no listed tenant still gets one, so that the planners report its
        # objects' own error rather than an empty tenant list.
        part = {**head, "tenants": tenants or self.tenants[:1], "objects": chunk}
        try:
            validate_inventory(part, self.policy, planners=self.planners)
        except InputError as exc:
            raise _rebased(exc, start) from None
        self._insert(start, chunk, first=False)

    def _insert(self, start: int, chunk: list[Any], *, first: bool) -> None:
        identities = [ObjectId(o["store"], o["key"]) for o in chunk]
        _, held = self.load.held([], [(o.store, o.key) for o in identities])
        for i, identity in enumerate(identities):
            if (identity.store, identity.key) in held:
                # The first chunk's own repeats are the planners'; a later one may repeat an
                # earlier chunk as well as the store.
                holder = "the store" if first else "the store or an earlier object of the file"
                raise InputError(
                    source="inventory",
                    field=f"objects[{start + i}]",
                    message=f"duplicate object (store, key) = {(identity.store, identity.key)!r}:"
                    f" {holder} already holds it",
                )
            if self.blobs.is_blob_store(identity.store):
                field = f"objects[{start + i}]"
                check_blob_name(
                    identity.store, what="store", field=f"{field}.store", multi_segment=False
                )
                check_blob_name(identity.key, what="key", field=f"{field}.key")
        payloads = self.payloads(identities)
        blobs = [(o, data) for o, data in payloads.items() if self.blobs.is_blob_store(o.store)]
        records = {o: d for o, d in payloads.items() if not self.blobs.is_blob_store(o.store)}
        self.staged.append(self.blobs.stage(blobs))
        self.load.add_objects(chunk, records)
        self.objects += len(chunk)
        self.loaded += len(payloads)
        if time.monotonic() - self.refreshed >= REFRESH_SECONDS:
            self.refresh()

    def refresh(self) -> None:
        """Mark the staged files as just written (rule 3)."""
        for staged in self.staged:
            staged.refresh()
        self.refreshed = time.monotonic()

    def discard(self) -> None:
        for staged in self.staged:
            staged.discard()


def _rebased(exc: InputError, start: int) -> InputError:
    """``exc`` with its ``objects[i]`` counted in the whole file, not in the chunk."""
    field = _OBJECT_INDEX.sub(lambda m: f"objects[{int(m.group(1)) + start}]", exc.field, count=1)
    return InputError(source=exc.source, field=field, message=exc.message, file=exc.file)


def import_chunks(  # noqa: PLR0913 -- the file's parts, where they go, and how it is checked
    store: PrimaryStore,
    blobs: BlobDirectory,
    head: Mapping[str, Any],
    chunks: Iterable[tuple[int, list[Any]]] | None,
    payloads: PayloadSource,
    *,
    policy: Mapping[str, Any],
    planners: tuple[Planner, Planner] | None = None,
    before_commit: Callable[[], None] | None = None,
) -> Imported:
    """Validate and load an inventory given as its head and its objects in chunks (rules 1-5).

    Args:
        store: the primary store.
        blobs: the blob directory the blob stores' payloads go to.
        head: the inventory's top-level members but its objects (``InventoryStream.head``);
            read again after the last chunk, for members that followed the objects.
        chunks: the objects, each chunk with the index of its first object; None when the
            inventory's ``objects`` is not a list (it is then in ``head``, and bad input).
        payloads: the payloads of a chunk's objects (rule 4 is the caller's).
        policy: the policy the planners validate with.
        planners: as for ``arbitrate``.
        before_commit: called last inside the transaction; whatever it raises loads nothing.

    Returns:
        What was loaded.

    Raises:
        InputError: bad input, named at its place in the whole file; nothing is loaded.
        RefusedError: the planners disagree on whether the input is valid; nothing is loaded.
    """
    started: _Import | None = None
    try:
        with store.loading() as load:
            started = _Import(load, blobs, policy, planners, payloads)
            if chunks is None:
                started.first(head, None)
            else:
                begun = False
                for start, chunk in chunks:
                    if begun:
                        started.later(start, chunk, head)
                    else:
                        started.first(head, chunk)
                        begun = True
                if not begun:
                    started.first(head, [])
                if set(head) - {"tenants"}:
                    # Members after the objects (a streamed file): the planners judge them.
                    validate_inventory({**head, "objects": []}, policy, planners=planners)
            if before_commit is not None:
                before_commit()
            started.refresh()
    except BaseException:
        if started is not None:
            started.discard()
        raise
    for staged in started.staged:
        staged.commit()
    return Imported(len(started.tenants), started.objects, started.loaded)


def mapping_payloads(payloads: Mapping[ObjectId, bytes]) -> tuple[PayloadSource, set[ObjectId]]:
    """A payload source over a mapping, and the identities it has been asked for (rule 4)."""
    asked: set[ObjectId] = set()

    def source(identities: list[ObjectId]) -> dict[ObjectId, bytes]:
        asked.update(identities)
        return {o: payloads[o] for o in identities if o in payloads}

    return source, asked


def directory_payloads(directory: Path) -> PayloadSource:
    """A payload source over a directory of files at ``STORE/KEY`` (none outside it)."""
    root = directory.resolve()
    base = str(root)

    def source(identities: list[ObjectId]) -> dict[ObjectId, bytes]:
        found: dict[ObjectId, bytes] = {}
        for identity in identities:
            path = os.path.join(base, identity.store, identity.key)  # noqa: PTH118 -- one stat per object, no Path objects
            # Most objects have no file: one stat each; only a file found is resolved, so a
            # link or a ``..`` leading out of the directory is never read.
            if os.path.isfile(path) and Path(path).resolve().is_relative_to(root):  # noqa: PTH113 -- as above
                found[identity] = Path(path).read_bytes()
        return found

    return source


def chunked(objects: Sequence[Any], size: int) -> Iterable[tuple[int, list[Any]]]:
    """A list of objects as chunks, each with the index of its first object."""
    for start in range(0, len(objects), size):
        yield start, list(objects[start : start + size])
