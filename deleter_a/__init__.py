"""deleter_a: one of the two independently written deletion planners of twinpurge.

Rules (spec §8):

1. The package exports ``__version__``, ``plan``, ``PlannerError`` and ``PlanInputError``.
2. ``plan(inventory, policy, tenant, as_of)`` returns the verdict of spec §7.5 or raises
   ``PlanInputError`` for bad input (§4.4); any other exception is a planner failure.
3. Dates and zones use only the standard library (``datetime``, ``zoneinfo``) with the zone data
   of the ``tzdata`` package (§3).
"""

from __future__ import annotations

from deleter_a._errors import PlanInputError, PlannerError
from deleter_a._planner import plan

__all__ = ["PlanInputError", "PlannerError", "__version__", "plan"]

__version__ = "0.1.0"
