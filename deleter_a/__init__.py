"""deleter_a: one of the two independently written deletion planners of twinpurge.

Rules (spec §8):

1. The package exports ``__version__``, ``plan``, ``plan_stream``, ``PlannerError`` and
   ``PlanInputError``.
2. ``plan(inventory, policy, tenant, as_of)`` returns the verdict of spec §7.5 or raises
   ``PlanInputError`` for bad input (§4.4); any other exception is a planner failure.
3. ``plan_stream(tenant, objects, shared, policy, as_of)`` plans one tenant from its slice in at
   most two passes over ``objects()``, with memory bounded by the objects that carry refs, the
   ``shared`` refs naming the tenant's objects and what they reach (§8.1). Its scalar keys equal
   ``plan``'s; its lazy ``decisions`` give ``plan``'s ``purge`` (reason ``None``) and ``kept``.
4. Dates and zones use only the standard library (``datetime``, ``zoneinfo``) with the zone data
   of the ``tzdata`` package (§3).
"""

from __future__ import annotations

from deleter_a._errors import PlanInputError, PlannerError
from deleter_a._planner import plan
from deleter_a._stream import plan_stream

__all__ = ["PlanInputError", "PlannerError", "__version__", "plan", "plan_stream"]

__version__ = "0.2.0"
