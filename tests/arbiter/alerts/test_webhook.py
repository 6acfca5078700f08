"""The webhook sink (arbiter.alerts.webhook).

These tests talk to a real HTTP server on 127.0.0.1 (and to nothing else).
"""

from __future__ import annotations

import pytest

from arbiter.alerts.webhook import WebhookSink
from arbiter.core.errors import AlertDeliveryError
from tests.arbiter.alerts.support import free_port, make_alert, no_sleep, webhook_sink
from tests.webhook_server import Reply, Webhook


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
