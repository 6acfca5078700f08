"""The report-file sink (arbiter.alerts.report_files): one whole, safely named file per alert."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from arbiter import DivergenceReport, ObjectId
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.model import Alert
from arbiter.alerts.report_files import ReportFileSink, safe_filename_component
from tests.arbiter.alerts.support import fixed_clock, make_alert


def test_report_file_is_named_and_holds_the_alert(tmp_path: Path) -> None:
    """The report's name is <at>-<tenant>-<kind>-<id[:8]>.json and its content the alert."""
    alert = make_alert(n=1)
    location = ReportFileSink(tmp_path / "reports").send(alert)
    expected_name = f"20260501T123045.123456Z-t1-divergence-{alert.alert_id[:8]}.json"
    assert str(tmp_path / "reports" / expected_name) == location
    assert alert == Alert.from_json(json.loads(Path(location).read_text(encoding="utf-8")))
    assert [expected_name] == [p.name for p in (tmp_path / "reports").iterdir()]


def test_fleet_alert_report_is_named_fleet(tmp_path: Path) -> None:
    """An alert about no tenant is filed under "fleet"."""
    alert = Alert.create("stale", "inventory is old", clock=fixed_clock)
    location = ReportFileSink(tmp_path).send(alert)
    assert f"20260501T123045.123456Z-fleet-stale-{alert.alert_id[:8]}.json" == Path(location).name


@pytest.mark.parametrize(
    ("tenant", "component"),
    [
        ("../../etc", "____etc"),
        ("..", "_"),
        (".hidden", "_hidden"),
        ("a/b\\c", "a_b_c"),
        ("a.b-c_d", "a.b-c_d"),
        ("", "_"),
        ("nul\x00byte", "nul_byte"),
        ("t" * 200, "t" * 64),
    ],
)
def test_tenant_is_sanitised_in_report_file_name(
    tmp_path: Path, tenant: str, component: str
) -> None:
    """A hostile tenant id never moves the report out of its directory nor hides it."""
    alert = attrs.evolve(make_alert(), tenant=tenant)
    location = Path(ReportFileSink(tmp_path / "reports").send(alert))
    assert component == safe_filename_component(tenant)
    assert tmp_path / "reports" == location.parent
    expected = f"20260501T123045.123456Z-{component}-divergence-{alert.alert_id[:8]}.json"
    assert expected == location.name
    assert not location.name.startswith(".")
    assert ".." not in location.name
    assert [location] == list((tmp_path / "reports").iterdir())


def test_report_truncates_long_lists_with_counts(tmp_path: Path) -> None:
    """Lists over 100 entries, at the top level or one below, keep 100 and a <name>_count."""
    alert = make_alert(
        purge_only_in_a=[f"k{i}" for i in range(250)],
        exactly_limit=list(range(100)),
        short=[1, 2],
        report={"kept_only_in_b": list(range(101)), "deeper": {"kept": list(range(300))}},
    )
    location = ReportFileSink(tmp_path).send(alert)
    details = json.loads(Path(location).read_text(encoding="utf-8"))["details"]
    assert [f"k{i}" for i in range(100)] == details["purge_only_in_a"]
    assert 250 == details["purge_only_in_a_count"]
    assert list(range(100)) == details["exactly_limit"]
    assert "exactly_limit_count" not in details
    assert [1, 2] == details["short"]
    assert list(range(100)) == details["report"]["kept_only_in_b"]
    assert 101 == details["report"]["kept_only_in_b_count"]
    assert {"kept": list(range(300))} == details["report"]["deeper"]
    assert 250 == len(alert.details["purge_only_in_a"])


def test_divergence_report_of_many_objects_stays_small(tmp_path: Path) -> None:
    """A divergence of 20,000 objects gives a report of kilobytes that still tells the count."""
    report = DivergenceReport(
        tenant="t1",
        as_of="2026-05-01T00:00:00Z",
        versions={"a": "1", "b": "1"},
        fingerprints={"inventory": "0" * 64},
        purge_only_in_a=tuple(ObjectId("db", f"object-{i:06d}") for i in range(20_000)),
    )
    alert = Alert.create(
        "divergence", report.summary(), tenant="t1", details=report.to_json(), clock=fixed_clock
    )
    path = Path(ReportFileSink(tmp_path).send(alert))
    details = json.loads(path.read_text(encoding="utf-8"))["details"]
    assert 20_000 == details["purge_only_in_a_count"]
    assert {"store": "db", "key": "object-000099"} == details["purge_only_in_a"][-1]
    assert 100 == len(details["purge_only_in_a"])
    assert path.stat().st_size < 20_000


def test_report_sink_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Sending the same alert twice rewrites one file and leaves nothing else behind."""
    sink = ReportFileSink(tmp_path)
    alert = make_alert()
    assert sink.send(alert) == sink.send(alert)
    assert 1 == len(list(tmp_path.iterdir()))


def test_report_and_log_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """Alerts carry tenant details: report files and the JSON-lines log are created mode 600."""
    alert = make_alert()
    report = Path(ReportFileSink(tmp_path / "reports").send(alert))
    log = Path(JsonLinesSink(tmp_path / "alerts.jsonl").send(alert))
    assert (0o600, 0o600) == (report.stat().st_mode & 0o777, log.stat().st_mode & 0o777)
