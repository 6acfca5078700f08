"""Alerts: telling people that a deletion was refused, and the sinks that carry the news.

Rules:

1. An alert is a value. Once created it never changes, and its ``alert_id`` is unique and kept
   across every sink and every retry, so a receiver de-duplicates on it.
2. An alert is well formed by construction: ``kind`` is a lowercase word, ``message`` is one
   non-empty line, ``at`` is a UTC instant written ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ``alert_id``
   is 8 to 128 characters of ``[A-Za-z0-9_-]``, and ``details`` is plain JSON data (string keys,
   finite numbers, lists, tuples, dicts, strings, booleans, None). A sink therefore never meets
   an alert it cannot write. ``tenant`` and ``as_of`` are free text: an alert may be about bad
   input.
3. Alerting never decides safety: the arbiter deletes nothing on a refusal whether or not its
   alert is delivered. ``Alerter.alert`` sends to every sink, in order; a sink that raises never
   stops the others and never makes ``alert`` raise. Every failure is recorded in the outcome,
   in the fallback log when one is given, and in the ``logging`` record (the last resort, also
   used when the fallback log itself cannot be written). Only ``BaseException`` that is not an
   ``Exception`` (``KeyboardInterrupt``, ``SystemExit``) passes through.
4. ``JsonLinesSink`` writes one line per alert, whole, under an exclusive ``fcntl`` lock, and
   flushes and fsyncs it before ``send`` returns. Lines are ASCII JSON, so no line break of any
   kind appears inside a line.
5. ``ReportFileSink`` writes one file per alert. The file appears whole or not at all (temporary
   file, fsync, ``os.replace``, fsync of the directory). Its name is built only from sanitised
   components, so it always lies directly inside the directory, never elsewhere and never
   hidden; sending the same alert again rewrites the same file. In the report, every list
   longer than ``list_limit`` at the top level of ``details`` or one level below is cut to its
   first ``list_limit`` entries, and ``<name>_count`` beside it holds the full length (replacing
   any key of that name); deeper levels are kept as they are.
6. ``WebhookSink`` accepts only http and https URLs, checked at construction. Success is a 2xx
   answer. Connection errors, timeouts, 429 and 5xx are retried up to ``retries`` more times
   with exponential backoff; any other answer fails at once. Redirects are never followed, so a
   POST never silently becomes a GET elsewhere. After the last failure it raises
   ``AlertDeliveryError``. Outcomes and logs name the sink, never its URL: webhook URLs often
   carry secrets.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import logging
import math
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import attrs

from arbiter.core.convert import strict_converter
from arbiter.core.errors import AlertDeliveryError

if TYPE_CHECKING:
    from http.client import HTTPMessage

__all__ = [
    "Alert",
    "AlertOutcome",
    "AlertSink",
    "Alerter",
    "JsonLinesSink",
    "ReportFileSink",
    "WebhookSink",
    "safe_filename_component",
    "truncate_lists",
]

_WEBHOOK_LIST_LIMIT = 100

_LOG = logging.getLogger(__name__)

_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_AT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_KIND_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_ALERT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
_DOT_RUNS = re.compile(r"\.{2,}")
_TENANT_PART_LENGTH = 64
_HTTP_OK = range(200, 300)
_HTTP_TOO_MANY_REQUESTS = 429
_HTTP_SERVER_ERROR = 500


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
            datetime.fromisoformat(value)
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
        clock: Callable[[], datetime] = _utc_now,
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
            at=moment.astimezone(UTC).strftime(_AT_FORMAT),
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


def _json_line(data: object) -> bytes:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("ascii")


def _append_locked(path: Path, payload: bytes) -> None:
    """Append ``payload`` to ``path`` whole, under an exclusive lock, then fsync (rule 4)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class JsonLinesSink:
    """Appends each alert as one JSON line to a file (rule 4)."""

    def __init__(self, path: Path | str, *, name: str = "jsonl") -> None:
        """A sink appending to ``path``, which is created (with its parents) on first use.

        Args:
            path: the JSON-lines file.
            name: the sink's name in outcomes and logs.
        """
        self.name = name
        self.path = Path(path)

    def __repr__(self) -> str:
        """The sink's name and file."""
        return f"JsonLinesSink({str(self.path)!r}, name={self.name!r})"

    def send(self, alert: Alert) -> str:
        """Append the alert as one line.

        Args:
            alert: the alert.

        Returns:
            The file's path.

        Raises:
            OSError: the file cannot be created, locked or written.
        """
        _append_locked(self.path, _json_line(alert.to_json()))
        return str(self.path)


