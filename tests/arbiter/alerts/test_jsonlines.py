"""The JSON-lines sink (arbiter.alerts.jsonlines): one whole line per alert, even under concurrency."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.model import Alert
from tests.arbiter.alerts.support import make_alert

if TYPE_CHECKING:
    from pathlib import Path


def test_json_lines_sink_appends_one_line_per_alert(tmp_path: Path) -> None:
    """Each alert is one JSON line, appended, and reads back as the same alert."""
    path = tmp_path / "logs" / "alerts.jsonl"
    sink = JsonLinesSink(path)
    alerts = [make_alert(i=i, text="line\nbreak \u2028") for i in range(3)]
    locations = [sink.send(alert) for alert in alerts]
    lines = path.read_text(encoding="ascii").split("\n")
    assert [str(path)] * 3 == locations
    assert "" == lines.pop()
    assert alerts == [Alert.from_json(json.loads(line)) for line in lines]


def test_json_lines_sink_concurrent_appends_give_whole_lines(tmp_path: Path) -> None:
    """Threads appending at once never interleave: every line is one whole alert."""
    path = tmp_path / "alerts.jsonl"
    sink = JsonLinesSink(path)
    alerts = [make_alert(thread=t, pad="x" * 20_000) for t in range(8) for _ in range(25)]
    chunks = [alerts[i::8] for i in range(8)]
    threads = [
        threading.Thread(target=lambda c=chunk: [sink.send(a) for a in c]) for chunk in chunks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text(encoding="ascii").splitlines()
    assert sorted(a.alert_id for a in alerts) == sorted(json.loads(x)["alert_id"] for x in lines)
