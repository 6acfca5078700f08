"""twinpurge's arbiter: runs both planners and acts only on what they agree on.

The public API is what ``__all__`` lists; everything in ``arbiter._*`` modules is private.
The command line (``arbiter.cli``) is a thin shell over this API.

This package re-exports both credential domains' APIs for convenience; the modules themselves
keep them apart: the primary purge modules never import the backup site, and the backup modules
never import the primary purge (import-linter's contracts in ``pyproject.toml``).
"""

from arbiter.alerts.alerter import Alerter
from arbiter.alerts.jsonlines import JsonLinesSink
from arbiter.alerts.model import Alert, AlertOutcome, AlertSink
from arbiter.alerts.report_files import ReportFileSink
from arbiter.alerts.webhook import WebhookSink
from arbiter.audit.log import AuditHead, AuditLog, AuditRecord, FileHeadStore, HeadStore
from arbiter.auth.approvals import Approval, ApprovalCheck, check_approvals, generate_key
from arbiter.auth.credentials import (
    BackupCredentials,
    PrimaryCredentials,
    generate_backup_credentials,
    generate_primary_credentials,
    load_backup_credentials,
    load_primary_credentials,
)
from arbiter.backup.postgres_access import PostgresPrimaryReader, PostgresPrimaryRestorer
from arbiter.backup.primary_access import (
    PrimaryInserting,
    PrimaryReader,
    PrimaryReading,
    PrimaryRestorer,
    open_primary_reader,
    open_primary_restorer,
)
from arbiter.backup.purge import (
    BackupOutcome,
    BackupPurger,
    BackupPurgeReport,
    BackupRecovery,
    UnfinishedBackupPurge,
    purge_backups,
)
from arbiter.backup.restore import (
    BackupRestoreResult,
    RestoreRequest,
    RestoreRequestBody,
    approve_restore_request,
    create_restore_request,
    read_restore_request,
    restore_backup,
    write_restore_request,
)
from arbiter.backup.roles import init_backup_roles
from arbiter.backup.site_access import init_site, open_site
from arbiter.backup.snapshot import SnapshotReport, list_backups, snapshot
from arbiter.backup.store import BackupSite, Generation, GenerationInfo
from arbiter.core.arbitrate import (
    Agreement,
    Planner,
    arbitrate,
    arbitrate_files,
    default_planners,
    fingerprint,
    run_planner,
)
from arbiter.core.compare import (
    DivergenceReport,
    FieldDifference,
    PlannerFailure,
    ReasonDifference,
    VerdictDifferences,
)
from arbiter.core.config import (
    AlertsConfig,
    AuditConfig,
    BackupConfig,
    LimitsConfig,
    ManualConfig,
    OperatorConfig,
    SafeModeConfig,
    StoreConfig,
    WebhookConfig,
    WorkspaceConfig,
    load_config,
)
from arbiter.core.errors import (
    AlertDeliveryError,
    ApprovalError,
    ArchiveError,
    AuditError,
    AuditTamperedError,
    BackupTamperedError,
    CredentialDomainError,
    CredentialError,
    GuardError,
    InputError,
    OmissionError,
    RefusedError,
    RetentionLockError,
    SafeModeError,
    StalePlanError,
    TwinpurgeError,
    UsageError,
)
from arbiter.core.loading import (
    load_inventory,
    load_policy,
    parse_inventory_json,
    parse_policy_toml,
)
from arbiter.core.verdict import (
    IneligibleReason,
    KeptObject,
    KeptReason,
    ObjectId,
    Verdict,
    verdict_from_planner,
    verdict_to_json,
)
from arbiter.manual.execute import ExecuteResult, PlanRestoreResult, execute_plan, restore_plan
from arbiter.manual.plans import (
    ManualPlan,
    PlanBody,
    approve_plan,
    create_plan,
    read_plan,
    register_plan,
    write_plan,
)
from arbiter.manual.status import PlanStatus, plan_status
from arbiter.purge.archive import ArchiveContent, read_archive
from arbiter.purge.purger import (
    Execution,
    FleetReport,
    PlannedSlice,
    PurgeOutcome,
    Purger,
    plan_digest,
)
from arbiter.purge.recovery import JournalRecovery, RecoveryReport
from arbiter.purge.safemode import ResetRequest, ResetRequestBody, SafeMode, SafeModeTrip
from arbiter.purge.shard import Shard, parse_shard
from arbiter.purge.streaming import (
    PlannerProcesses,
    StreamedAgreement,
    StreamPlanner,
    arbitrate_stream,
    default_stream_planners,
)
from arbiter.stores.blobs import BlobDirectory
from arbiter.stores.ports import (
    BlobTarget,
    CountedSlice,
    InventoryReader,
    ObjectState,
    PurgeTarget,
    PurgeTransaction,
    StreamedSlice,
)
from arbiter.stores.postgres.store import PostgresStore
from arbiter.stores.sqlite import SqliteStore
from arbiter.workspace.safemode import (
    SafeModeStatus,
    approve_safe_mode_reset,
    read_reset_request,
    request_safe_mode_reset,
    reset_safe_mode,
    safe_mode_status,
)
from arbiter.workspace.workspace import Workspace, validate_inventory

