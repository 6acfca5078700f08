"""Alerts as values: what an alert is, what a sink promises, and how long details are cut.

Rules:

1. An alert is a value. Once created it never changes, and its ``alert_id`` is unique and kept
   across every sink and every retry, so a receiver de-duplicates on it.
2. An alert is well formed by construction: ``kind`` is a lowercase word, ``message`` is one
   non-empty line, ``at`` is a UTC instant in the fixed-width form ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
   (``arbiter.core.instants``, rule 2), ``alert_id`` is 8 to 128 characters of
   ``[A-Za-z0-9_-]``, and ``details`` is plain JSON data (string keys, finite numbers, lists,
   tuples, dicts, strings, booleans, None). A sink therefore never meets an alert it cannot
   write. ``tenant`` and ``as_of`` are free text: an alert may be about bad input.
3. A sink that shortens details (report files, webhooks) uses ``truncate_lists``: every list
   longer than the limit at the top level of ``details`` or one level below is cut to its first
   ``limit`` entries, and ``<name>_count`` beside it holds the full length (replacing any key of
   that name); deeper levels are kept as they are.
"""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from arbiter.core.convert import strict_converter
from arbiter.core.instants import format_instant, parse_instant, utc_now

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["Alert", "AlertOutcome", "AlertSink", "truncate_lists"]

_AT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_KIND_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_ALERT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")


def _check_kind(_instance: object, _attribute: object, value: str) -> None:
    if not _KIND_PATTERN.fullmatch(value):
        msg = f"alert kind must be a lowercase word, got {value!r}"
        raise ValueError(msg)


def _check_message(_instance: object, _attribute: object, value: str) -> None:
    if not value.strip() or value.splitlines() != [value]:
        msg = f"alert message must be one non-empty line, got {value!r}"
        raise ValueError(msg)


def _check_at(_instance: object, _attribute: object, value: str) -> None:
    if _AT_PATTERN.fullmatch(value):
        with contextlib.suppress(ValueError):
            parse_instant(value)
            return
    msg = f"alert time must be a UTC instant YYYY-MM-DDTHH:MM:SS.ffffffZ, got {value!r}"
    raise ValueError(msg)


def _check_alert_id(_instance: object, _attribute: object, value: str) -> None:
    if not _ALERT_ID_PATTERN.fullmatch(value):
        msg = f"alert id must be 8 to 128 characters of [A-Za-z0-9_-], got {value!r}"
        raise ValueError(msg)


