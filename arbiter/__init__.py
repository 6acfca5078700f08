"""twinpurge's arbiter: runs both planners and acts only on what they agree on.

The public API is what ``__all__`` lists; everything in ``arbiter._*`` modules is private.
The command line (``arbiter.cli``) is a thin shell over this API.
"""

from arbiter._arbiter import (
    Agreement,
    Planner,
    arbitrate,
    arbitrate_files,
    default_planners,
    fingerprint,
    run_planner,
)
from arbiter._compare import DivergenceReport, FieldDifference, PlannerFailure, ReasonDifference
from arbiter._errors import InputError, RefusedError, TwinpurgeError, UsageError
from arbiter._loading import load_inventory, load_policy, parse_inventory_json, parse_policy_toml
from arbiter._verdict import (
    IneligibleReason,
    KeptObject,
    KeptReason,
    ObjectId,
    Verdict,
    verdict_from_planner,
    verdict_to_json,
)

__version__ = "0.1.0"

__all__ = [
    "Agreement",
    "DivergenceReport",
    "FieldDifference",
    "IneligibleReason",
    "InputError",
    "KeptObject",
    "KeptReason",
    "ObjectId",
    "Planner",
    "PlannerFailure",
    "ReasonDifference",
    "RefusedError",
    "TwinpurgeError",
    "UsageError",
    "Verdict",
    "__version__",
    "arbitrate",
    "arbitrate_files",
    "default_planners",
    "fingerprint",
    "load_inventory",
    "load_policy",
    "parse_inventory_json",
    "parse_policy_toml",
    "run_planner",
    "verdict_from_planner",
    "verdict_to_json",
]
