"""A workspace and its backup site, driven one credential domain at a time.

A real deployment runs the primary purge and the backup service in different processes. Tests
run both in one, so every step here starts with ``new_process()``: the process forgets the
credential domain it held, as a fresh process would, before it loads the one it needs.

``site(..., admin_url=...)`` makes the same workspace on a PostgreSQL store (the superuser URL of
an empty database, e.g. ``fresh_database`` in ``tests/arbiter/stores``): ``Workspace.create``
provisions it with the primary roles' passwords, then the backup domain sets its own roles'
passwords from its key (``init_backup_roles``) unless told not to.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from arbiter import (
    AlertsConfig,
    BackupConfig,
    BackupCredentials,
    BackupPurger,
    BackupPurgeReport,
    FleetReport,
    LimitsConfig,
    ObjectId,
    OperatorConfig,
    Planner,
    PrimaryCredentials,
    SafeModeConfig,
    SnapshotReport,
    StoreConfig,
    UnfinishedBackupPurge,
    WebhookConfig,
    Workspace,
    WorkspaceConfig,
    generate_backup_credentials,
    generate_key,
    init_backup_roles,
    init_site,
    load_backup_credentials,
    load_config,
    load_primary_credentials,
    open_primary_reader,
    open_site,
    purge_backups,
    snapshot,
)
from arbiter.alerts.configured import alerter_for
from arbiter.auth.credentials import reset_credential_domains_for_tests
from tests.arbiter.stores.conftest import store_url
from tests.builders import event, obj, tenant

__all__ = [
    "BACKUP_DUE",
    "INVENTORY",
    "PAYLOADS",
    "PRIMARY_DUE",
    "Clock",
    "Site",
    "at",
    "new_process",
    "site",
]

# Tenant t: cancelled 2026-01-01 (UTC), primary due 2026-02-01T00:00Z, backup due 14 days later.
PRIMARY_DUE = "2026-02-01T00:00:00Z"
BACKUP_DUE = "2026-02-15T00:00:00Z"
INVENTORY: dict[str, Any] = {
    "tenants": [
        tenant(
            "t",
            event("subscribed", "2025-01-01T00:00:00Z"),
            event("cancelled", "2026-01-01T00:00:00Z"),
        ),
        tenant("u", event("subscribed", "2025-01-01T00:00:00Z")),
    ],
    "objects": [
        obj("t/r1"),
        obj("t/r2", refs=[("blob", "t/f1")]),
        obj("t/f1", store="blob"),
        obj("t/shared"),
        obj("u/u1", "u", refs=[("db", "t/shared")]),
        obj("u/f2", "u", store="blob"),
    ],
}
PAYLOADS = {
    ObjectId("db", "t/r1"): b"\x00row one",
    ObjectId("blob", "t/f1"): b"file of t",
    ObjectId("blob", "u/f2"): b"file of u",
}


def at(text: str) -> datetime:
    """An instant as an aware datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def new_process() -> None:
    """Forget the credential domain this process holds, as a fresh process would."""
    reset_credential_domains_for_tests()


@attrs.define
class Clock:
    """A settable clock."""

    now: datetime

    def __call__(self) -> datetime:
        """The current instant."""
        return self.now


