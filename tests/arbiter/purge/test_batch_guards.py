"""Each per-batch guard, on a store state that trips it: which guard, for whom, and where.

Execution rule 6: every batch is re-checked in its own write transaction. These tests hand the
check a transaction whose state trips exactly one guard and read what the guard reports (the
guard's name, the tenant, the details for the alert and the audit log, a message for people).
Found missing by mutation testing (docs/fault-detection.md): a guard that fired with the wrong
tenant, no message or no details went unnoticed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from arbiter import GuardError, ObjectId, ObjectState, Purger
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

A = ObjectId("db", "a")
B = ObjectId("db", "b")
CANCELLED = [("subscribed", "2025-01-01T00:00:00Z"), ("cancelled", "2026-01-01T00:00:00Z")]
MINE = ObjectState(tenant="t", category="default", legal_hold=False)


class _Store:
    """A purge transaction frozen in one state."""

    def __init__(
        self,
        state: tuple[bool, list[tuple[str, str]]] | None = (False, CANCELLED),
        objects: dict[ObjectId, ObjectState] | None = None,
        referrers: set[ObjectId] | None = None,
    ) -> None:
        self.state = state
        self.rows = {A: MINE, B: MINE} if objects is None else objects
        self.refs = referrers or set()

    def tenant_state(self, _tenant: str) -> tuple[bool, list[tuple[str, str]]] | None:
        return self.state

    def objects(self, ids: list[ObjectId]) -> dict[ObjectId, ObjectState]:
        return {i: self.rows[i] for i in ids if i in self.rows}

    def referrers(self, _ids: list[ObjectId]) -> set[ObjectId]:
        return set(self.refs)


WHERE_B = {"store": "db", "key": "b"}
CASES: list[tuple[str, _Store, str, dict[str, Any], str]] = [
    ("tenant-missing", _Store(state=None), "tenant-missing", {}, "no longer exists"),
    ("tenant-hold", _Store(state=(True, CANCELLED)), "tenant-hold", {}, "legal hold"),
    (
        "reactivated",
        _Store(state=(False, [*CANCELLED, ("reactivated", "2026-01-01T00:00:00Z")])),
        "tenant-not-cancelled",
        {},
        "not a cancellation",
    ),
    ("object-missing", _Store(objects={A: MINE}), "object-missing", WHERE_B, "db/b no longer"),
    (
        "foreign-object",
        _Store(objects={A: MINE, B: ObjectState(tenant="u", category="x", legal_hold=False)}),
        "foreign-object",
        {**WHERE_B, "owner": "u"},
        "belongs to 'u'",
    ),
    (
        "object-hold",
        _Store(objects={A: MINE, B: ObjectState(tenant="t", category="x", legal_hold=True)}),
        "object-hold",
        WHERE_B,
        "db/b is under legal hold",
    ),
    (
        "category-keep",
        _Store(objects={A: MINE, B: ObjectState(tenant="t", category="audit", legal_hold=False)}),
        "category-keep",
        WHERE_B,
        "kept category 'audit'",
    ),
    (
        "shared",
        _Store(referrers={ObjectId("db", "z"), A}),
        "shared",
        {"referrers": [{"store": "db", "key": "z"}]},
        "db/z (not purged)",
    ),
]


@pytest.mark.parametrize(
    ("name", "store", "guard", "details", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_batch_guard_reports_itself(
    name: str, store: _Store, guard: str, details: dict[str, Any], words: str
) -> None:
    """The guard trips, naming itself, the tenant, where, and why (words of its message)."""
    with pytest.raises(GuardError) as info:
        Purger._check_batch(store, "t", [A, B], frozenset({A, B}), frozenset({"audit"}))  # type: ignore[arg-type]  # noqa: SLF001 -- the per-batch check on its own
    error = info.value
    assert (guard, "t", details, True) == (
        error.guard,
        error.tenant,
        error.details,
        words in str(error),
    ), name


def test_a_batch_that_trips_no_guard_passes() -> None:
    """Control: a cancelled tenant, its own unheld objects, no outside referrer: no guard."""
    Purger._check_batch(_Store(), "t", [A, B], frozenset({A, B}), frozenset({"audit"}))  # type: ignore[arg-type]  # noqa: SLF001 -- the per-batch check on its own


class _ShortDelete:
    """A purge target whose delete reports one row fewer than it deleted."""

    def __init__(self, store: Any, credentials: Any) -> None:
        self.store, self.credentials = store, credentials

    def total_objects(self) -> int:
        return int(self.store.total_objects())

    def verify_credentials(self, credentials: Any) -> None:
        self.store.verify_credentials(credentials)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.store.transaction(self.credentials) as tx:
            real = tx.delete
            tx.delete = lambda tenant, batch: real(tenant, batch) - 1
            yield tx


def test_a_count_mismatch_is_reported_for_its_tenant_with_both_counts(tmp_path: Path) -> None:
    """Execution rule 7: the batch rolls back; the guard names the tenant and both counts."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [obj("a"), obj("b")],
    }
    ws = workspace(tmp_path / "ws", inventory)
    try:
        credentials = ws.require_credentials("a test purger")
        purger = Purger(
            reader=ws.store,
            target=_ShortDelete(ws.store, credentials),
            policy=ws.config.policy,
            limits=ws.config.limits,
            audit=ws.audit,
            alerter=ws.alerter,
            credentials=credentials,
        )
        outcome = purger.purge_tenant("t", "2026-03-01T00:00:00Z")
        guards = [r.data for r in ws.audit.records() if r.kind == "guard"]
        assert ("refused", "count-mismatch", True) == (
            outcome.status,
            outcome.guard,
            "tenant 't'" in outcome.message,
        )
        assert [({"deleted": 1, "batch": 2}, 0)] == [
            (g["details"], g["purged_before"]) for g in guards
        ]
    finally:
        ws.close()
