"""The configuration file twinpurge.toml: the writer (render_config) and the reader (load_config)."""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given, settings

from arbiter.core.config import (
    AlertsConfig,
    BackupConfig,
    LimitsConfig,
    OperatorConfig,
    StoreConfig,
    WebhookConfig,
    WorkspaceConfig,
    load_config,
    render_config,
)
from arbiter.core.errors import InputError
from tests.strategies import config_field_paths, config_paths, workspace_configs

if TYPE_CHECKING:
    from pathlib import Path

POLICY: dict[str, Any] = {"timezone": "Asia/Tokyo"}


def _round_trip(config: WorkspaceConfig, directory: Path) -> WorkspaceConfig:
    path = directory / "twinpurge.toml"
    path.write_text(render_config(config), encoding="utf-8")
    return load_config(path)


@given(workspace_configs())
def test_written_config_reads_back_equal(config: WorkspaceConfig) -> None:
    """Any valid configuration, written as TOML and read back, is the same configuration."""
    text = render_config(config)
    loaded = load_config_text(text)
    assert config == loaded


def load_config_text(text: str) -> WorkspaceConfig:
    """``load_config`` of a file holding ``text`` (hypothesis cannot share a tmp_path fixture)."""
    import tempfile  # noqa: PLC0415 -- only this helper writes scratch files
    from pathlib import Path  # noqa: PLC0415 -- the TYPE_CHECKING import above is not at runtime

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "twinpurge.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path)


def test_config_strategy_reaches_every_field() -> None:
    """The round-trip strategy sets every field of every config class: a new field fails here."""
    reached: set[str] = set()

    @settings(max_examples=200, derandomize=True, database=None)
    @given(workspace_configs())
    def collect(config: WorkspaceConfig) -> None:
        reached.update(config_paths(config))

    collect()
    assert config_field_paths(WorkspaceConfig) == reached


def test_field_paths_name_nested_classes() -> None:
    """The field list walks into nested classes, mappings and sequences of them."""
    paths = config_field_paths(WorkspaceConfig)
    expected = {
        "alerts.webhooks.*.url",
        "operators.*.public_key",
        "limits.batch_size",
        "backup.retention_lock_days",
        "policy.categories.*.retain_days",
    }
    assert expected == expected & paths
    assert "directory" not in paths


def test_paths_are_written_as_given_and_resolve_against_the_file(tmp_path: Path) -> None:
    """Relative paths stay relative in the file; loading resolves them against its directory."""
    config = WorkspaceConfig(policy=POLICY, audit=attrs.evolve(WorkspaceConfig(POLICY).audit))
    config = attrs.evolve(config, store=StoreConfig(database="data/primary.sqlite3"))
    text = render_config(config)
    assert "data/primary.sqlite3" == tomllib.loads(text)["store"]["database"]
    assert "directory" not in tomllib.loads(text)
    loaded = _round_trip(config, tmp_path)
    assert tmp_path.resolve() == loaded.directory
    assert (tmp_path / "data" / "primary.sqlite3").resolve() == loaded.path(loaded.store.database)


def test_unicode_survives_in_keys_and_values(tmp_path: Path) -> None:
    """Non-ASCII, quotes, backslashes and control characters in names and paths round-trip."""
    config = WorkspaceConfig(
        policy={"timezone": "UTC", "categories": {"journaux d'activité": {"keep": True}}},
        store=StoreConfig(blobs='blö"bs\\\t\x7f', blob_stores=("blob", "Ω")),
        operators={'Zoë "the" operator': OperatorConfig(public_key="a2V5")},
    )
    assert config == _round_trip(config, tmp_path)


def test_absent_optional_settings_stay_absent(tmp_path: Path) -> None:
    """Optional policy keys left out stay out; no webhooks and no operators read back as none."""
    config = WorkspaceConfig(policy=POLICY)
    data = tomllib.loads(render_config(config))
    assert POLICY == data["policy"]
    loaded = _round_trip(config, tmp_path)
    assert ((), {}) == (loaded.alerts.webhooks, loaded.operators)
    assert config == loaded


def test_a_null_in_the_policy_is_refused_not_dropped() -> None:
    """TOML has no null: None in the policy is an error, never silently left out of the file."""
    config = WorkspaceConfig(policy={"timezone": "UTC", "grace_days": None})
    with pytest.raises(TypeError):
        render_config(config)


def test_webhooks_are_an_array_of_tables(tmp_path: Path) -> None:
    """Each webhook is one table of the alerts.webhooks array, in order."""
    hooks = (WebhookConfig(url="https://a.example/x"), WebhookConfig(url="http://b", retries=0))
    config = WorkspaceConfig(policy=POLICY, alerts=AlertsConfig(webhooks=hooks))
    text = render_config(config)
    urls = [hook["url"] for hook in tomllib.loads(text)["alerts"]["webhooks"]]
    assert ["https://a.example/x", "http://b"] == urls
    assert config == _round_trip(config, tmp_path)


def test_written_numbers_keep_their_types(tmp_path: Path) -> None:
    """Floats stay floats and integers stay integers, so the strict reader accepts them."""
    config = WorkspaceConfig(
        policy=POLICY,
        limits=LimitsConfig(max_store_fraction=1.0, batch_size=7),
        backup=BackupConfig(retention_lock_days=13),
    )
    data = tomllib.loads(render_config(config))
    assert (float, int) == (
        type(data["limits"]["max_store_fraction"]),
        type(data["limits"]["batch_size"]),
    )
    assert config == _round_trip(config, tmp_path)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("limits", "max_store_fraction"),
        ("manual", "approval_expiry_hours"),
        ("alerts.webhooks", "timeout_seconds"),
    ],
)
def test_not_a_number_is_not_a_positive_limit(tmp_path: Path, table: str, field: str) -> None:
    """A limit of nan is refused: every comparison with nan is false, so it would disable a guard."""
    header = (
        f"[[{table}]]\nurl = 'https://a.example'" if table == "alerts.webhooks" else f"[{table}]"
    )
    (tmp_path / "twinpurge.toml").write_text(
        f"[policy]\ntimezone = 'UTC'\n\n{header}\n{field} = nan\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="positive"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://someone:secret@db.internal/tenants", "url names a user or a password"),
        ("postgresql://someone@db.internal/tenants", "url names a user or a password"),
        ("mysql://db.internal/tenants", "is not a PostgreSQL URL"),
    ],
)
def test_a_store_url_with_a_login_or_another_scheme_is_refused(
    tmp_path: Path, url: str, says: str
) -> None:
    """store.url names the server and the database only: the error names the file and field."""
    (tmp_path / "twinpurge.toml").write_text(
        f"[policy]\ntimezone = 'UTC'\n\n[store]\nurl = '{url}'\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=says) as refused:
        load_config(tmp_path)
    # attrs validators run in the class's __init__: the error names the table, its text the key.
    assert ("store", str(tmp_path / "twinpurge.toml")) == (refused.value.field, refused.value.file)
    assert refused.value.message.startswith("url ")
