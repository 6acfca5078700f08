"""Planner A for a streamed purge, after one write beside the store (``test_staleness``).

The slice it plans was read before the write, so the plan is stale. The write is described by
the environment variable ``TWINPURGE_TEST_WRITE`` (JSON: the store's kind, where it is, the
statement and its parameters, and a file to create once written), which the test sets before the planner processes start (a
spawned process inherits the environment). It is made once per process, for tenant ``t``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import deleter_a
from deleter_a import PlanInputError
from tests.arbiter.conftest import direct_writer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["ENV", "PlanInputError", "__version__", "plan_stream"]

__version__ = deleter_a.__version__
ENV = "TWINPURGE_TEST_WRITE"
_written: list[bool] = []


def plan_stream(
    tenant: Mapping[str, object],
    objects: Callable[[], Iterable[Mapping[str, object]]],
    shared: Iterable[object],
    policy: Mapping[str, object],
    as_of: str,
) -> dict[str, object]:
    """Write once (for tenant ``t``), then plan as A does."""
    spec = os.environ.get(ENV)
    if spec and not _written and tenant.get("id") == "t":
        _written.append(True)
        write = json.loads(spec)
        direct_writer(write["kind"], write["where"])(write["statement"], tuple(write["params"]))
        Path(write["marker"]).touch()
    return deleter_a.plan_stream(tenant, objects, shared, policy, as_of)
