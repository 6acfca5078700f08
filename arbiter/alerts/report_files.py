"""The report-file alert sink: one JSON file per alert, for people to open.

Rules:

1. ``ReportFileSink`` writes one file per alert. The file appears whole or not at all, readable
   by its owner only (``arbiter.durable.files.atomic_write``: temporary file, fsync, rename,
   fsync of the directory).
2. Its name is built only from sanitised components (``safe_filename_component``), so it always
   lies directly inside the directory, never elsewhere and never hidden; sending the same alert
   again rewrites the same file.
3. In the report, long lists in the details are cut as ``arbiter.alerts.model.truncate_lists``
   says (to ``list_limit`` entries, with ``<name>_count`` beside them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arbiter.alerts.model import truncate_lists
from arbiter.durable.files import atomic_write

if TYPE_CHECKING:
    from arbiter.alerts.model import Alert

__all__ = ["ReportFileSink", "safe_filename_component"]

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
_DOT_RUNS = re.compile(r"\.{2,}")
_TENANT_PART_LENGTH = 64
# Reports carry tenant details: as private as the alert log (mode 600), as they always were.
_REPORT_MODE = 0o600


def safe_filename_component(text: str, *, max_length: int = _TENANT_PART_LENGTH) -> str:
    """``text`` made safe as part of a file name (rule 2).

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


class ReportFileSink:
    """Writes each alert as its own JSON report file (rules 1 to 3)."""

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
        target = self.directory / self.filename(alert)
        text = json.dumps(self.report(alert), sort_keys=True, indent=2, allow_nan=False) + "\n"
        atomic_write(target, text, mode=_REPORT_MODE)
        return str(target)
