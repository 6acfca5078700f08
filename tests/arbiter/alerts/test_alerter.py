"""The alerter (arbiter.alerts.alerter): every sink gets every alert, a failing sink never stops the others."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.model import Alert, AlertSink
from arbiter.alerts.report_files import ReportFileSink
from tests.arbiter.alerts.support import make_alert, no_sleep, webhook_sink
from tests.webhook_server import Reply, Webhook


def test_alerter_survives_a_failing_webhook(tmp_path: Path, webhook: Webhook) -> None:
    """A failing webhook stops nothing: the other sinks deliver and the failure is recorded."""
    webhook.script(*[Reply(status=500)] * 2)
    fallback = tmp_path / "fallback.jsonl"
    sinks: list[AlertSink] = [
        webhook_sink(webhook.url, retries=1, sleep=no_sleep),
        JsonLinesSink(tmp_path / "alerts.jsonl"),
        ReportFileSink(tmp_path / "reports"),
    ]
    alert = make_alert(n=1)
    outcome = Alerter(sinks, fallback_log=fallback).alert(alert)
    assert ("jsonl", "report-file") == outcome.delivered
    reason = "AlertDeliveryError: alert sink webhook failed after 2 attempts: HTTP 500 Internal"
    assert (("webhook", reason + " Server Error"),) == outcome.failed
    assert not outcome.all_delivered
    assert [alert.alert_id] == [
        json.loads(line)["alert_id"]
        for line in (tmp_path / "alerts.jsonl").read_text(encoding="ascii").splitlines()
    ]
    report = Path(outcome.locations["report-file"])
    assert alert == Alert.from_json(json.loads(report.read_text(encoding="utf-8")))
    [entry] = [json.loads(x) for x in fallback.read_text(encoding="ascii").splitlines()]
    assert ("webhook", alert.alert_id, outcome.failed[0][1]) == (
        entry["sink"],
        entry["alert_id"],
        entry["reason"],
    )


@attrs.frozen
class Exploding:
    """A sink that raises whatever it is given."""

    name: str
    error: Exception

    def send(self, alert: Alert) -> str | None:  # noqa: ARG002 -- the sink signature
        """Raise."""
        raise self.error


def test_alerter_never_raises_even_when_the_fallback_log_fails(tmp_path: Path) -> None:
    """Sinks raising anything, and an unwritable fallback log, still let alert() return."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    sinks: list[AlertSink] = [
        Exploding("boom", RuntimeError("kaput\nsecond line")),
        JsonLinesSink(tmp_path / "alerts.jsonl"),
        Exploding("disk", OSError(28, "No space left on device")),
    ]
    outcome = Alerter(sinks, fallback_log=blocker / "fallback.jsonl").alert(make_alert())
    assert ("jsonl",) == outcome.delivered
    assert (
        ("boom", "RuntimeError: kaput second line"),
        ("disk", "OSError: [Errno 28] No space left on device"),
    ) == outcome.failed
    assert {"jsonl": str(tmp_path / "alerts.jsonl")} == outcome.locations


def test_alerter_refuses_no_sinks_and_duplicate_names(tmp_path: Path) -> None:
    """An alerter needs a sink, and sink names must be distinct for the outcome to make sense."""
    with pytest.raises(ValueError, match="at least one sink"):
        Alerter([])
    with pytest.raises(ValueError, match="repeated: jsonl"):
        Alerter([JsonLinesSink(tmp_path / "a"), JsonLinesSink(tmp_path / "b")])
