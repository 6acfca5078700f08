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

History and backups. The demo replays the past weeks before today's run, with the clock set to
the instants it replays (the only place a clock is injected; every guard applies as usual, and
no step acts "as of" a time later than its clock). The builder below names the tenants; the
replay and the report read them back from the workspace (``choose_replay``, the store's
receipts, the run's outcomes), so they hold for any fleet the builder makes:

1. the replayed tenant is the one both planners agree is due with its ``backup_due`` already
   past (with this fleet: globex); the day before its ``primary_due``: the nightly backup
   snapshot (backup domain);
2. at its ``primary_due`` (about 24 days ago): the retention service's run, which purges it and
   records the primary purge receipt (primary domain);
3. today, the backup purge run as of one second before the receipt's ``backup_due`` keeps its
   backups, and as of ``backup_due`` itself (14 days after the primary purge, in the past)
   deletes them; both are real past instants, so no clock is injected; then today's snapshot
   (backup domain);
4. today's due purges (primary domain); a tenant the blast-radius guard refuses is reported as
   left to the manual procedure, any other refusal fails the demo (exit 3).

The backup steps run in child processes (``python -m arbiter.cli.demo_step``) whose environment
holds only the backup credentials; the demo's own process holds only the primary ones.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from arbiter.cli.exits import ExitCode, exit_code_for
from arbiter.core.arbitrate import arbitrate
from arbiter.core.config import (
    AlertsConfig,
    BackupConfig,
    LimitsConfig,
    ManualConfig,
    WorkspaceConfig,
    load_config,
)
from arbiter.core.errors import TwinpurgeError
from arbiter.core.instants import format_instant
from arbiter.core.verdict import ObjectId

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BACKUP_CREDENTIALS",
    "Replay",
    "backup_step",
    "choose_replay",
    "demo_config",
    "demo_inventory",
]

BACKUP_CREDENTIALS = Path("credentials") / "backup.toml"


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
        # Generations cannot be deleted for a week; below backup_lag_days, as it must be.
        backup=BackupConfig(retention_lock_days=7),
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


@attrs.frozen
class Replay:
    """The tenant whose purges and backups the demo replays, and the instants it replays.

    Attributes:
        tenant: the tenant.
        snapshot: the nightly snapshot before its primary purge.
        primary_due: its primary purge.
        backup_due: when its backups become due (in the past, so the backup purge can run).
    """

    tenant: str
    snapshot: datetime
    primary_due: datetime
    backup_due: datetime


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def choose_replay(
    inventory: Mapping[str, Any], policy: Mapping[str, Any], now: datetime
) -> Replay | None:
    """The tenant whose history is worth replaying: its backups are already due.

    Of the tenants both planners agree are eligible now with a ``backup_due`` no later than
    ``now``, the one purged first (ties by id); the snapshot replayed is the day before.

    Args:
        inventory: the workspace's store, as a portable inventory.
        policy: the workspace's policy.
        now: the instant the demo runs at.

    Returns:
        The replay, or None when no tenant's backups are due yet.
    """
    candidates = []
    for tenant in sorted(t["id"] for t in inventory["tenants"]):
        verdict = arbitrate(inventory, policy, tenant, format_instant(now)).verdict
        if not verdict.eligible or verdict.primary_due is None or verdict.backup_due is None:
            continue
        primary_due = datetime.fromisoformat(verdict.primary_due)
        backup_due = datetime.fromisoformat(verdict.backup_due)
        if backup_due <= now:
            candidates.append((primary_due, tenant, backup_due))
    if not candidates:
        return None
    primary_due, tenant, backup_due = min(candidates)
    return Replay(tenant, primary_due - timedelta(days=1), primary_due, backup_due)


def backup_step(argv: list[str]) -> int:
    """A backup-domain step of the demo, in a process of its own; returns the exit code.

    ``history DIRECTORY TENANT SNAPSHOT_AT`` creates the backup key and site and takes the
    snapshot at SNAPSHOT_AT (the day before TENANT's primary purge); ``today DIRECTORY TENANT
    BACKUP_DUE`` runs the backup purge one second before TENANT's BACKUP_DUE (from its primary
    purge receipt) and at it, takes today's snapshot and verifies the site. A library error is
    printed on stderr and ends the step with its mapped exit code.
    """
    try:
        return _backup_step(*argv)
    except TwinpurgeError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return exit_code_for(exc)


def _backup_step(phase: str, directory: str, tenant: str, instant: str) -> int:
    # This process holds the backup key only: it never loads the primary credentials.
    from arbiter.auth.credentials import (  # noqa: PLC0415 -- as above
        generate_backup_credentials,
        load_backup_credentials,
    )
    from arbiter.backup.purge import purge_backups  # noqa: PLC0415 -- only the child needs them
    from arbiter.backup.site_access import init_site, open_site  # noqa: PLC0415 -- as above
    from arbiter.backup.snapshot import list_backups, snapshot  # noqa: PLC0415 -- as above
    from arbiter.cli.backup import outcome_line  # noqa: PLC0415 -- as above

    config = load_config(directory)
    at = datetime.fromisoformat(instant)
    if phase == "history":
        path = Path(directory) / BACKUP_CREDENTIALS
        credentials = generate_backup_credentials(path)
        site = init_site(config, credentials)
        _say(f"[backup]  backup site {site.directory} created; its key is in {path} (mode 600)")
        report = snapshot(config, credentials, clock=lambda: at)
        _say(
            f"[backup]  {report.at} (replayed: the nightly snapshot the day before {tenant}'s"
            f" primary_due): {len(report.generations)} generations, {report.objects} objects,"
            f" each locked for {config.backup.retention_lock_days} days"
        )
        return 0
    credentials = load_backup_credentials()
    lag = config.policy.get("backup_lag_days", 14)
    for as_of, label in (
        (at - timedelta(seconds=1), f"one second before {tenant}'s backup_due"),
        (at, f"{tenant}'s backup_due, {lag} days after its primary purge"),
    ):
        _say(f"[backup]  the backup purge as of {format_instant(as_of)} ({label}):")
        purge = purge_backups(config, credentials, format_instant(as_of))
        for outcome in purge.outcomes:
            _say(outcome_line(outcome))
        counts = ", ".join(f"{n} {status}" for status, n in sorted(purge.counts().items()))
        _say(f"backups as of {purge.as_of}: {counts}; {purge.purged} generations deleted")
        if any(o.status in {"refused", "failed"} for o in purge.outcomes):
            return ExitCode.REFUSED
    report = snapshot(config, credentials)
    _say(
        f"[backup]  {report.at}: today's snapshot: {len(report.generations)} generations,"
        f" {report.objects} objects"
    )
    generations = len(list_backups(config, credentials))
    records = open_site(config, credentials).audit.verify()
    _say(
        f"[backup]  backup site verified: {generations} generations authenticate;"
        f" site audit log: {records} records, chain intact"
    )
    return 0
