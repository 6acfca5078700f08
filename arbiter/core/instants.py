"""Instants as the arbiter writes and reads them: the one spelling of spec §2.2.

Rules:

1. The arbiter writes every instant in UTC as ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` before the
   ``Z`` only when the microseconds are not zero (spec §2.2's output form): audit records, alerts,
   plans, receipts and archives all spell an instant the same way, so equal instants compare equal
   as text.
2. Records kept in time order as text (the audit log, alerts and their fallback log) use the
   fixed-width form, ``.ffffff`` always present (``fixed_width=True``): there, text order is
   time order and a record's width does not depend on its instant. It is the same instant and
   ``parse_instant`` reads both forms.
3. The current instant comes from ``utc_now`` only, so tests and the demo replace one clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_instant", "parse_instant", "utc_now"]


def utc_now() -> datetime:
    """The current instant, in UTC (rule 3).

    Returns:
        An aware datetime in UTC.
    """
    return datetime.now(UTC)


def format_instant(moment: datetime, *, fixed_width: bool = False) -> str:
    """An aware instant in the output form of spec §2.2 (rule 1), or the fixed-width form (rule 2).

    Args:
        moment: an aware datetime, in any offset.
        fixed_width: always write six fraction digits, ``.000000`` included.

    Returns:
        The UTC text, e.g. ``2026-11-25T00:00:00Z`` or ``2026-11-25T00:00:00.250000Z``; with
        ``fixed_width``, ``2026-11-25T00:00:00.000000Z`` for the first.

    Raises:
        ValueError: ``moment`` is naive (an instant without an offset names no instant).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime is not an instant: {moment.isoformat()}")
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fixed_width or moment.microsecond:
        return f"{text}.{moment.microsecond:06d}Z"
    return f"{text}Z"


def parse_instant(text: str) -> datetime:
    """An instant the arbiter wrote (rule 1), or any ISO 8601 instant with an offset.

    Args:
        text: the instant's text.

    Returns:
        An aware datetime.

    Raises:
        ValueError: not an ISO 8601 date-time, or one without an offset.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an instant needs an offset or Z: {text!r}")
    return moment