def safe_filename_component(text: str, *, max_length: int = _TENANT_PART_LENGTH) -> str:
    """``text`` made safe as part of a file name (rule 5).

    The result is non-empty, at most ``max_length`` characters of ``[A-Za-z0-9._-]``, holds no
    ``..`` and does not start with a dot.

    Args:
        text: any text, e.g. a tenant id from untrusted input.
        max_length: the longest result.

    Returns:
        The safe component.
    """
    cleaned = _DOT_RUNS.sub("_", _UNSAFE_CHARACTERS.sub("_", text))
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    return cleaned[:max_length] or "_"


def truncate_lists(details: Mapping[str, Any], limit: int) -> dict[str, Any]:
    """``details`` with long lists cut, at the top level and one level below (rule 5).

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


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


class ReportFileSink:
    """Writes each alert as its own JSON report file (rule 5)."""

    def __init__(
        self, directory: Path | str, *, list_limit: int = 100, name: str = "report-file"
    ) -> None:
        """A sink writing into ``directory``, which is created (with its parents) on first use.

        Args:
            directory: where the reports go.
            list_limit: the most entries a list in the details keeps in a report.
            name: the sink's name in outcomes and logs.

        Raises:
            ValueError: ``list_limit`` is negative.
        """
        if list_limit < 0:
            msg = f"list_limit must be at least 0, got {list_limit}"
            raise ValueError(msg)
        self.name = name
        self.directory = Path(directory)
        self.list_limit = list_limit

    def __repr__(self) -> str:
        """The sink's name and directory."""
        return f"ReportFileSink({str(self.directory)!r}, name={self.name!r})"

    def filename(self, alert: Alert) -> str:
        """The report's file name: ``<at compact>-<tenant or "fleet">-<kind>-<id[:8]>.json``.

        Args:
            alert: the alert.

        Returns:
            A plain file name, safe whatever the tenant says.
        """
        compact_at = alert.at.replace("-", "").replace(":", "")
        tenant = "fleet" if alert.tenant is None else alert.tenant
        parts = (compact_at, tenant, alert.kind, alert.alert_id[:8])
        return "-".join(safe_filename_component(part) for part in parts) + ".json"

    def report(self, alert: Alert) -> dict[str, Any]:
        """The report's content: the alert, with long lists in its details cut.

        Args:
            alert: the alert.

        Returns:
            Plain JSON data that ``Alert.from_json`` reads back.
        """
        data = alert.to_json()
        data["details"] = truncate_lists(data["details"], self.list_limit)
        return data

    def send(self, alert: Alert) -> str:
        """Write the alert's report file atomically.

        Args:
            alert: the alert.

        Returns:
            The report file's path.

        Raises:
            OSError: the directory or the file cannot be created or written.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / self.filename(alert)
        text = json.dumps(self.report(alert), sort_keys=True, indent=2, allow_nan=False) + "\n"
        fd, temporary = tempfile.mkstemp(prefix=".report-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        _fsync_directory(self.directory)
        return str(target)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuses every redirect: urllib would turn the POST into a body-less GET (rule 6)."""

    def redirect_request(  # noqa: PLR0913, PLR0917 -- urllib's signature, overridden
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> None:
        """Follow no redirect: the 3xx answer is then raised as an ``HTTPError``."""
        del req, fp, code, msg, headers, newurl


class WebhookSink:
    """POSTs each alert as JSON to an http(s) URL, retrying transient failures (rule 6)."""

    def __init__(  # noqa: PLR0913 -- the retry policy is keyword-only and mirrors the brief
        self,
        url: str,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        headers: Mapping[str, str] | None = None,
        name: str = "webhook",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """A sink posting to ``url``.

        Args:
            url: an http or https URL.
            timeout_seconds: the limit on each socket operation (connect, each read).
            retries: how many more attempts after the first, for transient failures.
            backoff_seconds: the wait before the first retry; it doubles for each later one.
            headers: extra request headers; ``Content-Type`` is always ``application/json``.
            name: the sink's name in outcomes and logs.
            sleep: waits the given seconds between attempts.

        Raises:
            ValueError: ``url`` is not an http(s) URL with a host, or a number is out of range.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = f"webhook URL must be http:// or https:// with a host, got {url!r}"
            raise ValueError(msg)
        if not timeout_seconds > 0:
            msg = f"timeout_seconds must be positive, got {timeout_seconds}"
            raise ValueError(msg)
        if retries < 0:
            msg = f"retries must be at least 0, got {retries}"
            raise ValueError(msg)
        if not backoff_seconds >= 0:
            msg = f"backoff_seconds must be at least 0, got {backoff_seconds}"
            raise ValueError(msg)
        self.name = name
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.headers = dict(headers or {})
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:
        """The sink's name and host, never the full URL (it may hold a secret)."""
        host = urllib.parse.urlsplit(self.url).hostname
        return f"WebhookSink(<{host}>, name={self.name!r})"

    def send(self, alert: Alert) -> None:
        """POST the alert, retrying transient failures.

        Args:
            alert: the alert.

        Raises:
            AlertDeliveryError: no 2xx answer; ``attempts`` says how many requests were made.
        """
        # Long lists are cut as in report files: a million-object divergence must still arrive.
        payload = alert.to_json()
        payload["details"] = truncate_lists(payload["details"], _WEBHOOK_LIST_LIMIT)
        body = json.dumps(payload, sort_keys=True, allow_nan=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            retryable, reason = self._post(body, alert.alert_id)
            if reason is None:
                return
            if not retryable or attempt > self.retries:
                raise AlertDeliveryError(sink=self.name, attempts=attempt, reason=reason)
            self._sleep(self.backoff_seconds * 2 ** (attempt - 1))

    def _post(self, body: bytes, alert_id: str) -> tuple[bool, str | None]:
        """One attempt: ``(retryable, None)`` on success, else ``(retryable, reason)``."""
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "User-Agent": "twinpurge-alerts",
            "X-Twinpurge-Alert-Id": alert_id,
        }
        # The URL's scheme was checked in __init__ and redirects are refused (rule 6).
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 -- scheme checked in __init__
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                status: int = response.status
        except urllib.error.HTTPError as error:
            retryable = error.code == _HTTP_TOO_MANY_REQUESTS or error.code >= _HTTP_SERVER_ERROR
            return retryable, f"HTTP {error.code} {error.reason}"
        except urllib.error.URLError as error:
            return True, f"cannot connect: {error.reason}"
        except TimeoutError:
            return True, f"timed out after {self.timeout_seconds} s"
        except (OSError, http.client.HTTPException) as error:
            return True, f"{type(error).__name__}: {error}".rstrip(": ")
        if status in _HTTP_OK:
            return False, None
        # urllib raises HTTPError for every other status; checked again all the same.
        return False, f"HTTP {status}"


class Alerter:
    """Sends each alert to every sink; failures are recorded, never raised (rule 3)."""

    def __init__(self, sinks: Sequence[AlertSink], *, fallback_log: Path | None = None) -> None:
        """An alerter over ``sinks``, tried in order.

        Args:
            sinks: where alerts go; at least one, with distinct names.
            fallback_log: a JSON-lines file recording each failed delivery, or None.

        Raises:
            ValueError: no sink, or two sinks share a name.
        """
        if not sinks:
            msg = "an Alerter needs at least one sink"
            raise ValueError(msg)
        names = [sink.name for sink in sinks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            msg = f"alert sink names must be distinct; repeated: {', '.join(duplicates)}"
            raise ValueError(msg)
        self.sinks = tuple(sinks)
        self.fallback_log = fallback_log

    def alert(self, alert: Alert) -> AlertOutcome:
        """Send ``alert`` to every sink, whatever each one does.

        Args:
            alert: the alert.

        Returns:
            Which sinks took it, which failed and why, and where it went.
        """
        delivered: list[str] = []
        failed: list[tuple[str, str]] = []
        locations: dict[str, str] = {}
        for sink in self.sinks:
            try:
                location = sink.send(alert)
            except Exception as error:  # noqa: BLE001 -- rule 3: no sink failure escapes
                reason = " ".join(f"{type(error).__name__}: {error}".split())
                failed.append((sink.name, reason))
                self._record_failure(alert, sink.name, reason)
                continue
            delivered.append(sink.name)
            if isinstance(location, str):
                locations[sink.name] = location
        return AlertOutcome(
            alert=alert, delivered=tuple(delivered), failed=tuple(failed), locations=locations
        )

    def _record_failure(self, alert: Alert, sink: str, reason: str) -> None:
        _LOG.error(
            "alert %s (%s) not delivered to %s: %s", alert.alert_id, alert.kind, sink, reason
        )
        if self.fallback_log is None:
            return
        entry = {
            "at": _utc_now().strftime(_AT_FORMAT),
            "sink": sink,
            "reason": reason,
            "alert_id": alert.alert_id,
            "kind": alert.kind,
            "tenant": alert.tenant,
            "as_of": alert.as_of,
            "message": alert.message,
        }
        try:
            _append_locked(self.fallback_log, _json_line(entry))
        except OSError:
            _LOG.exception("alert %s: the fallback log cannot be written either", alert.alert_id)
