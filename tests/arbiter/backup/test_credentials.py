"""Credential domains: own sources, owner-only files, no secret shown, never both in one process.

Every cross-domain attempt fails here with a ``CredentialError`` whose message names both
domains, before any backup is read and before anything is deleted.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

import pytest

import arbiter
from arbiter import (
    BackupCredentials,
    BackupSite,
    CredentialDomainError,
    CredentialError,
    PrimaryCredentials,
    Workspace,
    generate_backup_credentials,
    generate_primary_credentials,
    list_backups,
    load_backup_credentials,
    load_primary_credentials,
    purge_backups,
    snapshot,
)
from arbiter.auth.credentials import BACKUP_ENV, PRIMARY_ENV, held_domains
from tests.arbiter.backup.backup_support import BACKUP_DUE, PRIMARY_DUE, Site, new_process, site

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.fixture
def s(tmp_path: Path) -> Site:
    """A workspace with a backup site holding one snapshot."""
    made = site(tmp_path)
    made.snapshot("2026-01-31T00:00:00Z")
    return made


def rows(s: Site) -> int:
    """How many objects the primary store holds (read without credentials)."""
    with Workspace.open(s.directory) as ws:
        return ws.store.total_objects()


# -- sources and files ---------------------------------------------------------------------------


def test_repr_never_shows_a_secret(s: Site) -> None:
    """Neither repr nor str of either credential type shows the secret, only its source."""
    primary = s.primary()
    text = repr(primary) + str(primary)
    assert base64.b64encode(primary.secret).decode() not in text
    assert primary.secret.hex() not in text
    backup = s.backup()
    assert backup.key.hex() not in repr(backup) + str(backup)
    assert f"BackupCredentials(source={str(s.backup_file)!r})" == repr(backup)


@pytest.mark.parametrize(
    ("load", "variable"),
    [(load_primary_credentials, PRIMARY_ENV), (load_backup_credentials, BACKUP_ENV)],
    ids=["primary", "backup"],
)
def test_missing_credentials_name_the_variable(load: Callable[..., object], variable: str) -> None:
    """No environment variable: a clear error naming the variable to set."""
    with pytest.raises(CredentialError) as info:
        load(environ={})
    assert variable in info.value.message


def test_credentials_come_from_the_environment_variable(s: Site) -> None:
    """Each domain's variable names its own file."""
    new_process()
    loaded = load_backup_credentials(environ={BACKUP_ENV: str(s.backup_file)})
    assert (str(s.backup_file), frozenset({"backup"})) == (loaded.source, held_domains())


@pytest.mark.parametrize("domain", ["primary", "backup"])
def test_file_readable_by_others_is_refused(s: Site, domain: str) -> None:
    """A credentials file with group or other permissions is refused before it is read."""
    path = s.primary_file if domain == "primary" else s.backup_file
    path.chmod(0o640)
    new_process()
    load = load_primary_credentials if domain == "primary" else load_backup_credentials
    with pytest.raises(CredentialError) as info:
        load(path)
    assert "accessible by others (mode 640)" in info.value.message


def test_generated_files_are_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    """A new credentials file is mode 600 in a mode 700 directory; an existing one is kept."""
    path = tmp_path / "secrets" / "backup.toml"
    generate_backup_credentials(path)
    assert (0o600, 0o700) == (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777)
    before = path.read_bytes()
    with pytest.raises(CredentialError):
        generate_backup_credentials(path)
    assert before == path.read_bytes()


def test_the_workspace_config_holds_no_credentials(s: Site) -> None:
    """twinpurge.toml names the backup site, never a key; no secret is in any workspace file."""
    secrets = [
        line.split('"')[1]
        for path in (s.primary_file, s.backup_file)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("secret")
    ]
    texts = [
        p.read_bytes()
        for p in s.directory.rglob("*")
        if p.is_file() and p.suffix in {".toml", ".jsonl", ".json"}
    ]
    assert 2 == len(secrets)
    assert not any(secret.encode() in text for secret in secrets for text in texts)


# -- cross-domain attempts -----------------------------------------------------------------------


def test_primary_credentials_file_given_as_backup_is_refused(s: Site) -> None:
    """TWINPURGE_BACKUP_CREDENTIALS naming the primary file: refused, naming both domains."""
    new_process()
    with pytest.raises(CredentialError) as info:
        load_backup_credentials(environ={BACKUP_ENV: str(s.primary_file)})
    assert "holds primary credentials, not backup credentials" in info.value.message
    assert frozenset() == held_domains()


def test_backup_credentials_file_given_as_primary_is_refused(s: Site) -> None:
    """TWINPURGE_PRIMARY_CREDENTIALS naming the backup file: refused, naming both domains."""
    new_process()
    with pytest.raises(CredentialError) as info:
        load_primary_credentials(environ={PRIMARY_ENV: str(s.backup_file)})
    assert "holds backup credentials, not primary credentials" in info.value.message


