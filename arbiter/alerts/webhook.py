"""The webhook alert sink: each alert POSTed as JSON to an http(s) URL.

Rules:

1. ``WebhookSink`` accepts only http and https URLs, checked at construction.
2. Success is a 2xx answer. Connection errors, timeouts, 429 and 5xx are retried up to
   ``retries`` more times with exponential backoff; any other answer fails at once. After the
   last failure it raises ``AlertDeliveryError``.
3. Redirects are never followed, so a POST never silently becomes a GET elsewhere.
4. Outcomes and logs name the sink, never its URL: webhook URLs often carry secrets.
5. Long lists in the details are cut (``arbiter.alerts.model.truncate_lists``, 100 entries), so
   a divergence of a million objects still arrives. Every attempt carries the alert's id in
   ``X-Twinpurge-Alert-Id``, so the receiver de-duplicates retries.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, TYPE_CHECKING

from arbiter.alerts.model import truncate_lists
from arbiter.core.errors import AlertDeliveryError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from http.client import HTTPMessage

    from arbiter.alerts.model import Alert

__all__ = ["WebhookSink"]

_WEBHOOK_LIST_LIMIT = 100
_HTTP_OK = range(200, 300)
_HTTP_TOO_MANY_REQUESTS = 429
_HTTP_SERVER_ERROR = 500


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuses every redirect: urllib would turn the POST into a body-less GET (rule 3)."""

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
    """POSTs each alert as JSON to an http(s) URL, retrying transient failures (rules 1 to 5)."""

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
        # Rule 5: long lists are cut as in report files.
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
        # The URL's scheme was checked in __init__ (rule 1) and redirects are refused (rule 3).
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
