"""Alerts as values (arbiter.alerts.model): well formed by construction, round-trip through JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest

from arbiter.alerts.model import Alert
from tests.arbiter.alerts.support import AT, fixed_clock, make_alert


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
