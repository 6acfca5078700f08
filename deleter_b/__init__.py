"""deleter_b: the second, independently written deletion planner of twinpurge.

It implements ``docs/spec.md`` §8: :func:`plan` returns the verdict of spec §7 for one
tenant at one instant, or raises :class:`PlanInputError` for bad input (spec §4.4);
:func:`plan_stream` plans one tenant from its slice, supplied as iterators, in two passes and
bounded memory (spec §8.1).

Rules:

1. The public interface is exactly ``__version__``, :func:`plan`, :func:`plan_stream`,
   :class:`PlannerError` and :class:`PlanInputError` (spec §8, §8.1).
2. Dates and zones use the ``whenever`` library with the ``tzdata`` package's rules
   (spec §3); see :mod:`deleter_b._clock`.
3. The planner is pure apart from reading ``tzdata``'s data: no other I/O, no mutation of its
   arguments, deterministic, one forward pass over ``inventory["objects"]`` (spec §8).
4. :func:`plan_stream` calls ``objects()`` at most twice (a first pass during the call, a
   second while ``decisions`` is consumed), holds only the objects that carry refs, what
   ``shared`` names of T and what these reach, and agrees with :func:`plan` on a slice cut
   from an inventory (spec §8.1); see :mod:`deleter_b._stream`.

Modules: ``_errors`` (errors), ``_instant`` (spec §2), ``_clock`` (spec §3), ``_schema`` and
``_records`` (spec §4), ``_lifecycle`` (spec §5, §6), ``_retention`` (spec §7.1, §7.2),
``_closure`` (spec §7.3), ``_planner`` (spec §7.4, §7.5, §8), ``_stream`` (spec §8.1).
"""

from __future__ import annotations

from ._errors import PlanInputError, PlannerError
from ._planner import plan
from ._stream import plan_stream

__all__ = ["PlanInputError", "PlannerError", "__version__", "plan", "plan_stream"]

__version__ = "0.2.0"
