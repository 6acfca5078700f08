"""The alert sinks a workspace's configuration names, shared by every process that alerts.

The primary purge (``arbiter.workspace.workspace``) and the backup purge
(``arbiter.backup.purge``) run in different processes with different credentials, and alert the
same people the same way: a JSON-lines log, a directory of report files, the configured webhooks,
and a fallback log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.report_files import ReportFileSink
from arbiter.alerts.webhook import WebhookSink

if TYPE_CHECKING:
    from arbiter.alerts.model import AlertSink
    from arbiter.core.config import WorkspaceConfig

__all__ = ["alerter_for"]


def alerter_for(config: WorkspaceConfig) -> Alerter:
    """The alerter over every sink ``config`` names."""
    sinks: list[AlertSink] = [
        JsonLinesSink(config.path(config.alerts.log)),
        ReportFileSink(config.path(config.alerts.reports)),
    ]
    sinks += [
        WebhookSink(
            hook.url,
            timeout_seconds=hook.timeout_seconds,
            retries=hook.retries,
            backoff_seconds=hook.backoff_seconds,
        )
        for hook in config.alerts.webhooks
    ]
    return Alerter(sinks, fallback_log=config.path(config.alerts.failures))