__version__ = "0.1.0"

__all__ = [
    "Agreement",
    "Alert",
    "AlertDeliveryError",
    "AlertOutcome",
    "AlertSink",
    "Alerter",
    "AlertsConfig",
    "Approval",
    "ApprovalCheck",
    "ApprovalError",
    "ArchiveContent",
    "ArchiveError",
    "AuditConfig",
    "AuditError",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "AuditTamperedError",
    "BackupConfig",
    "BackupCredentials",
    "BackupOutcome",
    "BackupPurgeReport",
    "BackupPurger",
    "BackupRecovery",
    "BackupRestoreResult",
    "BackupSite",
    "BackupTamperedError",
    "BlobDirectory",
    "BlobTarget",
    "CountedSlice",
    "CredentialDomainError",
    "CredentialError",
    "DivergenceReport",
    "ExecuteResult",
    "Execution",
    "FieldDifference",
    "FileHeadStore",
    "FleetReport",
    "Generation",
    "GenerationInfo",
    "GuardError",
    "HeadStore",
    "IneligibleReason",
    "InputError",
    "InventoryReader",
    "JournalRecovery",
    "JsonLinesSink",
    "KeptObject",
    "KeptReason",
    "LimitsConfig",
    "ManualConfig",
    "ManualPlan",
    "ObjectId",
    "ObjectState",
    "OmissionError",
    "OperatorConfig",
    "PlanBody",
    "PlanRestoreResult",
    "PlanStatus",
    "PlannedSlice",
    "Planner",
    "PlannerFailure",
    "PlannerProcesses",
    "PostgresPrimaryReader",
    "PostgresPrimaryRestorer",
    "PostgresStore",
    "PrimaryCredentials",
    "PrimaryInserting",
    "PrimaryReader",
    "PrimaryReading",
    "PrimaryRestorer",
    "PurgeOutcome",
    "PurgeTarget",
    "PurgeTransaction",
    "Purger",
    "ReasonDifference",
    "RecoveryReport",
    "RefusedError",
    "ReportFileSink",
    "ResetRequest",
    "ResetRequestBody",
    "RestoreRequest",
    "RestoreRequestBody",
    "RetentionLockError",
    "SafeMode",
    "SafeModeConfig",
    "SafeModeError",
    "SafeModeStatus",
    "SafeModeTrip",
    "Shard",
    "SnapshotReport",
    "SqliteStore",
    "StalePlanError",
    "StoreConfig",
    "StreamPlanner",
    "StreamedAgreement",
    "StreamedSlice",
    "TwinpurgeError",
    "UnfinishedBackupPurge",
    "UsageError",
    "Verdict",
    "VerdictDifferences",
    "WebhookConfig",
    "WebhookSink",
    "Workspace",
    "WorkspaceConfig",
    "__version__",
    "approve_plan",
    "approve_restore_request",
    "approve_safe_mode_reset",
    "arbitrate",
    "arbitrate_files",
    "arbitrate_stream",
    "check_approvals",
    "create_plan",
    "create_restore_request",
    "default_planners",
    "default_stream_planners",
    "execute_plan",
    "fingerprint",
    "generate_backup_credentials",
    "generate_key",
    "generate_primary_credentials",
    "init_backup_roles",
    "init_site",
    "list_backups",
    "load_backup_credentials",
    "load_config",
    "load_inventory",
    "load_policy",
    "load_primary_credentials",
    "open_primary_reader",
    "open_primary_restorer",
    "open_site",
    "parse_inventory_json",
    "parse_policy_toml",
    "parse_shard",
    "plan_digest",
    "plan_status",
    "purge_backups",
    "read_archive",
    "read_plan",
    "read_reset_request",
    "read_restore_request",
    "register_plan",
    "request_safe_mode_reset",
    "reset_safe_mode",
    "restore_backup",
    "restore_plan",
    "run_planner",
    "safe_mode_status",
    "snapshot",
    "validate_inventory",
    "verdict_from_planner",
    "verdict_to_json",
    "write_plan",
    "write_restore_request",
]