def test_primary_credentials_on_the_backup_store_fail(s: Site) -> None:
    """Primary credentials handed to the backup site or its flows: refused, nothing read."""
    before = s.files()
    primary = s.primary()
    site_dir = s.config.path(s.config.backup.site)
    attempts: list[Callable[[], object]] = [
        lambda: BackupSite.open(site_dir, primary),  # type: ignore[arg-type]
        lambda: snapshot(s.config, primary),  # type: ignore[arg-type]
        lambda: list_backups(s.config, primary),  # type: ignore[arg-type]
        lambda: purge_backups(s.config, primary, BACKUP_DUE),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(CredentialError) as info:
            attempt()
        assert "needs backup credentials, and was given primary credentials" in str(info.value)
    assert before == s.files()


def test_backup_credentials_on_a_primary_purge_fail(s: Site) -> None:
    """Backup credentials handed to the primary purge: refused before anything is opened."""
    backup = s.backup()
    with pytest.raises(CredentialError) as info:
        Workspace.open(s.directory, credentials=backup)  # type: ignore[arg-type]
    assert "needs primary credentials, and was given backup credentials" in str(info.value)
    assert 6 == rows(s)


def test_a_backup_key_dressed_as_primary_deletes_nothing(s: Site, tmp_path: Path) -> None:
    """The backup key in a file that claims the primary domain does not match the store."""
    key = s.backup().key
    forged = tmp_path / "forged.toml"
    fd = os.open(forged, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f'domain = "primary"\nsecret = "{base64.b64encode(key).decode()}"\n')
    new_process()
    with pytest.raises(CredentialError) as info:
        Workspace.open(s.directory, credentials=load_primary_credentials(forged))
    assert "are not the primary credentials of" in info.value.message
    assert 6 == rows(s)


@pytest.mark.parametrize(
    "order",
    ["primary-then-backup", "backup-then-primary"],
)
def test_one_process_never_holds_both_domains(s: Site, order: str) -> None:
    """Loading the second domain raises an error naming both; the first stays the only one."""
    first, second = order.split("-then-")
    load: dict[str, Callable[[], object]] = {
        "primary": lambda: load_primary_credentials(s.primary_file),
        "backup": lambda: load_backup_credentials(s.backup_file),
    }
    new_process()
    load[first]()
    with pytest.raises(CredentialDomainError) as info:
        load[second]()
    assert (first, second) == (info.value.held, info.value.requested)
    assert f"already holds {first} credentials; refusing to load {second} credentials" in str(
        info.value
    )
    assert frozenset({first}) == held_domains()


def test_the_second_domain_is_refused_before_its_file_is_read(s: Site) -> None:
    """Holding primary credentials, even a missing backup file is refused for the domain first."""
    new_process()
    s.primary()
    with pytest.raises(CredentialDomainError):
        load_backup_credentials(s.directory / "no-such-file.toml")


@pytest.mark.parametrize(
    "make",
    [
        generate_backup_credentials,
        lambda path: BackupCredentials(os.urandom(32), str(path)),
    ],
    ids=["generated", "built"],
)
def test_backup_credentials_cannot_be_made_in_a_primary_process(
    s: Site, tmp_path: Path, make: Callable[[Path], object]
) -> None:
    """Generating or building backup credentials in a primary process fails the same way."""
    s.primary()
    with pytest.raises(CredentialDomainError):
        make(tmp_path / "new-backup.toml")
    assert not (tmp_path / "new-backup.toml").exists()


def test_a_workspace_cannot_be_created_in_a_backup_process(s: Site, tmp_path: Path) -> None:
    """Workspace.create generates primary credentials: refused in a backup process, nothing made."""
    s.backup()
    with pytest.raises(CredentialDomainError):
        Workspace.create(tmp_path / "other", arbiter.WorkspaceConfig(policy={"timezone": "UTC"}))
    with pytest.raises(CredentialDomainError):
        generate_primary_credentials(tmp_path / "primary.toml")
    assert not (tmp_path / "other").exists()
    assert not (tmp_path / "primary.toml").exists()


# -- wrong or missing credentials: a clear error, no backup read, nothing deleted --------------------


def test_wrong_backup_key_reads_no_backup(
    s: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another key fails the site's key check before any generation is read; nothing changes."""
    new_process()
    other = generate_backup_credentials(tmp_path / "other.toml")

    def no_read(*_args: object, **_kwargs: object) -> object:
        pytest.fail("a backup was read with the wrong key")

    monkeypatch.setattr(BackupSite, "read", no_read)
    before = s.files()
    attempts: list[Callable[[], object]] = [
        lambda: snapshot(s.config, other),
        lambda: list_backups(s.config, other),
        lambda: purge_backups(s.config, other, BACKUP_DUE),
    ]
    for attempt in attempts:
        with pytest.raises(CredentialError) as info:
            attempt()
        assert "does not open the backup site" in info.value.message
    assert before == s.files()


def test_missing_primary_credentials_delete_nothing(s: Site) -> None:
    """Without primary credentials every deleting operation refuses; planning still works."""
    with Workspace.open(s.directory, clock=s.clock) as ws:
        assert "dry-run" == ws.purge_tenant("t", PRIMARY_DUE, dry_run=True).status
        attempts: list[Callable[[], object]] = [
            lambda: ws.purge_tenant("t", PRIMARY_DUE),
            lambda: ws.run_due(PRIMARY_DUE),
            ws.expire_archives,
            lambda: ws.import_inventory({"tenants": [], "objects": []}),
        ]
        for attempt in attempts:
            with pytest.raises(CredentialError) as info:
                attempt()
            assert "needs primary credentials" in info.value.message
    assert 6 == rows(s)


def test_another_workspaces_primary_credentials_are_refused(s: Site, tmp_path: Path) -> None:
    """Primary credentials of another workspace do not open this one for deletion."""
    new_process()
    other = generate_primary_credentials(tmp_path / "other-primary.toml")
    assert isinstance(other, PrimaryCredentials)
    with pytest.raises(CredentialError) as info:
        Workspace.open(s.directory, credentials=other)
    assert "are not the primary credentials of" in info.value.message
    assert 6 == rows(s)
