"""The workspace configuration file, ``twinpurge.toml``.

Rules:

1. Every path and setting lives in the file; relative paths are relative to the file's directory,
   never to the current directory.
2. Unknown keys are errors anywhere (``arbiter.core.convert``); every error names the file and
   field.
3. The ``[policy]`` table is the retention policy of docs/spec.md §4.2, passed to both planners as
   it is; it is validated at load time by both planners, so a bad policy fails before any purge.
4. Limits are positive: a blast-radius limit of zero or a batch size of zero is a mistake, not a
   way to switch a guard off.
5. The two-person rule cannot be configured away: ``approvals_required`` is at least 2, and no
   two operators may share a public key.
6. No credentials live here (``arbiter.auth.credentials``): the file names the backup site, never a
   key. A backup retention lock that would outlast ``backup_due`` (a lock of
   ``backup_lag_days`` days or more) is refused at load: it would block the scheduled backup
   purge.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import attrs
import cattrs
import tomli_w

from arbiter.core.convert import error_fields, strict_converter
from arbiter.core.errors import InputError

__all__ = [
    "CONFIG_NAME",
    "AlertsConfig",
    "AuditConfig",
    "BackupConfig",
    "LimitsConfig",
    "ManualConfig",
    "OperatorConfig",
    "SafeModeConfig",
    "StoreConfig",
    "WebhookConfig",
    "WorkspaceConfig",
    "load_config",
    "render_config",
]

CONFIG_NAME = "twinpurge.toml"


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    # ``not value > 0`` rather than ``value <= 0``: nan is not positive, and a nan limit would
    # switch its guard off (every comparison with nan is false).
    if not value > 0:
        msg = f"{attribute.name} must be positive, not {value}"
        raise ValueError(msg)


def _store_url(_inst: object, _attribute: attrs.Attribute[str | None], value: str | None) -> None:
    # Rule 6: the URL names the server and the database only; each role's password comes from
    # its credential domain's file, and the role from the step being run.
    if value is None:
        return
    if not value.startswith(("postgresql://", "postgres://")):
        msg = f"url {value!r} is not a PostgreSQL URL (postgresql://host:port/database)"
        raise ValueError(msg)
    if "@" in value.split("://", 1)[1].split("/", 1)[0]:
        msg = (
            "url names a user or a password; give postgresql://host:port/database"
            " (each role's password comes from its credential domain's file)"
        )
        raise ValueError(msg)


@attrs.frozen
class StoreConfig:
    """The primary store: SQLite by default, PostgreSQL when ``url`` is set; and a blob directory.

    Attributes:
        database: the SQLite database (unused when ``url`` is set).
        url: ``postgresql://host:port/database`` of a PostgreSQL store (``docs/postgresql.md``),
            without user or password.
        blobs: the blob directory.
        blob_stores: objects of these stores are files under ``blobs/<store>/<key>``.
    """

    database: str = "primary.sqlite3"
    url: str | None = attrs.field(default=None, validator=_store_url)
    blobs: str = "blobs"
    blob_stores: tuple[str, ...] = ("blob",)


@attrs.frozen
class LimitsConfig:
    """Blast-radius limits and batching, enforced by the arbiter whatever the planners say."""

    max_objects_per_purge: int = attrs.field(default=100_000, validator=_positive)
    max_store_fraction: float = attrs.field(default=0.25, validator=_positive)
    # The fraction limit applies once a purge exceeds this many objects: in a small store, one
    # tenant is legitimately a large share of everything.
    fraction_floor: int = attrs.field(default=1000, validator=attrs.validators.ge(0))
    # Tuned by measurement (docs/performance.md): 2,000 halved the batches' time of 500 at
    # 300,000 objects; 5,000 gained nothing more.
    batch_size: int = attrs.field(default=2000, validator=_positive)
    # A tenant owning at least this many objects is planned by streaming, each planner in a
    # process of its own (``arbiter.purge.streamed``); 0 streams every tenant.
    stream_from: int = attrs.field(default=20_000, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        """A fraction above 1 would disable the guard."""
        if self.max_store_fraction > 1:
            msg = "max_store_fraction must be at most 1"
            raise ValueError(msg)


@attrs.frozen
class AuditConfig:
    """Where the hash-chained audit log lives."""

    log: str = "audit.jsonl"


@attrs.frozen
class WebhookConfig:
    """One HTTP webhook alert sink."""

    url: str
    timeout_seconds: float = attrs.field(default=5.0, validator=_positive)
    retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    backoff_seconds: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))


@attrs.frozen
class AlertsConfig:
    """Alert sinks: a JSON-lines log, a directory of report files, webhooks."""

    log: str = "alerts.jsonl"
    reports: str = "reports"
    failures: str = "alert-failures.jsonl"
    webhooks: tuple[WebhookConfig, ...] = ()


@attrs.frozen
class OperatorConfig:
    """A registered operator: the base64 Ed25519 public key of its private key."""

    public_key: str


@attrs.frozen
class ManualConfig:
    """Manual purges: approval expiry, mandatory rehearsal, where plans and archives live."""

    approvals_required: int = attrs.field(default=2, validator=attrs.validators.ge(2))
    approval_expiry_hours: float = attrs.field(default=24.0, validator=_positive)
    # Plans purging more objects than this cannot skip the rehearsal.
    rehearsal_required_above: int = attrs.field(default=100, validator=attrs.validators.ge(0))
    # An approved plan may exceed the automated purge's max_objects_per_purge, up to this.
    max_objects_per_purge: int = attrs.field(default=100_000, validator=_positive)
    archives: str = "archives"


@attrs.frozen
class BackupConfig:
    """The backup site (``arbiter.backup.store``): where it is and how long generations are locked.

    Attributes:
        site: the site's directory (it stands for the remote site); relative to the workspace.
        retention_lock_days: a generation cannot be deleted for this many days after it was
            written (0: no lock). Must stay below the policy's ``backup_lag_days`` (rule 6).
    """

    site: str = "backup-site"
    retention_lock_days: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class SafeModeConfig:
    """Fleet safe mode (``arbiter.purge.safemode``): when a run stops every purge, fleet-wide.

    Attributes:
        max_bad_tenants: a run trips safe mode once this many tenants were refused or failed.
        max_bad_share: ... or once this share of the tenants it attempted were, ...
        min_attempted: ... counted only from this many attempted tenants on (one bad tenant
            among the first two is not yet a share).
        clock_tolerance_hours: a run whose as_of (its runner's clock) is more than this earlier
            than a previous run's trips safe mode (the clock jumped back) instead of purging.
        locks: the directory of the per-tenant lock files (one runner per tenant).
    """

    max_bad_tenants: int = attrs.field(default=3, validator=_positive)
    max_bad_share: float = attrs.field(default=0.2, validator=_positive)
    min_attempted: int = attrs.field(default=5, validator=_positive)
    clock_tolerance_hours: float = attrs.field(default=1.0, validator=_positive)
    locks: str = "locks"

    def __attrs_post_init__(self) -> None:
        """A share above 1 could never be reached: it would switch the share threshold off."""
        if self.max_bad_share > 1:
            msg = "max_bad_share must be at most 1"
            raise ValueError(msg)


def retention_lock_problem(lock_days: object, lag_days: object) -> str | None:
    """Rule 6: why a retention lock would block the scheduled backup purge, or None.

    A generation written on the day of a primary purge must be deletable at the tenant's
    ``backup_due``, ``backup_lag_days`` calendar days after ``primary_due``; a lock of that many
    days or more keeps it past ``backup_due``. Ill-typed values are left to their own checks.
    """
    numbers = [v for v in (lock_days, lag_days) if isinstance(v, int) and not isinstance(v, bool)]
    if len(numbers) != 2:  # noqa: PLR2004 -- both values
        return None
    lock, lag = numbers
    if lock <= 0 or lock < lag:
        return None
    return (
        f"backup.retention_lock_days = {lock} would outlast backup_due:"
        f" policy.backup_lag_days = {lag}, so a backup generation written on the day of a"
        " primary purge would still be locked when its tenant's backup_due comes and the"
        " scheduled backup purge could not remove it; "
        + (f"use a lock shorter than {lag} days (or 0 for none)" if lag > 1 else "set it to 0")
    )


@attrs.frozen
class WorkspaceConfig:
    """The whole ``twinpurge.toml``.

    Attributes:
        directory: the directory holding the file; relative paths resolve against it.
    """

    policy: dict[str, Any]
    store: StoreConfig = StoreConfig()
    limits: LimitsConfig = LimitsConfig()
    audit: AuditConfig = AuditConfig()
    alerts: AlertsConfig = AlertsConfig()
    manual: ManualConfig = ManualConfig()
    operators: dict[str, OperatorConfig] = attrs.Factory(dict)
    backup: BackupConfig = BackupConfig()
    safe_mode: SafeModeConfig = SafeModeConfig()
    directory: Path = attrs.field(default=Path(), eq=False)

    def __attrs_post_init__(self) -> None:
        """One person, one key (rule 5); no retention lock past backup_due (rule 6)."""
        problem = retention_lock_problem(
            self.backup.retention_lock_days, self.policy.get("backup_lag_days", 14)
        )
        if problem:
            raise ValueError(problem)
        seen: dict[str, str] = {}
        for name, operator in self.operators.items():
            if operator.public_key in seen:
                msg = f"operators {seen[operator.public_key]!r} and {name!r} share a public key"
                raise ValueError(msg)
            seen[operator.public_key] = name

    def path(self, relative: str) -> Path:
        """Resolve a configured path against the workspace directory."""
        return (self.directory / relative).resolve()


_CONVERTER = strict_converter()


def load_config(path: str | Path) -> WorkspaceConfig:
    """Read and check ``twinpurge.toml``.

    Args:
        path: the config file, or the workspace directory holding it.

    Returns:
        The configuration, with ``directory`` set to the file's directory.

    Raises:
        InputError: unreadable, not TOML, unknown or ill-typed field; ``file`` and ``field``
            name the fault.
    """
    path = Path(path)
    if path.is_dir():
        path /= CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            source="config", file=str(path), field="", message=f"cannot read: {exc.strerror}"
        ) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(source="config", file=str(path), field="", message=str(exc)) from exc
    if "policy" not in raw:
        raise InputError(source="config", file=str(path), field="policy", message="required")
    backup, policy = raw.get("backup"), raw["policy"]
    if isinstance(backup, dict) and isinstance(policy, dict):
        problem = retention_lock_problem(
            backup.get("retention_lock_days", 0), policy.get("backup_lag_days", 14)
        )
        if problem:
            raise InputError(
                source="config", file=str(path), field="backup.retention_lock_days", message=problem
            )
    try:
        config = _CONVERTER.structure(raw, WorkspaceConfig)
    except Exception as exc:
        fields = error_fields(exc) if isinstance(exc, cattrs.BaseValidationError) else []
        field, message = fields[0] if fields else ("", str(exc))
        raise InputError(source="config", file=str(path), field=field, message=message) from exc
    return attrs.evolve(config, directory=path.parent.resolve())


def render_config(config: WorkspaceConfig) -> str:
    """Write a configuration as TOML text (used by ``twinpurge init``).

    Paths are written as they are held, relative to the file's directory (rule 1); ``directory``
    is not written: it is wherever the file is.

    Args:
        config: the configuration.

    Returns:
        TOML text that ``load_config`` reads back to an equal configuration.

    Raises:
        TypeError: the policy holds a value TOML cannot write, such as None (spec §4.4 makes
            ``null`` bad input; leaving it out instead would change the policy).
    """
    data: dict[str, Any] = _CONVERTER.unstructure(config)
    data.pop("directory")
    if data["store"]["url"] is None:  # TOML has no null: an absent url is the SQLite store
        del data["store"]["url"]
    return tomli_w.dumps(data)