@attrs.define
class Site:
    """A workspace holding ``INVENTORY``, its backup site, and where each domain's key lives."""

    directory: Path
    primary_file: Path
    backup_file: Path
    keys: dict[str, Path]
    clock: Clock

    @property
    def config(self) -> WorkspaceConfig:
        """The workspace configuration, as read from its file."""
        return load_config(self.directory)

    def primary(self) -> PrimaryCredentials:
        """A fresh process of the primary domain: its credentials, from their own file."""
        new_process()
        return load_primary_credentials(self.primary_file)

    def backup(self) -> BackupCredentials:
        """A fresh process of the backup domain: its credentials, from their own file."""
        new_process()
        return load_backup_credentials(self.backup_file)

    def workspace(self, planners: tuple[Planner, Planner] | None = None) -> Workspace:
        """The workspace opened by a primary-domain process; the caller closes it."""
        return Workspace.open(
            self.directory, clock=self.clock, credentials=self.primary(), planners=planners
        )

    def snapshot(self, moment: str) -> SnapshotReport:
        """The backup service's snapshot at ``moment``."""
        self.clock.now = at(moment)
        return snapshot(self.config, self.backup(), clock=self.clock)

    def primary_purge(self, moment: str) -> FleetReport:
        """The retention service's run at ``moment`` (as_of = now)."""
        self.clock.now = at(moment)
        with self.workspace() as ws:
            return ws.run_due()

    def backup_purge(
        self,
        as_of: str | None,
        *,
        now: str = "2026-06-01T00:00:00Z",
        dry_run: bool = False,
        planners: tuple[Planner, Planner] | None = None,
    ) -> BackupPurgeReport:
        """The backup service's purge at ``now``, as of ``as_of`` (now when None)."""
        self.clock.now = at(now)
        return purge_backups(
            self.config,
            self.backup(),
            as_of,
            dry_run=dry_run,
            planners=planners,
            clock=self.clock,
        )

    def unfinished(self) -> tuple[UnfinishedBackupPurge, ...]:
        """The backup purges started and not closed, as the backup service lists them."""
        key = self.backup()
        with open_primary_reader(self.config, key) as reader:
            purger = BackupPurger(
                open_site(self.config, key),
                reader,
                self.config.policy,
                alerter_for(self.config),
            )
            return purger.unfinished()

    def files(self) -> dict[str, str]:
        """SHA-256 of every backup file of the site (its audit log aside), by path."""
        root = self.config.path(self.config.backup.site)
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "tenants").rglob("*"))
            if p.is_file()
        }


def site(  # noqa: PLR0913 -- each knob of a test site
    tmp_path: Path,
    *,
    inventory: dict[str, Any] | None = None,
    payloads: dict[ObjectId, bytes] | None = None,
    webhook_url: str | None = None,
    lock_days: int = 3,
    lag_days: int = 14,
    limits: LimitsConfig | None = None,
    admin_url: str | None = None,
    backup_roles: bool = True,
) -> Site:
    """A workspace (primary domain) with a backup site (backup domain), operators alice and bob.

    The primary credentials live in ``tmp_path/primary-domain``, the backup key in
    ``tmp_path/backup-domain``: separate files, as on separate hosts. With ``admin_url`` the
    primary store is PostgreSQL (that database, provisioned); ``backup_roles`` then says whether
    the backup domain sets its roles' passwords from its key.
    """
    keys = {name: tmp_path / "keys" / f"{name}.key" for name in ("alice", "bob", "carol")}
    public = {name: generate_key(path) for name, path in keys.items()}
    hooks = (
        (WebhookConfig(webhook_url, timeout_seconds=2.0, retries=0, backoff_seconds=0.0),)
        if webhook_url
        else ()
    )
    config = WorkspaceConfig(
        policy={"timezone": "UTC", "backup_lag_days": lag_days},
        limits=limits or LimitsConfig(batch_size=100),
        alerts=AlertsConfig(webhooks=hooks),
        operators={name: OperatorConfig(key) for name, key in public.items()},
        backup=BackupConfig(retention_lock_days=lock_days),
        store=StoreConfig() if admin_url is None else StoreConfig(url=store_url(admin_url)),
        # A server has a clock of its own, today's, which safe mode compares with the runner's:
        # these tests replay past dates with an injected clock, so the skew allowed spans them.
        safe_mode=SafeModeConfig()
        if admin_url is None
        else SafeModeConfig(clock_tolerance_hours=1e5),
    )
    directory = tmp_path / "ws"
    primary_file = tmp_path / "primary-domain" / "primary.toml"
    backup_file = tmp_path / "backup-domain" / "backup.toml"
    new_process()
    with Workspace.create(
        directory, config, credentials_path=primary_file, admin_url=admin_url
    ) as ws:
        ws.import_inventory(
            inventory or INVENTORY, PAYLOADS if inventory is None else payloads or {}
        )
    new_process()
    key = generate_backup_credentials(backup_file)
    init_site(load_config(directory), key)
    if admin_url is not None and backup_roles:
        init_backup_roles(load_config(directory), key, admin_url)
    return Site(directory, primary_file, backup_file, keys, Clock(at("2026-01-15T00:00:00Z")))
