"""Workspace rule 6: planning needs no credentials; the store's credential record is set once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from arbiter import UsageError, Workspace
from arbiter.stores.sqlite import CREDENTIALS_META
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from pathlib import Path

AS_OF = "2026-03-01T00:00:00Z"
INVENTORY = {
    "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
    "objects": [obj("r1")],
}


def test_a_dry_run_without_credentials_plans_and_deletes_nothing(tmp_path: Path) -> None:
    """Opened without credentials, a dry run still agrees and counts; every row stays."""
    workspace(tmp_path / "ws", INVENTORY).close()
    with Workspace.open(tmp_path / "ws") as ws:
        before = ws.export_inventory()
        outcome = ws.purge_tenant("t", AS_OF, dry_run=True)
        assert ("dry-run", 1, before) == (outcome.status, outcome.purged, ws.export_inventory())


def test_the_credentials_record_cannot_be_replaced(tmp_path: Path) -> None:
    """Neither set_meta nor a second record_primary_credentials replaces the recorded hash."""
    ws = workspace(tmp_path / "ws", INVENTORY)
    try:
        recorded = ws.store.get_meta(CREDENTIALS_META)
        with pytest.raises(UsageError):
            ws.store.set_meta(CREDENTIALS_META, "0" * 64)
        with pytest.raises(UsageError):
            ws.store.record_primary_credentials(ws.require_credentials("a test"))
        assert recorded == ws.store.get_meta(CREDENTIALS_META)
    finally:
        ws.close()
