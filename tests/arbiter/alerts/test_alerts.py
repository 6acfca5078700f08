"""Alert sinks: every sink gets every alert, a failing sink never stops the others.

The webhook tests talk to a real HTTP server on 127.0.0.1 (and to nothing else).
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest

from arbiter import DivergenceReport, ObjectId
from arbiter.alerts.alerter import Alerter
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.model import Alert, AlertSink
from arbiter.alerts.report_files import ReportFileSink, safe_filename_component
from arbiter.alerts.webhook import WebhookSink
from arbiter.core.errors import AlertDeliveryError
from tests.webhook_server import Reply, Webhook

AT = datetime(2026, 5, 1, 12, 30, 45, 123456, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The same instant every time."""
    return AT


def no_sleep(_seconds: float) -> None:
    """Waits for nothing."""


def make_alert(**details: Any) -> Alert:
    """A divergence alert for tenant t1 with the given details."""
    return Alert.create(
        "divergence",
        "planners diverge for tenant 't1'",
        tenant="t1",
        as_of="2026-05-01T00:00:00Z",
        details=details,
        clock=fixed_clock,
    )


def webhook_sink(url: str, **options: Any) -> WebhookSink:
    """A webhook sink with a short timeout and no waiting between attempts."""
    return WebhookSink(url, timeout_seconds=options.pop("timeout_seconds", 2.0), **options)


def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- Alert ------------------------------------------------------------------------------------


def test_create_stamps_utc_microseconds_and_a_fresh_id() -> None:
    """Alert.create writes the clock's time in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    plus_two = timezone(timedelta(hours=2))
    first = Alert.create("stale", "old input", clock=lambda: AT.astimezone(plus_two))
    second = Alert.create("stale", "old input", clock=fixed_clock)
    assert "2026-05-01T12:30:45.123456Z" == first.at == second.at
    assert first.alert_id != second.alert_id
    assert (None, None, {}) == (first.tenant, first.as_of, first.details)


def test_create_makes_the_message_one_line() -> None:
    """A multi-line message becomes one line: line breaks and runs of spaces become a space."""
    alert = Alert.create("error", "  planner a failed:\n  boom\r\n\u2028 again ", clock=fixed_clock)
    assert "planner a failed: boom again" == alert.message


def test_create_refuses_a_naive_clock() -> None:
    """A clock without a timezone is refused: the alert's time must be a real UTC instant."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Alert.create("error", "x", clock=lambda: datetime(2026, 5, 1))  # noqa: DTZ001 -- naive on purpose


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": "Divergence!"}, ValueError),
        ({"message": "two\nlines"}, ValueError),
        ({"message": " "}, ValueError),
        ({"at": "2026-05-01T12:30:45Z"}, ValueError),
        ({"at": "2026-02-30T12:30:45.000000Z"}, ValueError),
        ({"alert_id": "../x"}, ValueError),
        ({"details": {"n": float("nan")}}, ValueError),
        ({"details": {"s": {1, 2}}}, TypeError),
        ({"details": {"nested": {3: "x"}}}, TypeError),
    ],
)
def test_malformed_alert_is_refused(changes: dict[str, Any], error: type[Exception]) -> None:
    """A field breaking rule 2 is refused when the alert is made, not when a sink writes it."""
    with pytest.raises(error):
        attrs.evolve(make_alert(), **changes)


def test_alert_round_trips_through_json() -> None:
    """to_json gives plain data that from_json reads back to an equal alert."""
    alert = make_alert(purge_only_in_a=[{"store": "db", "key": "k"}], n=3)
    assert alert == Alert.from_json(json.loads(json.dumps(alert.to_json())))


@pytest.mark.parametrize(
    "change",
    [{"extra": 1}, {"tenant": 7}, {"details": []}],
)
def test_from_json_refuses_extra_or_mistyped_keys(change: dict[str, Any]) -> None:
    """from_json refuses unknown keys and coerces nothing."""
    with pytest.raises(cattrs.BaseValidationError):
        Alert.from_json({**make_alert().to_json(), **change})


# --- JsonLinesSink ----------------------------------------------------------------------------


def test_json_lines_sink_appends_one_line_per_alert(tmp_path: Path) -> None:
    """Each alert is one JSON line, appended, and reads back as the same alert."""
    path = tmp_path / "logs" / "alerts.jsonl"
    sink = JsonLinesSink(path)
    alerts = [make_alert(i=i, text="line\nbreak \u2028") for i in range(3)]
    locations = [sink.send(alert) for alert in alerts]
    lines = path.read_text(encoding="ascii").split("\n")
    assert [str(path)] * 3 == locations
    assert "" == lines.pop()
    assert alerts == [Alert.from_json(json.loads(line)) for line in lines]


