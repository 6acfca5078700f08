"""The demo workspace: a small fleet whose dates are laid out relative to "now".

Tenants (policy time zone Asia/Tokyo, grace 30 days, backup lag 14 days):

- ``acme``: active; one of its records refs a template of ``globex``.
- ``globex``: cancelled 55 days ago: due. Orders and invoices go; an audit record
  (``keep``), a recent log (``retain_days = 90``), a held contract and the template that
  ``acme`` uses (with the logo the template uses) stay.
- ``initech``: cancelled 5 days ago: not due yet.
- ``umbrella``: cancelled long ago but under legal hold.
- ``hooli``: cancelled 3 days ago, then asked for erasure: due at once.
- ``wayne``: cancelled 40 days ago with 8 objects: due, but over the automated blast-radius
  limit (6), so the automated run refuses it and alerts; docs/operations.md purges it by hand,
  with two operators' approvals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arbiter._config import AlertsConfig, LimitsConfig, ManualConfig, WorkspaceConfig
from arbiter._execute import format_instant
from arbiter._verdict import ObjectId

__all__ = ["demo_config", "demo_inventory"]


def demo_config() -> WorkspaceConfig:
    """The demo workspace's configuration."""
    return WorkspaceConfig(
        policy={
            "timezone": "Asia/Tokyo",
            "grace_days": 30,
            "backup_lag_days": 14,
            "categories": {"audit": {"keep": True}, "logs": {"retain_days": 90}},
        },
        # A tight automated limit, so that wayne's purge is refused and left to a manual purge.
        limits=LimitsConfig(max_objects_per_purge=6, max_store_fraction=0.5, batch_size=2),
        manual=ManualConfig(max_objects_per_purge=1000, rehearsal_required_above=5),
        alerts=AlertsConfig(),
    )


def demo_inventory(now: datetime) -> tuple[dict[str, Any], dict[ObjectId, bytes]]:
    """The demo inventory and payloads, dated relative to ``now``.

    Args:
        now: the instant the demo runs at.

    Returns:
        The portable inventory and the payload of every object.
    """

    def ago(days: float) -> str:
        return format_instant((now - timedelta(days=days)).replace(microsecond=0))

    def event(kind: str, days: float) -> dict[str, str]:
        return {"kind": kind, "at": ago(days)}

    tenants = [
        {"id": "acme", "events": [event("subscribed", 900)]},
        {"id": "globex", "events": [event("subscribed", 1200), event("cancelled", 55)]},
        {"id": "initech", "events": [event("subscribed", 400), event("cancelled", 5)]},
        {
            "id": "umbrella",
            "legal_hold": True,
            "events": [event("subscribed", 1500), event("cancelled", 200)],
        },
        {
            "id": "hooli",
            "events": [
                event("subscribed", 300),
                event("cancelled", 3),
                event("erasure_requested", 1),
            ],
        },
        {"id": "wayne", "events": [event("subscribed", 600), event("cancelled", 40)]},
    ]

    def obj(store: str, key: str, tenant: str, days: float, **extra: Any) -> dict[str, Any]:  # noqa: ANN401 -- optional inventory fields
        return {"store": store, "key": key, "tenant": tenant, "created_at": ago(days), **extra}

    objects = [
        obj(
            "db", "acme/customers/1", "acme", 800, refs=[["blob", "globex/templates/invoice.html"]]
        ),
        obj("db", "acme/orders/1", "acme", 30),
        obj("db", "globex/orders/1", "globex", 400, refs=[["blob", "globex/invoices/1.pdf"]]),
        obj("db", "globex/orders/2", "globex", 300),
        obj("db", "globex/orders/3", "globex", 200),
        obj("blob", "globex/invoices/1.pdf", "globex", 400),
        obj(
            "blob",
            "globex/templates/invoice.html",
            "globex",
            1000,
            refs=[["blob", "globex/templates/logo.png"]],
        ),
        obj("blob", "globex/templates/logo.png", "globex", 1000),
        obj("db", "globex/audit/last-quarter", "globex", 70, category="audit"),
        obj("db", "globex/logs/recent", "globex", 60, category="logs"),
        obj("db", "globex/logs/old", "globex", 200, category="logs"),
        obj("db", "globex/contracts/7", "globex", 700, legal_hold=True),
        obj("db", "initech/orders/1", "initech", 100),
        obj("db", "umbrella/orders/1", "umbrella", 1000),
        obj("db", "hooli/orders/1", "hooli", 100),
        obj("blob", "hooli/exports/1.csv", "hooli", 50),
        *(obj("db", f"wayne/orders/{i}", "wayne", 100 + i) for i in range(6)),
        obj("blob", "wayne/exports/1.csv", "wayne", 45),
        obj("blob", "wayne/exports/2.csv", "wayne", 44),
    ]
    payloads = {
        ObjectId(o["store"], o["key"]): f"payload of {o['store']}/{o['key']}\n".encode()
        for o in objects
    }
    return {"tenants": tenants, "objects": objects}, payloads