def _check_json_data(value: object, where: str) -> None:
    """Raise unless ``value`` is plain JSON data (rule 2)."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"alert details: {where} is {value!r}, which JSON cannot carry"
            raise ValueError(msg)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json_data(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"alert details: {where} has the non-string key {key!r}"
                raise TypeError(msg)
            _check_json_data(item, f"{where}.{key}")
        return
    msg = f"alert details: {where} is a {type(value).__name__}, not plain JSON data"
    raise TypeError(msg)


def _check_details(_instance: object, _attribute: object, value: dict[str, Any]) -> None:
    _check_json_data(value, "details")


@attrs.frozen
class Alert:
    """One thing people must hear about: a refusal, a failed guard, an error, stale input.

    Attributes:
        kind: what happened, e.g. ``"divergence"``, ``"guard"``, ``"error"``, ``"stale"``.
        tenant: the tenant concerned, or None for the whole fleet.
        as_of: the instant the plan was computed for, as given, or None.
        message: one line for people.
        details: plain JSON data; for a divergence, ``DivergenceReport.to_json()``.
        at: when the alert was raised, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.
        alert_id: unique per alert; receivers de-duplicate retries on it.
    """

    kind: str = attrs.field(validator=_check_kind)
    tenant: str | None
    as_of: str | None
    message: str = attrs.field(validator=_check_message)
    details: dict[str, Any] = attrs.field(validator=_check_details)
    at: str = attrs.field(validator=_check_at)
    alert_id: str = attrs.field(validator=_check_alert_id)

    @classmethod
    def create(  # noqa: PLR0913 -- everything past the message is keyword-only
        cls,
        kind: str,
        message: str,
        *,
        tenant: str | None = None,
        as_of: str | None = None,
        details: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> Alert:
        """A new alert, stamped now and given a fresh id.

        Args:
            kind: what happened, a lowercase word such as ``"divergence"``.
            message: for people; runs of whitespace, line breaks included, become one space.
            tenant: the tenant concerned, or None for the whole fleet.
            as_of: the instant the plan was computed for, or None.
            details: plain JSON data, copied at the top level; None for none.
            clock: returns the current time, timezone-aware.

        Returns:
            The alert.

        Raises:
            ValueError: ``clock`` returned a naive time, or a field breaks rule 2.
            TypeError: ``details`` is not plain JSON data.
        """
        moment = clock()
        if moment.utcoffset() is None:
            msg = f"the alert clock must return a timezone-aware time, got {moment!r}"
            raise ValueError(msg)
        return cls(
            kind=kind,
            tenant=tenant,
            as_of=as_of,
            message=" ".join(message.split()),
            details=dict(details or {}),
            at=format_instant(moment, fixed_width=True),
            alert_id=uuid.uuid4().hex,
        )

    def to_json(self) -> dict[str, Any]:
        """The alert as plain JSON-ready data.

        Returns:
            A dict with one key per attribute.
        """
        data: dict[str, Any] = _CONVERTER.unstructure(self)
        return data

    @classmethod
    def from_json(cls, data: object) -> Alert:
        """Read an alert back from the data ``to_json`` produced.

        Args:
            data: a decoded JSON object.

        Returns:
            The alert.

        Raises:
            cattrs.BaseValidationError: the data is not an alert (a missing, extra or
                mistyped key, or a value breaking rule 2).
        """
        alert: Alert = _CONVERTER.structure(data, cls)
        return alert


# Strict: no coercion, unknown keys refused (see arbiter.core.convert).
_CONVERTER = strict_converter()


@attrs.frozen
class AlertOutcome:
    """What happened to one alert, sink by sink.

    Attributes:
        alert: the alert.
        delivered: names of the sinks that took it, in the order they were tried.
        failed: ``(sink name, reason)`` for each sink that did not.
        locations: where a sink put it, by sink name, for sinks that say (e.g. a file path).
    """

    alert: Alert
    delivered: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    locations: dict[str, str]

    @property
    def all_delivered(self) -> bool:
        """Whether every sink took the alert."""
        return not self.failed


class AlertSink(Protocol):
    """Somewhere an alert can be sent."""

    @property
    def name(self) -> str:
        """The sink's name in outcomes and logs; unique within an ``Alerter``."""
        ...

    def send(self, alert: Alert) -> str | None:
        """Deliver one alert.

        Args:
            alert: the alert.

        Returns:
            Where the alert went, when that is meaningful (e.g. a file path), else None.

        Raises:
            Exception: any failure; ``Alerter`` records it and carries on.
        """
        ...


def truncate_lists(details: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """``details`` with long lists cut, at the top level and one level below (rule 3).

    Args:
        details: plain JSON data.
        limit: the most entries a list keeps.

    Returns:
        A new dict: each list longer than ``limit`` holds its first ``limit`` entries and
        ``<name>_count`` beside it the full length. ``details`` is not changed.
    """
    return _truncate(details, limit, levels_below=1)


def _truncate(data: Mapping[str, Any], limit: int, *, levels_below: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for key, value in data.items():
        if isinstance(value, list | tuple) and len(value) > limit:
            result[key] = list(value[:limit])
            counts[f"{key}_count"] = len(value)
        elif isinstance(value, Mapping) and levels_below > 0:
            result[key] = _truncate(value, limit, levels_below=levels_below - 1)
        else:
            result[key] = value
    # Counts go in last so that they win over any key of the same name.
    result.update(counts)
    return result
