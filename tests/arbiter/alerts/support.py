"""Helpers shared by the alert tests."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

from arbiter.alerts.model import Alert
from arbiter.alerts.webhook import WebhookSink

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
