"""The alerter: every alert to every sink, and a failing sink never stops the others.

Rules:

1. Alerting never decides safety: the arbiter deletes nothing on a refusal whether or not its
   alert is delivered.
2. ``Alerter.alert`` sends to every sink, in order; a sink that raises never stops the others
   and never makes ``alert`` raise. Only ``BaseException`` that is not an ``Exception``
   (``KeyboardInterrupt``, ``SystemExit``) passes through.
3. Every failure is recorded in the outcome, in the fallback log when one is given (a JSON-lines
   file, appended as ``arbiter.alerts.jsonlines`` appends), and in the ``logging`` record (the
   last resort, also used when the fallback log itself cannot be written).
4. Sink names are distinct within an alerter: outcomes and the fallback log name sinks, never
   their URLs or paths.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from arbiter.alerts.jsonlines import append_json_line
from arbiter.alerts.model import Alert, AlertOutcome, AlertSink
from arbiter.core.instants import format_instant, utc_now

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["Alerter"]

_LOG = logging.getLogger(__name__)


class Alerter:
    """Sends each alert to every sink; failures are recorded, never raised (rules 2 and 3)."""

    def __init__(self, sinks: Sequence[AlertSink], *, fallback_log: Path | None = None) -> None:
        """An alerter over ``sinks``, tried in order.

        Args:
            sinks: where alerts go; at least one, with distinct names.
            fallback_log: a JSON-lines file recording each failed delivery, or None.

        Raises:
            ValueError: no sink, or two sinks share a name (rule 4).
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
            except Exception as error:  # noqa: BLE001 -- rule 2: no sink failure escapes
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
            "at": format_instant(utc_now(), fixed_width=True),
            "sink": sink,
            "reason": reason,
            "alert_id": alert.alert_id,
            "kind": alert.kind,
            "tenant": alert.tenant,
            "as_of": alert.as_of,
            "message": alert.message,
        }
        try:
            append_json_line(self.fallback_log, entry)
        except OSError:
            _LOG.exception("alert %s: the fallback log cannot be written either", alert.alert_id)
