"""The one refusal handler (``arbiter.purge.refusal``): audit record, alert, typed refusal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.audit.log import AuditLog, FileHeadStore
from arbiter.core.errors import GuardError, InputError
from arbiter.purge.refusal import Domain, RefusalHandler, status_counts

if TYPE_CHECKING:
    from pathlib import Path


def _handler(tmp_path: Path, domain: Domain) -> tuple[RefusalHandler, AuditLog, Path]:
    audit = AuditLog(tmp_path / "audit.jsonl", FileHeadStore(tmp_path / "head.json"))
    sink = tmp_path / "alerts.jsonl"
    return RefusalHandler(audit, Alerter([JsonLinesSink(sink)]), domain=domain), audit, sink


def _alerts(sink: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]


ERRORS: list[tuple[Exception, str, str, str]] = [
    (
        GuardError("tenant-hold", "t", "held", {"k": 1}, purged_before=2),
        "guard",
        "guard",
        "refused",
    ),
    (InputError(source="inventory", field="x", message="bad"), "refusal", "bad-input", "refused"),
    (RuntimeError("boom"), "error", "error", "failed"),
]


@pytest.mark.parametrize(("error", "record", "alert", "status"), ERRORS)
@pytest.mark.parametrize("domain", ["primary", "backup"])
def test_every_refusal_is_recorded_then_alerted_with_its_kind(  # noqa: PLR0913, PLR0917 -- the case and its domain
    tmp_path: Path, error: Exception, record: str, alert: str, status: str, domain: Domain
) -> None:
    """One record of the error's kind, one alert of its kind (its delivery recorded), one status."""
    handler, audit, sink = _handler(tmp_path, domain)
    refusal = handler.refuse(error, tenant="t", as_of="2026-03-01T00:00:00Z", actor="me")
    alerts = _alerts(sink)
    expected_prefix = {
        ("backup", "guard"): "backup purge: ",
        ("backup", "bad-input"): "backup purge refused: ",
        ("backup", "error"): "backup purge failed: ",
    }.get((domain, alert), "")
    assert (
        [record, "alert"],
        [alert],
        status,
        alerts[0]["message"] == expected_prefix + refusal.message,
        ("domain" in alerts[0]["details"]) == (domain == "backup"),
    ) == (
        [r.kind for r in audit.records()],
        [a["kind"] for a in alerts],
        refusal.status,
        True,
        True,
    )


def test_a_guard_refusal_carries_its_guard_details_and_partial_count(tmp_path: Path) -> None:
    """A guard's record and refusal say which guard, its details and how much was deleted before."""
    handler, audit, _sink = _handler(tmp_path, "primary")
    error = GuardError("object-hold", "t", "held", {"key": "b"}).after(4)
    refusal = handler.refuse(
        error, tenant="t", as_of="2026-03-01T00:00:00Z", actor="me", context={"plan_digest": "d"}
    )
    guard_record = next(r.data for r in audit.records() if r.kind == "guard")
    assert (
        {
            "tenant": "t",
            "as_of": "2026-03-01T00:00:00Z",
            "guard": "object-hold",
            "details": {"key": "b"},
            "purged_before": 4,
            "plan_digest": "d",
        },
        ("refused", "object-hold", {"key": "b"}, 4),
    ) == (
        guard_record,
        (refusal.status, refusal.guard, dict(refusal.details), refusal.purged_before),
    )


def test_a_guard_refusal_context_reaches_its_alert(tmp_path: Path) -> None:
    """The caller's context (a plan digest, a manual plan id) is in the guard alert's details."""
    handler, _audit, sink = _handler(tmp_path, "primary")
    error = GuardError("tenant-hold", "t", "held", {"key": "b"})
    handler.refuse(
        error, tenant="t", as_of="2026-03-01T00:00:00Z", actor="me", context={"plan_id": "p1"}
    )
    assert [{"guard": "tenant-hold", "key": "b", "plan_id": "p1"}] == [
        a["details"] for a in _alerts(sink)
    ]


def test_status_counts_counts_each_status() -> None:
    """Each status that occurs is counted; statuses that do not occur are absent."""
    assert {"executed": 2, "refused": 1} == status_counts(["executed", "refused", "executed"])
