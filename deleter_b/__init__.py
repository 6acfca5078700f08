"""deleter_b: the second, independently written deletion planner of twinpurge.

It implements ``docs/spec.md`` §8: :func:`plan` returns the verdict of spec §7 for one
tenant at one instant, or raises :class:`PlanInputError` for bad input (spec §4.4).

Rules:

1. The public interface is exactly ``__version__``, :func:`plan`, :class:`PlannerError` and
   :class:`PlanInputError` (spec §8).
2. Dates and zones use the ``whenever`` library with the ``tzdata`` package's rules
   (spec §3); see :mod:`deleter_b._clock`.
3. The planner is pure apart from reading ``tzdata``'s data: no other I/O, no mutation of its
   arguments, deterministic, one forward pass over ``inventory["objects"]`` (spec §8).

Modules: ``_errors`` (errors), ``_instant`` (spec §2), ``_clock`` (spec §3), ``_schema`` and
``_records`` (spec §4), ``_lifecycle`` (spec §5, §6), ``_retention`` (spec §7.1, §7.2),
``_closure`` (spec §7.3), ``_planner`` (spec §7.4, §7.5, §8).
"""

from __future__ import annotations

from ._errors import PlanInputError, PlannerError
from ._planner import plan

__all__ = ["PlanInputError", "PlannerError", "__version__", "plan"]

__version__ = "0.1.0"
