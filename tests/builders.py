"""Small builders for hand-written inventories (docs/spec.md §4.1) in example tests."""

from __future__ import annotations

from typing import Any

from arbiter import (
    AlertsConfig,
    LimitsConfig,
    SqliteStore,
    StoreConfig,
    WebhookConfig,
    Workspace,
    WorkspaceConfig,
)
from tests.postgres import store_url

__all__ = ["call", "event", "obj", "sqlite_of", "tenant", "workspace"]


def event(kind: str, at: str) -> dict[str, Any]:
    """A lifecycle event."""
    return {"kind": kind, "at": at}


def tenant(tid: str, *events: dict[str, Any], legal_hold: bool | None = None) -> dict[str, Any]:
    """A tenant with its events; ``legal_hold`` is written only when given."""
    record: dict[str, Any] = {"id": tid, "events": list(events)}
    if legal_hold is not None:
        record["legal_hold"] = legal_hold
    return record


def obj(  # noqa: PLR0913 -- mirrors the fields of an inventory object
    key: str,
    owner: str = "t",
    *,
    store: str = "db",
    created_at: str = "2020-01-01T00:00:00Z",
    category: str | None = None,
    legal_hold: bool | None = None,
    refs: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """An inventory object; optional fields are written only when given."""
    record: dict[str, Any] = {"store": store, "key": key, "tenant": owner, "created_at": created_at}
    if category is not None:
        record["category"] = category
    if legal_hold is not None:
        record["legal_hold"] = legal_hold
    if refs is not None:
        record["refs"] = [list(r) for r in refs]
    return record


def call(
    tenants: list[dict[str, Any]],
    objects: list[dict[str, Any]],
    policy: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inventory and policy of one planning call."""
    return {"tenants": tenants, "objects": objects}, policy


def workspace(  # noqa: PLR0913 -- each knob of a test workspace
    directory: Any,
    inventory: dict[str, Any],
    *,
    policy: dict[str, Any] | None = None,
    limits: Any = None,
    webhook_url: str | None = None,
    planners: Any = None,
    payloads: dict[Any, bytes] | None = None,
    clock: Any = None,
    admin_url: str | None = None,
) -> Any:
    """A fresh workspace in ``directory`` holding ``inventory``; the caller closes it.

    On SQLite, or on the PostgreSQL database ``admin_url`` (a superuser URL) names.
    """
    hooks = (
        (WebhookConfig(webhook_url, timeout_seconds=2.0, retries=1, backoff_seconds=0.0),)
        if webhook_url
        else ()
    )
    config = WorkspaceConfig(
        policy=policy or {"timezone": "UTC"},
        limits=limits or LimitsConfig(batch_size=2),
        alerts=AlertsConfig(webhooks=hooks),
        store=StoreConfig() if admin_url is None else StoreConfig(url=store_url(admin_url)),
    )
    with Workspace.create(directory, config, admin_url=admin_url) as created:
        credentials = created.credentials
    opened = Workspace.open(
        directory,
        planners=planners,
        credentials=credentials,
        **({"clock": clock} if clock else {}),
    )
    opened.import_inventory(inventory, payloads)
    return opened


def sqlite_of(ws: Workspace) -> SqliteStore:
    """The workspace's store as the SQLite store it is: tests that play the service write to it."""
    store = ws.store
    assert isinstance(store, SqliteStore)
    return store
