"""A blob file that cannot be deleted after its row was purged is alerted, never retried blindly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter import ObjectId
from arbiter.stores.blobs import BlobDirectory
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    import pytest

    from tests.webhook_server import Webhook


def _fail(
    self: BlobDirectory, targets: Iterable[ObjectId]
) -> tuple[list[ObjectId], list[tuple[ObjectId, Exception]]]:
    return [], [(t, OSError(f"disk says no to {t.key}")) for t in targets]


def test_an_undeletable_file_is_alerted_as_an_orphan_of_its_tenant(
    tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules 8 and 13: the row stays purged; orphan and omission alerts name tenant and actor."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [obj("t/f1", store="blob")],
    }
    ws = workspace(
        tmp_path / "ws",
        inventory,
        webhook_url=webhook.url,
        payloads={ObjectId("blob", "t/f1"): b"file"},
    )
    try:
        monkeypatch.setattr(BlobDirectory, "delete_many", _fail)
        outcome = ws.purge_tenant("t", "2026-03-01T00:00:00Z", actor="operator-7")
        alerts = [r.json() for r in webhook.received]
        ws.verify_audit()
        audited = [r for r in ws.audit.records() if r.kind == "alert"]
        assert ("executed", ["blob-orphan", "omission"], ["t", "t"]) == (
            outcome.status,
            [a["kind"] for a in alerts],
            [a["tenant"] for a in alerts],
        )
        assert [("operator-7", "t")] * 2 == [(r.actor, r.data["tenant"]) for r in audited]
        assert ("file of blob/t/f1 remains after its row was deleted",) == outcome.omissions
    finally:
        ws.close()
