"""What a purge reported: the audit records it appended and the alerts every sink received.

A refusal and a purge promise an audit record and, for a refusal, one alert delivered to every
sink with the same ``alert_id``. These helpers read both back from where people read them (the
audit log, the JSON-lines alert log, the report files, the webhook), check the parts that vary
from run to run (instants, ids) for form and consistency, and return the rest for one
``expected == actual`` comparison.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from arbiter import AuditRecord
    from tests.webhook_server import Webhook

__all__ = ["AT", "Entry", "reported"]

# The form of an instant written by the audit log and by an alert.
AT = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")
_HEX = re.compile(r"\A[0-9a-f]{32}\Z")

# An audit record without its position, time and hashes: (kind, actor, data).
Entry = tuple[str, str, dict[str, Any]]


def _sinks(directory: Path, webhook: Webhook | None) -> list[dict[str, Any]]:
    """The alerts of the JSON-lines log, checked to be exactly those of the other sinks."""
    log = directory / "alerts.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    alerts: list[dict[str, Any]] = [json.loads(line) for line in lines]
    reports = sorted((directory / "reports").glob("*.json")) if alerts else []
    by_id = sorted(alerts, key=lambda a: str(a["alert_id"]))
    assert by_id == sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in reports),
        key=lambda a: str(a["alert_id"]),
    )
    if webhook is not None:
        assert alerts == [r.json() for r in webhook.received]
        assert [a["alert_id"] for a in alerts] == [
            {k.lower(): v for k, v in r.headers.items()}.get("x-twinpurge-alert-id")
            for r in webhook.received
        ]
    return alerts


def reported(
    records: Iterable[AuditRecord], directory: Path, webhook: Webhook | None = None
) -> tuple[list[Entry], list[dict[str, Any]]]:
    """The audit entries and the alerts, with each alert id replaced by ``alert-<n>``.

    Args:
        records: the audit records to report (e.g. those appended by one purge).
        directory: where the alert sinks write (``alerts.jsonl`` and ``reports/``).
        webhook: the test webhook, when the workspace alerts to it.

    Returns:
        ``(kind, actor, data)`` of each record, and each alert without its ``at``; the n-th
        alert's id (0-based, in order of delivery) reads ``alert-<n>`` in both.
    """
    alerts = _sinks(directory, webhook)
    names = {a["alert_id"]: f"alert-{n}" for n, a in enumerate(alerts)}
    assert len(names) == len(alerts)
    assert all(_HEX.match(a["alert_id"]) and AT.match(a["at"]) for a in alerts)
    entries: list[Entry] = []
    for record in records:
        assert AT.match(record.at)
        data = dict(record.data)
        if record.kind == "alert" and data.get("alert_id") in names:
            data["alert_id"] = names[data["alert_id"]]
        entries.append((record.kind, record.actor, data))
    shown = [
        {**{k: v for k, v in a.items() if k != "at"}, "alert_id": names[a["alert_id"]]}
        for a in alerts
    ]
    return entries, shown
