"""The one instant spelling (arbiter.core.instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter.core.instants import format_instant, parse_instant, utc_now

aware = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 -- hypothesis bounds are naive by design
    max_value=datetime(9998, 12, 31),  # noqa: DTZ001 -- as above
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-3))]),
)


@given(aware)
def test_format_then_parse_is_the_same_instant(moment: datetime) -> None:
    """Formatting and parsing back gives the same instant, in UTC, spelt with Z."""
    text = format_instant(moment)
    assert text.endswith("Z")
    assert moment == parse_instant(text)
    assert text == format_instant(parse_instant(text))


def test_microseconds_only_when_not_zero() -> None:
    """Whole seconds have no fraction; others have six digits."""
    base = datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert "2026-11-25T00:00:00Z" == format_instant(base)
    assert "2026-11-25T00:00:00.000250Z" == format_instant(base + timedelta(microseconds=250))


@given(aware, aware)
def test_fixed_width_text_order_is_time_order(first: datetime, second: datetime) -> None:
    """The fixed-width form always has six fraction digits, so comparing texts compares times."""
    texts = (format_instant(first, fixed_width=True), format_instant(second, fixed_width=True))
    assert (first < second) == (texts[0] < texts[1])
    assert (first, second) == (parse_instant(texts[0]), parse_instant(texts[1]))
    assert len(texts[0]) == len(texts[1]) == len("2026-11-25T00:00:00.000000Z")


def test_naive_datetimes_are_not_instants() -> None:
    """A naive datetime is refused both ways."""
    with pytest.raises(ValueError, match="naive"):
        format_instant(datetime(2026, 1, 1))  # noqa: DTZ001 -- the point of the test
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2026-01-01T00:00:00")


def test_utc_now_is_aware_and_utc() -> None:
    """The clock gives UTC instants."""
    assert timedelta(0) == utc_now().utcoffset()
