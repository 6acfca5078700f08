"""twinpurge's arbiter: runs both planners and acts only on what they agree on.

The public API is what ``__all__`` lists; everything in ``arbiter._*`` modules is private.
The command line (``arbiter.cli``) is a thin shell over this API.
"""

from arbiter._alerts import (
    Alert,
    Alerter,
    AlertOutcome,
    AlertSink,
    JsonLinesSink,
    ReportFileSink,
    WebhookSink,
)
from arbiter._arbiter import (
    Agreement,
    Planner,
    arbitrate,
    arbitrate_files,
    default_planners,
    fingerprint,
    run_planner,
)
from arbiter._audit import AuditHead, AuditLog, AuditRecord, FileHeadStore, HeadStore
from arbiter._blobs import BlobDirectory
from arbiter._compare import DivergenceReport, FieldDifference, PlannerFailure, ReasonDifference
from arbiter._config import (
    AlertsConfig,
    AuditConfig,
    LimitsConfig,
    StoreConfig,
    WebhookConfig,
    WorkspaceConfig,
    load_config,
)
from arbiter._errors import (
    AlertDeliveryError,
    AuditError,
    AuditTamperedError,
    GuardError,
    InputError,
    RefusedError,
    TwinpurgeError,
    UsageError,
)
from arbiter._execute import FleetReport, PurgeOutcome, Purger, plan_digest
from arbiter._loading import load_inventory, load_policy, parse_inventory_json, parse_policy_toml
from arbiter._protocols import (
    BlobTarget,
    InventoryReader,
    ObjectState,
    PurgeTarget,
    PurgeTransaction,
)
from arbiter._sqlite_store import SqliteStore
from arbiter._verdict import (
    IneligibleReason,
    KeptObject,
    KeptReason,
    ObjectId,
    Verdict,
    verdict_from_planner,
    verdict_to_json,
)
from arbiter._workspace import Workspace, validate_inventory

__version__ = "0.1.0"

__all__ = [
    "Agreement",
    "Alert",
    "AlertDeliveryError",
    "AlertOutcome",
    "AlertSink",
    "Alerter",
    "AlertsConfig",
    "AuditConfig",
    "AuditError",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "AuditTamperedError",
    "BlobDirectory",
    "BlobTarget",
    "DivergenceReport",
    "FieldDifference",
    "FileHeadStore",
    "FleetReport",
    "GuardError",
    "HeadStore",
    "IneligibleReason",
    "InputError",
    "InventoryReader",
    "JsonLinesSink",
    "KeptObject",
    "KeptReason",
    "LimitsConfig",
    "ObjectId",
    "ObjectState",
    "Planner",
    "PlannerFailure",
    "PurgeOutcome",
    "PurgeTarget",
    "PurgeTransaction",
    "Purger",
    "ReasonDifference",
    "RefusedError",
    "ReportFileSink",
    "SqliteStore",
    "StoreConfig",
    "TwinpurgeError",
    "UsageError",
    "Verdict",
    "WebhookConfig",
    "WebhookSink",
    "Workspace",
    "WorkspaceConfig",
    "__version__",
    "arbitrate",
    "arbitrate_files",
    "default_planners",
    "fingerprint",
    "load_config",
    "load_inventory",
    "load_policy",
    "parse_inventory_json",
    "parse_policy_toml",
    "plan_digest",
    "run_planner",
    "validate_inventory",
    "verdict_from_planner",
    "verdict_to_json",
]