def test_json_lines_sink_concurrent_appends_give_whole_lines(tmp_path: Path) -> None:
    """Threads appending at once never interleave: every line is one whole alert."""
    path = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(path)
    alerts = [make_alert(thread=t, pad="x" * 20_000) for t in range(8) for _ in range(25)]
    chunks = [alerts[i::8] for i in range(8)]
    threads = [
        threading.Thread(target=lambda c=chunk: [sink.send(a) for a in c]) for chunk in chunks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text(encoding="ascii").splitlines()
    assert sorted(a.alert_id for a in alerts) == sorted(json.loads(x)["alert_id"] for x in lines)


# --- ReportFileSink ---------------------------------------------------------------------------


def test_report_file_is_named_and_holds_the_alert(tmp_path: Path) -> None:
    """The report's name is <at>-<tenant>-<kind>-<id[:8]>.json and its content the alert."""
    alert = make_alert(n=1)
    location = ReportFileSink(tmp_path / "reports").send(alert)
    expected_name = f"20260501T123045.123456Z-t1-divergence-{alert.alert_id[:8]}.json"
    assert str(tmp_path / "reports" / expected_name) == location
    assert alert == Alert.from_json(json.loads(Path(location).read_text(encoding="utf-8")))
    assert [expected_name] == [p.name for p in (tmp_path / "reports").iterdir()]


def test_fleet_alert_report_is_named_fleet(tmp_path: Path) -> None:
    """An alert about no tenant is filed under "fleet"."""
    alert = Alert.create("stale", "inventory is old", clock=fixed_clock)
    location = ReportFileSink(tmp_path).send(alert)
    assert f"20260501T123045.123456Z-fleet-stale-{alert.alert_id[:8]}.json" == Path(location).name


@pytest.mark.parametrize(
    ("tenant", "component"),
    [
        ("../../etc", "____etc"),
        ("..", "_"),
        (".hidden", "_hidden"),
        ("a/b\\c", "a_b_c"),
        ("a.b-c_d", "a.b-c_d"),
        ("", "_"),
        ("nul\x00byte", "nul_byte"),
        ("t" * 200, "t" * 64),
    ],
)
def test_tenant_is_sanitised_in_report_file_name(
    tmp_path: Path, tenant: str, component: str
) -> None:
    """A hostile tenant id never moves the report out of its directory nor hides it."""
    alert = attrs.evolve(make_alert(), tenant=tenant)
    location = Path(ReportFileSink(tmp_path / "reports").send(alert))
    assert component == safe_filename_component(tenant)
    assert tmp_path / "reports" == location.parent
    expected = f"20260501T123045.123456Z-{component}-divergence-{alert.alert_id[:8]}.json"
    assert expected == location.name
    assert not location.name.startswith(".")
    assert ".." not in location.name
    assert [location] == list((tmp_path / "reports").iterdir())


def test_report_truncates_long_lists_with_counts(tmp_path: Path) -> None:
    """Lists over 100 entries, at the top level or one below, keep 100 and a <name>_count."""
    alert = make_alert(
        purge_only_in_a=[f"k{i}" for i in range(250)],
        exactly_limit=list(range(100)),
        short=[1, 2],
        report={"kept_only_in_b": list(range(101)), "deeper": {"kept": list(range(300))}},
    )
    location = ReportFileSink(tmp_path).send(alert)
    details = json.loads(Path(location).read_text(encoding="utf-8"))["details"]
    assert [f"k{i}" for i in range(100)] == details["purge_only_in_a"]
    assert 250 == details["purge_only_in_a_count"]
    assert list(range(100)) == details["exactly_limit"]
    assert "exactly_limit_count" not in details
    assert [1, 2] == details["short"]
    assert list(range(100)) == details["report"]["kept_only_in_b"]
    assert 101 == details["report"]["kept_only_in_b_count"]
    assert {"kept": list(range(300))} == details["report"]["deeper"]
    assert 250 == len(alert.details["purge_only_in_a"])


def test_divergence_report_of_many_objects_stays_small(tmp_path: Path) -> None:
    """A divergence of 20,000 objects gives a report of kilobytes that still tells the count."""
    report = DivergenceReport(
        tenant="t1",
        as_of="2026-05-01T00:00:00Z",
        versions={"a": "1", "b": "1"},
        fingerprints={"inventory": "0" * 64},
        purge_only_in_a=tuple(ObjectId("db", f"object-{i:06d}") for i in range(20_000)),
    )
    alert = Alert.create(
        "divergence", report.summary(), tenant="t1", details=report.to_json(), clock=fixed_clock
    )
    path = Path(ReportFileSink(tmp_path).send(alert))
    details = json.loads(path.read_text(encoding="utf-8"))["details"]
    assert 20_000 == details["purge_only_in_a_count"]
    assert {"store": "db", "key": "object-000099"} == details["purge_only_in_a"][-1]
    assert 100 == len(details["purge_only_in_a"])
    assert path.stat().st_size < 20_000


def test_report_sink_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Sending the same alert twice rewrites one file and leaves nothing else behind."""
    sink = ReportFileSink(tmp_path)
    alert = make_alert()
    assert sink.send(alert) == sink.send(alert)
    assert 1 == len(list(tmp_path.iterdir()))


def test_report_and_log_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """Alerts carry tenant details: report files and the JSON-lines log are created mode 600."""
    alert = make_alert()
    report = Path(ReportFileSink(tmp_path / "reports").send(alert))
    log = Path(JsonLinesSink(tmp_path / "alerts.jsonl").send(alert))
    assert (0o600, 0o600) == (report.stat().st_mode & 0o777, log.stat().st_mode & 0o777)


# --- WebhookSink ------------------------------------------------------------------------------


def test_webhook_posts_the_alert_as_json(webhook: Webhook) -> None:
    """The alert is POSTed once as its JSON, with Content-Type application/json."""
    alert = make_alert(n=1)
    webhook_sink(webhook.url, headers={"Authorization": "Bearer t"}).send(alert)
    [request] = webhook.received
    assert ("POST", "/hooks/alert") == (request.method, request.path)
    assert "application/json" == request.headers["content-type"]
    assert "Bearer t" == request.headers["authorization"]
    assert alert.alert_id == request.headers["x-twinpurge-alert-id"]
    assert alert.to_json() == request.json()


def test_webhook_retries_500_then_succeeds(webhook: Webhook) -> None:
    """A 500 is retried; the retry carries the same alert id so the receiver can de-duplicate."""
    webhook.script(Reply(status=500))
    sleeps: list[float] = []
    alert = make_alert()
    webhook_sink(webhook.url, sleep=sleeps.append).send(alert)
    assert [alert.alert_id] * 2 == [r.json()["alert_id"] for r in webhook.received]
    assert [0.5] == sleeps


def test_webhook_retries_429(webhook: Webhook) -> None:
    """429 Too Many Requests is retried."""
    webhook.script(Reply(status=429), Reply(status=429))
    webhook_sink(webhook.url, sleep=no_sleep).send(make_alert())
    assert 3 == len(webhook.received)


def test_webhook_does_not_retry_400(webhook: Webhook) -> None:
    """A 4xx other than 429 fails at once: retrying the same request cannot help."""
    webhook.script(Reply(status=400))
    sleeps: list[float] = []
    with pytest.raises(AlertDeliveryError) as caught:
        webhook_sink(webhook.url, sleep=sleeps.append).send(make_alert())
    assert ("webhook", 1, "HTTP 400 Bad Request") == (
        caught.value.sink,
        caught.value.attempts,
        caught.value.reason,
    )
    assert (1, []) == (len(webhook.received), sleeps)


def test_webhook_does_not_follow_redirects(webhook: Webhook) -> None:
    """A redirect is a failure, not followed: urllib would re-send the POST as a GET."""
    webhook.script(Reply(status=302, headers=(("Location", "/elsewhere"),)))
    with pytest.raises(AlertDeliveryError) as caught:
        webhook_sink(webhook.url, sleep=no_sleep).send(make_alert())
    assert 1 == caught.value.attempts
    assert ["/hooks/alert"] == [r.path for r in webhook.received]


def test_webhook_backs_off_exponentially_then_gives_up(webhook: Webhook) -> None:
    """Persistent 503s are tried retries + 1 times, waiting 0.5, 1, 2 s, then raise."""
    webhook.script(*[Reply(status=503)] * 4)
    sleeps: list[float] = []
    with pytest.raises(AlertDeliveryError) as caught:
        webhook_sink(webhook.url, sleep=sleeps.append).send(make_alert())
    assert (4, "HTTP 503 Service Unavailable") == (caught.value.attempts, caught.value.reason)
    assert [0.5, 1.0, 2.0] == sleeps
    assert 4 == len(webhook.received)


def test_webhook_timeout_is_retried_then_raises(webhook: Webhook) -> None:
    """A server slower than the timeout is tried retries + 1 times, then AlertDeliveryError."""
    webhook.script(*[Reply(delay=2.0)] * 4)
    sink = webhook_sink(webhook.url, timeout_seconds=0.2, retries=3, sleep=no_sleep)
    with pytest.raises(AlertDeliveryError) as caught:
        sink.send(make_alert())
    assert 4 == caught.value.attempts
    assert "timed out" in caught.value.reason
    assert 4 == len(webhook.received)


def test_webhook_connection_closed_without_answer_is_retried(webhook: Webhook) -> None:
    """A server that hangs up without answering is retried."""
    webhook.script(Reply(close=True))
    webhook_sink(webhook.url, sleep=no_sleep).send(make_alert())
    assert 2 == len(webhook.received)


def test_webhook_connection_refused_fails_cleanly() -> None:
    """Nothing listening: every attempt fails to connect, then one AlertDeliveryError."""
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(AlertDeliveryError) as caught:
        webhook_sink(url, retries=2, sleep=no_sleep).send(make_alert())
    assert 3 == caught.value.attempts
    assert "refused" in caught.value.reason.lower()


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1:8080/x", "http:///no-host", ""],
)
def test_webhook_accepts_only_http_urls(url: str) -> None:
    """Only http(s) URLs with a host are accepted; the error names the URL."""
    with pytest.raises(ValueError, match="webhook URL") as caught:
        WebhookSink(url)
    assert repr(url) in str(caught.value)


# --- Alerter ----------------------------------------------------------------------------------


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
