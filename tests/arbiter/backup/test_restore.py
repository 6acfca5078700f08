"""Backup restore: two operators' approvals, exactly the approved generation, only what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import arbiter
from arbiter import (
    Workspace,
    approve_restore_request,
    create_restore_request,
    open_site,
    restore_backup,
    write_restore_request,
)
from tests.arbiter.backup.backup_support import PRIMARY_DUE, Site, site

if TYPE_CHECKING:
    from pathlib import Path


def objects_of(s: Site, tenant: str = "t") -> list[dict[str, Any]]:
    """The tenant's objects as the primary store holds them (read without credentials)."""
    with Workspace.open(s.directory) as ws:
        return [o for o in ws.export_inventory()["objects"] if o["tenant"] == tenant]


def blob_files(s: Site) -> dict[str, bytes]:
    """Every blob file of the primary store."""
    root = s.directory / "blobs"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def request_file(tmp_path: Path) -> tuple[Site, Path, list[dict[str, Any]], dict[str, bytes]]:
    """Tenant t backed up, then purged; alice requests the restore of its generation."""
    s = site(tmp_path)
    original = (objects_of(s), blob_files(s))
    s.snapshot("2026-01-31T00:00:00Z")
    s.primary_purge(PRIMARY_DUE)
    assert ["t/shared"] == [o["key"] for o in objects_of(s)]
    path = tmp_path / "t.restore.json"
    write_restore_request(path, create_restore_request(s.config, s.backup(), "t", author="alice"))
    return s, path, *original


def approve(s: Site, path: Path, *names: str) -> None:
    """Each named operator signs with their own key (no credentials needed)."""
    for name in names:
        approve_restore_request(s.config, path, operator=name, key_path=s.keys[name], clock=s.clock)


def test_restore_needs_two_operators(
    request_file: tuple[Site, Path, list[dict[str, Any]], dict[str, bytes]],
) -> None:
    """One approval (even twice) restores nothing; two distinct operators restore it all."""
    s, path, objects, files = request_file
    approve(s, path, "alice", "alice")
    with pytest.raises(arbiter.ApprovalError):
        restore_backup(s.config, s.backup(), path, operator="alice", clock=s.clock)
    assert 1 == len(objects_of(s))
    approve(s, path, "bob")
    result = restore_backup(s.config, s.backup(), path, operator="carol", clock=s.clock)
    assert (3, ["alice", "bob"]) == (result.restored, sorted(result.approvers))
    assert (objects, files) == (objects_of(s), blob_files(s))
    with Workspace.open(s.directory) as ws:
        ws.verify_audit()
        assert "backup-restore" == list(ws.audit.records())[-1].kind


def test_restore_happens_once(
    request_file: tuple[Site, Path, list[dict[str, Any]], dict[str, bytes]],
) -> None:
    """A restore request is carried out at most once."""
    s, path, _objects, _files = request_file
    approve(s, path, "alice", "bob")
    restore_backup(s.config, s.backup(), path, operator="alice", clock=s.clock)
    with pytest.raises(arbiter.UsageError):
        restore_backup(s.config, s.backup(), path, operator="alice", clock=s.clock)


def test_changed_generation_is_not_restored(
    request_file: tuple[Site, Path, list[dict[str, Any]], dict[str, bytes]],
) -> None:
    """A generation changed after the request: refused as tampered; nothing is restored."""
    s, path, _objects, _files = request_file
    approve(s, path, "alice", "bob")
    generation = open_site(s.config, s.backup()).generations("t")[0].path
    data = bytearray(generation.read_bytes())
    data[20] ^= 0x01
    generation.write_bytes(bytes(data))
    with pytest.raises(arbiter.BackupTamperedError):
        restore_backup(s.config, s.backup(), path, operator="alice", clock=s.clock)
    assert 1 == len(objects_of(s))


def test_restore_only_inserts_what_is_missing(tmp_path: Path) -> None:
    """Restoring over intact data changes nothing: present rows and files stay as they are."""
    s = site(tmp_path)
    s.snapshot("2026-01-31T00:00:00Z")
    before = (objects_of(s), blob_files(s))
    path = tmp_path / "t.restore.json"
    write_restore_request(path, create_restore_request(s.config, s.backup(), "t", author="bob"))
    approve(s, path, "alice", "bob")
    result = restore_backup(s.config, s.backup(), path, operator="bob", clock=s.clock)
    assert (0, before) == (result.restored, (objects_of(s), blob_files(s)))
