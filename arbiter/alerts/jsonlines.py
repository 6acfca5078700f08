"""The JSON-lines alert sink, and the locked append it shares with the alerter's fallback log.

Rules:

1. ``JsonLinesSink`` writes one line per alert, whole, under an exclusive ``fcntl`` lock, and
   flushes and fsyncs it before ``send`` returns. The file is created readable by its owner
   only.
2. Lines are ASCII JSON (non-ASCII characters escaped), keys sorted, no whitespace, so no line
   break of any kind (not even U+2028 or U+0085, which ``str.splitlines`` splits on) appears
   inside a line. This is a line format, not the canonical JSON of ``arbiter.core.canonical``,
   which keeps non-ASCII characters as themselves: nothing hashes these lines.
3. An append is not an atomic replace: the file grows by one whole line, written with a loop
   that retries short writes, and the lock keeps concurrent writers' lines apart.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arbiter.alerts.model import Alert

__all__ = ["JsonLinesSink", "append_json_line"]


def _json_line(data: object) -> bytes:
    """Rule 2: ``data`` as one ASCII JSON line."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("ascii")


def append_json_line(path: Path, data: object) -> None:
    """Append ``data`` to ``path`` as one whole line, under an exclusive lock, then fsync.

    Args:
        path: the JSON-lines file; it and its parents are created if missing (rules 1 and 3).
        data: plain JSON data.

    Raises:
        OSError: the file cannot be created, locked or written.
        ValueError: ``data`` holds NaN or an infinity.
        TypeError: ``data`` is not plain JSON data.
    """
    payload = _json_line(data)
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
    """Appends each alert as one JSON line to a file (rule 1)."""

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
        append_json_line(self.path, alert.to_json())
        return str(self.path)
